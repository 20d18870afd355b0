//! A malformed file fails with the file, line and column.

use be_ingest::{ConvertOptions, FocusConverter, IngestError};

use crate::common::*;

fn actual_lines() -> Vec<String> {
    std::fs::read_to_string(cost_details(EA_ACTUAL))
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect()
}

fn first_error(name: &str, bytes: Vec<u8>) -> IngestError {
    let conv = FocusConverter::new(vec![mem(name, bytes)], vec![], ConvertOptions::default());
    for b in conv {
        if let Err(e) = b {
            return e;
        }
    }
    panic!("{name}: expected an error")
}

/// Replace field `col` (1-based) of line `line` (1-based) by `value`. The sample's first 20 fields
/// have no quotes, so a plain split is enough there.
fn with_field(line: usize, col: usize, value: &str) -> Vec<u8> {
    let mut lines = actual_lines();
    let mut fields: Vec<String> = lines[line - 1]
        .splitn(col + 1, ',')
        .map(str::to_string)
        .collect();
    fields[col - 1] = value.to_string();
    lines[line - 1] = fields.join(",");
    (lines.join("\n") + "\n").into_bytes()
}

fn assert_at(
    e: &IngestError,
    file: &str,
    line: u64,
    column: Option<u64>,
    column_name: Option<&str>,
) {
    let p = e.position().unwrap_or_else(|| panic!("no position in {e}"));
    assert_eq!(
        (p.file.as_str(), p.line, p.column, p.column_name.as_deref()),
        (file, line, column, column_name),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(file) && msg.contains(&format!(":{line}")),
        "message names file and line: {msg}"
    );
}

#[test]
fn a_bad_decimal_names_file_line_and_column() {
    let e = first_error("actual.csv", with_field(4, 22, "2.6.4"));
    assert_eq!(e.code(), "ingest_bad_value");
    assert_at(&e, "actual.csv", 4, Some(22), Some("Cost"));
    assert!(e.to_string().contains("2.6.4"), "{e}");
}

#[test]
fn a_bad_date_names_file_line_and_column() {
    let e = first_error("actual.csv", with_field(2, 11, "13/45/2023"));
    assert_at(&e, "actual.csv", 2, Some(11), Some("Date"));
    let e = first_error("actual.csv", with_field(3, 3, "someday"));
    assert_at(&e, "actual.csv", 3, Some(3), Some("BillingPeriodStartDate"));
}

#[test]
fn a_wrong_number_of_fields_names_the_line() {
    let mut lines = actual_lines();
    lines[4].push_str(",extra");
    let e = first_error("blob-0001.csv", (lines.join("\n") + "\n").into_bytes());
    assert_eq!(e.code(), "ingest_malformed_csv");
    assert_at(&e, "blob-0001.csv", 5, Some(56), None);

    // an unterminated quote swallows the rest of the file: the record comes up short
    let mut lines = actual_lines();
    lines[2] = lines[2].replacen(",Trey Research IT,", ",\"Trey Research IT,", 1);
    let e = first_error("quote.csv", (lines.join("\n") + "\n").into_bytes());
    assert_eq!(e.code(), "ingest_malformed_csv");
    assert_eq!(e.position().map(|p| p.line), Some(3), "{e}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let mut bytes = with_field(6, 8, "ACM Team");
    let at = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| *w == b"ACM Team")
        .map(|(i, _)| i)
        .nth(4)
        .expect("5th row's account name");
    bytes[at] = 0xff;
    let e = first_error("utf8.csv", bytes);
    assert_at(&e, "utf8.csv", 6, Some(8), Some("AccountName"));
}

#[test]
fn a_header_without_a_cost_column_is_rejected_at_line_1() {
    let mut lines = actual_lines();
    lines[0] = lines[0].replace(",Cost,", ",Costs,");
    let e = first_error("nocost.csv", (lines.join("\n") + "\n").into_bytes());
    assert_eq!(e.code(), "ingest_missing_column");
    assert_at(&e, "nocost.csv", 1, None, None);
    assert!(e.to_string().contains("CostInBillingCurrency, Cost"), "{e}");
    let e = first_error("empty.csv", Vec::new());
    assert_eq!(e.code(), "ingest_malformed_csv");
}

#[test]
fn a_stray_quote_names_line_and_column_in_any_chunk() {
    for chunk_bytes in [1 << 20, 700, 64] {
        let first = |name: &str, bytes: Vec<u8>| {
            let conv = FocusConverter::new(
                vec![mem(name, bytes)],
                vec![],
                ConvertOptions {
                    chunk_bytes,
                    threads: 2,
                    ..ConvertOptions::default()
                },
            );
            conv.into_iter()
                .find_map(|b| b.err())
                .unwrap_or_else(|| panic!("{name}: expected an error"))
        };
        // a quote inside a field that does not start with one (RFC 4180 quotes fields whole)
        let e = first("stray.csv", with_field(9, 8, "ACM \"Team\""));
        assert_eq!(e.code(), "ingest_malformed_csv", "{e}");
        assert_at(&e, "stray.csv", 9, Some(8), Some("AccountName"));
        assert!(e.to_string().contains("quote inside a field"), "{e}");
        // text after the closing quote
        let e = first("after.csv", with_field(7, 8, "\"ACM\" Team"));
        assert_at(&e, "after.csv", 7, Some(8), Some("AccountName"));
        assert!(e.to_string().contains("after the closing quote"), "{e}");
    }
}

#[test]
fn errors_in_skimmed_actual_cost_rows_name_line_and_column() {
    for chunk_bytes in [1 << 20, 700] {
        let opts = ConvertOptions {
            chunk_bytes,
            ..ConvertOptions::default()
        };
        let first = |bytes: Vec<u8>| {
            FocusConverter::new(vec![], vec![mem("actual.csv", bytes)], opts.clone())
                .find_map(|b| b.err())
                .expect("an error")
        };
        let e = first(with_field(10, 22, "2.6.4"));
        assert_eq!(e.code(), "ingest_bad_value");
        assert_at(&e, "actual.csv", 10, Some(22), Some("Cost"));
        let mut lines = actual_lines();
        lines[8].push_str(",extra");
        let e = first((lines.join("\n") + "\n").into_bytes());
        assert_at(&e, "actual.csv", 9, Some(56), None);
    }
}

/// FOCUS imports name the right line whatever the line endings, and through quoted line breaks.
#[test]
fn focus_import_lines_are_right_for_lf_crlf_and_quoted_breaks() {
    let header = "BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargeCategory,SubAccountId,BilledCost,EffectiveCost,ListCost,ContractedCost,ChargeDescription";
    let ok = "a,USD,2026-10-01,2026-11-01,Usage,s1,1,1,1,1,plain";
    let quoted = "a,USD,2026-10-01,2026-11-01,Usage,s1,1,1,1,1,\"two\nlines\"";
    let bad = "a,USD,2026-10-01,2026-11-01,Usage,s1,x,1,1,1,bad";
    for (eol, body, line) in [
        ("\n", vec![ok, bad], 3),
        ("\r\n", vec![ok, bad], 3),
        ("\r\n", vec![quoted, ok, bad], 5),
        ("\n", vec![ok, quoted, bad], 5),
    ] {
        let dir = temp_dir();
        let file = dir.path().join("f.csv");
        let text: Vec<&str> = std::iter::once(header).chain(body).collect();
        std::fs::write(&file, text.join(eol) + eol).expect("write");
        let err =
            be_ingest::import_focus(&file, "f.csv", &|p| dir.path().join(format!("{p}.parquet")))
                .expect_err("bad value");
        let at = err.position().expect("position");
        assert_eq!(
            (at.line, at.column, at.column_name.as_deref()),
            (line, Some(7), Some("BilledCost")),
            "{eol:?}: {err}"
        );
        assert_eq!(err.code(), "import_bad_value");
    }
}
