//! Fetching a whole Cost Details report: create it, poll its `Location` as given honouring
//! `Retry-After`, and download every blob of the manifest (streamed to files, size checked against
//! the manifest, retried; an expired or refused link means the report is requested again).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use tokio::{io::AsyncWriteExt, sync::Semaphore};

use crate::{
    AccessToken, AzureClient, AzureError, CostReportRequest, CostReportStatus, ErrorKind, Manifest,
    http::loggable,
};

/// What a report fetch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedReport {
    /// The downloaded CSV parts, in manifest order (empty when Azure had no data).
    pub files: Vec<PathBuf>,
    /// Bytes downloaded.
    pub bytes: u64,
}

/// Limits of a fetch.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Longest total wait for a report to be generated.
    pub max_wait: Duration,
    /// Longest single poll interval honoured (Azure says 60 s; the simulator 1 s).
    pub max_poll_interval: Duration,
    /// Attempts per blob download.
    pub download_attempts: u32,
    /// How often a report may be requested again when its links expired.
    pub report_attempts: u32,
    /// Reports being generated or downloaded at once for one billing account (scope), across
    /// every fetch of this client; further fetches wait their turn.
    pub reports_in_flight: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_secs(30 * 60),
            max_poll_interval: Duration::from_secs(120),
            download_attempts: 4,
            report_attempts: 3,
            reports_in_flight: 2,
        }
    }
}

impl AzureClient {
    /// Create a report and wait for its manifest.
    pub async fn wait_for_report(
        &self,
        token: &AccessToken,
        scope: &str,
        request: &CostReportRequest,
        limits: &FetchLimits,
    ) -> Result<Option<Manifest>, AzureError> {
        let started = std::time::Instant::now();
        let mut status = self.create_cost_report(token, scope, request).await?;
        loop {
            match status {
                CostReportStatus::Completed(m) => return Ok(Some(m)),
                CostReportStatus::NoData => return Ok(None),
                CostReportStatus::Failed { message } => {
                    return Err(AzureError::new(
                        ErrorKind::ServiceUnavailable,
                        format!("Azure could not generate the cost report: {message}"),
                    ));
                }
                CostReportStatus::Pending {
                    location,
                    retry_after,
                } => {
                    if started.elapsed() > limits.max_wait {
                        return Err(AzureError::new(
                            ErrorKind::ServiceUnavailable,
                            "the cost report was not ready in time",
                        ));
                    }
                    tokio::time::sleep(retry_after.min(limits.max_poll_interval)).await;
                    status = self.poll_cost_report(token, &location).await?;
                }
            }
        }
    }

    /// Download one blob to `dest`, streaming, and check its size against the manifest.
    /// No Authorization header is sent: the link is pre-signed.
    pub async fn download_blob(
        &self,
        link: &str,
        expected_bytes: u64,
        dest: &Path,
    ) -> Result<u64, AzureError> {
        let fail = |kind, msg: String| AzureError::new(kind, msg);
        let resp = self
            .http
            .get(link)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| {
                fail(
                    ErrorKind::Unreachable,
                    format!("cannot download {}: {}", loggable(link), e.without_url()),
                )
            })?;
        let status = resp.status().as_u16();
        if status != 200 {
            let kind = match status {
                403 | 404 => ErrorKind::DownloadFailed,
                429 => ErrorKind::Throttled,
                s if s >= 500 => ErrorKind::ServiceUnavailable,
                _ => ErrorKind::DownloadFailed,
            };
            let mut e = fail(
                kind,
                format!("the report blob answered HTTP {status} (the link may have expired)"),
            );
            e.status = Some(status);
            e.retry_after = crate::http::retry_after(resp.headers());
            return Err(e);
        }
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // Cost data is readable by this user only, whatever the umask.
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(dest).await.map_err(|e| {
            // The path is logged, never put in the message (which users see).
            tracing::warn!(path = %dest.display(), error = %e, "cannot write a downloaded report");
            fail(
                ErrorKind::DownloadFailed,
                format!(
                    "the downloaded report could not be written to disk ({})",
                    e.kind()
                ),
            )
        })?;
        let mut written: u64 = 0;
        let mut resp = resp;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    written += chunk.len() as u64;
                    file.write_all(&chunk).await.map_err(|e| {
                        tracing::warn!(path = %dest.display(), error = %e, "cannot write a downloaded report");
                        fail(
                            ErrorKind::DownloadFailed,
                            format!("the downloaded report could not be written to disk ({})", e.kind()),
                        )
                    })?;
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(fail(
                        ErrorKind::DownloadFailed,
                        format!(
                            "the download broke off after {written} bytes: {}",
                            e.without_url()
                        ),
                    ));
                }
            }
        }
        file.flush()
            .await
            .map_err(|e| fail(ErrorKind::DownloadFailed, e.to_string()))?;
        file.sync_all()
            .await
            .map_err(|e| fail(ErrorKind::DownloadFailed, e.to_string()))?;
        if expected_bytes > 0 && written != expected_bytes {
            return Err(fail(
                ErrorKind::DownloadFailed,
                format!("the download has {written} bytes; the manifest says {expected_bytes}"),
            ));
        }
        Ok(written)
    }

    /// The turn-keeper of a scope's reports (shared by clones of this client).
    fn report_slots(&self, scope: &str, limits: &FetchLimits) -> Arc<Semaphore> {
        let mut slots = self.report_slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry(scope.trim_matches('/').to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(limits.reports_in_flight.max(1))))
            .clone()
    }

    /// Create, wait for and download a whole report into `dir` (files `{prefix}-{n}.csv`). At most
    /// [`FetchLimits::reports_in_flight`] reports of one scope are fetched at once.
    pub async fn fetch_report(
        &self,
        token: &AccessToken,
        scope: &str,
        request: &CostReportRequest,
        dir: &Path,
        prefix: &str,
        limits: &FetchLimits,
    ) -> Result<FetchedReport, AzureError> {
        let slots = self.report_slots(scope, limits);
        let _turn = slots.acquire().await.map_err(|_| {
            AzureError::new(ErrorKind::ServiceUnavailable, "the report queue was closed")
        })?;
        let mut last_error = None;
        for _ in 0..limits.report_attempts.max(1) {
            let Some(manifest) = self.wait_for_report(token, scope, request, limits).await? else {
                return Ok(FetchedReport {
                    files: vec![],
                    bytes: 0,
                });
            };
            match self.download_all(&manifest, dir, prefix, limits).await {
                Ok(done) => return Ok(done),
                Err(e)
                    if e.kind == ErrorKind::DownloadFailed
                        && matches!(e.status, Some(403 | 404)) =>
                {
                    // Expired or refused links: ask for the report again.
                    tracing::info!(error = %e, "report links no longer work; requesting the report again");
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            AzureError::new(
                ErrorKind::DownloadFailed,
                "the report could not be downloaded",
            )
        }))
    }

    async fn download_all(
        &self,
        manifest: &Manifest,
        dir: &Path,
        prefix: &str,
        limits: &FetchLimits,
    ) -> Result<FetchedReport, AzureError> {
        let mut files = vec![];
        let mut bytes = 0;
        for (i, blob) in manifest.blobs.iter().enumerate() {
            let dest = dir.join(format!("{prefix}-{i:04}.csv"));
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.download_blob(&blob.link, blob.byte_count, &dest).await {
                    Ok(n) => {
                        bytes += n;
                        files.push(dest);
                        break;
                    }
                    Err(e) if matches!(e.status, Some(403 | 404)) => return Err(e),
                    Err(e) if attempt < limits.download_attempts => {
                        let wait = e
                            .retry_after
                            .unwrap_or(Duration::from_millis(500 * 2u64.pow(attempt - 1)))
                            .min(Duration::from_secs(60));
                        tracing::warn!(attempt, error = %e, "blob download failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(FetchedReport { files, bytes })
    }
}
