//! The job runner: persistent jobs from the `jobs` table, run concurrently up to a limit, one at a
//! time per subject and kind (the store's claim and unique indexes see to that).
//!
//! Each server process is one runner with its own [`RunnerId`]. A claimed job carries the
//! runner's lease, renewed by a heartbeat while it runs; another runner takes a job over only
//! once its lease has expired (the first one crashed or stopped), and then accounts for the
//! interrupted work first. Nothing is requeued or deleted at start: other servers may be running.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use be_domain::{ConnectionId, JobId, JobKind, JobState, JobSubject, RunnerId};
use be_store::{ClaimedJob, JobRecord};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::{App, AppError, Result};

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Jobs run at the same time by this server.
    pub concurrency: usize,
    /// How long a claimed job stays this runner's without a heartbeat.
    pub lease: time::Duration,
    /// How often a running job's lease is renewed (well within `lease`).
    pub heartbeat: Duration,
    /// How often the runner looks for due jobs when nothing wakes it.
    pub poll: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            concurrency: 2,
            lease: time::Duration::seconds(30),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(2),
        }
    }
}

/// Why a job stopped before doing all its work.
#[derive(Debug)]
pub(crate) enum Stop {
    /// It failed; the cause is logged and a public message stored.
    Failed(AppError),
    /// Its subject went away (a deleted connection): nothing more to do.
    Cancelled,
    /// Another runner holds it now (its lease had expired), or it was cancelled.
    LeaseLost,
    /// This server is stopping: the lease is released so another runner continues at once.
    ShuttingDown,
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Self {
        Stop::Failed(e)
    }
}

impl From<be_store::StoreError> for Stop {
    fn from(e: be_store::StoreError) -> Self {
        Stop::Failed(e.into())
    }
}

/// What a running job checks between its steps.
#[derive(Debug, Default)]
pub(crate) struct JobControl {
    lost: AtomicBool,
    stopping: AtomicBool,
    finished: AtomicBool,
}

impl JobControl {
    /// `Err` when the job must stop now (at a step boundary, where nothing is half-written).
    pub(crate) fn check(&self) -> std::result::Result<(), Stop> {
        if self.lost.load(Ordering::SeqCst) {
            Err(Stop::LeaseLost)
        } else if self.stopping.load(Ordering::SeqCst) {
            Err(Stop::ShuttingDown)
        } else {
            Ok(())
        }
    }
}

/// The jobs this runner is running: their tasks and their controls.
struct Running {
    tasks: JoinSet<()>,
    controls: Vec<(JobId, Arc<JobControl>)>,
}

impl Running {
    fn new() -> Self {
        Self {
            tasks: JoinSet::new(),
            controls: vec![],
        }
    }

    fn stop_all(&self) {
        for (_, c) in &self.controls {
            c.stopping.store(true, Ordering::SeqCst);
        }
    }
}

/// A failure as logged: the whole cause chain.
fn chain(e: impl Into<AppError>) -> String {
    e.into().chain()
}

impl App {
    /// This server's runner (the owner of the leases it holds).
    pub fn runner_id(&self) -> RunnerId {
        self.runner
    }

    /// Queue a job, or get the one that already answers the request (see
    /// [`be_store::Store::enqueue_job`]); wakes this server's runner.
    pub(crate) async fn enqueue(&self, job: JobRecord) -> Result<JobRecord> {
        let job = self.store.enqueue_job(&job).await?;
        self.wake.notify_one();
        Ok(job)
    }

    /// Queue a job to run no later than `when` (an existing queued one is moved earlier).
    pub(crate) async fn enqueue_by(
        &self,
        organization: be_domain::OrganizationId,
        subject: JobSubject,
        kind: JobKind,
        when: time::OffsetDateTime,
    ) -> Result<JobRecord> {
        let mut job = self
            .enqueue(JobRecord::queued(
                organization,
                subject,
                kind,
                when,
                self.clock.now(),
            ))
            .await?;
        if job.state == JobState::Queued && job.run_after > when {
            self.store.set_job_run_after(job.id, when).await?;
            job.run_after = when;
        }
        Ok(job)
    }

    /// Run jobs until `stop` turns true. At stop, running jobs stop at their next step and release
    /// their lease; those still busy after `grace` are abandoned with their lease released.
    pub async fn run_worker(self, mut stop: tokio::sync::watch::Receiver<bool>, grace: Duration) {
        tracing::info!(runner = %self.runner, concurrency = self.settings.jobs.concurrency, "job runner started");
        if let Err(e) = self.clean_scratch().await {
            tracing::error!(error = %e.chain(), "cannot clean what interrupted jobs left");
        }
        let mut running = Running::new();
        while !*stop.borrow() {
            self.fill(&mut running).await;
            tokio::select! {
                Some(_) = running.tasks.join_next() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.jobs.poll) => {}
                _ = stop.changed() => {}
            }
        }
        self.wind_down(running, grace).await;
        tracing::info!(runner = %self.runner, "job runner stopped");
    }

    /// Run due jobs (concurrently, up to the limit) until none is left to claim; returns how many
    /// ran. For tests and one-off runs; servers use [`App::run_worker`].
    pub async fn run_due_jobs(&self) -> Result<usize> {
        let mut running = Running::new();
        let mut ran = 0;
        loop {
            ran += self.fill(&mut running).await;
            if running.tasks.join_next().await.is_none() {
                return Ok(ran);
            }
        }
    }

    /// Claim jobs while there is room; returns how many were started.
    async fn fill(&self, running: &mut Running) -> usize {
        let mut started = 0;
        running
            .controls
            .retain(|(_, c)| !c.finished.load(Ordering::SeqCst));
        while running.tasks.len() < self.settings.jobs.concurrency.max(1) {
            let now = self.clock.now();
            match self
                .store
                .claim_next_job(self.runner, now, now + self.settings.jobs.lease)
                .await
            {
                Ok(Some(claimed)) => {
                    let control = Arc::new(JobControl::default());
                    running.controls.push((claimed.job.id, control.clone()));
                    let app = self.clone();
                    let span = job_span(&claimed.job);
                    running.tasks.spawn(
                        async move { app.run_claimed(claimed, control).await }.instrument(span),
                    );
                    started += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %chain(e), "cannot claim a job; retrying");
                    break;
                }
            }
        }
        started
    }

    async fn wind_down(&self, mut running: Running, grace: Duration) {
        running.stop_all();
        let all = async { while running.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_ok() {
            return;
        }
        running.tasks.abort_all();
        // Releasing a job that finished meanwhile, or that another runner holds, changes nothing.
        for (id, _) in running
            .controls
            .iter()
            .filter(|(_, c)| !c.finished.load(Ordering::SeqCst))
        {
            match self
                .store
                .release_job(*id, self.runner, self.clock.now())
                .await
            {
                Ok(_) => {
                    tracing::warn!(job = %id, "job still running at shutdown; its lease is released for another server")
                }
                Err(e) => {
                    tracing::error!(job = %id, error = %chain(e), "cannot release a job's lease")
                }
            }
        }
    }

    /// One claimed job, start to end, inside its span.
    async fn run_claimed(&self, claimed: ClaimedJob, control: Arc<JobControl>) {
        let job = claimed.job;
        if claimed.taken_over {
            self.recover_taken_over(&job, claimed.previous_owner).await;
        }
        tracing::info!(attempt = job.attempts, "job started");
        let outcome = self
            .with_heartbeat(&job, &control, self.dispatch(&job, &control))
            .await;
        self.conclude(&job, outcome).await;
        control.finished.store(true, Ordering::SeqCst);
    }

    /// One arm per kind.
    async fn dispatch(
        &self,
        job: &JobRecord,
        control: &JobControl,
    ) -> std::result::Result<(), Stop> {
        match job.kind {
            JobKind::Sync => self.run_sync(job, control).await,
            JobKind::Rate => self.run_rating(job, control).await,
            JobKind::Invoice => self.run_invoicing(job, control).await,
        }
    }

    /// Run `work` while renewing the lease; a lost lease is flagged for `work` to see.
    async fn with_heartbeat<T>(
        &self,
        job: &JobRecord,
        control: &JobControl,
        work: impl Future<Output = T>,
    ) -> T {
        let mut work = std::pin::pin!(work);
        let beat = std::pin::pin!(self.keep_lease(job.id, control));
        tokio::select! {
            biased;
            out = &mut work => out,
            () = beat => work.await,
        }
    }

    /// Renew the lease until it is lost (then flag it and return).
    async fn keep_lease(&self, id: JobId, control: &JobControl) {
        loop {
            tokio::time::sleep(self.settings.jobs.heartbeat).await;
            match self
                .store
                .renew_job_lease(id, self.runner, self.clock.now() + self.settings.jobs.lease)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    control.lost.store(true, Ordering::SeqCst);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %chain(e), "cannot renew the job's lease; trying again")
                }
            }
        }
    }

    async fn conclude(&self, job: &JobRecord, outcome: std::result::Result<(), Stop>) {
        let now = self.clock.now();
        let (state, error) = match &outcome {
            Ok(()) => (JobState::Done, None),
            Err(Stop::Failed(e)) => {
                tracing::error!(code = e.code(), error = %e.chain(), "job failed");
                (JobState::Failed, Some(e.public_message()))
            }
            Err(Stop::Cancelled) => {
                tracing::info!("job cancelled: its subject was deleted");
                (JobState::Cancelled, None)
            }
            Err(Stop::LeaseLost) => {
                tracing::warn!(
                    "job stopped: it was cancelled, or another server took it over after this one's lease expired"
                );
                return;
            }
            Err(Stop::ShuttingDown) => {
                if let Err(e) = self.store.release_job(job.id, self.runner, now).await {
                    tracing::error!(error = %chain(e), "cannot release the job's lease");
                }
                tracing::info!(
                    "job paused for shutdown; another server (or the next start) continues it"
                );
                return;
            }
        };
        self.remove_job_scratch(job.id).await;
        match self
            .store
            .finish_job(job.id, self.runner, state, error.as_deref(), now)
            .await
        {
            Ok(true) => tracing::info!(state = %state, "job finished"),
            Ok(false) => tracing::info!("job already ended elsewhere (cancelled, or taken over)"),
            Err(e) => tracing::error!(error = %chain(e), "cannot record the job's end"),
        }
        if let Err(e) = self.after_job(job, state).await {
            tracing::error!(error = %e.chain(), "cannot queue the job's follow-up");
        }
    }

    /// What follows a finished job: a sync queues the connection's next one.
    async fn after_job(&self, job: &JobRecord, state: JobState) -> Result<()> {
        match (job.kind, job.subject) {
            (JobKind::Sync, JobSubject::Connection(c)) => {
                self.schedule_next_sync(job.organization_id, c, state).await
            }
            _ => Ok(()),
        }
    }

    /// A job taken over from a runner whose lease expired: account for its interrupted work and
    /// remove its scratch files (they belong to this runner now).
    async fn recover_taken_over(&self, job: &JobRecord, previous: Option<RunnerId>) {
        let previous = previous
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into());
        match self
            .store
            .interrupt_sync_periods(job.id, self.clock.now())
            .await
        {
            Ok(n) => {
                tracing::warn!(previous_runner = %previous, interrupted_periods = n, "took over a job whose runner stopped renewing its lease")
            }
            Err(e) => tracing::error!(error = %chain(e), "cannot record the interrupted periods"),
        }
        self.remove_job_scratch(job.id).await;
        if let (JobKind::Sync, JobSubject::Connection(c)) = (job.kind, job.subject) {
            self.remove_temp_period_files(c);
        }
    }

    /// At start: remove the scratch areas of jobs that are neither queued nor running (a running
    /// job's scratch belongs to its runner, or to whoever takes it over), and the temp files
    /// beside stored periods, except in the folders of connections with a running sync.
    pub async fn clean_scratch(&self) -> Result<()> {
        let layout = self.layout();
        let active = self.store.active_jobs().await?;
        let keep: HashSet<JobId> = active.iter().map(|j| j.id).collect();
        let syncing: HashSet<std::path::PathBuf> = active
            .iter()
            .filter(|j| j.state == JobState::Running && j.kind == JobKind::Sync)
            .filter_map(|j| j.subject.connection())
            .map(|c| layout.connection_dir(c))
            .collect();
        for (dir, job) in job_scratch_dirs(&layout.tmp_root())
            .into_iter()
            .filter(|(_, job)| !keep.contains(job))
        {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => tracing::info!(job = %job, "removed an ended job's scratch"),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot remove an ended job's scratch")
                }
            }
        }
        for dir in layout
            .period_dirs()
            .into_iter()
            .filter(|d| !syncing.contains(d))
        {
            self.remove_temp_files_in(&dir);
        }
        Ok(())
    }

    async fn remove_job_scratch(&self, id: JobId) {
        let dir = self.layout().job_scratch(id);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the job's scratch")
            }
        }
    }

    fn remove_temp_period_files(&self, connection: ConnectionId) {
        self.remove_temp_files_in(&self.layout().connection_dir(connection));
    }

    fn remove_temp_files_in(&self, dir: &std::path::Path) {
        let Some(writer) = &self.settings.sync.writer else {
            return;
        };
        match writer.remove_temp_files(dir) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(dir = %dir.display(), files = n, "removed temp files left by an interrupted sync")
            }
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot remove temp files"),
        }
    }
}

/// The span every log line of a job carries (attached with `Instrument`, never held across an
/// await with `enter`, so other tasks' lines do not inherit it).
fn job_span(job: &JobRecord) -> tracing::Span {
    let span = tracing::info_span!("job", job = %job.id, kind = %job.kind, org = %job.organization_id, connection = tracing::field::Empty);
    if let Some(c) = job.subject.connection() {
        span.record("connection", tracing::field::display(c));
    }
    span
}

/// The folders under `tmp` named by a job ID (other folders there, such as uploads, are not
/// jobs' scratch).
fn job_scratch_dirs(tmp: &std::path::Path) -> Vec<(std::path::PathBuf, JobId)> {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return vec![];
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let job = p.file_name()?.to_str()?.parse::<JobId>().ok()?;
            Some((p, job))
        })
        .collect()
}
