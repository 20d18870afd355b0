//! Billing Engine's use cases. One method per verb on [`App`]; every organization-owned read or
//! write takes the [`Caller`] and is scoped to the caller's organization. The app depends on the
//! [`Store`] trait only, never on a backend, and reads time from its [`Clock`].

mod accounts;
mod audit;
mod auth;
mod clock;
pub mod closing;
pub mod config;
mod connections;
mod crypto;
mod error;
pub mod invoicing;
pub mod jobs;
mod keys;
pub mod layout;
mod orgs;
pub mod pricing;
pub mod rating;
pub mod sync;
mod users;

use std::sync::Arc;

pub use audit::{AuditEvent, AuditQuery};
pub use auth::{Caller, IssuedToken, SessionToken};
pub use be_domain::{
    ConnectionState, JobKind, JobState, JobSubject, Permission, Role, RunnerId, SyncOutcome,
};
pub use be_store::Store;
pub use clock::{Clock, ManualClock, SystemClock};
pub use connections::{
    AdminRow, Check, CheckOutcome, ConnectionDetails, EaCall, RoleGrant, Validation,
};
pub use error::AppError;
pub use keys::{KeyError, Keys};
pub use layout::Layout;
pub use orgs::DemoSeed;
pub use pricing::{
    AssignTo, ConfigFormat, PricingImport, PricingState, PricingVersionInfo, PricingView, RuleView,
};
pub use rating::{Port, PortError, PortErrorKind, RatingPort};
pub use users::{InviteView, IssuedInvite, UserView};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Settings the use cases need (a slice of the configuration).
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub session_ttl: time::Duration,
    /// Where Azure is (the real endpoints unless the simulator is configured).
    pub azure: be_azure::Endpoints,
    /// How the Azure client retries during interactive checks.
    pub azure_retry: be_azure::RetryPolicy,
    /// The redirect URI the wizard tells users to register (this server's public address).
    pub public_url: String,
    pub sync: sync::SyncSettings,
    pub jobs: jobs::JobSettings,
    pub rating: rating::RatingSettings,
    pub invoicing: invoicing::InvoiceSettings,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            session_ttl: time::Duration::hours(12),
            azure: be_azure::Endpoints::default(),
            azure_retry: be_azure::RetryPolicy::interactive(),
            public_url: "http://localhost:8080".into(),
            sync: sync::SyncSettings::default(),
            jobs: jobs::JobSettings::default(),
            rating: rating::RatingSettings::default(),
            invoicing: invoicing::InvoiceSettings::default(),
        }
    }
}

/// The application: state, clock and keys. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<Keys>,
    settings: AppSettings,
    azure: be_azure::AzureClient,
    /// The patient client for background sync.
    sync_azure: be_azure::AzureClient,
    /// This server's job runner: the owner of the job leases it holds.
    runner: be_domain::RunnerId,
    /// Wakes the runner when a job is queued here.
    wake: Arc<tokio::sync::Notify>,
    /// Recent pivots (analysis, dashboard), keyed by the query and the runs they read.
    pivot_cache: Arc<rating::PivotCache>,
    /// Bounds the Argon2 hashes running at once (each takes a core and 19 MiB for a moment).
    hashing: Arc<tokio::sync::Semaphore>,
    /// Failed sign-ins per e-mail address (brute-force protection).
    login_failures: Arc<std::sync::Mutex<std::collections::HashMap<String, auth::Failures>>>,
    /// Entra ID tokens of the syncs, per connection (renewed before they expire).
    sync_tokens: Arc<sync::TokenCache>,
}

impl App {
    /// Fails only if the HTTP client for Azure cannot be built.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Keys,
        settings: AppSettings,
    ) -> Result<Self> {
        let azure = be_azure::AzureClient::new(settings.azure.clone(), settings.azure_retry)
            .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
        let sync_azure =
            be_azure::AzureClient::new(settings.azure.clone(), be_azure::RetryPolicy::background())
                .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
        Ok(Self {
            store,
            clock,
            keys: Arc::new(keys),
            settings,
            azure,
            sync_azure,
            runner: be_domain::RunnerId::new(),
            wake: Arc::default(),
            pivot_cache: Arc::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(auth::MAX_CONCURRENT_HASHES)),
            login_failures: Arc::default(),
            sync_tokens: Arc::default(),
        })
    }

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where stored data lives under the data directory.
    pub fn layout(&self) -> Layout {
        Layout::new(&self.settings.sync.data_dir)
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Whether the database answers (for the health endpoint).
    pub async fn healthy(&self) -> bool {
        self.store.ping().await.is_ok()
    }
}
