//! The converter on files nobody here wrote (issue 9, items 7 to 11): line numbers whatever the
//! line endings, odd values in optional `x_` columns kept as warnings, files without a charge type
//! or with an invalid currency refused, one ServiceCategory per ServiceName, and the legacy EA
//! usage-details layout.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::RecordBatch;
use be_azure_sim::{Layout, Metric};
use be_ingest::{ConvertOptions, FocusConverter, IngestError, Source, Warnings, ingest_period};

use crate::common::*;

/// The records of a CSV file (header first), as the `csv` crate reads them.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("csv").iter().map(str::to_string).collect())
        .collect()
}

/// Records back to CSV text, each ended by `eol(i)` (i: 0 for the header).
fn write(records: &[Vec<String>], eol: impl Fn(usize) -> &'static str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(r).expect("write");
        let mut line = w.into_inner().expect("flush");
        line.pop();
        out.extend_from_slice(&line);
        out.extend_from_slice(eol(i).as_bytes());
    }
    out
}

fn col(records: &[Vec<String>], name: &str) -> usize {
    records[0]
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn sample(file: &str) -> Vec<Vec<String>> {
    records(&std::fs::read(cost_details(file)).expect("shared data present"))
}

const CHUNKINGS: &[(usize, usize)] = &[(1 << 20, 1), (1 << 20, 4), (700, 2), (90, 3)];

fn opts(chunk_bytes: usize, threads: usize) -> ConvertOptions {
    ConvertOptions {
        chunk_bytes,
        threads,
        batch_rows: 7,
        ..ConvertOptions::default()
    }
}

/// The first error of converting `bytes` as the amortized (`actual` false) or actual file.
fn first_error(bytes: &[u8], actual: bool, o: ConvertOptions) -> IngestError {
    let src = vec![mem("f.csv", bytes.to_vec())];
    let conv = if actual {
        FocusConverter::new(vec![], src, o)
    } else {
        FocusConverter::new(src, vec![], o)
    };
    conv.into_iter()
        .find_map(|b| b.err())
        .expect("an error expected")
}

fn convert(amortized: Vec<Source>, o: ConvertOptions) -> (Vec<RecordBatch>, Warnings) {
    let mut conv = FocusConverter::new(amortized, vec![], o);
    let batches: Vec<RecordBatch> = conv
        .by_ref()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("conversion failed: {e}"));
    (batches, conv.warnings().clone())
}

// ---- 7. line numbers -------------------------------------------------------------------------

/// A bad cost on data row 9 is reported on its physical line, whatever the line endings and with
/// a quoted field across lines on data row 3, in the fully parsed (amortized) and the skimmed
/// (actual) path, in any chunking.
#[test]
fn error_lines_are_right_for_lf_crlf_mixed_endings_and_quoted_line_breaks() {
    let mut recs = sample(EA_ACTUAL);
    let cost = col(&recs, "Cost");
    recs[9][cost] = "2.6.4".into();
    let lf = |_: usize| "\n";
    let crlf = |_: usize| "\r\n";
    let mixed = |i: usize| if i.is_multiple_of(2) { "\r\n" } else { "\n" };
    let endings: [(&str, &dyn Fn(usize) -> &'static str); 3] =
        [("LF", &lf), ("CRLF", &crlf), ("mixed", &mixed)];
    for (name, eol) in endings {
        for multiline in [false, true] {
            let mut recs = recs.clone();
            let mut line = 10;
            if multiline {
                let account = col(&recs, "AccountName");
                let inner = if name == "CRLF" { "\r\n" } else { "\n" };
                recs[3][account] = format!("ACM{inner}Team{inner}West");
                line += 2;
            }
            let bytes = write(&recs, eol);
            for &(chunk, threads) in CHUNKINGS {
                for actual in [false, true] {
                    let e = first_error(&bytes, actual, opts(chunk, threads));
                    let at = e.position().unwrap_or_else(|| panic!("no position: {e}"));
                    assert_eq!(
                        (at.line, at.column, at.column_name.as_deref(), e.code()),
                        (
                            line,
                            Some(cost as u64 + 1),
                            Some("Cost"),
                            "ingest_bad_value"
                        ),
                        "{name}, multi-line {multiline}, chunk {chunk}, actual {actual}: {e}"
                    );
                }
            }
        }
    }
}

/// Errors found by the scanner (a stray quote) name the physical line too. (In the ActualCost
/// file a row that is only summed is skimmed, not checked for stray quotes: its fields and cost
/// are read the same either way.)
#[test]
fn scanner_errors_name_the_physical_line_in_crlf_files() {
    let mut recs = sample(EA_AMORTIZED);
    let account = col(&recs, "AccountName");
    recs[2][account] = "two\r\nlines".into();
    recs[6][account] = "STRAY-MARK".into();
    let text = String::from_utf8(write(&recs, |_| "\r\n")).expect("utf8");
    // a stray quote in data row 6, which starts on line 8 (row 2 spans two lines)
    let bytes = text
        .replacen(",STRAY-MARK,", ",ACM \"Team\",", 1)
        .into_bytes();
    for &(chunk, threads) in CHUNKINGS {
        let e = first_error(&bytes, false, opts(chunk, threads));
        assert_eq!(e.code(), "ingest_malformed_csv", "{e}");
        assert_eq!(
            e.position().map(|p| (p.line, p.column)),
            Some((8, Some(account as u64 + 1))),
            "chunk {chunk}: {e}"
        );
    }
}

/// The sequential reader and a report in several blobs count lines the same way: each blob from
/// its own header.
#[test]
fn lines_restart_in_each_blob_and_the_sequential_reader_agrees() {
    let mut recs = sample(EA_AMORTIZED);
    let (account, cost) = (col(&recs, "AccountName"), col(&recs, "Cost"));
    recs[1][account] = "a\r\nb\nc".into();
    let good = write(&recs, |i| if i % 3 == 0 { "\n" } else { "\r\n" });
    let mut r = be_ingest::CostReader::new("seq.csv", good.as_slice()).expect("header");
    let mut lines = Vec::new();
    while let Some(rec) = r.next_record().expect("record") {
        lines.push(rec.line());
    }
    let want: Vec<u64> = std::iter::once(2)
        .chain(5..5 + recs.len() as u64 - 2)
        .collect();
    assert_eq!(lines, want);
    recs[4][cost] = "x".into();
    let bad = write(&recs, |_| "\r\n");
    for &(chunk, threads) in CHUNKINGS {
        let conv = FocusConverter::new(
            vec![
                mem("blob-1.csv", good.clone()),
                mem("blob-2.csv", bad.clone()),
            ],
            vec![],
            opts(chunk, threads),
        );
        let e = conv.into_iter().find_map(|b| b.err()).expect("an error");
        assert_eq!(
            e.position().map(|p| (p.file.as_str(), p.line)),
            Some(("blob-2.csv", 7)),
            "chunk {chunk}: {e}"
        );
    }
}

// ---- 8. optional x_ columns ------------------------------------------------------------------

/// An MCA file whose exchangeRateDate is `3/1/21` on two rows and whose costInUsd is `n/a` on
/// another converts: the rows are kept, the values stored as null, the warnings counted with
/// file, line and column, the same in every chunking.
#[test]
fn odd_values_in_optional_x_columns_are_warnings_not_failures() {
    let g = generator(Layout::Mca2023_12_01Preview, 120, 3);
    let mut recs = records(&generated_csv(&g, Metric::AmortizedCost));
    let (rate_date, usd) = (col(&recs, "exchangeRateDate"), col(&recs, "costInUsd"));
    recs[3][rate_date] = "3/1/21".into();
    recs[40][rate_date] = "3/1/21".into();
    recs[7][usd] = "n/a".into();
    let rows = recs.len() - 1;
    let bytes = write(&recs, |_| "\r\n");
    let mut first: Option<String> = None;
    for &(chunk, threads) in CHUNKINGS {
        let (batches, warnings) =
            convert(vec![mem("mca.csv", bytes.clone())], opts(chunk, threads));
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), rows);
        let dates = column(&batches, "x_BillingExchangeRateDate");
        assert_eq!((dates[2].as_deref(), dates[39].as_deref()), (None, None));
        assert!(dates[3].is_some(), "the other rows keep their date");
        assert_eq!(column(&batches, "x_BilledCostInUsd")[6], None);
        assert_eq!(warnings.count, 3, "chunk {chunk}");
        let seen: Vec<(u64, Option<u64>, Option<&str>, &str)> = warnings
            .examples
            .iter()
            .map(|w| (w.line, w.column, w.column_name.as_deref(), w.value.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    4,
                    Some(rate_date as u64 + 1),
                    Some("exchangeRateDate"),
                    "3/1/21"
                ),
                (8, Some(usd as u64 + 1), Some("costInUsd"), "n/a"),
                (
                    41,
                    Some(rate_date as u64 + 1),
                    Some("exchangeRateDate"),
                    "3/1/21"
                ),
            ],
            "chunk {chunk}, threads {threads}"
        );
        assert!(warnings.examples.iter().all(|w| w.file == "mca.csv"));
        let rendered = render(&batches);
        match &first {
            None => first = Some(rendered),
            Some(f) => assert!(f == &rendered, "the same rows in every chunking"),
        }
    }
}

/// `ingest_period` reports the warnings (count, first examples) with the stored period; a file
/// full of odd values keeps only the first examples.
#[test]
fn ingest_period_reports_warnings_with_a_bounded_list_of_examples() {
    let g = generator(Layout::Mca2023_12_01Preview, 60, 9);
    let mut recs = records(&generated_csv(&g, Metric::AmortizedCost));
    let rate_date = col(&recs, "exchangeRateDate");
    for r in recs.iter_mut().skip(1) {
        r[rate_date] = "someday".into();
    }
    let rows = (recs.len() - 1) as u64;
    let bytes = write(&recs, |_| "\n");
    let mut actual = records(&generated_csv(&g, Metric::ActualCost));
    actual[1][rate_date] = "someday".into(); // an actual row that is only summed: no warning
    let dir = temp_dir();
    let report = ingest_period(
        vec![mem("amortized.csv", bytes)],
        vec![mem("actual.csv", write(&actual, |_| "\n"))],
        &dir.path().join("p.parquet"),
        ConvertOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.reconciliation.reconciled);
    assert_eq!(report.warnings.count, rows);
    assert_eq!(
        report
            .warnings
            .examples
            .iter()
            .map(|w| w.line)
            .collect::<Vec<_>>(),
        vec![2, 3, 4, 5, 6]
    );
    assert!(
        report.warnings.summary().starts_with(&format!(
            "{rows} values could not be used as written (first: amortized.csv:2:"
        )),
        "{}",
        report.warnings.summary()
    );
}

// ---- 9. charge type and currency -------------------------------------------------------------

#[test]
fn a_file_without_charge_type_is_refused_at_its_header() {
    let mut recs = sample(EA_AMORTIZED);
    let ct = col(&recs, "ChargeType");
    for r in recs.iter_mut() {
        r.remove(ct);
    }
    let e = first_error(&write(&recs, |_| "\n"), false, ConvertOptions::default());
    assert_eq!(e.code(), "ingest_missing_column", "{e}");
    assert_eq!(
        e.position().map(|p| (p.file.as_str(), p.line)),
        Some(("f.csv", 1))
    );
    assert!(e.to_string().contains("no ChargeType column"), "{e}");
}

#[test]
fn an_invalid_currency_is_refused_with_file_line_and_column() {
    for actual in [false, true] {
        let mut recs = sample(if actual { EA_ACTUAL } else { EA_AMORTIZED });
        let cur = col(&recs, "BillingCurrency");
        // in the actual file, the one kept row (the reservation purchase)
        let row = if actual {
            let ct = col(&recs, "ChargeType");
            recs.iter()
                .position(|r| r[ct] == "Purchase")
                .expect("a purchase")
        } else {
            5
        };
        recs[row][cur] = "MC".into();
        let e = first_error(&write(&recs, |_| "\n"), actual, ConvertOptions::default());
        assert_eq!(e.code(), "ingest_bad_currency", "{e}");
        let at = e.position().expect("position");
        assert_eq!(
            (at.line, at.column, at.column_name.as_deref()),
            (
                row as u64 + 1,
                Some(cur as u64 + 1),
                Some("BillingCurrency")
            ),
            "{e}"
        );
        assert!(e.to_string().contains("ISO 4217"), "{e}");
        assert!(!e.remedy().is_empty());
    }
    // empty is refused too; a lower-case code is written as the ISO code
    let mut recs = sample(EA_AMORTIZED);
    let cur = col(&recs, "BillingCurrency");
    recs[2][cur] = String::new();
    let e = first_error(&write(&recs, |_| "\n"), false, ConvertOptions::default());
    assert_eq!(
        (e.code(), e.position().map(|p| p.line)),
        ("ingest_bad_currency", Some(3))
    );
    let mut recs = sample(EA_AMORTIZED);
    recs[2][cur] = "usd".into();
    let (batches, _) = convert(
        vec![mem("f.csv", write(&recs, |_| "\n"))],
        ConvertOptions::default(),
    );
    assert!(
        column(&batches, "BillingCurrency")
            .iter()
            .all(|c| c.as_deref() == Some("USD"))
    );
}

#[test]
fn an_empty_charge_type_is_refused_and_an_unknown_one_is_a_warning() {
    let mut recs = sample(EA_AMORTIZED);
    let ct = col(&recs, "ChargeType");
    recs[4][ct] = String::new();
    let e = first_error(&write(&recs, |_| "\n"), false, ConvertOptions::default());
    assert_eq!(e.code(), "ingest_bad_value");
    assert_eq!(
        e.position().map(|p| (p.line, p.column_name.as_deref())),
        Some((5, Some("ChargeType")))
    );
    let mut recs = sample(EA_AMORTIZED);
    recs[4][ct] = "Mystery".into();
    let (batches, warnings) = convert(
        vec![mem("f.csv", write(&recs, |_| "\n"))],
        ConvertOptions::default(),
    );
    assert_eq!(
        column(&batches, "ChargeCategory")[3].as_deref(),
        Some("Adjustment")
    );
    assert_eq!(warnings.count, 1);
    assert_eq!(
        (
            warnings.examples[0].line,
            warnings.examples[0].value.as_str()
        ),
        (5, "Mystery")
    );
}

// ---- 10. one category per service name -------------------------------------------------------

/// ServiceName to the set of its ServiceCategory values.
fn categories(batches: &[RecordBatch]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (n, c) in column(batches, "ServiceName")
        .into_iter()
        .zip(column(batches, "ServiceCategory"))
    {
        m.entry(n.expect("ServiceName"))
            .or_default()
            .insert(c.expect("ServiceCategory"));
    }
    m
}

/// A service missing from Microsoft's lookup whose MeterCategory is the name of a mapped service
/// of the same file takes that service's category (and an `Other` subcategory of it), in any
/// chunking; one that matches no known name stays `Other`.
#[test]
fn an_unmapped_service_named_like_a_mapped_one_takes_its_category() {
    let mut recs = sample(EA_AMORTIZED);
    let (cs, rid, meter) = (
        col(&recs, "ConsumedService"),
        col(&recs, "ResourceId"),
        col(&recs, "MeterCategory"),
    );
    let (mapped, _) = convert(vec![source(EA_AMORTIZED)], ConvertOptions::default());
    let before = categories(&mapped);
    let (name, category) = before
        .iter()
        .find(|(n, c)| c.len() == 1 && !c.contains("Other") && n.as_str() != "Other")
        .map(|(n, c)| (n.clone(), c.iter().next().cloned().unwrap_or_default()))
        .expect("a mapped service");
    for (row, meter_category) in [(6, name.as_str()), (20, "Quantum Widgets")] {
        recs[row][cs] = "Microsoft.Widgets".into();
        recs[row][rid] =
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Widgets/widgets/w1".into();
        recs[row][meter] = meter_category.into();
    }
    let bytes = write(&recs, |_| "\n");
    for &(chunk, threads) in CHUNKINGS {
        let (batches, _) = convert(vec![mem("f.csv", bytes.clone())], opts(chunk, threads));
        let got = categories(&batches);
        for (n, c) in &got {
            assert_eq!(c.len(), 1, "{n} has categories {c:?} (chunk {chunk})");
        }
        assert_eq!(got[&name], BTreeSet::from([category.clone()]));
        let sub = column(&batches, "ServiceSubcategory");
        assert_eq!(
            sub[5].as_deref(),
            Some(format!("Other ({category})").as_str())
        );
        assert_eq!(
            (
                column(&batches, "ServiceCategory")[19].as_deref(),
                sub[19].as_deref()
            ),
            (Some("Other"), Some("Other (Other)"))
        );
    }
}

// ---- 11. the legacy EA usage-details layout --------------------------------------------------

fn legacy_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ingest/legacy_ea_usage_details.csv")
}

fn golden(name: &str, got: &str) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ingest")
        .join(name);
    if std::env::var_os("BILLING_ENGINE_BLESS").is_some() {
        std::fs::write(&path, got).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with BILLING_ENGINE_BLESS=1",
            path.display()
        )
    });
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b);
        panic!(
            "FOCUS output differs from {} at {:?}; if intended, rerun with BILLING_ENGINE_BLESS=1 and review",
            path.display(),
            first.map(|(i, (g, w))| format!("line {}: got {g:?}, expected {w:?}", i + 1))
        );
    }
}

/// The legacy layout (`UsageDateTime`, `PreTaxCost`, `SubscriptionGuid`, `InstanceId`,
/// `ResourceRate`, `UsageQuantity`, `Currency`, no `ChargeType`): every row is usage, its rate
/// the contracted price, and the period reconciles (the file as both reports: it has no
/// commitment purchases).
#[test]
fn the_legacy_ea_usage_details_layout_converts_to_the_expected_rows() {
    let bytes = std::fs::read(legacy_path()).expect("testdata");
    let (batches, warnings) = convert(
        vec![mem("legacy.csv", bytes.clone())],
        ConvertOptions::default(),
    );
    assert!(warnings.is_empty(), "{}", warnings.summary());
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    assert!(
        column(&batches, "ChargeCategory")
            .iter()
            .all(|c| c.as_deref() == Some("Usage"))
    );
    assert_eq!(
        column(&batches, "BilledCost")[0].as_deref(),
        Some("2.304"),
        "PreTaxCost"
    );
    assert_eq!(
        column(&batches, "ContractedUnitPrice")[0].as_deref(),
        Some("0.096"),
        "ResourceRate"
    );
    golden("legacy_ea_usage_details_focus.txt", &render(&batches));

    let dir = temp_dir();
    let report = ingest_period(
        vec![mem("legacy.csv", bytes.clone())],
        vec![mem("legacy.csv", bytes)],
        &dir.path().join("p.parquet"),
        ConvertOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.reconciliation.reconciled,
        "{}",
        report.reconciliation.summary()
    );
    assert_eq!(report.write.rows, 5);
}

/// The EA portal's variant of the legacy layout has no Currency column: refused with a message
/// that names the layout.
#[test]
fn the_legacy_layout_without_currency_is_refused_by_name() {
    let mut recs = records(&std::fs::read(legacy_path()).expect("testdata"));
    let cur = col(&recs, "Currency");
    for r in recs.iter_mut() {
        r.remove(cur);
    }
    let e = first_error(&write(&recs, |_| "\n"), false, ConvertOptions::default());
    assert_eq!(e.code(), "ingest_unsupported_layout", "{e}");
    assert_eq!(e.position().map(|p| p.line), Some(1));
    assert!(
        e.to_string().contains("legacy EA usage-details layout")
            && e.to_string().contains("Currency"),
        "{e}"
    );
}
