//! Cost data sync (product.md section 2): persistent jobs, one at a time per connection; a new
//! connection backfills the last 13 months oldest first; afterwards new data is checked every
//! `interval` and the current and previous months are pulled again until the provider closes them.
//! Each period: an ActualCost and an AmortizedCost report, converted to FOCUS and stored as Parquet
//! by the [`PeriodWriter`], replaced atomically, reconciled to the last digit.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use be_azure::{
    AzureError, ClientCredentials, CostMetric, CostReportRequest, ErrorKind, FetchLimits,
};
use be_domain::{
    BillingPeriod, ConnectionId, ConnectionState, JobKind, JobState, JobSubject, OrganizationId,
    SyncOutcome,
};
use be_store::{ConnectionRecord, JobRecord, PeriodRecord, StoreError, SyncPeriodRecord};
use time::{Date, OffsetDateTime};

use crate::{
    App, AppError, Caller, Result,
    jobs::{JobControl, Stop},
};

/// What a period's conversion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSummary {
    pub rows: u64,
    /// Exact sums, as decimal text. The invoice identity: Azure's ActualCost total equals
    /// SUM(BilledCost). The amortized identity: Azure's AmortizedCost total equals SUM(EffectiveCost).
    pub actual_total: String,
    pub billed_total: String,
    pub amortized_total: String,
    pub effective_total: String,
    /// Both identities hold to the last digit and no row was lost. When false the period was
    /// NOT stored: the previous file at `dest` is untouched.
    pub reconciled: bool,
    /// `SUM(BilledCost) - ActualCost` and `SUM(EffectiveCost) - AmortizedCost`, exact ("0" when
    /// reconciled).
    pub billed_difference: String,
    pub effective_difference: String,
    /// The rows the merge rule expects (equal to `rows` when reconciled).
    pub expected_rows: u64,
    /// Values the conversion could not use as written but did not need (an optional column that
    /// only feeds an `x_` extension, stored as null; an unknown charge type, mapped to an
    /// adjustment): how many, and the first few, one line each naming file, line and column.
    pub warning_count: u64,
    pub warnings: Vec<String>,
}

/// A period writer's failure, with its stable code and remedy (the period keeps its previous
/// data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodWriteError {
    pub code: &'static str,
    pub message: String,
    pub remedy: String,
}

/// Converts one period's downloaded CSV parts to FOCUS Parquet at `dest`, replacing any previous
/// file atomically, but only when the conversion reconciles: a summary with `reconciled: false`
/// means `dest` was left as it was. Implemented with the `ingest` crate; kept behind a trait so
/// the app does not know Arrow.
pub trait PeriodWriter: Send + Sync + 'static {
    fn write_period(
        &self,
        actual: &[PathBuf],
        amortized: &[PathBuf],
        dest: &Path,
    ) -> std::result::Result<PeriodSummary, PeriodWriteError>;

    /// Remove the temp files an interrupted write left in a connection's period directory (never
    /// while a sync of that connection runs); returns how many.
    fn remove_temp_files(&self, dir: &Path) -> std::result::Result<usize, String> {
        let _ = dir;
        Ok(0)
    }
}

/// A token is renewed when less than this is left of its life: a period's reports (created,
/// polled every `Retry-After`, downloaded) must not outlive it, and Azure takes up to about 20
/// minutes for a large month. (Entra ID tokens live 60 to 90 minutes.)
pub const TOKEN_RENEW_MARGIN: time::Duration = time::Duration::minutes(30);

/// The syncs' Entra ID tokens, one per connection, with the moment (on the app's clock) from
/// which each must be renewed.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: std::sync::Mutex<
        std::collections::HashMap<ConnectionId, (be_azure::AccessToken, OffsetDateTime)>,
    >,
}

impl TokenCache {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<ConnectionId, (be_azure::AccessToken, OffsetDateTime)>,
    > {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A period whose latest pull failed ([`App::failing_periods`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodFailure {
    /// `YYYY-MM`.
    pub period: String,
    pub at: OffsetDateTime,
    /// Stable code (`reconciliation_mismatch`, `sync_throttled`, ...).
    pub code: String,
    pub message: String,
    pub remedy: String,
    /// The period still holds an earlier successful pull's data.
    pub previous_kept: bool,
}

/// How sync behaves.
#[derive(Clone)]
pub struct SyncSettings {
    /// The data directory (its layout: [`crate::Layout`]).
    pub data_dir: PathBuf,
    /// How often new data is checked.
    pub interval: time::Duration,
    /// Months pulled on a new connection (including the current one).
    pub backfill_months: u32,
    /// A period is considered closed by the provider this long after it ended.
    pub close_after: time::Duration,
    pub fetch: FetchLimits,
    pub writer: Option<Arc<dyn PeriodWriter>>,
}

impl std::fmt::Debug for SyncSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSettings")
            .field("data_dir", &self.data_dir)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./billing-engine-data"),
            interval: time::Duration::hours(4),
            backfill_months: 13,
            close_after: time::Duration::days(10),
            fetch: FetchLimits::default(),
            writer: None,
        }
    }
}

/// Which periods to pull now, oldest first: every month of the backfill window not stored yet, and
/// every stored month the provider has not closed.
pub fn plan_periods(
    today: Date,
    backfill_months: u32,
    stored: &[PeriodRecord],
) -> Vec<BillingPeriod> {
    let current = BillingPeriod::of(today);
    let mut first = current;
    for _ in 1..backfill_months.max(1) {
        first = first.previous();
    }
    let mut out = vec![];
    let mut p = first;
    while p <= current {
        let key = p.key();
        match stored.iter().find(|s| s.period == key) {
            Some(s) if s.closed => {}
            _ => out.push(p),
        }
        p = p.next();
    }
    out
}

/// How long to wait before retrying a sync after `failures` failed ones in a row: 5 minutes, then
/// three times longer each time (15, 45, ...), never more than the regular `interval`.
pub fn retry_delay(failures: u32, interval: time::Duration) -> time::Duration {
    let mut delay = time::Duration::minutes(5);
    for _ in 1..failures {
        if delay >= interval {
            break;
        }
        delay *= 3;
    }
    delay.min(interval)
}

fn fetch_error(e: &AzureError) -> (&'static str, String, String) {
    match e.kind {
        ErrorKind::NoBillingClaims | ErrorKind::AccessDenied => (
            "sync_access_lost",
            "Azure refused to give cost data: the app's billing role may have been removed.".into(),
            "Open the connection and validate it again; it explains what is missing.".into(),
        ),
        ErrorKind::InvalidSecret | ErrorKind::SecretExpired => (
            "sync_secret_rejected",
            "Microsoft Entra ID no longer accepts the client secret.".into(),
            "Create a new client secret in the app registration and replace it on the connection page.".into(),
        ),
        ErrorKind::Throttled => (
            "sync_throttled",
            "Azure kept throttling the cost reports.".into(),
            "Nothing to do: the period is pulled again at the next sync.".into(),
        ),
        ErrorKind::DownloadFailed => (
            "sync_download_failed",
            format!("A report file could not be downloaded completely: {}", e.message),
            "Nothing to do: the period keeps its previous data and is pulled again at the next sync.".into(),
        ),
        _ => (
            "sync_azure_failed",
            format!("Azure could not provide the cost report: {e}"),
            "Nothing to do if it passes at the next sync; otherwise validate the connection.".into(),
        ),
    }
}

/// The history's message for a pull that did not reconcile: both differences and the rows.
fn mismatch_message(s: &PeriodSummary) -> String {
    format!(
        "The pulled data does not reconcile, so it was not stored: FOCUS BilledCost {} vs Azure ActualCost {} (difference {}); FOCUS EffectiveCost {} vs Azure AmortizedCost {} (difference {}); {} rows of {} expected.",
        s.billed_total,
        s.actual_total,
        s.billed_difference,
        s.effective_total,
        s.amortized_total,
        s.effective_difference,
        s.rows,
        s.expected_rows
    )
}

impl App {
    pub fn sync_settings(&self) -> &SyncSettings {
        &self.settings.sync
    }

    /// Queue a sync now ("sync now" in the console, API and CLI).
    pub async fn sync_now(&self, caller: &Caller, id: &str) -> Result<JobRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let c = self.get_connection(caller, id).await?;
        if c.state != ConnectionState::Connected {
            return Err(AppError::Conflict {
                code: "connection_not_connected",
                field: None,
                message: format!(
                    "Only a connected connection can sync; this one is {}. Validate it first.",
                    c.state
                ),
            });
        }
        self.queue_sync_by(&c, self.clock.now()).await
    }

    pub async fn sync_history(
        &self,
        caller: &Caller,
        id: &str,
        limit: i64,
    ) -> Result<Vec<SyncPeriodRecord>> {
        caller.require(be_domain::Permission::Read)?;
        let c = self.get_connection(caller, id).await?;
        Ok(self
            .store
            .list_sync_periods(caller.organization_id, c.id, limit)
            .await?)
    }

    /// The periods whose latest pull failed (newest first): what failed, the remedy, and whether
    /// the period still holds an earlier pull's data. They are pulled again at the next run.
    pub async fn failing_periods(&self, caller: &Caller, id: &str) -> Result<Vec<PeriodFailure>> {
        let c = self.get_connection(caller, id).await?;
        let org = caller.organization_id;
        let stored = self.store.list_periods(org, c.id).await?;
        let history = self.store.list_sync_periods(org, c.id, 500).await?;
        let mut seen = std::collections::HashSet::new();
        Ok(history
            .into_iter()
            .filter(|h| h.outcome != SyncOutcome::Running)
            .filter(|h| seen.insert(h.period.clone()))
            .filter(|h| h.outcome == SyncOutcome::Failed)
            .map(|h| PeriodFailure {
                previous_kept: stored.iter().any(|p| p.period == h.period),
                at: h.finished_at.unwrap_or(h.started_at),
                code: h.error_code.unwrap_or_else(|| "sync_failed".into()),
                message: h.error_message.unwrap_or_default(),
                remedy: h.remedy.unwrap_or_default(),
                period: h.period,
            })
            .collect())
    }

    pub async fn stored_periods(&self, caller: &Caller, id: &str) -> Result<Vec<PeriodRecord>> {
        caller.require(be_domain::Permission::Read)?;
        let c = self.get_connection(caller, id).await?;
        Ok(self
            .store
            .list_periods(caller.organization_id, c.id)
            .await?)
    }

    /// The connection's token: the cached one while more than [`TOKEN_RENEW_MARGIN`] of its life
    /// is left (on the app's clock), else a new one from Entra ID; `renew` forces a new one (after
    /// Azure answered that the token expired).
    async fn sync_token(
        &self,
        c: ConnectionId,
        creds: &ClientCredentials,
        renew: bool,
    ) -> std::result::Result<be_azure::AccessToken, AzureError> {
        let now = self.clock.now();
        if !renew
            && let Some((token, renew_at)) = self.sync_tokens.lock().get(&c)
            && now < *renew_at
        {
            return Ok(token.clone());
        }
        let token = self.sync_azure.token(creds).await?;
        // The token's life as Entra ID gave it, measured from now on the app's clock.
        let life = token.expires_at - OffsetDateTime::now_utc();
        let renew_at = self.clock.now() + life - TOKEN_RENEW_MARGIN;
        tracing::info!(connection = %c, renew_at = %renew_at, "new Entra ID token for the sync");
        self.sync_tokens.lock().insert(c, (token.clone(), renew_at));
        Ok(token)
    }

    /// Forget a connection's token (its secret or IDs changed, or it was deleted).
    pub(crate) fn forget_sync_token(&self, c: ConnectionId) {
        self.sync_tokens.lock().remove(&c);
    }

    /// Queue the connection's sync to run no later than `when`; a sync already running answers.
    pub(crate) async fn queue_sync_by(
        &self,
        c: &ConnectionRecord,
        when: OffsetDateTime,
    ) -> Result<JobRecord> {
        self.enqueue_by(
            c.organization_id,
            JobSubject::Connection(c.id),
            JobKind::Sync,
            when,
        )
        .await
    }

    /// After a sync: the next check, for a connection that is still connected; after a failed
    /// one, a retry with backoff (see [`retry_delay`]).
    pub(crate) async fn schedule_next_sync(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
        ended: JobState,
    ) -> Result<()> {
        let Some(c) = self.store.get_connection(org, connection).await? else {
            return Ok(());
        };
        if c.state != ConnectionState::Connected {
            return Ok(());
        }
        let delay = match ended {
            JobState::Failed => self.sync_retry_delay(org, connection).await?,
            _ => self.settings.sync.interval,
        };
        let next = self.queue_sync_by(&c, self.clock.now() + delay).await?;
        tracing::info!(next = %next.run_after, "next sync queued");
        Ok(())
    }

    /// The delay before retrying a connection whose last syncs failed.
    async fn sync_retry_delay(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
    ) -> Result<time::Duration> {
        let recent = self.store.list_connection_jobs(org, connection, 20).await?;
        let failures = recent
            .iter()
            .filter(|j| {
                j.kind == JobKind::Sync && matches!(j.state, JobState::Done | JobState::Failed)
            })
            .take_while(|j| j.state == JobState::Failed)
            .count();
        Ok(retry_delay(failures as u32, self.settings.sync.interval))
    }

    /// A sync job's run: every planned period, oldest first. Stops between periods when the
    /// connection is deleted (cancelled), the lease is lost or the server stops.
    pub(crate) async fn run_sync(
        &self,
        job: &JobRecord,
        control: &JobControl,
    ) -> std::result::Result<(), Stop> {
        let JobSubject::Connection(id) = job.subject else {
            return Err(Stop::Failed(AppError::internal(std::io::Error::other(
                "a sync job without a connection",
            ))));
        };
        let Some(c) = self.store.get_connection(job.organization_id, id).await? else {
            return Err(Stop::Cancelled);
        };
        if c.state != ConnectionState::Connected {
            tracing::info!(state = %c.state, "connection not connected; nothing synced");
            return Ok(());
        }
        let Some(writer) = self.settings.sync.writer.clone() else {
            return Err(Stop::Failed(AppError::internal(std::io::Error::other(
                "no period writer configured",
            ))));
        };
        let secret = self.keys.open(
            c.secret_ciphertext.as_deref().unwrap_or_default(),
            c.id.as_uuid().as_bytes(),
        )?;
        let creds = ClientCredentials {
            tenant: c
                .tenant_id
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            client_id: c
                .client_id
                .as_ref()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            client_secret: secret,
        };
        let billing = c
            .billing_account_id
            .clone()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let scope = be_azure::AzureClient::billing_account_scope(&billing);
        let today = self.clock.now().date();
        let stored = self.store.list_periods(c.organization_id, c.id).await?;
        let plan = plan_periods(today, self.settings.sync.backfill_months, &stored);
        self.store
            .set_job_progress(job.id, 0, plan.len() as i32)
            .await?;
        // The first token now, so a rejected secret fails the sync at once.
        self.sync_token(c.id, &creds, false).await.map_err(|e| {
            let (code, message, _) = fetch_error(&e);
            AppError::Upstream {
                code,
                message,
                retryable: true,
            }
        })?;
        let work = self.layout().job_scratch(job.id);
        let mut failures = 0;
        for (i, period) in plan.iter().enumerate() {
            control.check()?;
            if !self
                .pull_period(
                    job,
                    &c,
                    *period,
                    today,
                    &creds,
                    &scope,
                    &work,
                    writer.clone(),
                )
                .await?
            {
                failures += 1;
            }
            self.store
                .set_job_progress(job.id, i as i32 + 1, plan.len() as i32)
                .await?;
        }
        let _ = tokio::fs::remove_dir_all(&work).await;
        if failures > 0 {
            return Err(Stop::Failed(AppError::Upstream {
                code: "sync_incomplete",
                message: format!(
                    "{failures} of {} periods could not be pulled; they keep their previous data and are retried soon.",
                    plan.len()
                ),
                retryable: true,
            }));
        }
        Ok(())
    }

    /// One period: pull, store, record; false if it failed (recorded in the history). A
    /// connection deleted meanwhile cancels the job, and whatever this pull wrote is removed.
    #[allow(clippy::too_many_arguments)]
    async fn pull_period(
        &self,
        job: &JobRecord,
        c: &ConnectionRecord,
        period: BillingPeriod,
        today: Date,
        creds: &ClientCredentials,
        scope: &str,
        work: &Path,
        writer: Arc<dyn PeriodWriter>,
    ) -> std::result::Result<bool, Stop> {
        let mut record = SyncPeriodRecord::started(
            c.organization_id,
            c.id,
            job.id,
            period.key(),
            self.clock.now(),
        );
        self.record_history(c, &record).await?;
        let result = self
            .sync_period(creds, scope, period, today, work, c, writer)
            .await;
        self.ensure_connection(c).await?;
        record.finished_at = Some(self.clock.now());
        match result {
            Ok((summary, bytes)) => {
                record.rows_written = summary.rows as i64;
                record.bytes_downloaded = bytes as i64;
                record.reconciled = Some(summary.reconciled);
                record.source_total = Some(summary.actual_total.clone());
                record.focus_total = Some(summary.billed_total.clone());
                record.amortized_total = Some(summary.amortized_total.clone());
                record.effective_total = Some(summary.effective_total.clone());
                if summary.reconciled {
                    record.outcome = SyncOutcome::Succeeded;
                    record.warning_count = summary.warning_count as i64;
                    record.warnings = summary.warnings.clone();
                    self.store_period(c, period, today, summary).await?;
                } else {
                    // Not stored: the previous file and its record stay; the period is still
                    // planned (not stored, or not closed), so the next run pulls it again.
                    record.outcome = SyncOutcome::Failed;
                    record.rows_written = 0;
                    record.error_code = Some("reconciliation_mismatch".into());
                    record.error_message = Some(mismatch_message(&summary));
                    record.remedy = Some("Nothing to do: the period keeps its previous data and is pulled again at the next sync. If the difference stays, report it with the period and the connection ID.".into());
                }
            }
            Err((code, message, remedy, bytes)) => {
                record.outcome = SyncOutcome::Failed;
                record.bytes_downloaded = bytes as i64;
                record.error_code = Some(code.to_string());
                record.error_message = Some(message);
                record.remedy = Some(remedy);
            }
        }
        self.record_history(c, &record).await?;
        Ok(record.outcome == SyncOutcome::Succeeded)
    }

    /// Record a reconciled period as stored, and queue its rating.
    async fn store_period(
        &self,
        c: &ConnectionRecord,
        period: BillingPeriod,
        today: Date,
        summary: PeriodSummary,
    ) -> std::result::Result<(), Stop> {
        let closed = (period.last_day() + self.settings.sync.close_after) < today;
        let stored = self
            .store
            .upsert_period(&PeriodRecord {
                organization_id: c.organization_id,
                connection_id: c.id,
                period: period.key(),
                rows_stored: summary.rows as i64,
                source_total: summary.actual_total,
                focus_total: summary.billed_total,
                amortized_total: summary.amortized_total,
                effective_total: summary.effective_total,
                reconciled: true,
                pulled_at: self.clock.now(),
                closed,
            })
            .await;
        self.gone_or(c, stored).await?;
        // The period's data changed: rate it again.
        self.data_changed(c.organization_id, &[period]).await?;
        Ok(())
    }

    async fn record_history(
        &self,
        c: &ConnectionRecord,
        record: &SyncPeriodRecord,
    ) -> std::result::Result<(), Stop> {
        let done = self.store.record_sync_period(record).await;
        self.gone_or(c, done).await
    }

    /// `Err(Stop::Cancelled)`, with the connection's data removed, if the connection was deleted,
    /// or if its billing account changed meanwhile (what this sync pulled is the old one's; no
    /// sync of the new one can have run yet: one sync at a time per connection).
    async fn ensure_connection(&self, c: &ConnectionRecord) -> std::result::Result<(), Stop> {
        match self.store.get_connection(c.organization_id, c.id).await? {
            Some(now) if crate::connections::source_changed(c, &now) => {
                self.forget_periods(&now).await?;
                Err(Stop::Cancelled)
            }
            Some(_) => Ok(()),
            None => {
                self.remove_connection_data(c.id).await;
                Err(Stop::Cancelled)
            }
        }
    }

    /// A write that failed because the connection is gone cancels the job (removing what the
    /// job wrote); any other failure fails it.
    async fn gone_or(
        &self,
        c: &ConnectionRecord,
        written: std::result::Result<(), StoreError>,
    ) -> std::result::Result<(), Stop> {
        match written {
            Ok(()) => Ok(()),
            Err(StoreError::Gone(_)) => {
                self.remove_connection_data(c.id).await;
                Err(Stop::Cancelled)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A period's ActualCost and AmortizedCost reports, both at once: Azure generates them in
    /// parallel (the client keeps a billing account's reports in flight within
    /// `fetch.reports_in_flight`).
    async fn fetch_pair(
        &self,
        token: &be_azure::AccessToken,
        scope: &str,
        period: BillingPeriod,
        end: Date,
        dir: &Path,
    ) -> (
        std::result::Result<be_azure::FetchedReport, AzureError>,
        std::result::Result<be_azure::FetchedReport, AzureError>,
    ) {
        let fetch = |metric, prefix: &'static str| {
            let request = CostReportRequest::TimePeriod {
                metric,
                start: period.first_day(),
                end,
            };
            async move {
                self.sync_azure
                    .fetch_report(
                        token,
                        scope,
                        &request,
                        dir,
                        prefix,
                        &self.settings.sync.fetch,
                    )
                    .await
            }
        };
        tokio::join!(
            fetch(CostMetric::ActualCost, "actual"),
            fetch(CostMetric::AmortizedCost, "amortized")
        )
    }

    #[allow(clippy::too_many_arguments)]
    async fn sync_period(
        &self,
        creds: &ClientCredentials,
        scope: &str,
        period: BillingPeriod,
        today: Date,
        work: &Path,
        c: &ConnectionRecord,
        writer: Arc<dyn PeriodWriter>,
    ) -> std::result::Result<(PeriodSummary, u64), (&'static str, String, String, u64)> {
        let dir = work.join(period.key());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| {
            (
                "sync_disk",
                format!("cannot create {}: {e}", dir.display()),
                "Check the data directory's disk space and permissions.".into(),
                0,
            )
        })?;
        let end = period.last_day().min(today);
        let fetch_failed = |e: AzureError| {
            let (code, message, remedy) = fetch_error(&e);
            (code, message, remedy, 0)
        };
        let token = self
            .sync_token(c.id, creds, false)
            .await
            .map_err(fetch_failed)?;
        let (mut actual, mut amortized) = self.fetch_pair(&token, scope, period, end, &dir).await;
        let expired = |r: &std::result::Result<be_azure::FetchedReport, AzureError>| matches!(r, Err(e) if e.kind == ErrorKind::TokenExpired);
        if expired(&actual) || expired(&amortized) {
            // Azure says the token expired (its clock is ahead of ours): renew once, pull again.
            tracing::info!(period = %period.key(), "the token expired mid-period; renewing it once");
            let token = self
                .sync_token(c.id, creds, true)
                .await
                .map_err(fetch_failed)?;
            (actual, amortized) = self.fetch_pair(&token, scope, period, end, &dir).await;
        }
        let bytes = [&actual, &amortized]
            .iter()
            .map(|r| r.as_ref().map(|f| f.bytes).unwrap_or(0))
            .sum::<u64>();
        let (actual, amortized) = match (actual, amortized) {
            (Ok(a), Ok(m)) => (a.files, m.files),
            (Err(e), _) | (_, Err(e)) => {
                let (code, message, remedy) = fetch_error(&e);
                return Err((code, message, remedy, bytes));
            }
        };
        let dest = self.layout().connection_period(c.id, period);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                (
                    "sync_disk",
                    e.to_string(),
                    "Check the data directory.".into(),
                    bytes,
                )
            })?;
        }
        let writer_dest = dest.clone();
        // Parsing and writing is CPU work: keep it off the async threads.
        let summary = tokio::task::spawn_blocking(move || {
            writer.write_period(&actual, &amortized, &writer_dest)
        })
        .await
        .unwrap_or_else(|e| Err(PeriodWriteError {
            code: "sync_convert_failed",
            message: format!("the conversion stopped unexpectedly: {e}"),
            remedy: "The period keeps its previous data. If this repeats, report it with the period and the connection ID.".into(),
        }));
        let _ = tokio::fs::remove_dir_all(&dir).await;
        summary
            .map(|s| (s, bytes))
            .map_err(|e| (e.code, e.message, e.remedy, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(period: &str, closed: bool) -> PeriodRecord {
        PeriodRecord {
            organization_id: be_domain::OrganizationId::new(),
            connection_id: be_domain::ConnectionId::new(),
            period: period.into(),
            rows_stored: 1,
            source_total: "0".into(),
            focus_total: "0".into(),
            amortized_total: "0".into(),
            effective_total: "0".into(),
            reconciled: true,
            pulled_at: OffsetDateTime::now_utc(),
            closed,
        }
    }

    #[test]
    fn a_new_connection_backfills_thirteen_months_oldest_first() {
        let plan = plan_periods(time::macros::date!(2026 - 11 - 25), 13, &[]);
        let keys: Vec<String> = plan.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), 13);
        assert_eq!(keys.first().map(String::as_str), Some("2025-11"));
        assert_eq!(keys.last().map(String::as_str), Some("2026-11"));
    }

    #[test]
    fn closed_periods_are_not_pulled_again() {
        let mut have: Vec<PeriodRecord> = (1..=10)
            .map(|m| stored(&format!("2026-{m:02}"), true))
            .collect();
        have.push(stored("2025-12", true));
        have.push(stored("2025-11", true));
        have.push(stored("2026-11", false));
        let plan: Vec<String> = plan_periods(time::macros::date!(2026 - 11 - 25), 13, &have)
            .iter()
            .map(|p| p.key())
            .collect();
        assert_eq!(plan, ["2026-11"]);
        // At the turn of the month the new month comes in, the previous stays until closed.
        have.last_mut().expect("nov").closed = false;
        let plan: Vec<String> = plan_periods(time::macros::date!(2026 - 12 - 02), 13, &have)
            .iter()
            .map(|p| p.key())
            .collect();
        assert_eq!(plan, ["2026-11", "2026-12"]);
    }

    #[test]
    fn failed_syncs_are_retried_with_backoff_capped_at_the_interval() {
        let four_hours = time::Duration::hours(4);
        let delays: Vec<i64> = (1..=6)
            .map(|n| retry_delay(n, four_hours).whole_minutes())
            .collect();
        assert_eq!(delays, [5, 15, 45, 135, 240, 240]);
        assert_eq!(
            retry_delay(1, time::Duration::minutes(2)),
            time::Duration::minutes(2),
            "never longer than the interval"
        );
        assert_eq!(retry_delay(u32::MAX, four_hours), four_hours);
    }
}
