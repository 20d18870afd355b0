//! What a sync stores: only pulls that reconcile replace a period; failures are shown and retried.

use std::sync::Arc;

use be_app::{App, Caller, Clock, JobState, ManualClock};
use be_store::ConnectionRecord;
use time::OffsetDateTime;

use crate::harness::{
    ServerSpec, TempDir, TestWriter, World, connect, server, sqlite, tenant, world,
};

const EA: &str = "1234567";

pub(crate) struct Synced {
    pub w: World,
    pub _dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub app: App,
    pub caller: Caller,
    pub c: ConnectionRecord,
    pub writer: Arc<TestWriter>,
}

/// One organization whose connection to `enrollments[0]` has been synced once (`months` months).
pub(crate) async fn synced(enrollments: &[&str], months: u32) -> Synced {
    let w = world(enrollments).await;
    let dir = TempDir::new();
    let store = sqlite(&dir.0).await;
    let clock = Arc::new(ManualClock::new(
        OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("valid"),
    ));
    let writer: Arc<TestWriter> = Arc::default();
    let app = server(
        &w,
        ServerSpec {
            store,
            clock: clock.clone(),
            data_dir: &dir.0,
            writer: Some(writer.clone()),
            concurrency: 1,
            backfill_months: months,
        },
    );
    let caller = tenant(&app, "Org").await;
    let c = connect(&app, &caller, &w, "Contoso", enrollments[0]).await;
    app.run_due_jobs().await.expect("first sync");
    Synced {
        w,
        _dir: dir,
        clock,
        app,
        caller,
        c,
        writer,
    }
}

#[tokio::test]
async fn a_pull_that_does_not_reconcile_keeps_the_stored_period_and_is_retried() {
    let Synced {
        w: _w,
        _dir,
        clock,
        app,
        caller,
        c,
        writer,
    } = synced(&[EA], 1).await;
    let id = c.id.to_string();
    let before = app.stored_periods(&caller, &id).await.expect("periods");
    assert_eq!(before.len(), 1);
    let file = app.layout().connection_period(
        c.id,
        be_domain::BillingPeriod::parse(&before[0].period).expect("period"),
    );
    let bytes = std::fs::read(&file).expect("the stored file");
    assert!(
        app.failing_periods(&caller, &id)
            .await
            .expect("failing")
            .is_empty()
    );

    writer.mismatch(c.id);
    clock.advance(app.sync_settings().interval);
    app.run_due_jobs().await.expect("run");

    assert_eq!(
        app.stored_periods(&caller, &id).await.expect("periods"),
        before,
        "the stored period's record is unchanged"
    );
    assert_eq!(
        std::fs::read(&file).expect("file"),
        bytes,
        "and so is its file"
    );
    let history = app.sync_history(&caller, &id, 1).await.expect("history");
    assert_eq!(history[0].outcome, be_app::SyncOutcome::Failed);
    assert_eq!(
        history[0].error_code.as_deref(),
        Some("reconciliation_mismatch")
    );
    let message = history[0].error_message.clone().unwrap_or_default();
    assert!(message.contains("difference -10.25"), "{message}");
    let failing = app.failing_periods(&caller, &id).await.expect("failing");
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].period, before[0].period);
    assert_eq!(failing[0].code, "reconciliation_mismatch");
    assert!(failing[0].previous_kept);
    // The job failed, so the period is retried with backoff, not in 4 hours.
    let jobs = app.connection_jobs(&caller, &id).await.expect("jobs");
    assert_eq!(jobs[1].state, JobState::Failed);
    assert_eq!(jobs[0].run_after - clock.now(), time::Duration::minutes(5));

    writer.reconcile_again();
    clock.advance(time::Duration::minutes(5));
    app.run_due_jobs().await.expect("retry");
    let after = app.stored_periods(&caller, &id).await.expect("periods");
    assert!(after[0].pulled_at > before[0].pulled_at, "pulled again");
    assert!(
        app.failing_periods(&caller, &id)
            .await
            .expect("failing")
            .is_empty()
    );
}
