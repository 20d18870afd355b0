//! The sync's period writer: the `ingest` crate turns a period's downloaded CSV parts into FOCUS
//! Parquet and reconciles it; only a reconciled period replaces the stored file (atomically).

use std::path::{Path, PathBuf};

use be_app::sync::{PeriodSummary, PeriodWriteError, PeriodWriter};
use be_ingest::{
    ConvertOptions, IngestError, Reconciliation, Source, Warnings, WriteSummary, ingest_period,
};

pub struct IngestWriter;

/// The error as people see it with the sync: what is wrong with Azure's files is said in full
/// (file name, line, column); a failure on this server's disk is said without its paths, which
/// go to the log only.
fn port_error(e: IngestError) -> PeriodWriteError {
    let message = match &e {
        IngestError::Write { .. }
        | IngestError::Parquet { .. }
        | IngestError::Arrow { .. }
        | IngestError::NotAFocusFile { .. }
        | IngestError::Internal(_) => {
            tracing::error!(code = e.code(), error = %e, "writing a period failed");
            "The period file could not be written on the server; the period keeps its previous data. The server log has the cause.".to_string()
        }
        _ => e.to_string(),
    };
    PeriodWriteError {
        code: e.code(),
        remedy: e.remedy().to_string(),
        message,
    }
}

/// The downloaded parts, each named by its file name only (errors quote the name, and the
/// folder is a path on this server).
fn open(files: &[PathBuf]) -> Result<Vec<Source>, PeriodWriteError> {
    files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "report.csv".into());
            let file = std::fs::File::open(f).map_err(|source| {
                tracing::error!(path = %f.display(), error = %source, "cannot open a downloaded report");
                port_error(IngestError::Read {
                    file: name.clone(),
                    source,
                })
            })?;
            Ok(Source::new(
                name,
                std::io::BufReader::with_capacity(1 << 20, file),
            ))
        })
        .collect()
}

fn summary(r: &Reconciliation, warnings: &Warnings, write: Option<&WriteSummary>) -> PeriodSummary {
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
        invoiced_rows: write.map_or(0, |w| w.invoiced_rows),
        billing_currency: write.and_then(|w| w.billing_currency.clone()),
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
            Ok(report) => Ok(summary(
                &report.reconciliation,
                &report.warnings,
                Some(&report.write),
            )),
            // Not stored; the summary says so (`reconciled: false`) with both differences.
            Err(IngestError::NotReconciled(r)) => Ok(summary(&r, &Warnings::default(), None)),
            Err(e) => Err(port_error(e)),
        }
    }

    fn remove_temp_files(&self, dir: &Path) -> Result<usize, String> {
        be_ingest::remove_stale_temp_files(dir).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, item 9: what the sync shows names the report file, never a folder of the server.
    #[test]
    fn errors_name_the_report_file_but_no_server_path() {
        let dir = std::env::temp_dir().join(format!("be-secret-folder-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bad = dir.join("part-1.csv");
        std::fs::write(&bad, "Date,CostInBillingCurrency\n\"unbalanced\n").expect("write");
        let missing = dir.join("part-2.csv");
        let dest = dir.join("out").join("2026-01.parquet");
        for (actual, amortized) in [(&bad, &bad), (&missing, &missing)] {
            let e = IngestWriter
                .write_period(&[actual.clone()], &[amortized.clone()], &dest)
                .expect_err("refused");
            assert!(
                !e.message.contains("be-secret-folder") && !e.remedy.contains("be-secret-folder"),
                "{e:?}"
            );
            assert!(
                e.message.contains("part-"),
                "the file is named: {}",
                e.message
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
