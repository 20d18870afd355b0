//! Shared helpers: the shared data files, generated Cost Details files, batch rendering.

use std::path::PathBuf;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Decimal128Type, TimestampMicrosecondType};
use be_azure_sim::generator::{DataSpec, Generator, Request, ScopeFilter, Widths, month_bounds};
use be_azure_sim::{Agreement, Layout, Metric};
use be_ingest::{ConvertOptions, FocusConverter, Source};

pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

pub fn cost_details(file: &str) -> PathBuf {
    shared("data/azure-cost-details").join(file)
}

pub const EA_ACTUAL: &str = "finops-toolkit__EA_ActualCost_Small.csv";
pub const EA_AMORTIZED: &str = "finops-toolkit__EA_AmortizedCost_Small.csv";

pub fn source(file: &str) -> Source {
    Source::path(cost_details(file)).expect("shared data present (../shared/data)")
}

pub fn mem(name: &str, bytes: Vec<u8>) -> Source {
    Source::new(name, std::io::Cursor::new(bytes))
}

/// A simulator generator for one account.
pub fn generator(layout: Layout, rows_per_month: u64, seed: u64) -> Generator {
    generator_with(layout, rows_per_month, seed, Widths::Compact)
}

/// A simulator generator with text columns as wide as `widths` says.
pub fn generator_with(layout: Layout, rows_per_month: u64, seed: u64, widths: Widths) -> Generator {
    let mca = layout.is_mca();
    Generator::new(DataSpec {
        agreement: if mca { Agreement::Mca } else { Agreement::Ea },
        billing_account_id: if mca {
            "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31"
                .into()
        } else {
            "7645820".into()
        },
        billing_account_name: "Contoso".into(),
        seed,
        rows_per_month,
        data_start: time::macros::date!(2024 - 01 - 01),
        currency: if mca { "EUR".into() } else { "USD".into() },
        layout,
        widths,
    })
}

pub fn request(metric: Metric) -> Request {
    let (from, to) = month_bounds(time::macros::date!(2025 - 06 - 01));
    Request {
        metric,
        from,
        to,
        filter: ScopeFilter::All,
        until: time::macros::date!(2100 - 01 - 01),
    }
}

/// One generated CSV file (BOM, header, rows) in memory.
pub fn generated_csv(g: &Generator, metric: Metric) -> Vec<u8> {
    let mut out = Vec::new();
    g.write_csv(&request(metric), &mut out)
        .expect("write to memory");
    out
}

/// All batches of a conversion, and the converter (for its totals).
pub fn convert_all(
    amortized: Vec<Source>,
    actual: Vec<Source>,
) -> (Vec<RecordBatch>, FocusConverter) {
    let mut conv = FocusConverter::new(
        amortized,
        actual,
        ConvertOptions {
            batch_rows: 1000,
            ..ConvertOptions::default()
        },
    );
    let batches: Vec<RecordBatch> = conv
        .by_ref()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("conversion failed: {e}"));
    (batches, conv)
}

/// One cell as text (`None` for null).
pub fn cell(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Decimal128(_, s) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            let mut out = String::new();
            be_ingest::decimal::write_scaled(&mut out, v, *s as u32).expect("format");
            out
        }
        DataType::Timestamp(_, _) => {
            let us = a.as_primitive::<TimestampMicrosecondType>().value(i);
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
                .expect("timestamp");
            t.format(&time::format_description::well_known::Rfc3339)
                .expect("format")
        }
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        other => format!("<{other}>"),
    })
}

/// The values of one column over all batches.
pub fn column(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut v = Vec::new();
    for b in batches {
        let a = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        for i in 0..b.num_rows() {
            v.push(cell(a.as_ref(), i));
        }
    }
    v
}

/// Every row, every non-null value, one per line: the reviewable golden format.
pub fn render(batches: &[RecordBatch]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for b in batches {
        for i in 0..b.num_rows() {
            n += 1;
            out.push_str(&format!("## row {n}\n"));
            for (f, a) in b.schema().fields().iter().zip(b.columns()) {
                if let Some(v) = cell(a.as_ref(), i) {
                    out.push_str(&format!("{} = {}\n", f.name(), v.replace('\n', "\\n")));
                }
            }
        }
    }
    out
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("be-ingest-it")
        .tempdir()
        .expect("temp dir")
}

/// Convert and store the shared EA sample pair without the reconciliation gate: its actual and
/// amortized files come from different exports, so they do not reconcile (`ingest_period` would
/// refuse them). For tests of storage and FOCUS conformance, not of the sync's rule.
pub fn store_sample(
    path: &std::path::Path,
    opts: be_ingest::ConvertOptions,
) -> Result<be_ingest::WriteSummary, Box<be_ingest::IngestError>> {
    let mut conv =
        be_ingest::FocusConverter::new(vec![source(EA_AMORTIZED)], vec![source(EA_ACTUAL)], opts);
    be_ingest::write_period_parquet(&mut conv, path).map_err(Box::new)
}
