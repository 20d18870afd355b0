use be_domain::{ApiTokenId, Email, OrganizationId, OrganizationName, Role, TokenName, UserId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: OrganizationName,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

/// A user with the stored password hash, for logging in.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: TokenName,
    pub token_hash: Vec<u8>,
    /// The first characters of the token, shown so a person can tell tokens apart.
    pub prefix: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: TokenName,
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// An account's connection to a cloud billing account, with the wizard's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: be_domain::ConnectionId,
    pub organization_id: OrganizationId,
    pub account_id: be_domain::AccountId,
    pub provider: be_domain::Provider,
    pub product: be_domain::Product,
    pub state: be_domain::ConnectionState,
    /// The furthest wizard step reached (for coming back to a draft).
    pub step: String,
    pub tenant_id: Option<be_domain::TenantId>,
    /// The tenant's GUID (from the token's `tid`, or resolved from the domain).
    pub tenant_guid: Option<String>,
    pub client_id: Option<be_domain::ClientId>,
    pub agreement_type: Option<be_domain::AgreementType>,
    pub billing_account_id: Option<be_domain::BillingAccountId>,
    /// The billing account's display name as Azure reports it.
    pub billing_account_name: Option<String>,
    /// The service principal's object ID (the token's `oid`).
    pub principal_object_id: Option<String>,
    /// The client secret, sealed with the installation's key (never plaintext).
    pub secret_ciphertext: Option<Vec<u8>>,
    pub secret_expires_on: Option<time::Date>,
    pub secret_set_at: Option<OffsetDateTime>,
    /// The last validation's checks, as JSON.
    pub checks: Option<String>,
    pub last_validated_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An account's registration for a product on a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub account_id: be_domain::AccountId,
    pub product: be_domain::Product,
    pub provider: be_domain::Provider,
}

/// A persistent background job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: be_domain::JobId,
    pub organization_id: OrganizationId,
    pub connection_id: be_domain::ConnectionId,
    /// `sync`.
    pub kind: String,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    pub run_after: OffsetDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Periods done and planned (a running sync's progress).
    pub progress_done: i32,
    pub progress_total: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One billing period's pull within a sync run (the sync history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPeriodRecord {
    pub id: be_domain::SyncPeriodId,
    pub organization_id: OrganizationId,
    pub connection_id: be_domain::ConnectionId,
    pub job_id: be_domain::JobId,
    /// `YYYY-MM`.
    pub period: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// `running`, `succeeded`, `failed`.
    pub outcome: String,
    pub rows_written: i64,
    pub bytes_downloaded: i64,
    /// Exact decimal sums, as text: Azure's ActualCost total and SUM(BilledCost) (the invoice
    /// identity); Azure's AmortizedCost total and SUM(EffectiveCost).
    pub source_total: Option<String>,
    pub focus_total: Option<String>,
    pub amortized_total: Option<String>,
    pub effective_total: Option<String>,
    pub reconciled: Option<bool>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub remedy: Option<String>,
}

/// A billing period stored as Parquet (its latest good pull).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRecord {
    pub organization_id: OrganizationId,
    pub connection_id: be_domain::ConnectionId,
    pub period: String,
    pub rows_stored: i64,
    /// Azure's ActualCost total and SUM(BilledCost); Azure's AmortizedCost total and SUM(EffectiveCost).
    pub source_total: String,
    pub focus_total: String,
    pub amortized_total: String,
    pub effective_total: String,
    pub reconciled: bool,
    pub pulled_at: OffsetDateTime,
    /// The provider has closed the period (its invoice is final): no more re-pulls.
    pub closed: bool,
}

/// One version of an organization's pricing configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingVersionRecord {
    pub organization_id: OrganizationId,
    pub version: i32,
    /// JSON of `be_domain::pricing::PricingConfig`.
    pub document: String,
    pub summary: String,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
}

/// A source of imported FOCUS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSourceRecord {
    pub id: be_domain::ImportSourceId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// One period of an import source, stored as Parquet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPeriodRecord {
    pub organization_id: OrganizationId,
    pub source_id: be_domain::ImportSourceId,
    pub period: String,
    pub rows_stored: i64,
    pub billed_total: String,
    pub effective_total: String,
    pub file_name: String,
    pub bytes: i64,
    pub imported_at: OffsetDateTime,
}

/// A sub-account seen in the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAccountRecord {
    pub organization_id: OrganizationId,
    pub sub_account_id: String,
    pub name: Option<String>,
    pub billing_account_id: Option<String>,
    /// The connection or import source it was seen in, and that source's name.
    pub source_id: String,
    pub source_name: String,
    pub first_period: String,
    pub last_period: String,
    pub updated_at: OffsetDateTime,
}

/// One rating run of an organization's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRunRecord {
    pub id: be_domain::RatingRunId,
    pub organization_id: OrganizationId,
    pub period: String,
    pub state: be_domain::RatingRunState,
    pub pricing_version: i32,
    /// JSON: the input files as rated.
    pub inputs: String,
    pub rows_rated: i64,
    pub new_lines: i64,
    pub billed_total: Option<String>,
    pub provider_total: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// The rating state of a period with data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedPeriodRecord {
    pub organization_id: OrganizationId,
    pub period: String,
    pub current_run: Option<be_domain::RatingRunId>,
    /// A sync, an import or a configuration change since its current rating.
    pub stale: bool,
    pub generation: i64,
    pub changed_at: OffsetDateTime,
}
