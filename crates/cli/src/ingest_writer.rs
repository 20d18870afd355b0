//! The sync's period writer: the `ingest` crate turns a period's downloaded CSV parts into FOCUS
//! Parquet and reconciles it; only a reconciled period replaces the stored file (atomically).

use std::path::{Path, PathBuf};

use be_app::sync::{PeriodSummary, PeriodWriteError, PeriodWriter};
use be_ingest::{ConvertOptions, IngestError, Reconciliation, Source, Warnings, ingest_period};

pub struct IngestWriter;

fn port_error(e: IngestError) -> PeriodWriteError {
    PeriodWriteError {
        code: e.code(),
        remedy: e.remedy().to_string(),
        message: e.to_string(),
    }
}

fn open(files: &[PathBuf]) -> Result<Vec<Source>, PeriodWriteError> {
    files
        .iter()
        .map(|f| Source::path(f).map_err(port_error))
        .collect()
}

fn summary(r: &Reconciliation, warnings: &Warnings) -> PeriodSummary {
    PeriodSummary {
        rows: r.focus.rows,
        actual_total: r.source.actual_cost.to_string(),
        billed_total: r.focus.billed_cost.to_string(),
        amortized_total: r.source.amortized_cost.to_string(),
        effective_total: r.focus.effective_cost.to_string(),
        reconciled: r.reconciled,
        billed_difference: r.billed_difference.to_string(),
        effective_difference: r.effective_difference.to_string(),
        expected_rows: r.expected_rows,
        warning_count: warnings.count,
        warnings: warnings.examples.iter().map(ToString::to_string).collect(),
    }
}

impl PeriodWriter for IngestWriter {
    fn write_period(
        &self,
        actual: &[PathBuf],
        amortized: &[PathBuf],
        dest: &Path,
    ) -> Result<PeriodSummary, PeriodWriteError> {
        match ingest_period(
            open(amortized)?,
            open(actual)?,
            dest,
            ConvertOptions::default(),
        ) {
            Ok(report) => Ok(summary(&report.reconciliation, &report.warnings)),
            // Not stored; the summary says so (`reconciled: false`) with both differences.
            Err(IngestError::NotReconciled(r)) => Ok(summary(&r, &Warnings::default())),
            Err(e) => Err(port_error(e)),
        }
    }

    fn remove_temp_files(&self, dir: &Path) -> Result<usize, String> {
        be_ingest::remove_stale_temp_files(dir).map_err(|e| e.to_string())
    }
}
