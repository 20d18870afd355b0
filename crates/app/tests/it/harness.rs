use std::{
    collections::HashSet,
    future::Future,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use be_app::{
    App, AppSettings, Caller, Clock, ConnectionDetails, ConnectionState, Keys,
    jobs::JobSettings,
    sync::{PeriodSummary, PeriodWriteError, PeriodWriter, SyncSettings},
};
use be_azure_sim::{
    Agreement, AzureSim, NewApp, NewBillingAccount, NewSecret, NewTenant, NewUser, RunningSim,
    SimConfig,
};
use be_domain::ConnectionId;
use be_store::{ConnectionRecord, Store};
use uuid::Uuid;

const TENANT: &str = "fabrikam.onmicrosoft.com";

/// A simulated Azure: one tenant, one app with a secret, an enterprise administrator and the
/// given EA enrollments (a few rows a month).
pub struct World {
    pub sim: RunningSim,
    client_id: Uuid,
    secret: String,
    admin: Uuid,
}

pub async fn world(enrollments: &[&str]) -> World {
    world_with(enrollments, SimConfig::default()).await
}

/// [`world`] on a simulator configured by `config` (token lifetime, report delays, clock).
pub async fn world_with(enrollments: &[&str], config: SimConfig) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = AzureSim::start(config).await.expect("simulator");
    let s = sim.sim();
    s.create_tenant(NewTenant {
        id: None,
        display_name: Some("Fabrikam".into()),
        domains: vec![TENANT.into()],
    })
    .expect("tenant");
    let app = s
        .create_app(
            TENANT,
            NewApp {
                secret: Some(NewSecret {
                    expires_in_days: Some(180),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .expect("app");
    let admin = s
        .create_user(
            TENANT,
            NewUser {
                user_principal_name: Some("ea@fabrikam.com".into()),
                ..Default::default()
            },
        )
        .expect("user");
    for name in enrollments {
        s.create_billing_account(NewBillingAccount {
            name: Some((*name).into()),
            administrators: vec![admin.object_id],
            rows_per_month: Some(20),
            ..NewBillingAccount::new(Agreement::Ea, TENANT)
        })
        .expect("billing account");
    }
    World {
        client_id: app.client_id,
        secret: app.secrets[0].value.clone(),
        admin: admin.object_id,
        sim,
    }
}

/// A period writer that writes a small stand-in file, and holds the writes of chosen
/// connections until released (so a test can act while a sync is mid-period).
#[derive(Default)]
pub struct TestWriter {
    gate: Mutex<Gate>,
    changed: Condvar,
}

#[derive(Default)]
struct Gate {
    held: HashSet<String>,
    waiting: usize,
    /// Connections whose pulls do not reconcile (nothing is written, as the contract says).
    mismatched: HashSet<String>,
    /// Connections whose pulls have values the conversion could not use (stored with warnings).
    warned: HashSet<String>,
}

impl TestWriter {
    pub fn hold(&self, c: ConnectionId) {
        self.lock().held.insert(c.to_string());
    }

    /// From now on `c`'s pulls do not reconcile (until [`TestWriter::reconcile_again`]).
    pub fn mismatch(&self, c: ConnectionId) {
        self.lock().mismatched.insert(c.to_string());
    }

    /// From now on `c`'s pulls are stored with warnings.
    pub fn warn(&self, c: ConnectionId) {
        self.lock().warned.insert(c.to_string());
    }

    fn warned(&self, dest: &Path) -> bool {
        let key = dest.to_string_lossy().into_owned();
        self.lock().warned.iter().any(|c| key.contains(c.as_str()))
    }

    pub fn reconcile_again(&self) {
        self.lock().mismatched.clear();
    }

    fn mismatched(&self, dest: &Path) -> bool {
        let key = dest.to_string_lossy().into_owned();
        self.lock()
            .mismatched
            .iter()
            .any(|c| key.contains(c.as_str()))
    }

    pub fn release_all(&self) {
        self.lock().held.clear();
        self.changed.notify_all();
    }

    /// Writes waiting at the gate.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_if_held(&self, dest: &Path) {
        let key = dest.to_string_lossy().into_owned();
        let held = |g: &Gate| g.held.iter().any(|c| key.contains(c.as_str()));
        let mut g = self.lock();
        if !held(&g) {
            return;
        }
        g.waiting += 1;
        self.changed.notify_all();
        while held(&g) {
            g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.waiting -= 1;
    }
}

impl PeriodWriter for TestWriter {
    fn write_period(
        &self,
        actual: &[PathBuf],
        _amortized: &[PathBuf],
        dest: &Path,
    ) -> Result<PeriodSummary, PeriodWriteError> {
        self.wait_if_held(dest);
        let failed = |message: String| PeriodWriteError {
            code: "test_write_failed",
            message,
            remedy: "none".into(),
        };
        let rows = actual
            .iter()
            .map(|f| std::fs::read_to_string(f).map(|t| t.lines().count().saturating_sub(1) as u64))
            .sum::<std::io::Result<u64>>();
        let rows = rows.map_err(|e| failed(format!("cannot read the download: {e}")))?;
        let total = |s: &str| s.to_string();
        if self.mismatched(dest) {
            return Ok(PeriodSummary {
                rows,
                actual_total: total("100.5"),
                billed_total: total("90.25"),
                amortized_total: total("100.5"),
                effective_total: total("100.5"),
                reconciled: false,
                billed_difference: total("-10.25"),
                effective_difference: total("0"),
                expected_rows: rows + 1,
                warning_count: 0,
                warnings: Vec::new(),
            });
        }
        // The folder may have been removed meanwhile (a deleted connection): write anyway, as a
        // write landing just after the deletion would.
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(dest, format!("PAR1 a stand-in period of {rows} rows PAR1"))
            .map_err(|e| failed(format!("cannot write {}: {e}", dest.display())))?;
        Ok(PeriodSummary {
            rows,
            actual_total: total("0"),
            billed_total: total("0"),
            amortized_total: total("0"),
            effective_total: total("0"),
            reconciled: true,
            billed_difference: total("0"),
            effective_difference: total("0"),
            expected_rows: rows,
            warning_count: if self.warned(dest) { 9 } else { 0 },
            warnings: if self.warned(dest) {
                vec!["amortized-1.csv:4:61 (exchangeRateDate): not a date; stored as null: \"3/1/21\"".into()]
            } else {
                Vec::new()
            },
        })
    }
}

/// A fresh SQLite database in `dir`.
pub async fn sqlite(dir: &Path) -> Arc<dyn Store> {
    std::fs::create_dir_all(dir).expect("dir");
    let store = be_store::connect(&format!("sqlite://{}", dir.join("state.db").display()))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    store
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("be-app-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a test server is set up.
pub struct ServerSpec<'a> {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub data_dir: &'a Path,
    pub writer: Option<Arc<TestWriter>>,
    pub concurrency: usize,
    pub backfill_months: u32,
}

/// One "server": an `App` with its own runner ID, on a shared store and clock.
pub fn server(world: &World, spec: ServerSpec<'_>) -> App {
    let settings = AppSettings {
        azure: be_azure::Endpoints {
            login: url::Url::parse(&world.sim.login_url()).expect("url"),
            management: url::Url::parse(&world.sim.management_url()).expect("url"),
        },
        azure_retry: be_azure::RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
        },
        sync: SyncSettings {
            data_dir: spec.data_dir.to_path_buf(),
            backfill_months: spec.backfill_months,
            writer: spec.writer.map(|w| w as Arc<dyn PeriodWriter>),
            ..SyncSettings::default()
        },
        jobs: JobSettings {
            concurrency: spec.concurrency,
            ..JobSettings::default()
        },
        ..AppSettings::default()
    };
    App::new(
        spec.store,
        spec.clock,
        Keys::from_master(&[7; 32]),
        settings,
    )
    .expect("app")
}

/// A new organization and its administrator.
pub async fn tenant(app: &App, name: &str) -> Caller {
    let email = format!("admin-{}@example.com", Uuid::new_v4().simple());
    let (_, user) = app
        .create_organization_with_admin(name, &email, "a long enough password")
        .await
        .expect("organization");
    user.into()
}

/// A new account connected to `enrollment` the way a user does it (the wizard's steps, the role
/// call run as the administrator, validation); validation queues its first sync.
pub async fn connect(
    app: &App,
    caller: &Caller,
    world: &World,
    account: &str,
    enrollment: &str,
) -> ConnectionRecord {
    let account = app.create_account(caller, account).await.expect("account");
    let c = app
        .start_connection(caller, &account.id.to_string(), "azure", "billing_engine")
        .await
        .expect("draft");
    let id = c.id.to_string();
    let details = ConnectionDetails {
        tenant_id: Some(TENANT.into()),
        client_id: Some(world.client_id.to_string()),
        agreement_type: Some("EA".into()),
        billing_account_id: Some(enrollment.into()),
        replace_data: false,
    };
    app.set_connection_details(caller, &id, &details)
        .await
        .expect("details");
    app.set_connection_secret(caller, &id, &world.secret, "")
        .await
        .expect("secret");
    grant_and_validate(app, caller, world, &id).await;
    app.get_connection(caller, &id).await.expect("connection")
}

/// The EA role call run as the administrator, then a validation that connects.
pub async fn grant_and_validate(app: &App, caller: &Caller, world: &World, id: &str) {
    let id = id.to_string();
    let call = app
        .role_grant(caller, &id)
        .await
        .expect("grant")
        .ea_call
        .expect("EA call");
    let admin_token = world
        .sim
        .sim()
        .user_token(world.admin)
        .expect("admin token")
        .access_token;
    let resp = reqwest::Client::new()
        .put(&call.url)
        .bearer_auth(admin_token)
        .json(&call.body)
        .send()
        .await
        .expect("role call");
    assert!(
        resp.status().is_success(),
        "the role call answered {}",
        resp.status()
    );
    let v = app
        .validate_connection(caller, &id)
        .await
        .expect("validate");
    assert_eq!(v.state, ConnectionState::Connected, "{:?}", v.checks);
}

/// Wait (up to a minute) for `cond`; the deadline only stops a hung test, nothing is timed.
pub async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Log lines captured as JSON (one object per line, with the spans each line was in).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Capture this thread's log lines (a current-thread runtime runs every task on it) until
    /// the guard is dropped.
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_span_list(true)
            .with_current_span(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(logs.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON log line"))
            .collect()
    }

    /// The lines with this message.
    pub fn with_message(&self, message: &str) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["message"] == message)
            .collect()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
