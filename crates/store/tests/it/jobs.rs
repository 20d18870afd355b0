//! The job queue on both backends: one queued and one running job per subject and kind (held by
//! the database under concurrent callers), leases and take-over, cancellation by deletion, and the
//! schema 4 migration keeping existing jobs.

use std::sync::Arc;

use be_domain::{
    ConnectionId, JobId, JobKind, JobState, JobSubject, OrganizationId, RunnerId, SyncOutcome,
};
use be_store::{JobRecord, PeriodRecord, Store, StoreError, SyncPeriodRecord};
use time::{Duration, OffsetDateTime};

use crate::story::{account, draft, now, org};

crate::story!(
    one_queued_job_per_subject_and_kind,
    concurrent_enqueues_and_claims_keep_the_rules,
    a_live_lease_keeps_a_job_its_expiry_lets_another_runner_take_it_over,
    deleting_cancels_jobs_and_refuses_their_late_writes,
    a_connections_periods_are_deleted_alone,
    a_pulls_warnings_are_kept_with_its_history,
);

async fn connection(store: &Arc<dyn Store>, org: OrganizationId, name: &str) -> ConnectionId {
    let acc = account(org, name);
    store.create_account(&acc).await.expect("account");
    let c = draft(org, acc.id);
    store.create_connection(&c).await.expect("connection");
    c.id
}

fn sync(org: OrganizationId, c: ConnectionId, at: OffsetDateTime) -> JobRecord {
    JobRecord::queued(org, JobSubject::Connection(c), JobKind::Sync, at, at)
}

fn rate(org: OrganizationId, at: OffsetDateTime) -> JobRecord {
    JobRecord::queued(org, JobSubject::Organization, JobKind::Rate, at, at)
}

fn lease(at: OffsetDateTime) -> OffsetDateTime {
    at + Duration::seconds(30)
}

async fn claim(store: &Arc<dyn Store>, runner: RunnerId, at: OffsetDateTime) -> Option<JobRecord> {
    store
        .claim_next_job(runner, at, lease(at))
        .await
        .expect("claim")
        .map(|c| c.job)
}

fn running_period(job: &JobRecord, c: ConnectionId, at: OffsetDateTime) -> SyncPeriodRecord {
    SyncPeriodRecord::started(job.organization_id, c, job.id, "2026-10".into(), at)
}

async fn one_queued_job_per_subject_and_kind(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let other = org(&store, "Other").await;
    let c = connection(&store, a, "Contoso").await;
    let t = now();
    let runner = RunnerId::new();

    // Queued twice: the queued one answers. Another subject gets its own job.
    let s1 = store.enqueue_job(&sync(a, c, t)).await.expect("enqueue");
    assert_eq!(
        store.enqueue_job(&sync(a, c, t)).await.expect("again").id,
        s1.id
    );
    let r1 = store.enqueue_job(&rate(a, t)).await.expect("rate");
    assert_ne!(r1.id, s1.id);
    assert_eq!(r1.subject, JobSubject::Organization);

    // Listing by organization and by connection, scoped.
    let ids = |jobs: Vec<JobRecord>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_jobs(a, 10).await.expect("list")).len(), 2);
    assert_eq!(
        ids(store.list_connection_jobs(a, c, 10).await.expect("list")),
        [s1.id]
    );
    assert!(store.list_jobs(other, 10).await.expect("list").is_empty());
    assert!(
        store
            .list_connection_jobs(other, c, 10)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(store.get_job(other, s1.id).await.expect("get").is_none());

    // Both run; a running sync answers a new sync request, a running rating does not.
    let first = claim(&store, runner, t).await.expect("a job");
    let second = claim(&store, runner, t).await.expect("another job");
    assert_eq!(
        [first.id, second.id],
        [s1.id, r1.id],
        "the longest due first"
    );
    assert_eq!(
        (second.state, second.owner, second.attempts),
        (JobState::Running, Some(runner), 1)
    );
    let again = store
        .enqueue_job(&sync(a, c, t))
        .await
        .expect("sync while running");
    assert_eq!((again.id, again.state), (s1.id, JobState::Running));
    let r2 = store
        .enqueue_job(&rate(a, t))
        .await
        .expect("rate while running");
    assert_ne!(r2.id, r1.id);
    assert_eq!(r2.state, JobState::Queued);
    assert_eq!(
        store.enqueue_job(&rate(a, t)).await.expect("again").id,
        r2.id,
        "still one queued"
    );

    // The queued rating waits for the running one, even though it is due.
    assert!(claim(&store, runner, t).await.is_none());
    assert!(
        store
            .finish_job(r1.id, runner, JobState::Done, None, t)
            .await
            .expect("finish")
    );
    assert_eq!(claim(&store, runner, t).await.map(|j| j.id), Some(r2.id));

    // A job due later (debounce) waits for its time; sync now moves it earlier.
    let b = org(&store, "Later").await;
    let later = store
        .enqueue_job(&rate(b, t + Duration::seconds(3)))
        .await
        .expect("later");
    assert!(claim(&store, runner, t).await.is_none(), "not due yet");
    store.set_job_run_after(later.id, t).await.expect("earlier");
    assert_eq!(claim(&store, runner, t).await.map(|j| j.id), Some(later.id));
    store
        .set_job_progress(later.id, 3, 13)
        .await
        .expect("progress");
    let listed = store.get_job(b, later.id).await.expect("get").expect("job");
    assert_eq!((listed.progress_done, listed.progress_total), (3, 13));
}

async fn concurrent_enqueues_and_claims_keep_the_rules(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let c = connection(&store, a, "Contoso").await;
    let t = now();
    // Eight callers queue the same rating at once: the database lets one job in.
    let calls = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.enqueue_job(&rate(a, t)).await.expect("enqueue").id })
    });
    let mut ids = vec![];
    for call in calls {
        ids.push(call.await.expect("task"));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one queued rating, returned to every caller");
    store.enqueue_job(&sync(a, c, t)).await.expect("sync");

    // Six runners claim at once: the two jobs are taken once each.
    let calls = (0..6).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { claim(&store, RunnerId::new(), t).await.map(|j| j.id) })
    });
    let mut claimed: Vec<JobId> = vec![];
    for call in calls {
        claimed.extend(call.await.expect("task"));
    }
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), 2, "each job claimed by exactly one runner");
}

async fn a_live_lease_keeps_a_job_its_expiry_lets_another_runner_take_it_over(
    store: Arc<dyn Store>,
) {
    let a = org(&store, "Org").await;
    let c = connection(&store, a, "Contoso").await;
    let t = now();
    let (first, second) = (RunnerId::new(), RunnerId::new());
    let job = store.enqueue_job(&sync(a, c, t)).await.expect("enqueue");
    let claimed = store
        .claim_next_job(first, t, lease(t))
        .await
        .expect("claim")
        .expect("due");
    assert!(!claimed.taken_over);
    store
        .record_sync_period(&running_period(&job, c, t))
        .await
        .expect("a period in flight");

    // The first runner's lease holds, and its heartbeat extends it.
    assert!(
        claim(&store, second, t + Duration::seconds(29))
            .await
            .is_none(),
        "lease live"
    );
    assert!(
        store
            .renew_job_lease(job.id, first, lease(t + Duration::seconds(20)))
            .await
            .expect("renew")
    );
    assert!(
        claim(&store, second, t + Duration::seconds(45))
            .await
            .is_none(),
        "renewed lease live"
    );
    assert_eq!(store.active_jobs().await.expect("active").len(), 1);

    // The first runner stops renewing: once the lease passes, the second takes the job over.
    let at = t + Duration::seconds(50);
    let took = store
        .claim_next_job(second, at, lease(at))
        .await
        .expect("claim")
        .expect("taken over");
    assert!(took.taken_over);
    assert_eq!(
        (
            took.job.id,
            took.previous_owner,
            took.job.owner,
            took.job.attempts
        ),
        (job.id, Some(first), Some(second), 2)
    );
    assert_eq!(
        store
            .interrupt_sync_periods(job.id, at)
            .await
            .expect("interrupt"),
        1
    );
    let history = store.list_sync_periods(a, c, 10).await.expect("history");
    assert_eq!(
        (history[0].outcome, history[0].error_code.as_deref()),
        (SyncOutcome::Failed, Some("sync_interrupted"))
    );

    // The first runner, back, holds nothing any more.
    assert!(
        !store
            .renew_job_lease(job.id, first, lease(at))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .finish_job(job.id, first, JobState::Failed, Some("late"), at)
            .await
            .expect("finish")
    );
    assert!(!store.release_job(job.id, first, at).await.expect("release"));
    assert!(
        store
            .finish_job(job.id, second, JobState::Done, None, at)
            .await
            .expect("finish")
    );
    let done = store.get_job(a, job.id).await.expect("get").expect("job");
    assert_eq!(
        (done.state, done.last_error, done.lease_until),
        (JobState::Done, None, None)
    );
    assert!(store.active_jobs().await.expect("active").is_empty());

    // A runner that stops cleanly releases its lease: another takes over at once.
    let r = store.enqueue_job(&rate(a, at)).await.expect("rate");
    assert_eq!(claim(&store, first, at).await.map(|j| j.id), Some(r.id));
    assert!(store.release_job(r.id, first, at).await.expect("release"));
    let took = store
        .claim_next_job(second, at, lease(at))
        .await
        .expect("claim")
        .expect("taken over");
    assert_eq!((took.job.id, took.taken_over), (r.id, true));
}

async fn deleting_cancels_jobs_and_refuses_their_late_writes(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("account");
    let conn = draft(a, acc.id);
    store.create_connection(&conn).await.expect("connection");
    let c = conn.id;
    let t = now();
    let runner = RunnerId::new();
    let job = store.enqueue_job(&sync(a, c, t)).await.expect("enqueue");
    claim(&store, runner, t).await.expect("running");
    let rated = store
        .enqueue_job(&rate(a, t))
        .await
        .expect("an organization job");

    // Deleting the account while its sync runs: the job is cancelled, the runner loses it.
    assert!(store.delete_account(a, acc.id, t).await.expect("delete"));
    let cancelled = store
        .get_job(a, job.id)
        .await
        .expect("get")
        .expect("kept as a record");
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert!(
        !store
            .renew_job_lease(job.id, runner, lease(t))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .finish_job(job.id, runner, JobState::Done, None, t)
            .await
            .expect("finish")
    );
    assert_eq!(
        store
            .get_job(a, rated.id)
            .await
            .expect("get")
            .expect("job")
            .state,
        JobState::Queued,
        "other subjects untouched"
    );

    // What the runner writes afterwards is refused as gone, not as a generic failure.
    let late = store.record_sync_period(&running_period(&job, c, t)).await;
    assert!(matches!(late, Err(StoreError::Gone(_))), "{late:?}");
    let period = PeriodRecord {
        organization_id: a,
        connection_id: c,
        period: "2026-10".into(),
        rows_stored: 1,
        source_total: "1".into(),
        focus_total: "1".into(),
        amortized_total: "1".into(),
        effective_total: "1".into(),
        reconciled: true,
        pulled_at: t,
        closed: false,
        billing_currency: Some("EUR".into()),
    };
    assert!(matches!(
        store.upsert_period(&period).await,
        Err(StoreError::Gone(_))
    ));

    // Deleting a connection cancels its queued job the same way.
    let c2 = connection(&store, a, "Fabrikam").await;
    let queued = store.enqueue_job(&sync(a, c2, t)).await.expect("enqueue");
    assert!(store.delete_connection(a, c2, t).await.expect("delete"));
    assert_eq!(
        store
            .get_job(a, queued.id)
            .await
            .expect("get")
            .expect("job")
            .state,
        JobState::Cancelled
    );
}

/// Jobs written by schema 3 (a connection required, no lease) survive the migration: the
/// SQLite table rebuild keeps every row, and a job left running is taken over.
macro_rules! migration_test {
    ($name:ident, $db:ident, $pool:ty) => {
        #[tokio::test]
        async fn $name() {
            let db = crate::harness::TestDb::$db(Some(3)).await;
            let pool = <$pool>::connect(&db.url).await.expect("raw pool");
            let (o, acc, c, running, done) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
            let t = now();
            let exec = |sql: &'static str, ids: Vec<uuid::Uuid>| {
                let pool = pool.clone();
                async move {
                    let mut q = sqlx::query(sql);
                    for id in ids {
                        q = q.bind(id);
                    }
                    q.bind(t).execute(&pool).await.expect(sql);
                }
            };
            exec("INSERT INTO organizations (id, name, created_at) VALUES ($1, 'Org', $2)", vec![o]).await;
            exec("INSERT INTO accounts (id, organization_id, name, name_key, created_at, updated_at) VALUES ($1, $2, 'A', 'a', $3, $3)", vec![acc, o]).await;
            exec(
                "INSERT INTO connections (id, organization_id, account_id, provider, product, state, step, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'azure', 'billing_engine', 'connected', 'done', $4, $4)",
                vec![c, o, acc],
            )
            .await;
            let job = "INSERT INTO jobs (id, organization_id, connection_id, kind, state, run_after, attempts, progress_done, progress_total, created_at, updated_at) \
                       VALUES ($1, $2, $3, 'sync', $4, $5, 1, 4, 13, $5, $5)";
            for (id, state) in [(done, "done"), (running, "running")] {
                sqlx::query(job).bind(id).bind(o).bind(c).bind(state).bind(t).execute(&pool).await.expect("job");
            }
            pool.close().await;

            db.store.migrate().await.expect("migrate to the latest schema");
            let org = OrganizationId::from_uuid(o);
            let jobs = db.store.list_connection_jobs(org, ConnectionId::from_uuid(c), 10).await.expect("jobs");
            let mut states: Vec<(JobState, i32, i32)> = jobs.iter().map(|j| (j.state, j.attempts, j.progress_done)).collect();
            states.sort_by_key(|s| s.0.as_str());
            assert_eq!(states, [(JobState::Done, 1, 4), (JobState::Running, 1, 4)]);
            assert!(jobs.iter().all(|j| j.subject == JobSubject::Connection(ConnectionId::from_uuid(c)) && j.kind == JobKind::Sync && j.owner.is_none()));
            let took = db.store.claim_next_job(RunnerId::new(), t, lease(t)).await.expect("claim").expect("the running job");
            assert_eq!((took.job.id, took.taken_over), (JobId::from_uuid(running), true), "a job running before the upgrade has no lease");
            db.drop_db().await;
        }
    };
}

migration_test!(
    sqlite_migration_keeps_existing_jobs,
    sqlite_at,
    sqlx::SqlitePool
);
migration_test!(
    postgres_migration_keeps_existing_jobs,
    postgres_at,
    sqlx::PgPool
);

async fn a_connections_periods_are_deleted_alone(store: Arc<dyn Store>) {
    let t = now();
    let a = org(&store, "A").await;
    let (c, other) = (
        connection(&store, a, "Contoso").await,
        connection(&store, a, "Fabrikam").await,
    );
    let period = |connection_id, period: &str| PeriodRecord {
        organization_id: a,
        connection_id,
        period: period.into(),
        rows_stored: 1,
        source_total: "1".into(),
        focus_total: "1".into(),
        amortized_total: "1".into(),
        effective_total: "1".into(),
        reconciled: true,
        pulled_at: t,
        closed: false,
        billing_currency: Some("EUR".into()),
    };
    for p in [
        period(c, "2026-10"),
        period(c, "2026-09"),
        period(other, "2026-10"),
    ] {
        store.upsert_period(&p).await.expect("period");
    }
    assert_eq!(
        store.delete_periods(a, c).await.expect("delete"),
        ["2026-09", "2026-10"]
    );
    assert!(store.list_periods(a, c).await.expect("list").is_empty());
    let kept = store.list_periods(a, other).await.expect("list");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].billing_currency.as_deref(),
        Some("EUR"),
        "the currency is stored"
    );
    assert!(store.delete_periods(a, c).await.expect("again").is_empty());
}

/// A pull's warnings (count and examples, one line each) survive the update that finishes it.
async fn a_pulls_warnings_are_kept_with_its_history(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let c = connection(&store, a, "Contoso").await;
    let t = now();
    let job = store.enqueue_job(&sync(a, c, t)).await.expect("enqueue");
    let mut record = running_period(&job, c, t);
    store.record_sync_period(&record).await.expect("started");
    let history = store.list_sync_periods(a, c, 10).await.expect("history");
    assert_eq!(
        (history[0].warning_count, history[0].warnings.len()),
        (0, 0)
    );
    record.outcome = SyncOutcome::Succeeded;
    record.finished_at = Some(t + Duration::seconds(3));
    record.warning_count = 12;
    record.warnings = vec![
        "a.csv:4:61 (exchangeRateDate): not a date; stored as null: \"3/1/21\"".into(),
        "a.csv:9:12 (costInUsd): not a decimal number; stored as null: \"n/a\"".into(),
    ];
    store.record_sync_period(&record).await.expect("finished");
    let history = store.list_sync_periods(a, c, 10).await.expect("history");
    assert_eq!(
        (history[0].warning_count, &history[0].warnings),
        (12, &record.warnings)
    );
}
