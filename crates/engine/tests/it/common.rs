//! Shared helpers: the worked example's files, a rated period read back as rows of text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use be_domain::pricing::{PricingConfig, file::ConfigFile};
use be_domain::{BillingPeriod, Currency};
use be_engine::{Engine, Manifest, RateRequest, SourceFile};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

pub fn period(s: &str) -> BillingPeriod {
    BillingPeriod::parse(s).expect("period")
}

pub fn usd() -> Currency {
    Currency::parse("USD").expect("usd")
}

/// The example configuration, as the file says.
pub fn example_config() -> PricingConfig {
    let text =
        std::fs::read_to_string(shared("data/engine/example-config.json")).expect("example config");
    let file: ConfigFile = serde_json::from_str(&text).expect("file");
    file.into_config(&PricingConfig::default(), period("2026-10"))
        .expect("valid")
}

/// Import a FOCUS CSV into `dir/<source>/<period>.parquet`; returns the source files per period.
pub fn import(csv: &Path, dir: &Path, source_id: &str) -> Vec<(BillingPeriod, SourceFile)> {
    let base = dir.join(source_id);
    let report = be_ingest::import_focus(csv, "example-focus.csv", &|p| {
        base.join(format!("{p}.parquet"))
    })
    .expect("import");
    report
        .periods
        .into_iter()
        .map(|p| {
            (
                p.period,
                SourceFile {
                    source_id: source_id.to_string(),
                    path: p.path,
                },
            )
        })
        .collect()
}

pub const SOURCE: &str = "5e1f0000-0000-4000-8000-000000000001";

/// Rate the worked example with `config` into a fresh folder.
pub fn rate_example(config: &PricingConfig) -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().expect("tmp");
    let sources = import(&shared("data/engine/example-focus.csv"), dir.path(), SOURCE);
    let req = RateRequest {
        period: period("2026-10"),
        config: config.for_period(period("2026-10")),
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        default_currency: usd(),
    };
    let engine = Engine::new(2).expect("engine");
    let out = dir.path().join("rated");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let manifest = rt
        .block_on(engine.rate(req, out))
        .unwrap_or_else(|e| panic!("rating failed: {e} ({e:?})"));
    (dir, manifest)
}

/// Every rated row (all parts), as column -> text (money as exact decimals without trailing zeros).
pub fn rated_rows(dir: &Path, files: &[String]) -> Vec<BTreeMap<String, Option<String>>> {
    let mut out = Vec::new();
    for f in files {
        let file = std::fs::File::open(dir.join(f)).expect("open part");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("reader")
            .build()
            .expect("build");
        for batch in reader {
            let batch = batch.expect("batch");
            for row in 0..batch.num_rows() {
                let mut m = BTreeMap::new();
                for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
                    let v = if col.is_null(row) {
                        None
                    } else {
                        Some(match col.data_type() {
                            DataType::Decimal128(_, _) => be_engine::money::format(
                                col.as_primitive::<Decimal128Type>().value(row),
                            ),
                            DataType::Int64 => {
                                col.as_primitive::<Int64Type>().value(row).to_string()
                            }
                            DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
                            _ => datafusion::arrow::util::display::array_value_to_string(col, row)
                                .expect("display"),
                        })
                    };
                    m.insert(field.name().clone(), v);
                }
                out.push(m);
            }
        }
    }
    out
}
