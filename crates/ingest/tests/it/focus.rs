//! FOCUS file imports: every FOCUS version's column set, Microsoft's FOCUS export header, gzip CSV,
//! Parquet as AWS and Google write it (floating-point costs, map tags), several periods in one file,
//! atomic re-imports, and each kind of bad file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Float64Array, Int64Array, MapBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Decimal128Type, Field, Schema, TimeUnit};
use be_ingest::{IngestError, import_focus};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common::*;

const FOCUS_1_0: &[&str] = &[
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];

/// A row for the columns of `header`: the values a test needs, empty otherwise.
fn row(header: &[&str], values: &[(&str, &str)]) -> String {
    header
        .iter()
        .map(|h| {
            values
                .iter()
                .find(|(k, _)| k == h)
                .map(|(_, v)| csv_field(v))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn basic(period: &str, sub: &str, billed: &str) -> Vec<(&'static str, String)> {
    let (start, end) = match period {
        "2026-09" => ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"),
        _ => ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    };
    vec![
        ("BillingAccountId", "ba-1".into()),
        ("BillingCurrency", "USD".into()),
        ("BillingPeriodStart", start.into()),
        ("BillingPeriodEnd", end.into()),
        ("ChargeCategory", "Usage".into()),
        ("SubAccountId", sub.into()),
        ("BilledCost", billed.into()),
        ("EffectiveCost", billed.into()),
        ("ListCost", billed.into()),
        ("ContractedCost", billed.into()),
        ("Tags", "{\"team\":\"a\"}".into()),
    ]
}

fn write_csv(dir: &Path, name: &str, header: &[&str], rows: &[Vec<(&str, String)>]) -> PathBuf {
    let mut text = header.join(",") + "\n";
    for r in rows {
        let pairs: Vec<(&str, &str)> = r.iter().map(|(k, v)| (*k, v.as_str())).collect();
        text += &(row(header, &pairs) + "\n");
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn dest(dir: &Path) -> impl Fn(be_domain::BillingPeriod) -> PathBuf + '_ {
    move |p| dir.join("out").join(format!("{p}.parquet"))
}

fn read_column(path: &Path, column: &str) -> Vec<Option<String>> {
    let file = std::fs::File::open(path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("reader")
        .build()
        .expect("build");
    let mut out = vec![];
    for b in reader {
        let b = b.expect("batch");
        let a = b
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no {column}"));
        for i in 0..a.len() {
            out.push((!a.is_null(i)).then(|| {
                match a.data_type() {
                    DataType::Decimal128(_, _) => be_ingest::decimal::format_store(
                        a.as_primitive::<Decimal128Type>().value(i),
                    ),
                    DataType::Int64 => a
                        .as_primitive::<arrow::datatypes::Int64Type>()
                        .value(i)
                        .to_string(),
                    _ => a.as_string::<i32>().value(i).to_string(),
                }
            }));
        }
    }
    out
}

#[test]
fn a_focus_1_0_file_imports_and_names_the_newer_columns_it_lacks() {
    let dir = temp_dir();
    let file = write_csv(
        dir.path(),
        "aws.csv",
        FOCUS_1_0,
        &[
            basic("2026-10", "111122223333", "1.5"),
            basic("2026-10", "444455556666", "2.25"),
        ],
    );
    let report = import_focus(&file, "aws.csv", &dest(dir.path())).expect("import");
    assert_eq!(report.periods.len(), 1);
    let p = &report.periods[0];
    assert_eq!(
        (p.period.to_string(), p.rows, p.billed_cost.to_string()),
        ("2026-10".into(), 2, "3.75".into())
    );
    for newer in [
        "BillingAccountType",
        "SubAccountType",
        "InvoiceId",
        "ServiceSubcategory",
        "CapacityReservationId",
    ] {
        assert!(
            report.missing_columns.contains(&newer),
            "{newer} is reported missing: {:?}",
            report.missing_columns
        );
    }
    assert_eq!(
        read_column(&p.path, "SubAccountId"),
        vec![Some("111122223333".into()), Some("444455556666".into())]
    );
    assert_eq!(
        read_column(&p.path, "x_SourceRowId"),
        vec![Some("0".into()), Some("1".into())]
    );
    assert_eq!(
        read_column(&p.path, "BillingAccountType"),
        vec![None, None],
        "absent columns are null"
    );
}

#[test]
fn microsofts_focus_export_header_imports_with_its_extensions() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared(
            "data/azure-focus-metadata/export-schema__focuscost_1.2.json",
        ))
        .expect("schema"),
    )
    .expect("json");
    let header: Vec<String> = schema["translator"]["mappings"]
        .as_array()
        .expect("mappings")
        .iter()
        .map(|m| m["sink"]["name"].as_str().expect("name").to_string())
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    assert!(
        header.iter().any(|h| h.starts_with("x_")),
        "the export has x_ columns"
    );
    let dir = temp_dir();
    let file = write_csv(
        dir.path(),
        "ms.csv",
        &header,
        &[basic("2026-10", "sub-1", "10")],
    );
    let report = import_focus(&file, "ms.csv", &dest(dir.path())).expect("import");
    assert_eq!(report.periods[0].rows, 1);
    assert!(
        report.ignored_columns.is_empty(),
        "{:?}",
        report.ignored_columns
    );
    assert!(!report.extensions.is_empty());
    assert!(
        report.missing_columns.len() < 5,
        "a FOCUS 1.2 export has (almost) every column: {:?}",
        report.missing_columns
    );
}

#[test]
fn gzip_csv_gives_the_same_rows_as_plain_csv() {
    use std::io::Write;
    let dir = temp_dir();
    let plain = shared("data/engine/example-focus.csv");
    let gz = dir.path().join("example.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(&plain).expect("read"))
        .expect("gzip");
    enc.finish().expect("finish");
    let a = import_focus(&plain, "plain", &|p| {
        dir.path().join("a").join(format!("{p}.parquet"))
    })
    .expect("plain");
    let b = import_focus(&gz, "gz", &|p| {
        dir.path().join("b").join(format!("{p}.parquet"))
    })
    .expect("gzip");
    assert_eq!(format!("{:?}", b.format), "CsvGzip");
    assert_eq!(
        (a.periods[0].rows, a.periods[0].billed_cost.to_string()),
        (b.periods[0].rows, b.periods[0].billed_cost.to_string())
    );
    assert_eq!(a.periods[0].billed_cost.to_string(), "700");
    assert_eq!(
        read_column(&a.periods[0].path, "Tags"),
        read_column(&b.periods[0].path, "Tags")
    );
}

#[test]
fn parquet_as_aws_and_google_write_it() {
    let dir = temp_dir();
    let path = dir.path().join("cur.parquet");
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    tags.keys().append_value("team");
    tags.values().append_value("data");
    tags.append(true).expect("map");
    tags.append(true).expect("empty map");
    let tags = tags.finish();
    let ts = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .expect("ts")
            .unix_timestamp()
            * 1000
    };
    let fields = vec![
        Field::new("BillingAccountId", DataType::Utf8, true),
        Field::new("billingcurrency", DataType::Utf8, true),
        Field::new(
            "BillingPeriodStart",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new(
            "BillingPeriodEnd",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("ChargeCategory", DataType::Utf8, true),
        Field::new("SubAccountId", DataType::Utf8, true),
        Field::new("BilledCost", DataType::Float64, true),
        Field::new("EffectiveCost", DataType::Float64, true),
        Field::new("ListCost", DataType::Float64, true),
        Field::new("ContractedCost", DataType::Float64, true),
        Field::new("PricingQuantity", DataType::Int64, true),
        Field::new(tags.data_type().to_string(), tags.data_type().clone(), true).with_name("Tags"),
        Field::new("x_ServiceCode", DataType::Utf8, true),
    ];
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["123", "123"])),
            Arc::new(StringArray::from(vec!["USD", "USD"])),
            Arc::new(
                TimestampMillisecondArray::from(vec![ts("2026-10-01T00:00:00Z"); 2])
                    .with_timezone("UTC"),
            ),
            Arc::new(
                TimestampMillisecondArray::from(vec![ts("2026-11-01T00:00:00Z"); 2])
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(vec!["Usage", "Usage"])),
            Arc::new(StringArray::from(vec!["111122223333", "111122223333"])),
            Arc::new(Float64Array::from(vec![0.1, 0.2])),
            Arc::new(Float64Array::from(vec![0.1, 0.2])),
            Arc::new(Float64Array::from(vec![0.1, 0.2])),
            Arc::new(Float64Array::from(vec![0.1, 0.2])),
            Arc::new(Int64Array::from(vec![3, 4])),
            Arc::new(tags),
            Arc::new(StringArray::from(vec!["AmazonEC2", "AmazonS3"])),
        ],
    )
    .expect("batch");
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).expect("create"), schema, None)
        .expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");

    let report = import_focus(&path, "cur.parquet", &dest(dir.path())).expect("import");
    assert_eq!(format!("{:?}", report.format), "Parquet");
    let p = &report.periods[0];
    assert_eq!(
        p.billed_cost.to_string(),
        "0.3",
        "0.1 + 0.2 is 0.3: floats are taken at their shortest decimal form"
    );
    assert_eq!(
        read_column(&p.path, "BilledCost"),
        vec![Some("0.1".into()), Some("0.2".into())]
    );
    assert_eq!(
        read_column(&p.path, "PricingQuantity"),
        vec![Some("3".into()), Some("4".into())]
    );
    assert_eq!(
        read_column(&p.path, "Tags"),
        vec![Some("{\"team\":\"data\"}".into()), Some("{}".into())]
    );
    assert_eq!(
        read_column(&p.path, "x_ServiceCode"),
        vec![Some("AmazonEC2".into()), Some("AmazonS3".into())]
    );
    assert_eq!(
        read_column(&p.path, "BillingCurrency"),
        vec![Some("USD".into()), Some("USD".into())],
        "matched ignoring case"
    );
}

#[test]
fn one_file_with_two_periods_makes_two_periods_each_numbered_from_zero() {
    let dir = temp_dir();
    let rows = [
        basic("2026-09", "s1", "1"),
        basic("2026-10", "s1", "2"),
        basic("2026-09", "s2", "3"),
    ];
    let file = write_csv(dir.path(), "two.csv", FOCUS_1_0, &rows);
    let report = import_focus(&file, "two.csv", &dest(dir.path())).expect("import");
    let got: Vec<(String, u64, String)> = report
        .periods
        .iter()
        .map(|p| (p.period.to_string(), p.rows, p.billed_cost.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-09".into(), 2, "4".into()),
            ("2026-10".into(), 1, "2".into())
        ]
    );
    assert_eq!(
        read_column(&report.periods[0].path, "x_SourceRowId"),
        vec![Some("0".into()), Some("1".into())]
    );
}

#[test]
fn a_re_import_replaces_the_period_and_a_failed_one_changes_nothing() {
    let dir = temp_dir();
    let first = write_csv(
        dir.path(),
        "v1.csv",
        FOCUS_1_0,
        &[basic("2026-10", "s1", "1")],
    );
    let report = import_focus(&first, "v1.csv", &dest(dir.path())).expect("first");
    let stored = report.periods[0].path.clone();
    let second = write_csv(
        dir.path(),
        "v2.csv",
        FOCUS_1_0,
        &[basic("2026-10", "s1", "5"), basic("2026-10", "s2", "6")],
    );
    import_focus(&second, "v2.csv", &dest(dir.path())).expect("second");
    assert_eq!(
        read_column(&stored, "BilledCost"),
        vec![Some("5".into()), Some("6".into())],
        "replaced, not appended"
    );
    let before = std::fs::read(&stored).expect("read");
    let mut bad_row = basic("2026-10", "s1", "7");
    bad_row.retain(|(k, _)| *k != "BilledCost");
    bad_row.push(("BilledCost", "seven".into()));
    let third = write_csv(
        dir.path(),
        "v3.csv",
        FOCUS_1_0,
        &[basic("2026-10", "s3", "8"), bad_row],
    );
    let err = import_focus(&third, "v3.csv", &dest(dir.path())).expect_err("bad value");
    assert_eq!(err.code(), "import_bad_value");
    assert_eq!(
        std::fs::read(&stored).expect("read"),
        before,
        "the stored period is untouched"
    );
    let names: Vec<String> = std::fs::read_dir(stored.parent().expect("dir"))
        .expect("ls")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["2026-10.parquet".to_string()],
        "no temporary file left behind"
    );
}

#[test]
fn each_kind_of_bad_file_is_refused_naming_what_and_where() {
    let dir = temp_dir();
    let cases: Vec<(Vec<(&str, String)>, &str, &str)> = vec![
        (
            {
                let mut r = basic("2026-10", "s", "1");
                r.retain(|(k, _)| *k != "BillingCurrency");
                r.push(("BillingCurrency", "MC".into()));
                r
            },
            "BillingCurrency",
            "ISO 4217",
        ),
        (
            {
                let mut r = basic("2026-10", "s", "1");
                r.retain(|(k, _)| *k != "ChargeCategory");
                r.push(("ChargeCategory", "Fee".into()));
                r
            },
            "ChargeCategory",
            "one of Usage",
        ),
        (
            {
                let mut r = basic("2026-10", "s", "1");
                r.retain(|(k, _)| *k != "EffectiveCost");
                r
            },
            "EffectiveCost",
            "must have a value",
        ),
        (
            {
                let mut r = basic("2026-10", "s", "1");
                r.retain(|(k, _)| *k != "BillingPeriodStart");
                r.push(("BillingPeriodStart", "next month".into()));
                r
            },
            "BillingPeriodStart",
            "date",
        ),
    ];
    for (row, column, says) in cases {
        let file = write_csv(
            dir.path(),
            "bad.csv",
            FOCUS_1_0,
            &[basic("2026-10", "ok", "1"), row],
        );
        let err = import_focus(&file, "bad.csv", &dest(dir.path())).expect_err(column);
        let at = err.position().expect("position");
        assert_eq!(
            (at.file.as_str(), at.line, at.column_name.as_deref()),
            ("bad.csv", 3, Some(column)),
            "{err}"
        );
        assert!(err.to_string().contains(says), "{err}");
    }
    let header: Vec<&str> = FOCUS_1_0
        .iter()
        .copied()
        .filter(|c| *c != "ListCost")
        .collect();
    let file = write_csv(
        dir.path(),
        "nolist.csv",
        &header,
        &[basic("2026-10", "s", "1")],
    );
    let err = import_focus(&file, "nolist.csv", &dest(dir.path())).expect_err("missing column");
    assert!(
        matches!(
            err,
            IngestError::MissingFocusColumn {
                column: "ListCost",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "import_missing_column");
    std::fs::write(dir.path().join("empty.csv"), "").expect("write");
    assert_eq!(
        import_focus(
            &dir.path().join("empty.csv"),
            "empty.csv",
            &dest(dir.path())
        )
        .expect_err("empty")
        .code(),
        "ingest_malformed_csv"
    );
    assert!(
        !dir.path().join("out").exists()
            || std::fs::read_dir(dir.path().join("out"))
                .expect("ls")
                .next()
                .is_none(),
        "nothing stored"
    );
}

#[test]
fn each_period_reports_its_one_billing_currency_or_none_when_mixed() {
    let dir = temp_dir();
    let mut eur = basic("2026-10", "s2", "3");
    for (k, v) in eur.iter_mut() {
        if *k == "BillingCurrency" {
            *v = "EUR".into();
        }
    }
    let rows = [
        basic("2026-09", "s1", "1"),
        basic("2026-09", "s2", "2"),
        basic("2026-10", "s1", "2"),
        eur,
    ];
    let file = write_csv(dir.path(), "currencies.csv", FOCUS_1_0, &rows);
    let report = import_focus(&file, "currencies.csv", &dest(dir.path())).expect("import");
    let got: Vec<(String, Option<String>)> = report
        .periods
        .iter()
        .map(|p| (p.period.to_string(), p.currency.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-09".into(), Some("USD".into())),
            ("2026-10".into(), None)
        ]
    );
}
