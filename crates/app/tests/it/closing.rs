//! When a month is closed (README "When a month is closed"): MCA by its invoice IDs, EA by its
//! last pull against the configured window, judged again at every plan.

use std::sync::Arc;

use be_app::{App, Caller, ManualClock};
use be_store::ConnectionRecord;
use time::{OffsetDateTime, macros::datetime};

use crate::harness::{
    ServerSpec, TempDir, TestWriter, World, connect, server_with, sqlite, tenant, world_with,
};

const EA: &str = "1234567";
const MCA: &str =
    "10000000-0000-4000-8000-000000000001:20000000-0000-4000-8000-000000000002_2019-05-31";

struct Setup {
    w: World,
    dir: TempDir,
    store: Arc<dyn be_store::Store>,
    clock: Arc<ManualClock>,
    writer: Arc<TestWriter>,
}

/// Azure and the app on one frozen time, at `at`.
async fn setup(billing: &str, at: OffsetDateTime) -> Setup {
    let w = world_with(
        &[billing],
        be_azure_sim::SimConfig {
            clock: be_azure_sim::SimClock::frozen(at),
            ..Default::default()
        },
    )
    .await;
    let dir = TempDir::new();
    let store = sqlite(&dir.0).await;
    Setup {
        w,
        store,
        clock: Arc::new(ManualClock::new(at)),
        writer: Arc::default(),
        dir,
    }
}

impl Setup {
    fn app(&self, ea_close_days: u32) -> App {
        server_with(
            &self.w,
            ServerSpec {
                store: self.store.clone(),
                clock: self.clock.clone(),
                data_dir: &self.dir.0,
                writer: Some(self.writer.clone()),
                concurrency: 1,
                backfill_months: 2,
            },
            |s| s.sync.closing.ea_close_days = ea_close_days,
        )
    }

    fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
        self.w.sim.sim().clock().advance(by);
    }
}

/// The periods as (month, closed) and the months the last sync pulled.
async fn periods(app: &App, caller: &Caller, c: &ConnectionRecord) -> Vec<(String, bool)> {
    let id = c.id.to_string();
    app.stored_periods(caller, &id)
        .await
        .expect("periods")
        .into_iter()
        .map(|p| (p.period, p.closed))
        .collect()
}

async fn pulled_by_last_sync(app: &App, caller: &Caller, c: &ConnectionRecord) -> Vec<String> {
    let id = c.id.to_string();
    let history = app.sync_history(caller, &id, 50).await.expect("history");
    let last = history[0].job_id;
    let mut months: Vec<String> = history
        .into_iter()
        .filter(|h| h.job_id == last)
        .map(|h| h.period)
        .collect();
    months.sort();
    months
}

#[tokio::test]
async fn an_mca_month_is_closed_when_every_row_is_invoiced_not_by_the_calendar() {
    // 9 December: November is invoiced (every row has an invoiceId), before month end + 10 days.
    let s = setup(MCA, datetime!(2026-12-09 12:00 UTC)).await;
    let app = s.app(10);
    let caller = tenant(&app, "Org").await;
    let c = connect(&app, &caller, &s.w, "Contoso", MCA).await;
    app.run_due_jobs().await.expect("backfill");
    assert_eq!(
        periods(&app, &caller, &c).await,
        [("2026-11".into(), true), ("2026-12".into(), false)],
        "November invoiced, December not yet"
    );

    s.advance(app.sync_settings().interval);
    app.run_due_jobs().await.expect("next sync");
    assert_eq!(
        pulled_by_last_sync(&app, &caller, &c).await,
        ["2026-12"],
        "the invoiced month is not pulled again"
    );
}

#[tokio::test]
async fn an_ea_month_is_closed_only_when_its_last_pull_came_after_the_configured_window() {
    // 15 December: November ended 15 days ago.
    let s = setup(EA, datetime!(2026-12-15 12:00 UTC)).await;
    let app = s.app(10);
    let caller = tenant(&app, "Org").await;
    let c = connect(&app, &caller, &s.w, "Contoso", EA).await;
    app.run_due_jobs().await.expect("backfill");
    assert_eq!(
        periods(&app, &caller, &c).await,
        [("2026-11".into(), true), ("2026-12".into(), false)],
        "pulled after 11 December: closed with a 10-day window"
    );

    // The same data with a 20-day window: November's last pull (15 December) came too early.
    let app = s.app(20);
    assert_eq!(
        periods(&app, &caller, &c).await,
        [("2026-11".into(), false), ("2026-12".into(), false)]
    );
    s.advance(app.sync_settings().interval);
    app.run_due_jobs().await.expect("sync");
    assert_eq!(
        pulled_by_last_sync(&app, &caller, &c).await,
        ["2026-11", "2026-12"],
        "November is pulled again"
    );

    // A pull after 21 December closes it; the next sync leaves it alone.
    s.advance(time::Duration::days(6));
    app.run_due_jobs().await.expect("sync");
    assert_eq!(
        periods(&app, &caller, &c).await,
        [("2026-11".into(), true), ("2026-12".into(), false)]
    );
    s.advance(app.sync_settings().interval);
    app.run_due_jobs().await.expect("sync");
    assert_eq!(pulled_by_last_sync(&app, &caller, &c).await, ["2026-12"]);
}
