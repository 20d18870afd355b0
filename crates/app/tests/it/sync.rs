//! What a sync stores: only pulls that reconcile replace a period; failures are shown and retried.

use std::sync::Arc;

use be_app::{App, Caller, Clock, JobState, ManualClock};
use be_store::ConnectionRecord;
use time::OffsetDateTime;

use crate::harness::{
    ServerSpec, TempDir, TestWriter, World, connect, grant_and_validate, server, sqlite, tenant,
    world,
};

const EA: &str = "1234567";
const OTHER_EA: &str = "7654321";

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

/// The values a conversion could not use as written reach the pull's history: how many, and the
/// first examples.
#[tokio::test]
async fn a_stored_pull_records_its_warnings_in_the_history() {
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
    let history = app.sync_history(&caller, &id, 1).await.expect("history");
    assert_eq!(
        (history[0].warning_count, history[0].warnings.len()),
        (0, 0)
    );
    writer.warn(c.id);
    clock.advance(app.sync_settings().interval);
    app.run_due_jobs().await.expect("run");
    let history = app.sync_history(&caller, &id, 1).await.expect("history");
    assert_eq!(history[0].outcome, be_app::SyncOutcome::Succeeded);
    assert_eq!(history[0].warning_count, 9);
    assert_eq!(
        history[0].warnings,
        vec![
            "amortized-1.csv:4:61 (exchangeRateDate): not a date; stored as null: \"3/1/21\""
                .to_string()
        ]
    );
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

fn to_other_enrollment(replace_data: bool) -> be_app::ConnectionDetails {
    be_app::ConnectionDetails {
        billing_account_id: Some(OTHER_EA.into()),
        replace_data,
        ..Default::default()
    }
}

#[tokio::test]
async fn changing_the_billing_account_of_a_connection_with_data_needs_a_confirmation_that_replaces_it()
 {
    let Synced {
        w,
        _dir,
        clock,
        app,
        caller,
        c,
        writer: _writer,
    } = synced(&[EA, OTHER_EA], 3).await;
    let id = c.id.to_string();
    let before = app.stored_periods(&caller, &id).await.expect("periods");
    assert_eq!(before.len(), 3);
    let dir = app.layout().connection_dir(c.id);
    assert_eq!(std::fs::read_dir(&dir).expect("files").count(), 3);

    // Without the confirmation: refused, nothing changes.
    let e = app
        .set_connection_details(&caller, &id, &to_other_enrollment(false))
        .await
        .expect_err("refused");
    assert_eq!(e.code(), "connection_has_data");
    assert!(
        e.public_message().contains("3 month(s)"),
        "{}",
        e.public_message()
    );
    assert!(
        e.public_message().contains("replace_data"),
        "{}",
        e.public_message()
    );
    let kept = app.get_connection(&caller, &id).await.expect("connection");
    assert_eq!(
        kept.billing_account_id.map(|b| b.to_string()).as_deref(),
        Some(EA)
    );
    assert_eq!(kept.state, be_app::ConnectionState::Connected);
    assert_eq!(
        app.stored_periods(&caller, &id).await.expect("periods"),
        before
    );
    // Changing only the client ID (the same app here) is no change of source.
    app.set_connection_details(
        &caller,
        &id,
        &be_app::ConnectionDetails {
            client_id: Some(c.client_id.clone().expect("client").as_str().to_string()),
            ..Default::default()
        },
    )
    .await
    .expect("same source");
    assert_eq!(
        app.stored_periods(&caller, &id)
            .await
            .expect("periods")
            .len(),
        3
    );

    // Confirmed: the old enrollment's months are gone, then every month is backfilled again.
    app.set_connection_details(&caller, &id, &to_other_enrollment(true))
        .await
        .expect("replaced");
    assert!(
        app.stored_periods(&caller, &id)
            .await
            .expect("periods")
            .is_empty()
    );
    assert!(!dir.exists(), "the old enrollment's files are removed");
    clock.advance(time::Duration::minutes(1));
    grant_and_validate(&app, &caller, &w, &id).await;
    app.run_due_jobs().await.expect("backfill");
    let after = app.stored_periods(&caller, &id).await.expect("periods");
    let months =
        |p: &[be_store::PeriodRecord]| p.iter().map(|p| p.period.clone()).collect::<Vec<_>>();
    assert_eq!(
        months(&after),
        months(&before),
        "all three months pulled again"
    );
    assert!(
        after
            .iter()
            .zip(&before)
            .all(|(a, b)| a.pulled_at > b.pulled_at)
    );
}

/// The app reading the simulator's clock: both sides agree on when a token expires.
struct SimTime(be_azure_sim::SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        let t = self.0.now();
        t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
            .unwrap_or(t)
    }
}

/// Realistic Azure delays without waiting: a report takes 20 minutes, each poll stands for the
/// 5 minutes a client would wait, a token lives an hour.
fn slow_azure() -> be_azure_sim::SimConfig {
    be_azure_sim::SimConfig {
        settings: be_azure_sim::Settings {
            token_lifetime_secs: 3599,
            report_retry_after_secs: 0,
            report_processing_secs: 20 * 60,
            report_poll_advances_secs: 5 * 60,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A 13-month backfill on the slow Azure with the app on `clock`: every period stored; returns
/// (the simulated hours it took, the simulator's counts during the sync).
async fn slow_backfill(
    app_clock: impl FnOnce(&World) -> Arc<dyn Clock>,
) -> (i64, be_azure_sim::SimStats) {
    let w = crate::harness::world_with(&[EA], slow_azure()).await;
    let dir = TempDir::new();
    let app = server(
        &w,
        ServerSpec {
            store: sqlite(&dir.0).await,
            clock: app_clock(&w),
            data_dir: &dir.0,
            writer: Some(Arc::default()),
            concurrency: 1,
            backfill_months: 13,
        },
    );
    let caller = tenant(&app, "Org").await;
    let c = connect(&app, &caller, &w, "Contoso", EA).await;
    let (start, before) = (w.sim.sim().clock().now(), w.sim.sim().stats());
    app.run_due_jobs().await.expect("backfill");
    let hours = (w.sim.sim().clock().now() - start).whole_hours();
    let after = w.sim.sim().stats();
    let id = c.id.to_string();
    let history = app.sync_history(&caller, &id, 100).await.expect("history");
    let failed: Vec<_> = history
        .iter()
        .filter(|h| h.outcome != be_app::SyncOutcome::Succeeded)
        .map(|h| (h.period.clone(), h.error_message.clone()))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        app.stored_periods(&caller, &id)
            .await
            .expect("periods")
            .len(),
        13
    );
    let during = be_azure_sim::SimStats {
        app_tokens_issued: after.app_tokens_issued - before.app_tokens_issued,
        expired_token_answers: after.expired_token_answers - before.expired_token_answers,
    };
    (hours, during)
}

#[tokio::test]
async fn a_backfill_that_outlives_several_tokens_renews_each_before_it_expires() {
    let (hours, stats) = slow_backfill(|w| Arc::new(SimTime(w.sim.sim().clock().clone()))).await;
    assert!(hours >= 4, "the backfill took {hours} simulated hours");
    // Renewed with 30 of its 60 minutes left: about two tokens an hour, never one per period.
    assert!(
        stats.app_tokens_issued >= hours as u64 && stats.app_tokens_issued <= 2 * hours as u64 + 2,
        "one or two tokens an hour: {stats:?} in {hours} h"
    );
    assert_eq!(
        stats.expired_token_answers, 0,
        "never sent an expired token"
    );
}

#[tokio::test]
async fn a_token_azure_calls_expired_is_renewed_once_and_the_period_pulled_again() {
    // The app's clock stands still: only Azure's answers tell it the token expired.
    let frozen = Arc::new(ManualClock::new(
        OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("valid"),
    ));
    let (hours, stats) = slow_backfill(|_| frozen.clone()).await;
    assert!(hours >= 4, "the backfill took {hours} simulated hours");
    assert!(stats.expired_token_answers >= 1, "{stats:?}");
    assert!(
        stats.app_tokens_issued > hours as u64 / 2,
        "renewed after the expired answers: {stats:?}"
    );
}
