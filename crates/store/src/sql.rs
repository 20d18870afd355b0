//! The two SQL backends. Their SQL text is the same (`$N` placeholders work in both SQLite and
//! PostgreSQL, and every column type used decodes in both), so the implementation is written once
//! in [`sql_store!`] and instantiated per backend; each backend keeps its own schema and
//! migrations, where the column types differ.

use std::str::FromStr;

use async_trait::async_trait;
use be_domain::{
    Account, AccountId, AccountName, AgreementType, ApiTokenId, BillingAccountId, ClientId,
    ConnectionId, ConnectionState, Email, JobId, JobKind, JobState, JobSubject, OrganizationId,
    OrganizationName, Product, Provider, Role, RunnerId, SyncOutcome, SyncPeriodId, TenantId,
    TokenName, UserId,
};
use sqlx::{
    FromRow,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    ApiTokenRecord, Backend, ClaimedJob, Conflict, ConnectionRecord, JobRecord, NewApiToken,
    NewUser, Organization, PeriodRecord, Registration, Result, SessionRecord, Store, StoreError,
    SyncPeriodRecord, User, UserCredentials,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The embedded default: one SQLite file, WAL journal, foreign keys on.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: sqlx::SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Self { pool })
    }
}

/// The production store.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: sqlx::PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Self { pool })
    }

    /// Close the pool (tests drop their database afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[derive(FromRow)]
struct OrganizationRow {
    id: Uuid,
    name: String,
    created_at: OffsetDateTime,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: OrganizationId::from_uuid(r.id),
            name: OrganizationName::from_trusted(r.name),
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    organization_id: Uuid,
    email: String,
    role: String,
    families: Option<String>,
    created_at: OffsetDateTime,
}

/// A stored family list (IDs separated by commas).
pub(crate) fn families_to_db(f: Option<&[be_domain::FamilyId]>) -> Option<String> {
    f.map(|ids| {
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

pub(crate) fn families_from_db(s: Option<&str>) -> Result<Option<Vec<be_domain::FamilyId>>> {
    let Some(s) = s else { return Ok(None) };
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|_| StoreError::Corrupt(format!("bad family ID {p:?}")))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

pub(crate) fn role_from_db(s: &str) -> Result<Role> {
    Role::from_db(s).ok_or_else(|| StoreError::Corrupt(format!("unknown role {s:?}")))
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: UserId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            email: Email::from_trusted(r.email),
            role: role_from_db(&r.role)?,
            families: families_from_db(r.families.as_deref())?,
            created_at: r.created_at,
        })
    }
}

#[derive(FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[derive(FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: OffsetDateTime,
}

#[derive(FromRow)]
struct ApiTokenRow {
    id: Uuid,
    organization_id: Uuid,
    user_id: Uuid,
    name: String,
    prefix: String,
    role: Option<String>,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
}

impl TryFrom<ApiTokenRow> for ApiTokenRecord {
    type Error = StoreError;
    fn try_from(r: ApiTokenRow) -> Result<Self> {
        Ok(ApiTokenRecord {
            id: ApiTokenId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            user_id: UserId::from_uuid(r.user_id),
            name: TokenName::from_trusted(r.name),
            prefix: r.prefix,
            role: r.role.as_deref().map(role_from_db).transpose()?,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

#[derive(FromRow)]
struct AccountRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            name: AccountName::from_trusted(r.name),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct ConnectionRow {
    id: Uuid,
    organization_id: Uuid,
    account_id: Uuid,
    product: String,
    state: String,
    step: String,
    tenant_id: Option<String>,
    tenant_guid: Option<String>,
    client_id: Option<String>,
    agreement_type: Option<String>,
    billing_account_id: Option<String>,
    billing_account_name: Option<String>,
    principal_object_id: Option<String>,
    secret_ciphertext: Option<Vec<u8>>,
    secret_expires_on: Option<time::Date>,
    secret_set_at: Option<OffsetDateTime>,
    checks: Option<String>,
    last_validated_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ConnectionRow> for ConnectionRecord {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self> {
        let corrupt = |what: &str, v: &str| {
            StoreError::Corrupt(format!("connection {}: unknown {what} {v:?}", r.id))
        };
        Ok(ConnectionRecord {
            id: ConnectionId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            account_id: AccountId::from_uuid(r.account_id),
            provider: Provider::Azure,
            product: Product::from_db(&r.product).ok_or_else(|| corrupt("product", &r.product))?,
            state: ConnectionState::from_db(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            step: r.step,
            tenant_id: r.tenant_id.map(TenantId::from_trusted),
            tenant_guid: r.tenant_guid,
            client_id: r.client_id.map(ClientId::from_trusted),
            agreement_type: match r.agreement_type.as_deref() {
                None => None,
                Some(a) => Some(AgreementType::parse(a).map_err(|_| corrupt("agreement type", a))?),
            },
            billing_account_id: r.billing_account_id.map(BillingAccountId::from_trusted),
            billing_account_name: r.billing_account_name,
            principal_object_id: r.principal_object_id,
            secret_ciphertext: r.secret_ciphertext,
            secret_expires_on: r.secret_expires_on,
            secret_set_at: r.secret_set_at,
            checks: r.checks,
            last_validated_at: r.last_validated_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(FromRow)]
struct RegistrationRow {
    account_id: Uuid,
    product: String,
}

#[derive(FromRow)]
struct JobRow {
    id: Uuid,
    organization_id: Uuid,
    connection_id: Option<Uuid>,
    kind: String,
    state: String,
    run_after: OffsetDateTime,
    attempts: i32,
    last_error: Option<String>,
    progress_done: i32,
    progress_total: i32,
    owner: Option<Uuid>,
    lease_until: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self> {
        let corrupt = |what: &str, v: &str| {
            StoreError::Corrupt(format!("job {}: unknown {what} {v:?}", r.id))
        };
        Ok(JobRecord {
            id: JobId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            subject: match r.connection_id {
                Some(c) => JobSubject::Connection(ConnectionId::from_uuid(c)),
                None => JobSubject::Organization,
            },
            kind: JobKind::from_db(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            state: JobState::from_db(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            run_after: r.run_after,
            attempts: r.attempts,
            last_error: r.last_error,
            progress_done: r.progress_done,
            progress_total: r.progress_total,
            owner: r.owner.map(RunnerId::from_uuid),
            lease_until: r.lease_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn jobs(rows: Vec<JobRow>) -> Result<Vec<JobRecord>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

macro_rules! connection_columns {
    () => {
        "id, organization_id, account_id, product, state, step, tenant_id, tenant_guid, client_id, agreement_type, \
         billing_account_id, billing_account_name, principal_object_id, secret_ciphertext, secret_expires_on, \
         secret_set_at, checks, last_validated_at, created_at, updated_at"
    };
}
macro_rules! job_columns {
    () => {
        "id, organization_id, connection_id, kind, state, run_after, attempts, last_error, progress_done, progress_total, \
         owner, lease_until, created_at, updated_at"
    };
}

#[derive(FromRow)]
struct SyncPeriodRow {
    id: Uuid,
    organization_id: Uuid,
    connection_id: Uuid,
    job_id: Uuid,
    period: String,
    started_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
    outcome: String,
    rows_written: i64,
    bytes_downloaded: i64,
    source_total: Option<String>,
    focus_total: Option<String>,
    amortized_total: Option<String>,
    effective_total: Option<String>,
    reconciled: Option<bool>,
    error_code: Option<String>,
    error_message: Option<String>,
    remedy: Option<String>,
    warning_count: i64,
    warnings: Option<String>,
}

/// The warnings' examples as stored: one per line (each example is one line).
fn warnings_text(examples: &[String]) -> Option<String> {
    (!examples.is_empty()).then(|| {
        examples
            .iter()
            .map(|w| w.replace(['\r', '\n'], " "))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

impl TryFrom<SyncPeriodRow> for SyncPeriodRecord {
    type Error = StoreError;
    fn try_from(r: SyncPeriodRow) -> Result<Self> {
        Ok(SyncPeriodRecord {
            id: SyncPeriodId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            connection_id: ConnectionId::from_uuid(r.connection_id),
            job_id: JobId::from_uuid(r.job_id),
            period: r.period,
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: SyncOutcome::from_db(&r.outcome).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "sync period {}: unknown outcome {:?}",
                    r.id, r.outcome
                ))
            })?,
            rows_written: r.rows_written,
            bytes_downloaded: r.bytes_downloaded,
            source_total: r.source_total,
            focus_total: r.focus_total,
            amortized_total: r.amortized_total,
            effective_total: r.effective_total,
            reconciled: r.reconciled,
            error_code: r.error_code,
            error_message: r.error_message,
            remedy: r.remedy,
            warning_count: r.warning_count,
            warnings: r
                .warnings
                .map(|w| w.lines().map(str::to_string).collect())
                .unwrap_or_default(),
        })
    }
}

#[derive(FromRow)]
struct PeriodRow {
    organization_id: Uuid,
    connection_id: Uuid,
    period: String,
    rows_stored: i64,
    source_total: String,
    focus_total: String,
    amortized_total: String,
    effective_total: String,
    reconciled: bool,
    pulled_at: OffsetDateTime,
    closed: bool,
}

impl From<PeriodRow> for PeriodRecord {
    fn from(r: PeriodRow) -> Self {
        PeriodRecord {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            connection_id: ConnectionId::from_uuid(r.connection_id),
            period: r.period,
            rows_stored: r.rows_stored,
            source_total: r.source_total,
            focus_total: r.focus_total,
            amortized_total: r.amortized_total,
            effective_total: r.effective_total,
            reconciled: r.reconciled,
            pulled_at: r.pulled_at,
            closed: r.closed,
        }
    }
}

macro_rules! sync_period_columns {
    () => {
        "id, organization_id, connection_id, job_id, period, started_at, finished_at, outcome, rows_written, \
         bytes_downloaded, source_total, focus_total, amortized_total, effective_total, reconciled, error_code, error_message, remedy, \
         warning_count, warnings"
    };
}

// Column lists as macros so queries stay `&'static str` (sqlx refuses dynamic SQL text).
macro_rules! user_columns {
    () => {
        "u.id, u.organization_id, u.email, u.role, u.families, u.created_at"
    };
}
macro_rules! token_columns {
    () => {
        "t.id, t.organization_id, t.user_id, t.name, t.prefix, t.role, t.created_at, t.last_used_at"
    };
}
macro_rules! account_columns {
    () => {
        "id, organization_id, name, created_at, updated_at"
    };
}

/// A job's subject as one value, for the unique indexes and the claim: the connection, or the
/// organization for organization-wide jobs (their IDs never collide).
macro_rules! subject_key {
    ($t:literal) => {
        concat!("COALESCE(", $t, ".connection_id, ", $t, ".organization_id)")
    };
}

macro_rules! sql_store {
    ($store:ident, $backend:expr, $migrator:expr) => {
        impl $store {
            /// The job of `like`'s subject and kind in `state`.
            async fn job_of_subject(&self, like: &JobRecord, state: JobState) -> Result<Option<JobRecord>> {
                let row: Option<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs j WHERE organization_id = $1 AND kind = $2 AND state = $3 ",
                    "AND ", subject_key!("j"), " = $4"
                ))
                .bind(like.organization_id.as_uuid())
                .bind(like.kind.as_str())
                .bind(state.as_str())
                .bind(like.subject.connection().map_or(like.organization_id.as_uuid(), |c| c.as_uuid()))
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            /// [`StoreError::Conflict`] if the subject already has a job of the kind in the state.
            async fn insert_job(&self, job: &JobRecord) -> Result<()> {
                sqlx::query(concat!(
                    "INSERT INTO jobs (", job_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(job.id.as_uuid())
                .bind(job.organization_id.as_uuid())
                .bind(job.subject.connection().map(|c| c.as_uuid()))
                .bind(job.kind.as_str())
                .bind(job.state.as_str())
                .bind(job.run_after)
                .bind(job.attempts)
                .bind(&job.last_error)
                .bind(job.progress_done)
                .bind(job.progress_total)
                .bind(job.owner.map(|o| o.as_uuid()))
                .bind(job.lease_until)
                .bind(job.created_at)
                .bind(job.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                Ok(())
            }

            /// A running job whose runner's lease has run out.
            async fn expired_job(&self, now: OffsetDateTime) -> Result<Option<JobRecord>> {
                let row: Option<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs WHERE state = 'running' AND (lease_until IS NULL OR lease_until <= $1) ",
                    "ORDER BY run_after, created_at LIMIT 1"
                ))
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn take_over(&self, job: &JobRecord, runner: RunnerId, now: OffsetDateTime, lease_until: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET owner = $2, lease_until = $3, attempts = attempts + 1, updated_at = $4 \
                     WHERE id = $1 AND state = 'running' AND (lease_until IS NULL OR lease_until <= $4)",
                )
                .bind(job.id.as_uuid())
                .bind(runner.as_uuid())
                .bind(lease_until)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            /// The queued job due longest whose subject has no running job of its kind, from the
            /// organization with the fewest running jobs.
            async fn due_job(&self, now: OffsetDateTime) -> Result<Option<JobRecord>> {
                let row: Option<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs j WHERE j.state = 'queued' AND j.run_after <= $1 ",
                    "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.kind = j.kind ",
                    "AND ", subject_key!("r"), " = ", subject_key!("j"), ") ",
                    "ORDER BY (SELECT COUNT(*) FROM jobs o WHERE o.state = 'running' AND o.organization_id = j.organization_id), ",
                    "j.run_after, j.created_at LIMIT 1"
                ))
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            /// False if another runner took it first (or started its subject's other job).
            async fn start_queued(&self, job: &JobRecord, runner: RunnerId, now: OffsetDateTime, lease_until: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'running', owner = $2, lease_until = $3, attempts = attempts + 1, updated_at = $4 \
                     WHERE id = $1 AND state = 'queued'",
                )
                .bind(job.id.as_uuid())
                .bind(runner.as_uuid())
                .bind(lease_until)
                .bind(now)
                .execute(&self.pool)
                .await;
                match done.map_err(|e| StoreError::from_write(e, Conflict::Other)) {
                    Ok(done) => Ok(done.rows_affected() == 1),
                    Err(StoreError::Conflict(_)) => Ok(false),
                    Err(e) => Err(e),
                }
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> Result<()> {
                $migrator.run(&self.pool).await.map_err(StoreError::Migrate)
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_organization(&self, org: &Organization) -> Result<()> {
                sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(org.id.as_uuid())
                    .bind(org.name.as_str())
                    .bind(org.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                Ok(())
            }

            async fn get_organization(&self, id: OrganizationId) -> Result<Option<Organization>> {
                let row: Option<OrganizationRow> =
                    sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                        .bind(id.as_uuid())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn find_organization_by_name(&self, name: &str) -> Result<Option<Organization>> {
                let row: Option<OrganizationRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM organizations WHERE lower(name) = lower($1) ORDER BY created_at LIMIT 1",
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn create_user(&self, user: &NewUser) -> Result<User> {
                sqlx::query(
                    "INSERT INTO users (id, organization_id, email, password_hash, role, families, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(user.id.as_uuid())
                .bind(user.organization_id.as_uuid())
                .bind(user.email.as_str())
                .bind(&user.password_hash)
                .bind(user.role.as_str())
                .bind(families_to_db(user.families.as_deref()))
                .bind(user.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::UserEmail))?;
                Ok(User {
                    id: user.id,
                    organization_id: user.organization_id,
                    email: user.email.clone(),
                    role: user.role,
                    families: user.families.clone(),
                    created_at: user.created_at,
                })
            }

            async fn find_user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>> {
                let row: Option<CredentialsRow> =
                    sqlx::query_as(concat!("SELECT ", user_columns!(), ", u.password_hash FROM users u WHERE u.email = $1"))
                        .bind(email.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|r| Ok(UserCredentials { user: r.user.try_into()?, password_hash: r.password_hash }))
                    .transpose()
            }

            async fn set_password_hash(&self, user: UserId, hash: &str) -> Result<()> {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(user.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_session(
                &self,
                token_hash: &[u8],
                user: UserId,
                now: OffsetDateTime,
                expires_at: OffsetDateTime,
            ) -> Result<()> {
                sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(token_hash)
                    .bind(user.as_uuid())
                    .bind(now)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                Ok(())
            }

            async fn find_session(&self, token_hash: &[u8], now: OffsetDateTime) -> Result<Option<SessionRecord>> {
                let row: Option<SessionRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), ", s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) if r.expires_at > now => {
                        Ok(Some(SessionRecord { user: r.user.try_into()?, expires_at: r.expires_at }))
                    }
                    _ => Ok(None),
                }
            }

            async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }

            async fn create_api_token(&self, token: &NewApiToken) -> Result<ApiTokenRecord> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, organization_id, user_id, name, token_hash, prefix, role, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(token.id.as_uuid())
                .bind(token.organization_id.as_uuid())
                .bind(token.user_id.as_uuid())
                .bind(token.name.as_str())
                .bind(&token.token_hash)
                .bind(&token.prefix)
                .bind(token.role.map(Role::as_str))
                .bind(token.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                Ok(ApiTokenRecord {
                    id: token.id,
                    organization_id: token.organization_id,
                    user_id: token.user_id,
                    name: token.name.clone(),
                    prefix: token.prefix.clone(),
                    role: token.role,
                    created_at: token.created_at,
                    last_used_at: None,
                })
            }

            async fn use_api_token(
                &self,
                token_hash: &[u8],
                now: OffsetDateTime,
            ) -> Result<Option<(ApiTokenRecord, User)>> {
                let token: Option<ApiTokenRow> =
                    sqlx::query_as(concat!("SELECT ", token_columns!(), " FROM api_tokens t WHERE t.token_hash = $1"))
                        .bind(token_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                let Some(token) = token else { return Ok(None) };
                let user: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1"))
                    .bind(token.user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(user) = user else { return Ok(None) };
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(token.id)
                    .execute(&self.pool)
                    .await?;
                let mut record: ApiTokenRecord = token.try_into()?;
                record.last_used_at = Some(now);
                Ok(Some((record, user.try_into()?)))
            }

            async fn list_api_tokens(&self, org: OrganizationId, user: UserId) -> Result<Vec<ApiTokenRecord>> {
                let rows: Vec<ApiTokenRow> = sqlx::query_as(concat!("SELECT ", token_columns!(), " FROM api_tokens t WHERE t.organization_id = $1 AND t.user_id = $2 \
                     ORDER BY t.created_at, t.id"))
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn revoke_api_token(&self, org: OrganizationId, user: UserId, id: ApiTokenId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND organization_id = $2 AND user_id = $3")
                    .bind(id.as_uuid())
                    .bind(org.as_uuid())
                    .bind(user.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_api_tokens_named(&self, org: OrganizationId, user: UserId, name: &str) -> Result<u64> {
                let done = sqlx::query("DELETE FROM api_tokens WHERE organization_id = $1 AND user_id = $2 AND name = $3")
                    .bind(org.as_uuid())
                    .bind(user.as_uuid())
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_account(&self, account: &Account) -> Result<()> {
                sqlx::query(
                    "INSERT INTO accounts (id, organization_id, name, name_key, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(account.id.as_uuid())
                .bind(account.organization_id.as_uuid())
                .bind(account.name.as_str())
                .bind(account.name.key())
                .bind(account.created_at)
                .bind(account.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::AccountName))?;
                Ok(())
            }

            async fn list_accounts(&self, org: OrganizationId) -> Result<Vec<Account>> {
                let rows: Vec<AccountRow> = sqlx::query_as(concat!("SELECT ", account_columns!(), " FROM accounts WHERE organization_id = $1 ORDER BY name_key, id"))
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_account(&self, org: OrganizationId, id: AccountId) -> Result<Option<Account>> {
                let row: Option<AccountRow> = sqlx::query_as(concat!("SELECT ", account_columns!(), " FROM accounts WHERE organization_id = $1 AND id = $2"))
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn rename_account(
                &self,
                org: OrganizationId,
                id: AccountId,
                name: &AccountName,
                now: OffsetDateTime,
            ) -> Result<Option<Account>> {
                let done = sqlx::query(
                    "UPDATE accounts SET name = $1, name_key = $2, updated_at = $3 WHERE organization_id = $4 AND id = $5",
                )
                .bind(name.as_str())
                .bind(name.key())
                .bind(now)
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::AccountName))?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                self.get_account(org, id).await
            }

            async fn delete_account(&self, org: OrganizationId, id: AccountId, now: OffsetDateTime) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE jobs SET state = 'cancelled', lease_until = NULL, updated_at = $3 \
                     WHERE organization_id = $1 AND state IN ('queued', 'running') \
                     AND connection_id IN (SELECT id FROM connections WHERE organization_id = $1 AND account_id = $2)",
                )
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query("DELETE FROM accounts WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }
            async fn create_connection(&self, c: &ConnectionRecord) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(concat!(
                    "INSERT INTO connections (", connection_columns!(), ", provider) VALUES ",
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
                ))
                .bind(c.id.as_uuid())
                .bind(c.organization_id.as_uuid())
                .bind(c.account_id.as_uuid())
                .bind(c.product.as_str())
                .bind(c.state.as_str())
                .bind(&c.step)
                .bind(c.tenant_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(&c.tenant_guid)
                .bind(c.client_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(c.agreement_type.map(|a| a.code()))
                .bind(c.billing_account_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(&c.billing_account_name)
                .bind(&c.principal_object_id)
                .bind(&c.secret_ciphertext)
                .bind(c.secret_expires_on)
                .bind(c.secret_set_at)
                .bind(&c.checks)
                .bind(c.last_validated_at)
                .bind(c.created_at)
                .bind(c.updated_at)
                .bind(c.provider.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::AccountConnected))?;
                sqlx::query(
                    "INSERT INTO registrations (organization_id, account_id, product, provider, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(c.organization_id.as_uuid())
                .bind(c.account_id.as_uuid())
                .bind(c.product.as_str())
                .bind(c.provider.as_str())
                .bind(c.created_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_connection(&self, org: OrganizationId, id: ConnectionId) -> Result<Option<ConnectionRecord>> {
                let row: Option<ConnectionRow> = sqlx::query_as(concat!(
                    "SELECT ", connection_columns!(), " FROM connections WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_connections(&self, org: OrganizationId) -> Result<Vec<ConnectionRecord>> {
                let rows: Vec<ConnectionRow> = sqlx::query_as(concat!(
                    "SELECT ", connection_columns!(), " FROM connections WHERE organization_id = $1 ORDER BY created_at, id"
                ))
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn update_connection(&self, c: &ConnectionRecord) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE connections SET state = $3, step = $4, tenant_id = $5, tenant_guid = $6, client_id = $7, \
                     agreement_type = $8, billing_account_id = $9, billing_account_name = $10, principal_object_id = $11, \
                     secret_ciphertext = $12, secret_expires_on = $13, secret_set_at = $14, checks = $15, \
                     last_validated_at = $16, updated_at = $17 WHERE organization_id = $1 AND id = $2",
                )
                .bind(c.organization_id.as_uuid())
                .bind(c.id.as_uuid())
                .bind(c.state.as_str())
                .bind(&c.step)
                .bind(c.tenant_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(&c.tenant_guid)
                .bind(c.client_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(c.agreement_type.map(|a| a.code()))
                .bind(c.billing_account_id.as_ref().map(|t| t.as_str().to_string()))
                .bind(&c.billing_account_name)
                .bind(&c.principal_object_id)
                .bind(&c.secret_ciphertext)
                .bind(c.secret_expires_on)
                .bind(c.secret_set_at)
                .bind(&c.checks)
                .bind(c.last_validated_at)
                .bind(c.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_connection(&self, org: OrganizationId, id: ConnectionId, now: OffsetDateTime) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let row: Option<ConnectionRow> = sqlx::query_as(concat!(
                    "SELECT ", connection_columns!(), " FROM connections WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(false) };
                sqlx::query("DELETE FROM registrations WHERE organization_id = $1 AND account_id = $2 AND product = $3 AND provider = 'azure'")
                    .bind(org.as_uuid())
                    .bind(row.account_id)
                    .bind(&row.product)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE jobs SET state = 'cancelled', lease_until = NULL, updated_at = $3 \
                     WHERE organization_id = $1 AND connection_id = $2 AND state IN ('queued', 'running')",
                )
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM connections WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn add_registration(&self, org: OrganizationId, r: &Registration, now: OffsetDateTime) -> Result<()> {
                sqlx::query(
                    "INSERT INTO registrations (organization_id, account_id, product, provider, created_at) \
                     SELECT $1, id, $3, $4, $5 FROM accounts WHERE organization_id = $1 AND id = $2 ON CONFLICT DO NOTHING",
                )
                .bind(org.as_uuid())
                .bind(r.account_id.as_uuid())
                .bind(r.product.as_str())
                .bind(r.provider.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_registrations(&self, org: OrganizationId) -> Result<Vec<Registration>> {
                let rows: Vec<RegistrationRow> = sqlx::query_as(
                    "SELECT account_id, product FROM registrations WHERE organization_id = $1 ORDER BY created_at",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok(Registration {
                            account_id: AccountId::from_uuid(r.account_id),
                            product: Product::from_db(&r.product)
                                .ok_or_else(|| StoreError::Corrupt(format!("unknown product {:?}", r.product)))?,
                            provider: Provider::Azure,
                        })
                    })
                    .collect()
            }

            async fn enqueue_job(&self, job: &JobRecord) -> Result<JobRecord> {
                for _ in 0..5 {
                    if job.kind.running_job_answers_new_request()
                        && let Some(running) = self.job_of_subject(job, JobState::Running).await?
                    {
                        return Ok(running);
                    }
                    match self.insert_job(job).await {
                        Ok(()) => return Ok(job.clone()),
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                    // Another job of the subject and kind is queued: it answers the request
                    // (unless it was claimed meanwhile: then try again).
                    if let Some(queued) = self.job_of_subject(job, JobState::Queued).await? {
                        return Ok(queued);
                    }
                }
                Err(StoreError::Corrupt("a queued job kept appearing and vanishing".into()))
            }

            async fn get_job(&self, org: OrganizationId, id: JobId) -> Result<Option<JobRecord>> {
                let row: Option<JobRow> = sqlx::query_as(concat!("SELECT ", job_columns!(), " FROM jobs WHERE organization_id = $1 AND id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_jobs(&self, org: OrganizationId, limit: i64) -> Result<Vec<JobRecord>> {
                let rows: Vec<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs WHERE organization_id = $1 ORDER BY created_at DESC, run_after DESC, id DESC LIMIT $2"
                ))
                .bind(org.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                jobs(rows)
            }

            async fn list_connection_jobs(&self, org: OrganizationId, connection: ConnectionId, limit: i64) -> Result<Vec<JobRecord>> {
                let rows: Vec<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs WHERE organization_id = $1 AND connection_id = $2 ",
                    "ORDER BY created_at DESC, run_after DESC, id DESC LIMIT $3"
                ))
                .bind(org.as_uuid())
                .bind(connection.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                jobs(rows)
            }

            async fn claim_next_job(&self, runner: RunnerId, now: OffsetDateTime, lease_until: OffsetDateTime) -> Result<Option<ClaimedJob>> {
                // A few rounds: another runner may take the candidate between the read and the write.
                for _ in 0..5 {
                    if let Some(expired) = self.expired_job(now).await? {
                        if self.take_over(&expired, runner, now, lease_until).await? {
                            let previous_owner = expired.owner;
                            let job = JobRecord { owner: Some(runner), lease_until: Some(lease_until), attempts: expired.attempts + 1, updated_at: now, ..expired };
                            return Ok(Some(ClaimedJob { job, taken_over: true, previous_owner }));
                        }
                        continue;
                    }
                    let Some(queued) = self.due_job(now).await? else { return Ok(None) };
                    if self.start_queued(&queued, runner, now, lease_until).await? {
                        let job = JobRecord {
                            state: JobState::Running,
                            owner: Some(runner),
                            lease_until: Some(lease_until),
                            attempts: queued.attempts + 1,
                            updated_at: now,
                            ..queued
                        };
                        return Ok(Some(ClaimedJob { job, taken_over: false, previous_owner: None }));
                    }
                }
                Ok(None)
            }

            async fn renew_job_lease(&self, id: JobId, runner: RunnerId, lease_until: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query("UPDATE jobs SET lease_until = $3 WHERE id = $1 AND owner = $2 AND state = 'running'")
                    .bind(id.as_uuid())
                    .bind(runner.as_uuid())
                    .bind(lease_until)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_job(&self, id: JobId, runner: RunnerId, state: JobState, error: Option<&str>, now: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = $3, last_error = $4, lease_until = NULL, updated_at = $5 \
                     WHERE id = $1 AND owner = $2 AND state = 'running'",
                )
                .bind(id.as_uuid())
                .bind(runner.as_uuid())
                .bind(state.as_str())
                .bind(error)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_job(&self, id: JobId, runner: RunnerId, now: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query("UPDATE jobs SET lease_until = $3, updated_at = $3 WHERE id = $1 AND owner = $2 AND state = 'running'")
                    .bind(id.as_uuid())
                    .bind(runner.as_uuid())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn active_jobs(&self) -> Result<Vec<JobRecord>> {
                let rows: Vec<JobRow> = sqlx::query_as(concat!(
                    "SELECT ", job_columns!(), " FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at"
                ))
                .fetch_all(&self.pool)
                .await?;
                jobs(rows)
            }

            async fn set_job_progress(&self, id: JobId, done: i32, total: i32) -> Result<()> {
                sqlx::query("UPDATE jobs SET progress_done = $2, progress_total = $3 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(done)
                    .bind(total)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_job_run_after(&self, id: JobId, run_after: OffsetDateTime) -> Result<()> {
                sqlx::query("UPDATE jobs SET run_after = $2 WHERE id = $1 AND state = 'queued'")
                    .bind(id.as_uuid())
                    .bind(run_after)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn interrupt_sync_periods(&self, job: JobId, now: OffsetDateTime) -> Result<u64> {
                let done = sqlx::query(
                    "UPDATE sync_periods SET outcome = 'failed', finished_at = $2, error_code = 'sync_interrupted', \
                     error_message = 'The sync was interrupted (its server stopped); the period keeps its previous data and is pulled again.' \
                     WHERE job_id = $1 AND outcome = 'running'",
                )
                .bind(job.as_uuid())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn record_sync_period(&self, r: &SyncPeriodRecord) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE sync_periods SET finished_at = $2, outcome = $3, rows_written = $4, bytes_downloaded = $5, \
                     source_total = $6, focus_total = $7, reconciled = $8, error_code = $9, error_message = $10, remedy = $11, \
                     amortized_total = $12, effective_total = $13, warning_count = $14, warnings = $15 WHERE id = $1",
                )
                .bind(r.id.as_uuid())
                .bind(r.finished_at)
                .bind(r.outcome.as_str())
                .bind(r.rows_written)
                .bind(r.bytes_downloaded)
                .bind(&r.source_total)
                .bind(&r.focus_total)
                .bind(r.reconciled)
                .bind(&r.error_code)
                .bind(&r.error_message)
                .bind(&r.remedy)
                .bind(&r.amortized_total)
                .bind(&r.effective_total)
                .bind(r.warning_count)
                .bind(warnings_text(&r.warnings))
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    sqlx::query(concat!(
                        "INSERT INTO sync_periods (", sync_period_columns!(), ") VALUES ",
                        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
                    ))
                    .bind(r.id.as_uuid())
                    .bind(r.organization_id.as_uuid())
                    .bind(r.connection_id.as_uuid())
                    .bind(r.job_id.as_uuid())
                    .bind(&r.period)
                    .bind(r.started_at)
                    .bind(r.finished_at)
                    .bind(r.outcome.as_str())
                    .bind(r.rows_written)
                    .bind(r.bytes_downloaded)
                    .bind(&r.source_total)
                    .bind(&r.focus_total)
                    .bind(&r.amortized_total)
                    .bind(&r.effective_total)
                    .bind(r.reconciled)
                    .bind(&r.error_code)
                    .bind(&r.error_message)
                    .bind(&r.remedy)
                    .bind(r.warning_count)
                    .bind(warnings_text(&r.warnings))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                }
                Ok(())
            }

            async fn list_sync_periods(&self, org: OrganizationId, connection: ConnectionId, limit: i64) -> Result<Vec<SyncPeriodRecord>> {
                let rows: Vec<SyncPeriodRow> = sqlx::query_as(concat!(
                    "SELECT ", sync_period_columns!(), " FROM sync_periods WHERE organization_id = $1 AND connection_id = $2 ",
                    "ORDER BY started_at DESC, period DESC LIMIT $3"
                ))
                .bind(org.as_uuid())
                .bind(connection.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn upsert_period(&self, p: &PeriodRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO periods (organization_id, connection_id, period, rows_stored, source_total, focus_total, reconciled, pulled_at, closed, \
                     amortized_total, effective_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (connection_id, period) DO UPDATE SET rows_stored = excluded.rows_stored, \
                     source_total = excluded.source_total, focus_total = excluded.focus_total, reconciled = excluded.reconciled, \
                     pulled_at = excluded.pulled_at, closed = excluded.closed, amortized_total = excluded.amortized_total, \
                     effective_total = excluded.effective_total",
                )
                .bind(p.organization_id.as_uuid())
                .bind(p.connection_id.as_uuid())
                .bind(&p.period)
                .bind(p.rows_stored)
                .bind(&p.source_total)
                .bind(&p.focus_total)
                .bind(p.reconciled)
                .bind(p.pulled_at)
                .bind(p.closed)
                .bind(&p.amortized_total)
                .bind(&p.effective_total)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::Other))?;
                Ok(())
            }

            async fn list_periods(&self, org: OrganizationId, connection: ConnectionId) -> Result<Vec<PeriodRecord>> {
                let rows: Vec<PeriodRow> = sqlx::query_as(
                    "SELECT organization_id, connection_id, period, rows_stored, source_total, focus_total, amortized_total, effective_total, \
                     reconciled, pulled_at, closed \
                     FROM periods WHERE organization_id = $1 AND connection_id = $2 ORDER BY period",
                )
                .bind(org.as_uuid())
                .bind(connection.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_periods(&self, org: OrganizationId, connection: ConnectionId) -> Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "DELETE FROM periods WHERE organization_id = $1 AND connection_id = $2 RETURNING period",
                )
                .bind(org.as_uuid())
                .bind(connection.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                let mut keys: Vec<String> = rows.into_iter().map(|(p,)| p).collect();
                keys.sort();
                Ok(keys)
            }
        }
    };
}

sql_store!(SqliteStore, Backend::Sqlite, SQLITE_MIGRATIONS);
sql_store!(PgStore, Backend::Postgres, POSTGRES_MIGRATIONS);
