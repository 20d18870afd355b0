//! Convert one period: `cargo run -p be-ingest --example convert -- AMORTIZED.csv ACTUAL.csv OUT.parquet`
//! (either input may be `-` for none). Prints the reconciliation as JSON.

use be_ingest::{ConvertOptions, Source, ingest_period};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [amortized, actual, out] = args.as_slice() else {
        anyhow::bail!("usage: convert AMORTIZED.csv ACTUAL.csv OUT.parquet");
    };
    let src = |p: &str| -> anyhow::Result<Vec<Source>> {
        if p == "-" {
            Ok(vec![])
        } else {
            Ok(vec![Source::path(p)?])
        }
    };
    let report = ingest_period(
        src(amortized)?,
        src(actual)?,
        std::path::Path::new(out),
        ConvertOptions::default(),
    )?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
