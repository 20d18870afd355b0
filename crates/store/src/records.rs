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
    /// The families a viewer is limited to; `None`: no limit.
    pub families: Option<Vec<be_domain::FamilyId>>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub families: Option<Vec<be_domain::FamilyId>>,
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
    /// A role narrower than the creator's; `None`: the creator's role.
    pub role: Option<Role>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: TokenName,
    pub prefix: String,
    /// A role narrower than the creator's; `None`: the creator's role.
    pub role: Option<Role>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// An invitation to join an organization, accepted through a link carrying its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub id: be_domain::InviteId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub role: Role,
    pub families: Option<Vec<be_domain::FamilyId>>,
    pub invited_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// One entry of the audit trail: who changed what, when, from where, before and after (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: be_domain::AuditEventId,
    pub organization_id: OrganizationId,
    pub at: OffsetDateTime,
    pub actor_id: Option<UserId>,
    pub actor_email: String,
    /// The client's IP address, when known.
    pub address: Option<String>,
    pub kind: be_domain::AuditKind,
    pub action: be_domain::AuditAction,
    /// The changed thing's ID (or key).
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which audit events to list (every part optional but the limit), newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<be_domain::AuditKind>,
    pub action: Option<be_domain::AuditAction>,
    /// The actor's e-mail address.
    pub actor: Option<String>,
    pub target: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub limit: i64,
}

/// What became of a change to a user (role change or removal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Done,
    NotFound,
    /// Refused: the organization would be left without an owner.
    LastOwner,
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
    /// A connection, or the organization as a whole (stored as a NULL `connection_id`).
    pub subject: be_domain::JobSubject,
    pub kind: be_domain::JobKind,
    pub state: be_domain::JobState,
    /// Not claimed before this time.
    pub run_after: OffsetDateTime,
    /// How many times a runner claimed it (a take-over counts).
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Steps done and planned (a running sync's periods).
    pub progress_done: i32,
    pub progress_total: i32,
    /// The runner holding the job while it runs, and until when its lease holds unless renewed.
    pub owner: Option<be_domain::RunnerId>,
    pub lease_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl JobRecord {
    /// A new queued job.
    pub fn queued(
        organization_id: OrganizationId,
        subject: be_domain::JobSubject,
        kind: be_domain::JobKind,
        run_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Self {
        JobRecord {
            id: be_domain::JobId::new(),
            organization_id,
            subject,
            kind,
            state: be_domain::JobState::Queued,
            run_after,
            attempts: 0,
            last_error: None,
            progress_done: 0,
            progress_total: 0,
            owner: None,
            lease_until: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A job a runner has just claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub job: JobRecord,
    /// The job was running under another runner whose lease expired (a crash, a stop): its
    /// interrupted work must be accounted for before it starts again.
    pub taken_over: bool,
    /// The runner that held it before, when taken over.
    pub previous_owner: Option<be_domain::RunnerId>,
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
    pub outcome: be_domain::SyncOutcome,
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
    /// Values the conversion could not use as written (stored as null, or an unknown charge type
    /// mapped to an adjustment): how many, and the first few, each naming its file, line and
    /// column (one line each).
    pub warning_count: i64,
    pub warnings: Vec<String>,
}

impl SyncPeriodRecord {
    /// A period's pull that has just started.
    pub fn started(
        organization_id: OrganizationId,
        connection_id: be_domain::ConnectionId,
        job_id: be_domain::JobId,
        period: String,
        at: OffsetDateTime,
    ) -> Self {
        SyncPeriodRecord {
            id: be_domain::SyncPeriodId::new(),
            organization_id,
            connection_id,
            job_id,
            period,
            started_at: at,
            finished_at: None,
            outcome: be_domain::SyncOutcome::Running,
            rows_written: 0,
            bytes_downloaded: 0,
            source_total: None,
            focus_total: None,
            amortized_total: None,
            effective_total: None,
            reconciled: None,
            error_code: None,
            error_message: None,
            remedy: None,
            warning_count: 0,
            warnings: Vec::new(),
        }
    }
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
    /// What the last pull saw about closing (`app::closing`): MCA, every row invoiced (or, with no
    /// invoice ID at all, pulled after the EA window); EA, pulled after the window.
    pub closed: bool,
    /// The `BillingCurrency` every row shares (none when the rows have none or several).
    pub billing_currency: Option<String>,
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
    /// The BillingCurrency every row shares; `None` when they have several.
    pub billing_currency: Option<String>,
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

/// A saved analysis view or asset group, shared in the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedViewRecord {
    pub id: be_domain::SavedViewId,
    pub organization_id: OrganizationId,
    pub kind: be_domain::ViewKind,
    pub name: String,
    /// JSON: the analysis query, or the asset group's filter.
    pub document: String,
    pub is_default: bool,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An invoice template (the document is JSON of `be_domain::invoicing::InvoiceTemplate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub id: be_domain::TemplateId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub document: String,
    pub builtin: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A customer: who is billed for a grouping value (JSON of `be_domain::invoicing::Customer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub organization_id: OrganizationId,
    pub key: String,
    pub document: String,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRunRecord {
    pub id: be_domain::InvoiceRunId,
    pub organization_id: OrganizationId,
    pub template_id: be_domain::TemplateId,
    /// The template as it was when the run was made (JSON).
    pub template: String,
    pub period_from: String,
    pub period_to: String,
    pub issue_date: time::Date,
    pub state: be_domain::invoicing::InvoiceState,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub finalized_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub id: be_domain::InvoiceId,
    pub organization_id: OrganizationId,
    pub run_id: be_domain::InvoiceRunId,
    pub kind: be_domain::invoicing::DocumentKind,
    pub state: be_domain::invoicing::InvoiceState,
    pub series: String,
    /// Assigned at finalization.
    pub number: Option<String>,
    pub position: i32,
    pub customer_key: String,
    pub currency: String,
    pub total: String,
    pub exact_total: String,
    /// JSON: the lines, customer, issuer, dates and sources, frozen at finalization.
    pub document: String,
    pub pdf_sha256: Option<String>,
    pub related_invoice: Option<be_domain::InvoiceId>,
    pub created_at: OffsetDateTime,
    pub finalized_at: Option<OffsetDateTime>,
}

/// A locked period: not re-rated by syncs or configuration changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodLockRecord {
    pub organization_id: OrganizationId,
    pub period: String,
    pub reason: be_domain::invoicing::LockReason,
    pub locked_by: Option<UserId>,
    pub locked_at: OffsetDateTime,
    /// Data or configuration changed since the lock.
    pub pending_since: Option<OffsetDateTime>,
}

/// An e-mail delivery of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: be_domain::DeliveryId,
    pub organization_id: OrganizationId,
    pub invoice_id: be_domain::InvoiceId,
    /// JSON list of addresses.
    pub recipients: String,
    pub state: be_domain::invoicing::DeliveryState,
    pub attempts: i32,
    pub server_answer: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// A monthly invoice run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: be_domain::ScheduleId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub template_id: be_domain::TemplateId,
    pub day_of_month: i32,
    pub finalize: bool,
    pub send: bool,
    pub next_run_at: OffsetDateTime,
    pub last_run_id: Option<be_domain::InvoiceRunId>,
    pub created_at: OffsetDateTime,
}
