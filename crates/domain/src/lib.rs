//! Billing Engine's domain: pure types and rules. No I/O, no async, no database, no HTTP.
//!
//! Values are parsed at the boundary (`AccountName::parse`, `Email::parse`, ...); a value of one of
//! these types is valid by construction, so the code behind the boundary never re-checks it.

mod account;
mod azure;
mod connection;
mod error;
mod ids;
mod job;
mod user;

pub use account::{Account, AccountName};
pub use azure::{AgreementType, BillingAccountId, ClientId, ClientSecretValue, TenantId, parse_secret_expiry};
pub use error::{DomainError, FieldError};
pub use connection::{ConnectionState, Product, Provider};
pub use ids::{AccountId, ApiTokenId, ConnectionId, JobId, OrganizationId, RunnerId, SyncPeriodId, UserId};
pub use job::{JobKind, JobState, JobSubject, SyncOutcome};
pub use user::{Email, OrganizationName, Password, Role, TokenName};
