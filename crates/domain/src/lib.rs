//! Billing Engine's domain: pure types and rules. No I/O, no async, no database, no HTTP.
//!
//! Values are parsed at the boundary (`AccountName::parse`, `Email::parse`, ...); a value of one of
//! these types is valid by construction, so the code behind the boundary never re-checks it.

mod account;
mod error;
mod ids;
mod user;

pub use account::{Account, AccountName};
pub use error::{DomainError, FieldError};
pub use ids::{AccountId, ApiTokenId, OrganizationId, UserId};
pub use user::{Email, OrganizationName, Password, Role, TokenName};
