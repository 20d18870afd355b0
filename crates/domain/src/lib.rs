//! Billing Engine's domain: pure types and rules. No I/O, no async, no database, no HTTP.
//!
//! Values are parsed at the boundary (`AccountName::parse`, `Email::parse`, ...); a value of one of
//! these types is valid by construction, so the code behind the boundary never re-checks it.

mod account;
mod azure;
mod connection;
mod dimension;
mod error;
mod ids;
mod job;
mod money;
pub mod pricing;
mod period;
mod user;

pub use account::{Account, AccountName};
pub use azure::{AgreementType, BillingAccountId, ClientId, ClientSecretValue, TenantId, parse_secret_expiry};
pub use dimension::{Dimension, FAMILY_DIMENSION, PLAN_DIMENSION, FOCUS_COLUMNS, FocusType, focus_column, focus_column_ci};
pub use error::{DomainError, FieldError};
pub use money::{Amount, Currency, Exact, MONEY_SCALE, PERCENT_PLACES, Percent};
pub use connection::{ConnectionState, Product, Provider, RatingRunState, ViewKind};
pub use period::BillingPeriod;
pub use ids::{
    AccountId, AllocationId, ApiTokenId, ConnectionId, FamilyId, ImportSourceId, JobId, OrganizationId, PlanId, RatingRunId, RuleId,
    RunnerId, SavedViewId, SyncPeriodId, UserId,
};
pub use job::{JobKind, JobState, JobSubject, SyncOutcome};
pub use user::{Email, OrganizationName, Password, Role, TokenName};
