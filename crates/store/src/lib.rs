//! Billing Engine's persistence. One [`Store`] trait; a SQLite implementation (the embedded
//! default) and a PostgreSQL one (production), each with its own migrations under `migrations/`.
//! The backend is chosen by the database URL in one place: [`connect`].
//!
//! Every method that reads or writes organization-owned data takes the caller's
//! [`OrganizationId`] and filters by it in SQL: scoping is not left to callers.

mod error;
mod records;
mod sql;
mod sql_access;
mod sql_invoices;
mod sql_rating;

use std::sync::Arc;

use async_trait::async_trait;
use be_domain::{
    Account, AccountId, AccountName, ApiTokenId, ConnectionId, Email, JobId, JobState,
    OrganizationId, RunnerId, UserId,
};
use time::OffsetDateTime;

pub use error::{Conflict, StoreError};
pub use records::{
    ApiTokenRecord, AuditFilter, AuditRecord, ClaimedJob, ConnectionRecord, CustomerRecord,
    DeliveryRecord, ImportSourceRecord, ImportedPeriodRecord, InviteRecord, InvoiceRecord,
    InvoiceRunRecord, JobRecord, NewApiToken, NewUser, Organization, PeriodLockRecord,
    PeriodRecord, PricingVersionRecord, RatedPeriodRecord, RatingRunRecord, Registration,
    SavedViewRecord, ScheduleRecord, SessionRecord, SubAccountRecord, SyncPeriodRecord,
    TemplateRecord, User, UserChange, UserCredentials,
};
pub use sql::{PgStore, SqliteStore};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Read the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl),
        }
    }
}

/// Open the database a URL names (`sqlite:PATH` or `postgres://...`), without migrating it.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => Arc::new(SqliteStore::connect(url).await?),
        Backend::Postgres => Arc::new(PgStore::connect(url).await?),
    })
}

/// All of Billing Engine's state behind one interface.
#[async_trait]
pub trait Store: RatingStore + InvoiceStore + AccessStore + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Apply the backend's pending migrations. Idempotent.
    async fn migrate(&self) -> Result<()>;

    /// A cheap round trip, for the health endpoint.
    async fn ping(&self) -> Result<()>;

    // Organizations and users.
    async fn create_organization(&self, org: &Organization) -> Result<()>;
    async fn get_organization(&self, id: OrganizationId) -> Result<Option<Organization>>;
    async fn find_organization_by_name(&self, name: &str) -> Result<Option<Organization>>;
    /// Fails with [`Conflict::UserEmail`] if the e-mail is taken (in any organization).
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn find_user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>>;
    async fn set_password_hash(&self, user: UserId, hash: &str) -> Result<()>;

    // Console sessions (stored by the hash of their cookie value).
    async fn create_session(
        &self,
        token_hash: &[u8],
        user: UserId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<()>;
    /// The session and its user, if the session exists and has not expired at `now`.
    async fn find_session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    /// Remove expired sessions; returns how many.
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64>;

    // API tokens (stored by the hash of their value).
    async fn create_api_token(&self, token: &NewApiToken) -> Result<ApiTokenRecord>;
    /// The token and its user, recording `now` as its last use.
    async fn use_api_token(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<(ApiTokenRecord, User)>>;
    async fn list_api_tokens(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> Result<Vec<ApiTokenRecord>>;
    /// Revoke one of the user's tokens; false if there is no such token for this user.
    async fn revoke_api_token(
        &self,
        org: OrganizationId,
        user: UserId,
        id: ApiTokenId,
    ) -> Result<bool>;
    /// Revoke the user's tokens with this name (used by `demo` to replace its CLI token).
    async fn revoke_api_tokens_named(
        &self,
        org: OrganizationId,
        user: UserId,
        name: &str,
    ) -> Result<u64>;

    // Accounts.
    /// Fails with [`Conflict::AccountName`] if the name (case-insensitively) is taken in the organization.
    async fn create_account(&self, account: &Account) -> Result<()>;
    async fn list_accounts(&self, org: OrganizationId) -> Result<Vec<Account>>;
    /// At most `limit` accounts ordered by name ignoring case (the unique `name_key`), those
    /// after `after` (a `name_key`) only: a page read by the index, whatever the count.
    async fn list_accounts_after(
        &self,
        org: OrganizationId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Account>>;
    async fn get_account(&self, org: OrganizationId, id: AccountId) -> Result<Option<Account>>;
    /// `None` if there is no such account in the organization.
    async fn rename_account(
        &self,
        org: OrganizationId,
        id: AccountId,
        name: &AccountName,
        now: OffsetDateTime,
    ) -> Result<Option<Account>>;
    /// False if there is no such account in the organization. Its connection and registrations
    /// go with it; the connection's queued and running jobs are cancelled.
    async fn delete_account(
        &self,
        org: OrganizationId,
        id: AccountId,
        now: OffsetDateTime,
    ) -> Result<bool>;

    // Connections (at most one per account and provider) and product registrations.
    /// Creates the connection and registers its account for the connection's product, in one
    /// transaction. Fails with [`Conflict::AccountConnected`] if the account already has one.
    async fn create_connection(&self, c: &ConnectionRecord) -> Result<()>;
    async fn get_connection(
        &self,
        org: OrganizationId,
        id: ConnectionId,
    ) -> Result<Option<ConnectionRecord>>;
    async fn list_connections(&self, org: OrganizationId) -> Result<Vec<ConnectionRecord>>;
    /// Writes every field; false if there is no such connection in the organization.
    async fn update_connection(&self, c: &ConnectionRecord) -> Result<bool>;
    /// Deletes the connection and its account's registration for its product, and cancels its
    /// queued and running jobs (their records stay, `cancelled`), in one transaction.
    async fn delete_connection(
        &self,
        org: OrganizationId,
        id: ConnectionId,
        now: OffsetDateTime,
    ) -> Result<bool>;
    /// Record a registration (idempotent).
    async fn add_registration(
        &self,
        org: OrganizationId,
        r: &Registration,
        now: OffsetDateTime,
    ) -> Result<()>;
    async fn list_registrations(&self, org: OrganizationId) -> Result<Vec<Registration>>;

    // Jobs. A job's subject is a connection or its organization; the database keeps at most one
    // queued and one running job per subject and kind (unique partial indexes).
    /// Queue a job, or return the job that already answers the request: the queued one of the
    /// same subject and kind, or, for a kind whose running job answers new requests
    /// ([`be_domain::JobKind::running_job_answers_new_request`]), the running one.
    async fn enqueue_job(&self, job: &JobRecord) -> Result<JobRecord>;
    async fn get_job(&self, org: OrganizationId, id: JobId) -> Result<Option<JobRecord>>;
    /// The organization's jobs (every subject), newest first.
    async fn list_jobs(&self, org: OrganizationId, limit: i64) -> Result<Vec<JobRecord>>;
    /// A connection's jobs, newest first.
    async fn list_connection_jobs(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
        limit: i64,
    ) -> Result<Vec<JobRecord>>;
    /// Claim a job for `runner` (any organization) with a lease until `lease_until`: first a
    /// running job whose lease expired (taken over), then the queued job that is due longest,
    /// preferring organizations with the fewest running jobs; never a job whose subject already
    /// has a running job of its kind. `None` if there is none. Two runners never claim the same job.
    async fn claim_next_job(
        &self,
        runner: RunnerId,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<ClaimedJob>>;
    /// Extend the runner's lease on a running job; false if the runner no longer holds it
    /// (cancelled, finished, or taken over after its lease expired).
    async fn renew_job_lease(
        &self,
        id: JobId,
        runner: RunnerId,
        lease_until: OffsetDateTime,
    ) -> Result<bool>;
    /// End a job the runner holds (`done`, `failed` or `cancelled`); false if it no longer holds it.
    async fn finish_job(
        &self,
        id: JobId,
        runner: RunnerId,
        state: JobState,
        error: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool>;
    /// Give up a running job at shutdown: its lease ends now, so any runner takes it over at once.
    async fn release_job(&self, id: JobId, runner: RunnerId, now: OffsetDateTime) -> Result<bool>;
    /// Every queued or running job, of every organization (for the runner's housekeeping).
    async fn active_jobs(&self) -> Result<Vec<JobRecord>>;
    async fn set_job_progress(&self, id: JobId, done: i32, total: i32) -> Result<()>;
    /// Move a queued job's due time (sync now).
    async fn set_job_run_after(&self, id: JobId, run_after: OffsetDateTime) -> Result<()>;

    // Sync history and stored periods.
    /// Insert or update a history entry. [`StoreError::Gone`] if its connection was deleted.
    async fn record_sync_period(&self, r: &SyncPeriodRecord) -> Result<()>;
    /// A taken-over job's periods left `running` become `failed` with `sync_interrupted`.
    async fn interrupt_sync_periods(&self, job: JobId, now: OffsetDateTime) -> Result<u64>;
    /// The newest entries first.
    async fn list_sync_periods(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
        limit: i64,
    ) -> Result<Vec<SyncPeriodRecord>>;
    /// [`StoreError::Gone`] if the connection was deleted.
    async fn upsert_period(&self, p: &PeriodRecord) -> Result<()>;
    async fn list_periods(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
    ) -> Result<Vec<PeriodRecord>>;
    /// Forget a connection's stored periods (its billing account changed); returns their keys.
    async fn delete_periods(
        &self,
        org: OrganizationId,
        connection: ConnectionId,
    ) -> Result<Vec<String>>;
}

/// Users, their roles, and invitations (a part of [`Store`], in `sql_access.rs`).
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>>;
    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>>;
    /// Refused ([`UserChange::LastOwner`]) if it would leave the organization without an owner.
    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: be_domain::Role,
        families: Option<&[be_domain::FamilyId]>,
    ) -> Result<UserChange>;
    /// Removes the user with their sessions and API tokens; never the last owner.
    async fn delete_user(&self, org: OrganizationId, id: UserId) -> Result<UserChange>;
    /// Fails with [`Conflict::InviteEmail`] if one is pending for the address.
    async fn create_invite(&self, invite: &InviteRecord, token_hash: &[u8]) -> Result<()>;
    async fn list_invites(&self, org: OrganizationId) -> Result<Vec<InviteRecord>>;
    async fn delete_invite(&self, org: OrganizationId, id: be_domain::InviteId) -> Result<bool>;
    /// A pending, unexpired invitation by its secret's hash.
    async fn find_invite(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<InviteRecord>>;
    /// Append to the audit trail (there is no way to change or remove an entry).
    async fn append_audit(&self, event: &AuditRecord) -> Result<()>;
    /// The organization's audit events matching the filter, newest first.
    async fn list_audit(
        &self,
        org: OrganizationId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>>;
    /// Use up the invitation and create its user, in one transaction; false if it is gone.
    async fn accept_invite(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
        user: &NewUser,
    ) -> Result<bool>;
}

/// The billing side of the state: pricing versions, imported sources, sub-accounts, rating runs
/// and each period's rating state (a part of [`Store`], kept apart so each file stays readable).
#[async_trait]
pub trait RatingStore: Send + Sync + 'static {
    // Pricing configuration: every change is a new version.
    /// The current (highest) version, if any.
    async fn current_pricing(&self, org: OrganizationId) -> Result<Option<PricingVersionRecord>>;
    async fn get_pricing_version(
        &self,
        org: OrganizationId,
        version: i32,
    ) -> Result<Option<PricingVersionRecord>>;
    /// Versions, newest first, without their documents' contents checked.
    async fn list_pricing_versions(
        &self,
        org: OrganizationId,
        limit: i64,
    ) -> Result<Vec<PricingVersionRecord>>;
    /// Fails with [`Conflict::PricingVersion`] if that version exists (a concurrent change won).
    async fn save_pricing_version(&self, v: &PricingVersionRecord) -> Result<()>;

    // Imported FOCUS sources and their periods.
    /// Fails with [`Conflict::ImportSourceName`] if the name (case-insensitively) is taken.
    async fn create_import_source(&self, s: &ImportSourceRecord) -> Result<()>;
    async fn list_import_sources(&self, org: OrganizationId) -> Result<Vec<ImportSourceRecord>>;
    /// Deletes the source and its periods' records; false if there is no such source.
    async fn delete_import_source(
        &self,
        org: OrganizationId,
        id: be_domain::ImportSourceId,
    ) -> Result<bool>;
    async fn upsert_imported_period(&self, p: &ImportedPeriodRecord) -> Result<()>;
    async fn list_imported_periods(&self, org: OrganizationId)
    -> Result<Vec<ImportedPeriodRecord>>;

    // Sub-accounts seen in the data.
    /// Insert or update (name, billing account, source, last period; the first period is kept).
    async fn upsert_sub_accounts(&self, subs: &[SubAccountRecord]) -> Result<()>;
    async fn list_sub_accounts(&self, org: OrganizationId) -> Result<Vec<SubAccountRecord>>;

    // Rating.
    async fn create_rating_run(&self, r: &RatingRunRecord) -> Result<()>;
    /// Write a run's outcome (state, counts, totals, error, finish time).
    async fn finish_rating_run(&self, r: &RatingRunRecord) -> Result<()>;
    async fn get_rating_run(
        &self,
        org: OrganizationId,
        id: be_domain::RatingRunId,
    ) -> Result<Option<RatingRunRecord>>;
    /// A period's runs, newest first.
    async fn list_rating_runs(
        &self,
        org: OrganizationId,
        period: &str,
        limit: i64,
    ) -> Result<Vec<RatingRunRecord>>;
    /// Mark periods as needing a rating (creating their state when new); bumps their generation.
    async fn mark_periods_stale(
        &self,
        org: OrganizationId,
        periods: &[String],
        now: OffsetDateTime,
    ) -> Result<()>;
    async fn list_rated_periods(&self, org: OrganizationId) -> Result<Vec<RatedPeriodRecord>>;
    /// Every organization with a period waiting for a rating.
    async fn organizations_with_stale_periods(&self) -> Result<Vec<OrganizationId>>;
    /// Record a finished rating of a period: it becomes current when `run` succeeded; the period
    /// stops being stale only if nothing changed since `generation` was read.
    async fn finish_period_rating(
        &self,
        org: OrganizationId,
        period: &str,
        run: Option<be_domain::RatingRunId>,
        generation: i64,
    ) -> Result<()>;
    /// Forget a period's rating state (its data is gone).
    async fn delete_rated_period(&self, org: OrganizationId, period: &str) -> Result<()>;

    // Saved analysis views and asset groups.
    /// Fails with [`Conflict::ViewName`] if a view of that kind has the name (ignoring case).
    async fn create_view(&self, v: &SavedViewRecord) -> Result<()>;
    /// Writes name, document and time; false if there is no such view.
    async fn update_view(&self, v: &SavedViewRecord) -> Result<bool>;
    async fn delete_view(&self, org: OrganizationId, id: be_domain::SavedViewId) -> Result<bool>;
    async fn get_view(
        &self,
        org: OrganizationId,
        id: be_domain::SavedViewId,
    ) -> Result<Option<SavedViewRecord>>;
    async fn list_views(
        &self,
        org: OrganizationId,
        kind: be_domain::ViewKind,
    ) -> Result<Vec<SavedViewRecord>>;
    /// Make one view of its kind the default (`None`: no default).
    async fn set_default_view(
        &self,
        org: OrganizationId,
        kind: be_domain::ViewKind,
        id: Option<be_domain::SavedViewId>,
    ) -> Result<()>;
}

/// Invoicing's state: templates, customers, runs and invoices with gapless numbering, period
/// locks, deliveries and schedules (a part of [`Store`], in `sql_invoices.rs`).
#[async_trait]
pub trait InvoiceStore: Send + Sync + 'static {
    /// Fails with [`Conflict::TemplateName`] if the name is taken (ignoring case).
    async fn create_template(&self, t: &TemplateRecord) -> Result<()>;
    async fn update_template(&self, t: &TemplateRecord) -> Result<bool>;
    async fn delete_template(&self, org: OrganizationId, id: be_domain::TemplateId)
    -> Result<bool>;
    async fn get_template(
        &self,
        org: OrganizationId,
        id: be_domain::TemplateId,
    ) -> Result<Option<TemplateRecord>>;
    async fn list_templates(&self, org: OrganizationId) -> Result<Vec<TemplateRecord>>;

    async fn upsert_customer(&self, c: &CustomerRecord) -> Result<()>;
    async fn delete_customer(&self, org: OrganizationId, key: &str) -> Result<bool>;
    async fn list_customers(&self, org: OrganizationId) -> Result<Vec<CustomerRecord>>;

    /// A run and its draft invoices, in one transaction.
    async fn create_invoice_run(
        &self,
        run: &InvoiceRunRecord,
        invoices: &[InvoiceRecord],
    ) -> Result<()>;
    async fn get_invoice_run(
        &self,
        org: OrganizationId,
        id: be_domain::InvoiceRunId,
    ) -> Result<Option<InvoiceRunRecord>>;
    /// Newest first.
    async fn list_invoice_runs(
        &self,
        org: OrganizationId,
        limit: i64,
    ) -> Result<Vec<InvoiceRunRecord>>;
    async fn list_run_invoices(
        &self,
        org: OrganizationId,
        run: be_domain::InvoiceRunId,
    ) -> Result<Vec<InvoiceRecord>>;
    async fn get_invoice(
        &self,
        org: OrganizationId,
        id: be_domain::InvoiceId,
    ) -> Result<Option<InvoiceRecord>>;
    /// Final invoices and notes, newest first.
    async fn list_final_invoices(
        &self,
        org: OrganizationId,
        limit: i64,
    ) -> Result<Vec<InvoiceRecord>>;
    /// Mark a draft run discarded; false if it is not a draft of the organization.
    async fn discard_invoice_run(
        &self,
        org: OrganizationId,
        run: be_domain::InvoiceRunId,
    ) -> Result<bool>;
    /// Finalize a draft run: each invoice takes the next number of its series (`SERIES-000001`),
    /// in one transaction, so concurrent finalizations never share or skip a number. Returns the
    /// numbered invoices; `None` if the run is not a draft (already finalized or discarded).
    async fn finalize_invoice_run(
        &self,
        org: OrganizationId,
        run: be_domain::InvoiceRunId,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<InvoiceRecord>>>;
    /// Record a final invoice's PDF hash (once; later renders must match it).
    /// The number the next finalized document of a series will take (1 for a new series).
    async fn next_invoice_number(&self, org: OrganizationId, series: &str) -> Result<i64>;
    async fn set_invoice_pdf_hash(
        &self,
        org: OrganizationId,
        id: be_domain::InvoiceId,
        sha256: &str,
    ) -> Result<()>;

    async fn lock_period(&self, lock: &PeriodLockRecord) -> Result<()>;
    async fn unlock_period(&self, org: OrganizationId, period: &str) -> Result<bool>;
    async fn list_period_locks(&self, org: OrganizationId) -> Result<Vec<PeriodLockRecord>>;
    /// A change arrived for a locked period: record it as pending (keeps the first time).
    async fn mark_lock_pending(
        &self,
        org: OrganizationId,
        period: &str,
        now: OffsetDateTime,
    ) -> Result<()>;
    async fn clear_lock_pending(&self, org: OrganizationId, period: &str) -> Result<()>;

    async fn create_delivery(&self, d: &DeliveryRecord) -> Result<()>;
    async fn update_delivery(&self, d: &DeliveryRecord) -> Result<()>;
    async fn list_deliveries(
        &self,
        org: OrganizationId,
        invoice: be_domain::InvoiceId,
    ) -> Result<Vec<DeliveryRecord>>;
    /// The organization's pending deliveries, the earliest next attempt first.
    async fn pending_deliveries(
        &self,
        org: OrganizationId,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>>;
    /// Take a pending delivery for one attempt: counts the attempt and moves its next attempt to
    /// `retry_at` (so a crash mid-send retries later). False if another runner took it first.
    async fn claim_delivery(&self, d: &DeliveryRecord, retry_at: OffsetDateTime) -> Result<bool>;

    async fn create_schedule(&self, s: &ScheduleRecord) -> Result<()>;
    async fn update_schedule(&self, s: &ScheduleRecord) -> Result<()>;
    async fn delete_schedule(&self, org: OrganizationId, id: be_domain::ScheduleId)
    -> Result<bool>;
    async fn list_schedules(&self, org: OrganizationId) -> Result<Vec<ScheduleRecord>>;
    /// Move a due schedule to its next run; false if another runner moved it first.
    async fn claim_schedule(&self, s: &ScheduleRecord, next_run_at: OffsetDateTime)
    -> Result<bool>;
}
