//! Billing Engine's use cases. One method per verb on [`App`]; every organization-owned read or
//! write takes the [`Caller`] and is scoped to the caller's organization. The app depends on the
//! [`Store`] trait only, never on a backend, and reads time from its [`Clock`].

mod accounts;
mod auth;
mod clock;
pub mod config;
mod error;
mod keys;
mod orgs;

use std::sync::Arc;

pub use auth::{Caller, IssuedToken, SessionToken};
pub use be_domain::Role;
pub use be_store::Store;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AppError;
pub use keys::{KeyError, Keys};
pub use orgs::DemoSeed;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Settings the use cases need (a slice of the configuration).
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub session_ttl: time::Duration,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self { session_ttl: time::Duration::hours(12) }
    }
}

/// The application: state, clock and keys. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<Keys>,
    settings: AppSettings,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, keys: Keys, settings: AppSettings) -> Self {
        Self { store, clock, keys: Arc::new(keys), settings }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
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
