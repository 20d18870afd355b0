//! Billing Engine's domain: pure types and rules. No I/O, no async, no database, no HTTP.
//!
//! Values are parsed at the boundary (`AccountName::parse`, `Email::parse`, ...); a value of one of
//! these types is valid by construction, so the code behind the boundary never re-checks it.

mod account;
mod audit;
mod azure;
mod connection;
mod dimension;
mod error;
mod ids;
pub mod invoicing;
mod job;
mod money;
mod period;
pub mod pricing;
mod text;
mod user;

pub use account::{Account, AccountName};
pub use audit::{AuditAction, AuditKind};
pub use azure::{
    AgreementType, BillingAccountId, ClientId, ClientSecretValue, TenantId, parse_secret_expiry,
};
pub use connection::{ConnectionState, Product, Provider, RatingRunState, ViewKind};
pub use dimension::{
    Dimension, FAMILY_DIMENSION, FOCUS_COLUMNS, FocusType, PLAN_DIMENSION, focus_column,
    focus_column_ci,
};
pub use error::{DomainError, FieldError};
pub use ids::{
    AccountId, AllocationId, ApiTokenId, AuditEventId, ConnectionId, DeliveryId, FamilyId,
    ImportSourceId, InviteId, InvoiceId, InvoiceRunId, JobId, OrganizationId, PlanId, RatingRunId,
    RuleId, RunnerId, SavedViewId, ScheduleId, SyncPeriodId, TemplateId, UserId,
};
pub use job::{JobKind, JobState, JobSubject, SyncOutcome};
pub use money::{Amount, Currency, Exact, MONEY_SCALE, PERCENT_PLACES, Percent};
pub use period::BillingPeriod;
pub use text::{has_deceptive, is_deceptive};
pub use user::{Email, OrganizationName, Password, Permission, Role, TokenName};
