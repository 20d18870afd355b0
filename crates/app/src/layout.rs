//! Where stored data lives under the data directory. The one owner of these paths: nothing else
//! joins `datasets`, `imports`, `rated` or `tmp` onto the data directory.
//!
//! ```text
//! {data_dir}/datasets/{connection}/{YYYY-MM}.parquet      a synced Azure period (FOCUS 1.2)
//! {data_dir}/imports/{source}/{YYYY-MM}.parquet           an imported FOCUS period
//! {data_dir}/rated/{organization}/{YYYY-MM}/{run}/        a rating run's output (Parquet parts)
//! {data_dir}/tmp/{job}/                                   a job's scratch area (downloads)
//! {data_dir}/tmp/uploads/                                 uploads being received
//! ```

use std::path::{Path, PathBuf};

use be_domain::{BillingPeriod, ConnectionId, ImportSourceId, JobId, OrganizationId, RatingRunId};

/// The layout of the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            root: data_dir.into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the data directory readable by this user only (0700 on Unix, whatever the umask),
    /// or take group and other permissions away from an existing one: it holds the database, the
    /// key file and every customer's cost data.
    pub fn ensure_private_root(&self) -> std::io::Result<()> {
        create_private_dir(&self.root)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.root)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(dir = %self.root.display(), mode = %format_args!("{mode:o}"), "the data directory was readable by other users; it is now 0700");
                std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(())
    }

    /// Every synced connection's folder lives here.
    pub fn datasets_root(&self) -> PathBuf {
        self.root.join("datasets")
    }

    /// A connection's synced periods.
    pub fn connection_dir(&self, connection: ConnectionId) -> PathBuf {
        self.datasets_root().join(connection.to_string())
    }

    pub fn connection_period(&self, connection: ConnectionId, period: BillingPeriod) -> PathBuf {
        self.connection_dir(connection).join(period_file(period))
    }

    pub fn imports_root(&self) -> PathBuf {
        self.root.join("imports")
    }

    /// An import source's periods.
    pub fn import_dir(&self, source: ImportSourceId) -> PathBuf {
        self.imports_root().join(source.to_string())
    }

    pub fn import_period(&self, source: ImportSourceId, period: BillingPeriod) -> PathBuf {
        self.import_dir(source).join(period_file(period))
    }

    /// An organization's rated periods.
    pub fn rated_org_dir(&self, org: OrganizationId) -> PathBuf {
        self.root.join("rated").join(org.to_string())
    }

    pub fn rated_period_dir(&self, org: OrganizationId, period: BillingPeriod) -> PathBuf {
        self.rated_org_dir(org).join(period.key())
    }

    /// One rating run's output folder (its Parquet parts). [`period_of_run`] reads the period back.
    pub fn rated_run_dir(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        run: RatingRunId,
    ) -> PathBuf {
        self.rated_period_dir(org, period).join(run.to_string())
    }

    /// Scratch space of all jobs.
    pub fn tmp_root(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A job's scratch area (downloads of a sync), removed when the job ends.
    pub fn job_scratch(&self, job: JobId) -> PathBuf {
        self.tmp_root().join(job.to_string())
    }

    /// Where uploads are received before they are imported.
    pub fn uploads_dir(&self) -> PathBuf {
        self.tmp_root().join("uploads")
    }

    /// The folders that hold period files (for cleaning temp files left by a crash).
    pub fn period_dirs(&self) -> Vec<PathBuf> {
        [self.datasets_root(), self.imports_root()]
            .iter()
            .filter_map(|root| std::fs::read_dir(root).ok())
            .flat_map(|entries| entries.flatten().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect()
    }
}

/// Create `dir` and its missing parents readable by this user only (0700 on Unix, whatever the
/// umask); an existing folder is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// [`create_private_dir`] for async code.
pub async fn create_private_dir_async(dir: &Path) -> std::io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir).await
}

/// Options creating (or truncating) a file readable by this user only (0600 on Unix, whatever
/// the umask), for data under the data directory.
pub fn private_file_options() -> tokio::fs::OpenOptions {
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    o
}

fn period_file(period: BillingPeriod) -> String {
    format!("{period}.parquet")
}

/// The period (`YYYY-MM`) of a folder made by [`Layout::rated_run_dir`]: its parent's name.
pub(crate) fn period_of_run(dir: &std::path::Path) -> Option<String> {
    dir.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_documented_layout() {
        let l = Layout::new("/data");
        let c = ConnectionId::new();
        let p = BillingPeriod::parse("2026-10").expect("period");
        assert_eq!(
            l.connection_period(c, p),
            PathBuf::from(format!("/data/datasets/{c}/2026-10.parquet"))
        );
        let s = ImportSourceId::new();
        assert_eq!(
            l.import_period(s, p),
            PathBuf::from(format!("/data/imports/{s}/2026-10.parquet"))
        );
        let (o, r) = (OrganizationId::new(), RatingRunId::new());
        assert_eq!(
            l.rated_run_dir(o, p, r),
            PathBuf::from(format!("/data/rated/{o}/2026-10/{r}"))
        );
        assert_eq!(
            period_of_run(&l.rated_run_dir(o, p, r)).as_deref(),
            Some("2026-10")
        );
        let j = JobId::new();
        assert_eq!(l.job_scratch(j), PathBuf::from(format!("/data/tmp/{j}")));
    }
}
