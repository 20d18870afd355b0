//! The job runner as servers run it: leases between two servers on one database, a clean stop,
//! concurrency across organizations, retries with backoff, deletion during a sync, failures'
//! causes in the log, the job span kept off other tasks' lines, and the rating placeholder.

use std::{sync::Arc, time::Duration};

use be_app::{App, Caller, Clock, JobKind, JobState, JobSubject, ManualClock};
use be_azure_sim::{FaultEndpoint, FaultKind, FaultSpec};
use be_store::{ConnectionRecord, JobRecord};
use time::OffsetDateTime;

use crate::harness::{
    Logs, ServerSpec, TempDir, TestWriter, connect, server, sqlite, tenant, wait_until, world,
};

const EA: &str = "1234567";
const OTHER_EA: &str = "7654321";

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("valid"),
    ))
}

/// The connection's jobs, newest first.
async fn jobs(app: &App, caller: &Caller, c: &ConnectionRecord) -> Vec<JobRecord> {
    app.connection_jobs(caller, &c.id.to_string())
        .await
        .expect("jobs")
}

async fn job_state(app: &App, caller: &Caller, job: &JobRecord) -> JobState {
    app.store()
        .get_job(caller.organization_id, job.id)
        .await
        .expect("get")
        .expect("job")
        .state
}

fn spec<'a>(
    store: &Arc<dyn be_app::Store>,
    clock: &Arc<ManualClock>,
    dir: &'a TempDir,
    writer: Option<Arc<TestWriter>>,
) -> ServerSpec<'a> {
    ServerSpec {
        store: store.clone(),
        clock: clock.clone(),
        data_dir: &dir.0,
        writer,
        concurrency: 2,
        backfill_months: 1,
    }
}

/// One organization with a connected account (its first sync queued) on one server. Bind every
/// field: the simulator and the directory live as long as their bindings.
struct OneOrg {
    w: crate::harness::World,
    _dir: TempDir,
    clock: Arc<ManualClock>,
    app: App,
    caller: Caller,
    c: ConnectionRecord,
}

async fn one_org(writer: Option<Arc<TestWriter>>) -> OneOrg {
    let w = world(&[EA]).await;
    let dir = TempDir::new();
    let (store, clock) = (sqlite(&dir.0).await, clock());
    let app = server(&w, spec(&store, &clock, &dir, writer));
    let caller = tenant(&app, "Org").await;
    let c = connect(&app, &caller, &w, "Contoso", EA).await;
    OneOrg {
        w,
        _dir: dir,
        clock,
        app,
        caller,
        c,
    }
}

/// Run the due jobs in a task until `c`'s sync is held mid-period by `writer`.
async fn run_until_held(
    app: &App,
    writer: &Arc<TestWriter>,
    c: &ConnectionRecord,
) -> tokio::task::JoinHandle<be_app::Result<usize>> {
    writer.hold(c.id);
    let running = tokio::spawn({
        let app = app.clone();
        async move { app.run_due_jobs().await }
    });
    wait_until("the sync to be mid-period", || async {
        writer.waiting() == 1
    })
    .await;
    running
}

#[tokio::test]
async fn a_second_server_takes_a_job_over_only_after_the_first_ones_lease_expires() {
    let w = world(&[EA]).await;
    let dir = TempDir::new();
    let (store, clock) = (sqlite(&dir.0).await, clock());
    let (held, free) = (
        Arc::new(TestWriter::default()),
        Arc::new(TestWriter::default()),
    );
    let first = server(&w, spec(&store, &clock, &dir, Some(held.clone())));
    let second = server(&w, spec(&store, &clock, &dir, Some(free)));
    let caller = tenant(&first, "Org").await;
    let c = connect(&first, &caller, &w, "Contoso", EA).await;
    let job = jobs(&first, &caller, &c).await.remove(0);

    // The first server runs the sync and is stuck mid-period.
    let running = run_until_held(&first, &held, &c).await;
    assert_eq!(
        second.run_due_jobs().await.expect("run"),
        0,
        "the first server's lease is live"
    );
    second.clean_scratch().await.expect("clean");
    assert!(
        first.layout().job_scratch(job.id).exists(),
        "a live job's scratch is not another server's to clean"
    );

    // The first server dies (its task and heartbeat with it). Its lease still holds for a while.
    running.abort();
    let _ = running.await;
    assert_eq!(
        second.run_due_jobs().await.expect("run"),
        0,
        "the lease has not expired yet"
    );

    // Once it expires, the second server takes the job over and completes it.
    clock.advance(first.settings().jobs.lease + time::Duration::seconds(1));
    assert_eq!(second.run_due_jobs().await.expect("run"), 1);
    let done = first
        .store()
        .get_job(caller.organization_id, job.id)
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        (done.state, done.owner, done.attempts),
        (JobState::Done, Some(second.runner_id()), 2)
    );
    let history = first
        .sync_history(&caller, &c.id.to_string(), 10)
        .await
        .expect("history");
    assert!(
        history
            .iter()
            .any(|h| h.error_code.as_deref() == Some("sync_interrupted")),
        "the first server's period is recorded as interrupted: {history:?}"
    );
    assert!(
        history
            .iter()
            .any(|h| h.outcome == be_app::SyncOutcome::Succeeded)
    );
    held.release_all();
}

#[tokio::test]
async fn a_server_that_stops_releases_its_job_to_another_at_once() {
    let w = world(&[EA]).await;
    let dir = TempDir::new();
    let (store, clock) = (sqlite(&dir.0).await, clock());
    let held = Arc::new(TestWriter::default());
    let first = server(
        &w,
        ServerSpec {
            backfill_months: 2,
            ..spec(&store, &clock, &dir, Some(held.clone()))
        },
    );
    let second = server(
        &w,
        ServerSpec {
            backfill_months: 2,
            ..spec(&store, &clock, &dir, Some(Arc::default()))
        },
    );
    let caller = tenant(&first, "Org").await;
    let c = connect(&first, &caller, &w, "Contoso", EA).await;
    let job = jobs(&first, &caller, &c).await.remove(0);

    held.hold(c.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(first.clone().run_worker(stopped, Duration::from_secs(60)));
    wait_until("the first period to be in flight", || async {
        held.waiting() == 1
    })
    .await;
    // SIGTERM: the period in flight completes, then the job stops and releases its lease.
    stop.send(true).expect("stop");
    held.release_all();
    worker.await.expect("the runner stops");
    let released = first
        .store()
        .get_job(caller.organization_id, job.id)
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        (released.state, released.progress_done),
        (JobState::Running, 1),
        "stopped after its first period"
    );

    // Another server continues at once, without waiting for the lease to run out.
    assert_eq!(second.run_due_jobs().await.expect("run"), 1);
    let done = first
        .store()
        .get_job(caller.organization_id, job.id)
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        (done.state, done.owner),
        (JobState::Done, Some(second.runner_id()))
    );
    let history = first
        .sync_history(&caller, &c.id.to_string(), 10)
        .await
        .expect("history");
    assert!(
        history
            .iter()
            .all(|h| h.outcome == be_app::SyncOutcome::Succeeded),
        "nothing was interrupted: {history:?}"
    );
}

#[tokio::test]
async fn one_organizations_backfill_does_not_hold_up_anothers_sync() {
    let w = world(&[EA, OTHER_EA]).await;
    let dir = TempDir::new();
    let (store, clock) = (sqlite(&dir.0).await, clock());
    let writer = Arc::new(TestWriter::default());
    let app = server(&w, spec(&store, &clock, &dir, Some(writer.clone())));
    let (big, small) = (tenant(&app, "Big").await, tenant(&app, "Small").await);
    let slow = connect(&app, &big, &w, "Contoso", EA).await;
    writer.hold(slow.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.clone().run_worker(stopped, Duration::from_secs(60)));
    wait_until("the big backfill to be running", || async {
        writer.waiting() == 1
    })
    .await;

    // The other organization's sync runs and finishes while the backfill is still going.
    let quick = connect(&app, &small, &w, "Fabrikam", OTHER_EA).await;
    let quick_job = jobs(&app, &small, &quick)
        .await
        .pop()
        .expect("its first sync");
    wait_until("the small organization's sync", || async {
        job_state(&app, &small, &quick_job).await == JobState::Done
    })
    .await;
    let slow_job = jobs(&app, &big, &slow).await.pop().expect("the backfill");
    assert_eq!(job_state(&app, &big, &slow_job).await, JobState::Running);

    writer.release_all();
    wait_until("the backfill", || async {
        job_state(&app, &big, &slow_job).await == JobState::Done
    })
    .await;
    stop.send(true).expect("stop");
    worker.await.expect("stopped");
}

#[tokio::test]
async fn a_failed_sync_is_retried_with_backoff_then_at_the_interval() {
    let OneOrg {
        w,
        _dir,
        clock,
        app,
        caller,
        c,
    } = one_org(Some(Arc::default())).await;
    w.sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::GenerateCostDetailsReport,
        billing_account: None,
        kind: FaultKind::ReportFailed,
        count: None,
    });

    let mut waited = time::Duration::ZERO;
    for expected in [5, 15, 45] {
        clock.advance(waited);
        assert_eq!(app.run_due_jobs().await.expect("run"), 1);
        let recent = jobs(&app, &caller, &c).await;
        assert_eq!(recent[1].state, JobState::Failed, "{:?}", recent[1]);
        assert!(
            recent[1]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("could not be pulled")),
            "{:?}",
            recent[1].last_error
        );
        let next = &recent[0];
        assert_eq!(next.state, JobState::Queued);
        assert_eq!(
            next.run_after - clock.now(),
            time::Duration::minutes(expected),
            "retry after {expected} minutes"
        );
        waited = next.run_after - clock.now();
    }
    // Azure recovers: the retry succeeds and the connection goes back to the regular interval.
    w.sim.sim().clear_faults();
    clock.advance(waited);
    assert_eq!(app.run_due_jobs().await.expect("run"), 1);
    let recent = jobs(&app, &caller, &c).await;
    assert_eq!(recent[1].state, JobState::Done);
    assert_eq!(
        recent[0].run_after - clock.now(),
        app.sync_settings().interval
    );
}

async fn delete_during_sync(delete_account: bool) {
    let writer = Arc::new(TestWriter::default());
    let OneOrg {
        w: _w,
        _dir,
        clock: _clock,
        app,
        caller,
        c,
    } = one_org(Some(writer.clone())).await;
    let job = jobs(&app, &caller, &c).await.remove(0);
    let (logs, _guard) = Logs::capture();
    let running = run_until_held(&app, &writer, &c).await;
    if delete_account {
        app.delete_account(&caller, &c.account_id.to_string())
            .await
            .expect("delete account");
    } else {
        app.delete_connection(&caller, &c.id.to_string(), "Contoso")
            .await
            .expect("delete connection");
    }
    // The period file is written after the deletion; the sync notices and removes it.
    writer.release_all();
    assert_eq!(running.await.expect("task").expect("run"), 1);

    assert_eq!(
        job_state(&app, &caller, &job).await,
        JobState::Cancelled,
        "stopped, not failed"
    );
    assert!(
        !app.layout().connection_dir(c.id).exists(),
        "no cost data is left behind"
    );
    assert!(
        !app.layout().job_scratch(job.id).exists(),
        "no scratch is left behind"
    );
    assert!(
        logs.with_message("job failed").is_empty(),
        "{:?}",
        logs.lines()
    );
    assert_eq!(
        logs.with_message("job cancelled: its subject was deleted")
            .len(),
        1,
        "{:?}",
        logs.lines()
    );
    assert!(
        app.store().active_jobs().await.expect("active").is_empty(),
        "no next sync for a deleted connection"
    );
}

#[tokio::test]
async fn deleting_an_account_while_its_sync_runs_cancels_the_sync_and_leaves_no_data() {
    delete_during_sync(true).await;
}

#[tokio::test]
async fn deleting_a_connection_while_its_sync_runs_cancels_the_sync_and_leaves_no_data() {
    delete_during_sync(false).await;
}

#[tokio::test]
async fn a_failed_job_logs_its_whole_cause() {
    let OneOrg {
        w: _w,
        _dir,
        clock: _clock,
        app,
        caller,
        c,
    } = one_org(None).await;
    let (logs, _guard) = Logs::capture();
    assert_eq!(app.run_due_jobs().await.expect("run"), 1);
    let failed = jobs(&app, &caller, &c).await.remove(1);
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("Something went wrong on our side. It has been logged; try again.")
    );
    let lines = logs.with_message("job failed");
    assert_eq!(lines.len(), 1, "{:?}", logs.lines());
    assert_eq!(
        lines[0]["error"], "internal error: no period writer configured",
        "the cause, not only \"internal error\""
    );
    assert_eq!(lines[0]["code"], "internal_error");
}

#[tokio::test]
async fn other_tasks_log_lines_carry_no_job_fields_while_a_job_runs() {
    let writer = Arc::new(TestWriter::default());
    let OneOrg {
        w: _w,
        _dir,
        clock: _clock,
        app,
        caller: _caller,
        c,
    } = one_org(Some(writer.clone())).await;
    // Every task of this current-thread runtime logs on this thread, into `logs`.
    let (logs, _guard) = Logs::capture();
    let running = run_until_held(&app, &writer, &c).await;
    // A request handled meanwhile, on the same thread as the suspended job.
    tracing::info_span!("request", request_id = "r-1")
        .in_scope(|| tracing::info!("GET /api/v1/accounts"));
    tracing::info!("a line outside any span");
    writer.release_all();
    running.await.expect("task").expect("run");

    let span_names = |line: &serde_json::Value| -> Vec<String> {
        line["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let request = logs.with_message("GET /api/v1/accounts");
    assert_eq!(request.len(), 1);
    assert_eq!(
        span_names(&request[0]),
        ["request"],
        "the request's line is the request's alone: {}",
        request[0]
    );
    let outside = logs.with_message("a line outside any span");
    assert!(span_names(&outside[0]).is_empty(), "{}", outside[0]);
    // The job's own lines do carry the job and its connection.
    let started = logs.with_message("job started");
    let job_span = started[0]["spans"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "job"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(job_span["connection"], c.id.to_string(), "{}", started[0]);
}

#[tokio::test]
async fn a_rating_job_without_an_engine_fails_with_a_clear_error() {
    let w = world(&[]).await;
    let dir = TempDir::new();
    let (store, clock) = (sqlite(&dir.0).await, clock());
    let app = server(&w, spec(&store, &clock, &dir, Some(Arc::default())));
    let caller = tenant(&app, "Org").await;
    let now = clock.now();
    let job = JobRecord::queued(
        caller.organization_id,
        JobSubject::Organization,
        JobKind::Rate,
        now,
        now,
    );
    app.store().enqueue_job(&job).await.expect("enqueue");
    let (logs, _guard) = Logs::capture();
    assert_eq!(app.run_due_jobs().await.expect("run"), 1);
    let ended = app
        .organization_jobs(&caller, 10)
        .await
        .expect("jobs")
        .remove(0);
    assert_eq!((ended.id, ended.state), (job.id, JobState::Failed));
    assert_eq!(
        ended.last_error.as_deref(),
        Some("Rating is not available in this server (no engine configured).")
    );
    assert_eq!(
        logs.with_message("job failed")[0]["code"],
        "rating_unavailable"
    );
}
