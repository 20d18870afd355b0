//! The sync's period writer: the `ingest` crate turns a period's downloaded CSV parts into FOCUS
//! Parquet, replaced atomically, and reconciles it.

use std::path::{Path, PathBuf};

use be_app::sync::{PeriodSummary, PeriodWriter};
use be_ingest::{ConvertOptions, Source, ingest_period};

pub struct IngestWriter;

fn open(files: &[PathBuf]) -> Result<Vec<Source>, String> {
    files
        .iter()
        .map(|f| Source::path(f).map_err(|e| e.to_string()))
        .collect()
}

impl PeriodWriter for IngestWriter {
    fn write_period(
        &self,
        actual: &[PathBuf],
        amortized: &[PathBuf],
        dest: &Path,
    ) -> Result<PeriodSummary, String> {
        let report = ingest_period(
            open(amortized)?,
            open(actual)?,
            dest,
            ConvertOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        let r = &report.reconciliation;
        Ok(PeriodSummary {
            rows: report.write.rows,
            actual_total: r.source.actual_cost.to_string(),
            billed_total: r.focus.billed_cost.to_string(),
            amortized_total: r.source.amortized_cost.to_string(),
            effective_total: r.focus.effective_cost.to_string(),
            reconciled: r.reconciled,
        })
    }

    fn remove_temp_files(&self, dir: &Path) -> Result<usize, String> {
        be_ingest::remove_stale_temp_files(dir).map_err(|e| e.to_string())
    }
}
