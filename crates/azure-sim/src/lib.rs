//! # be-azure-sim: the Azure simulator
//!
//! One HTTP server on one port that speaks, closely enough for a client written from Microsoft's
//! documentation, the wire protocol of:
//! - **Entra ID** under `/login` (stands for `https://login.microsoftonline.com`):
//!   `POST /login/{tenant}/oauth2/v2.0/token`, `GET /login/{tenant}/v2.0/.well-known/openid-configuration`;
//! - **Azure Resource Manager** at the root (stands for `https://management.azure.com`):
//!   `Microsoft.Billing` billing accounts and role assignments, `Microsoft.CostManagement` Cost Details;
//! - the **report blob store** under `/blob` (stands for `https://ccmreportstorage*.blob.core.windows.net`);
//! - the simulator's own **administrative API** under `/_sim`.
//!
//! It is written from `shared/docs/azure-protocol.md` only and shares no types with the project's
//! Azure client. See README.md for the administrative API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), be_azure_sim::SimError> {
//! use be_azure_sim::{AzureSim, SimConfig};
//! let sim = AzureSim::start(SimConfig::default()).await?; // 127.0.0.1, port 0
//! let seed = sim.sim().seed_demo()?;
//! println!("token endpoint: {}/{}/oauth2/v2.0/token", sim.login_url(), seed.tenant.id);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

// Handlers return `Result<_, Response>`: the error is the HTTP answer itself.
#![allow(clippy::result_large_err)]

pub mod clock;
pub mod error;
pub mod faults;
pub mod generator;
pub mod model;
pub mod roles;
pub mod sim;

mod admin;
mod arm;
mod billing;
mod blob;
mod cost;
mod entra;
mod http_util;
pub(crate) mod jwt;
pub(crate) mod rng;

pub use clock::SimClock;
pub use error::{Result, SimError};
pub use faults::{Fault, FaultEndpoint, FaultKind, FaultSpec};
pub use generator::{Agreement, Layout, Metric};
pub use model::{
    App, BillingAccountInfo, DataOptions, EmptyAnswer, RoleAssignment, Secret, Tenant, User,
};
pub use sim::{
    AppUpdate, DemoSeed, IssuedToken, NewApp, NewBillingAccount, NewSecret, NewTenant, NewUser,
    Settings, Sim, SimStats,
};

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Base URL put into absolute URLs the simulator hands out (`Location`, `blobLink`,
    /// OpenID `token_endpoint`); default `http://{bound address}`.
    pub public_url: Option<String>,
    pub settings: Settings,
    /// The clock (default: system time; tests can pass a frozen one and move it).
    pub clock: SimClock,
    /// Key that signs tokens and blob URLs (default: random per start).
    pub signing_key: Option<Vec<u8>>,
    /// Create the [`Sim::seed_demo`] world at start.
    pub seed_demo: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            settings: Settings::default(),
            clock: SimClock::system(),
            signing_key: None,
            seed_demo: false,
        }
    }
}

impl SimConfig {
    /// Listen on 127.0.0.1:`port`.
    pub fn on_port(port: u16) -> Self {
        SimConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            ..Default::default()
        }
    }
}

/// Entry point.
pub struct AzureSim;

impl AzureSim {
    /// Bind, start serving in a background task, and return the handle.
    pub async fn start(config: SimConfig) -> Result<RunningSim> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr()?;
        let key = config.signing_key.clone().unwrap_or_else(|| {
            let mut k = uuid::Uuid::new_v4().as_bytes().to_vec();
            k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            k
        });
        let sim = Sim::new(config.clock.clone(), key, config.settings.clone());
        let base = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        let _ = sim.inner.base_url.set(base.clone());
        let demo = if config.seed_demo {
            Some(sim.seed_demo()?)
        } else {
            None
        };
        let app = router(sim.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::error!(error = %e, "azure simulator stopped with an error");
            }
        });
        tracing::info!(%base, "azure simulator listening");
        Ok(RunningSim {
            sim,
            addr,
            base,
            shutdown: Some(tx),
            task: Some(task),
            demo,
        })
    }
}

fn router(sim: Sim) -> Router {
    Router::new()
        .route("/login/{tenant}/oauth2/v2.0/token", post(entra::token))
        .route(
            "/login/oauth2/v2.0/token",
            post(entra::token_without_tenant),
        )
        .route(
            "/login/{tenant}/v2.0/.well-known/openid-configuration",
            get(entra::openid_configuration),
        )
        .route("/blob/armreports/{op}/{part}", get(blob::download))
        .nest("/_sim", admin::router())
        .fallback(arm::handle)
        .with_state(sim)
}

/// A running simulator.
pub struct RunningSim {
    sim: Sim,
    addr: SocketAddr,
    base: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    demo: Option<DemoSeed>,
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base
    }
    /// Entra ID authority host: `{base}/login` (token URL `{login_url}/{tenant}/oauth2/v2.0/token`).
    pub fn login_url(&self) -> String {
        format!("{}/login", self.base)
    }
    /// ARM base (stands for `https://management.azure.com`): `{base}`.
    pub fn management_url(&self) -> String {
        self.base.clone()
    }
    /// Administrative API base: `{base}/_sim`.
    pub fn admin_url(&self) -> String {
        format!("{}/_sim", self.base)
    }
    /// State and administrative operations.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
    /// The simulator clock.
    pub fn clock(&self) -> &SimClock {
        self.sim.clock()
    }
    /// What `seed_demo` created, if it was asked for.
    pub fn demo(&self) -> Option<&DemoSeed> {
        self.demo.as_ref()
    }
    /// Stop accepting connections and wait for the server task.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }
    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
    /// Serve until the server task ends (for `billing-engine azure-sim`; combine with a signal).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
