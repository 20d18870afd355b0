//! Monthly invoice schedules in the organization's invoicing job, driven by a manual clock: the
//! run is drafted on its day for the month before, the schedule moves to next month, and the job
//! waits until then.

use std::sync::Arc;

use be_app::ManualClock;
use be_app::invoicing::ScheduleInput;
use time::macros::datetime;

use crate::harness::{ServerSpec, TempDir, server, sqlite, tenant, world};

#[tokio::test]
async fn a_schedule_drafts_last_months_run_on_its_day_and_moves_to_next_month() {
    let w = world(&[]).await;
    let dir = TempDir::new();
    let store = sqlite(&dir.0).await;
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-03 10:00 UTC)));
    let app = server(
        &w,
        ServerSpec {
            store,
            clock: clock.clone(),
            data_dir: &dir.0,
            writer: None,
            concurrency: 1,
            backfill_months: 1,
        },
    );
    let caller = tenant(&app, "Org").await;

    let bad = app
        .create_invoice_schedule(
            &caller,
            ScheduleInput {
                name: "Monthly".into(),
                day_of_month: 31,
                ..Default::default()
            },
        )
        .await
        .expect_err("day 31");
    assert_eq!(bad.code(), "schedule_day_invalid");
    let bad = app
        .create_invoice_schedule(
            &caller,
            ScheduleInput {
                name: "Monthly".into(),
                day_of_month: 5,
                send: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("send without finalize");
    assert_eq!(bad.code(), "schedule_send_needs_finalize");

    let s = app
        .create_invoice_schedule(
            &caller,
            ScheduleInput {
                name: "Monthly".into(),
                day_of_month: 5,
                ..Default::default()
            },
        )
        .await
        .expect("schedule");
    assert_eq!(s.next_run_at, datetime!(2026-11-05 06:00 UTC));
    assert_eq!(
        app.run_due_jobs().await.expect("run"),
        0,
        "nothing is due on the 3rd"
    );

    clock.advance(time::Duration::days(2));
    assert_eq!(
        app.run_due_jobs().await.expect("run"),
        1,
        "the invoicing job on the 5th"
    );
    let after = app.invoice_schedules(&caller).await.expect("schedules");
    assert_eq!(after[0].next_run_at, datetime!(2026-12-05 06:00 UTC));
    let runs = app.invoice_runs(&caller, 10).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(Some(runs[0].id.clone()), after[0].last_run_id);
    assert_eq!(
        (runs[0].period_from.as_str(), runs[0].period_to.as_str()),
        ("2026-10", "2026-10")
    );
    assert_eq!(
        runs[0].issue_date,
        time::macros::date!(2026 - 11 - 05),
        "issued the day it runs"
    );
    assert_eq!(
        runs[0].state,
        be_domain::invoicing::InvoiceState::Draft,
        "left for review"
    );
    assert_eq!(app.run_due_jobs().await.expect("run"), 0, "once a month");

    clock.advance(time::Duration::days(30));
    assert_eq!(
        app.run_due_jobs().await.expect("run"),
        1,
        "again on 5 December"
    );
    assert_eq!(app.invoice_runs(&caller, 10).await.expect("runs").len(), 2);
}
