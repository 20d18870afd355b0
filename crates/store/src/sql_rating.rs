//! [`RatingStore`] for both backends: pricing versions, import sources, sub-accounts, rating runs
//! and rated periods. Same SQL text on both, like `sql.rs`.

use async_trait::async_trait;
use be_domain::{
    ImportSourceId, OrganizationId, RatingRunId, RatingRunState, SavedViewId, UserId, ViewKind,
};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Conflict, ImportSourceRecord, ImportedPeriodRecord, PgStore, PricingVersionRecord,
    RatedPeriodRecord, RatingRunRecord, RatingStore, Result, SavedViewRecord, SqliteStore,
    StoreError, SubAccountRecord,
};

#[derive(FromRow)]
struct PricingRow {
    organization_id: Uuid,
    version: i32,
    document: String,
    summary: String,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
}

impl From<PricingRow> for PricingVersionRecord {
    fn from(r: PricingRow) -> Self {
        Self {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            version: r.version,
            document: r.document,
            summary: r.summary,
            created_by: r.created_by.map(UserId::from_uuid),
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
struct SourceRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    created_at: OffsetDateTime,
}

impl From<SourceRow> for ImportSourceRecord {
    fn from(r: SourceRow) -> Self {
        Self {
            id: ImportSourceId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
struct ImportedRow {
    organization_id: Uuid,
    source_id: Uuid,
    period: String,
    rows_stored: i64,
    billed_total: String,
    effective_total: String,
    file_name: String,
    bytes: i64,
    imported_at: OffsetDateTime,
    billing_currency: Option<String>,
}

impl From<ImportedRow> for ImportedPeriodRecord {
    fn from(r: ImportedRow) -> Self {
        Self {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            source_id: ImportSourceId::from_uuid(r.source_id),
            period: r.period,
            rows_stored: r.rows_stored,
            billed_total: r.billed_total,
            effective_total: r.effective_total,
            file_name: r.file_name,
            bytes: r.bytes,
            imported_at: r.imported_at,
            billing_currency: r.billing_currency,
        }
    }
}

#[derive(FromRow)]
struct SubRow {
    organization_id: Uuid,
    sub_account_id: String,
    name: Option<String>,
    billing_account_id: Option<String>,
    source_id: String,
    source_name: String,
    first_period: String,
    last_period: String,
    updated_at: OffsetDateTime,
}

impl From<SubRow> for SubAccountRecord {
    fn from(r: SubRow) -> Self {
        Self {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            sub_account_id: r.sub_account_id,
            name: r.name,
            billing_account_id: r.billing_account_id,
            source_id: r.source_id,
            source_name: r.source_name,
            first_period: r.first_period,
            last_period: r.last_period,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct RunRow {
    id: Uuid,
    organization_id: Uuid,
    period: String,
    state: String,
    pricing_version: i32,
    inputs: String,
    rows_rated: i64,
    new_lines: i64,
    billed_total: Option<String>,
    provider_total: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    started_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

impl TryFrom<RunRow> for RatingRunRecord {
    type Error = StoreError;
    fn try_from(r: RunRow) -> Result<Self> {
        Ok(Self {
            id: RatingRunId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            period: r.period,
            state: RatingRunState::from_db(&r.state).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown rating state {:?}", r.state))
            })?,
            pricing_version: r.pricing_version,
            inputs: r.inputs,
            rows_rated: r.rows_rated,
            new_lines: r.new_lines,
            billed_total: r.billed_total,
            provider_total: r.provider_total,
            error_code: r.error_code,
            error_message: r.error_message,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

#[derive(FromRow)]
struct RatedRow {
    organization_id: Uuid,
    period: String,
    current_run: Option<Uuid>,
    stale: bool,
    generation: i64,
    changed_at: OffsetDateTime,
}

impl From<RatedRow> for RatedPeriodRecord {
    fn from(r: RatedRow) -> Self {
        Self {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            period: r.period,
            current_run: r.current_run.map(RatingRunId::from_uuid),
            stale: r.stale,
            generation: r.generation,
            changed_at: r.changed_at,
        }
    }
}

#[derive(FromRow)]
struct ViewRow {
    id: Uuid,
    organization_id: Uuid,
    kind: String,
    name: String,
    document: String,
    is_default: bool,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ViewRow> for SavedViewRecord {
    type Error = StoreError;
    fn try_from(r: ViewRow) -> Result<Self> {
        Ok(Self {
            id: SavedViewId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            kind: ViewKind::from_db(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown view kind {:?}", r.kind)))?,
            name: r.name,
            document: r.document,
            is_default: r.is_default,
            created_by: r.created_by.map(UserId::from_uuid),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! view_columns {
    () => {
        "id, organization_id, kind, name, document, is_default, created_by, created_at, updated_at"
    };
}

#[derive(FromRow)]
struct OrgRow {
    organization_id: Uuid,
}

macro_rules! pricing_columns {
    () => {
        "organization_id, version, document, summary, created_by, created_at"
    };
}

macro_rules! run_columns {
    () => {
        "id, organization_id, period, state, pricing_version, inputs, rows_rated, new_lines, billed_total, provider_total, \
         error_code, error_message, started_at, finished_at"
    };
}

macro_rules! rating_store {
    ($store:ident) => {
        #[async_trait]
        impl RatingStore for $store {
            async fn current_pricing(&self, org: OrganizationId) -> Result<Option<PricingVersionRecord>> {
                let row: Option<PricingRow> = sqlx::query_as(concat!(
                    "SELECT ", pricing_columns!(), " FROM pricing_versions WHERE organization_id = $1 ORDER BY version DESC LIMIT 1"
                ))
                .bind(org.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn get_pricing_version(&self, org: OrganizationId, version: i32) -> Result<Option<PricingVersionRecord>> {
                let row: Option<PricingRow> =
                    sqlx::query_as(concat!("SELECT ", pricing_columns!(), " FROM pricing_versions WHERE organization_id = $1 AND version = $2"))
                        .bind(org.as_uuid())
                        .bind(version)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_pricing_versions(&self, org: OrganizationId, limit: i64) -> Result<Vec<PricingVersionRecord>> {
                let rows: Vec<PricingRow> = sqlx::query_as(concat!(
                    "SELECT ", pricing_columns!(), " FROM pricing_versions WHERE organization_id = $1 ORDER BY version DESC LIMIT $2"
                ))
                .bind(org.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn save_pricing_version(&self, v: &PricingVersionRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO pricing_versions (", pricing_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                    .bind(v.organization_id.as_uuid())
                    .bind(v.version)
                    .bind(&v.document)
                    .bind(&v.summary)
                    .bind(v.created_by.map(|u| u.as_uuid()))
                    .bind(v.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::PricingVersion))?;
                Ok(())
            }

            async fn create_import_source(&self, s: &ImportSourceRecord) -> Result<()> {
                sqlx::query("INSERT INTO import_sources (id, organization_id, name, name_key, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(s.id.as_uuid())
                    .bind(s.organization_id.as_uuid())
                    .bind(&s.name)
                    .bind(s.name.to_lowercase())
                    .bind(s.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::ImportSourceName))?;
                Ok(())
            }

            async fn list_import_sources(&self, org: OrganizationId) -> Result<Vec<ImportSourceRecord>> {
                let rows: Vec<SourceRow> =
                    sqlx::query_as("SELECT id, organization_id, name, created_at FROM import_sources WHERE organization_id = $1 ORDER BY name_key")
                        .bind(org.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_import_source(&self, org: OrganizationId, id: ImportSourceId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM import_sources WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn upsert_imported_period(&self, p: &ImportedPeriodRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO imported_periods (organization_id, source_id, period, rows_stored, billed_total, effective_total, file_name, bytes, imported_at, \
                     billing_currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (source_id, period) DO UPDATE SET rows_stored = excluded.rows_stored, \
                     billed_total = excluded.billed_total, effective_total = excluded.effective_total, file_name = excluded.file_name, \
                     bytes = excluded.bytes, imported_at = excluded.imported_at, billing_currency = excluded.billing_currency",
                )
                .bind(p.organization_id.as_uuid())
                .bind(p.source_id.as_uuid())
                .bind(&p.period)
                .bind(p.rows_stored)
                .bind(&p.billed_total)
                .bind(&p.effective_total)
                .bind(&p.file_name)
                .bind(p.bytes)
                .bind(p.imported_at)
                .bind(&p.billing_currency)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_imported_periods(&self, org: OrganizationId) -> Result<Vec<ImportedPeriodRecord>> {
                let rows: Vec<ImportedRow> = sqlx::query_as(
                    "SELECT organization_id, source_id, period, rows_stored, billed_total, effective_total, file_name, bytes, imported_at, \
                     billing_currency FROM imported_periods WHERE organization_id = $1 ORDER BY period, source_id",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn upsert_sub_accounts(&self, subs: &[SubAccountRecord]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for s in subs {
                    sqlx::query(
                        "INSERT INTO sub_accounts (organization_id, sub_account_id, name, billing_account_id, source_id, source_name, first_period, \
                         last_period, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (organization_id, sub_account_id) DO UPDATE SET \
                         name = COALESCE(excluded.name, sub_accounts.name), \
                         billing_account_id = COALESCE(excluded.billing_account_id, sub_accounts.billing_account_id), \
                         source_id = excluded.source_id, source_name = excluded.source_name, \
                         first_period = CASE WHEN excluded.first_period < sub_accounts.first_period THEN excluded.first_period ELSE sub_accounts.first_period END, \
                         last_period = CASE WHEN excluded.last_period > sub_accounts.last_period THEN excluded.last_period ELSE sub_accounts.last_period END, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(s.organization_id.as_uuid())
                    .bind(&s.sub_account_id)
                    .bind(&s.name)
                    .bind(&s.billing_account_id)
                    .bind(&s.source_id)
                    .bind(&s.source_name)
                    .bind(&s.first_period)
                    .bind(&s.last_period)
                    .bind(s.updated_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_sub_accounts(&self, org: OrganizationId) -> Result<Vec<SubAccountRecord>> {
                let rows: Vec<SubRow> = sqlx::query_as(
                    "SELECT organization_id, sub_account_id, name, billing_account_id, source_id, source_name, first_period, last_period, updated_at \
                     FROM sub_accounts WHERE organization_id = $1 ORDER BY sub_account_id",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_rating_run(&self, r: &RatingRunRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO rating_runs (", run_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"))
                    .bind(r.id.as_uuid())
                    .bind(r.organization_id.as_uuid())
                    .bind(&r.period)
                    .bind(r.state.as_str())
                    .bind(r.pricing_version)
                    .bind(&r.inputs)
                    .bind(r.rows_rated)
                    .bind(r.new_lines)
                    .bind(&r.billed_total)
                    .bind(&r.provider_total)
                    .bind(&r.error_code)
                    .bind(&r.error_message)
                    .bind(r.started_at)
                    .bind(r.finished_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn finish_rating_run(&self, r: &RatingRunRecord) -> Result<()> {
                sqlx::query(
                    "UPDATE rating_runs SET state = $3, inputs = $4, rows_rated = $5, new_lines = $6, billed_total = $7, provider_total = $8, \
                     error_code = $9, error_message = $10, finished_at = $11 WHERE organization_id = $1 AND id = $2",
                )
                .bind(r.organization_id.as_uuid())
                .bind(r.id.as_uuid())
                .bind(r.state.as_str())
                .bind(&r.inputs)
                .bind(r.rows_rated)
                .bind(r.new_lines)
                .bind(&r.billed_total)
                .bind(&r.provider_total)
                .bind(&r.error_code)
                .bind(&r.error_message)
                .bind(r.finished_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_rating_run(&self, org: OrganizationId, id: RatingRunId) -> Result<Option<RatingRunRecord>> {
                let row: Option<RunRow> = sqlx::query_as(concat!("SELECT ", run_columns!(), " FROM rating_runs WHERE organization_id = $1 AND id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_rating_runs(&self, org: OrganizationId, period: &str, limit: i64) -> Result<Vec<RatingRunRecord>> {
                let rows: Vec<RunRow> = sqlx::query_as(concat!(
                    "SELECT ", run_columns!(), " FROM rating_runs WHERE organization_id = $1 AND period = $2 ORDER BY started_at DESC, id LIMIT $3"
                ))
                .bind(org.as_uuid())
                .bind(period)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn mark_periods_stale(&self, org: OrganizationId, periods: &[String], now: OffsetDateTime) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for p in periods {
                    sqlx::query(
                        "INSERT INTO rated_periods (organization_id, period, current_run, stale, generation, changed_at) VALUES ($1, $2, NULL, TRUE, 1, $3) \
                         ON CONFLICT (organization_id, period) DO UPDATE SET stale = TRUE, generation = rated_periods.generation + 1, changed_at = excluded.changed_at",
                    )
                    .bind(org.as_uuid())
                    .bind(p)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_rated_periods(&self, org: OrganizationId) -> Result<Vec<RatedPeriodRecord>> {
                let rows: Vec<RatedRow> = sqlx::query_as(
                    "SELECT organization_id, period, current_run, stale, generation, changed_at FROM rated_periods WHERE organization_id = $1 ORDER BY period",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn organizations_with_stale_periods(&self) -> Result<Vec<OrganizationId>> {
                let rows: Vec<OrgRow> = sqlx::query_as("SELECT DISTINCT organization_id FROM rated_periods WHERE stale = TRUE")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(|r| OrganizationId::from_uuid(r.organization_id)).collect())
            }

            async fn finish_period_rating(&self, org: OrganizationId, period: &str, run: Option<RatingRunId>, generation: i64) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                if let Some(run) = run {
                    sqlx::query("UPDATE rated_periods SET current_run = $3 WHERE organization_id = $1 AND period = $2")
                        .bind(org.as_uuid())
                        .bind(period)
                        .bind(run.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE rated_periods SET stale = FALSE WHERE organization_id = $1 AND period = $2 AND generation = $3")
                    .bind(org.as_uuid())
                    .bind(period)
                    .bind(generation)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_view(&self, v: &SavedViewRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO saved_views (", view_columns!(), ", name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                    .bind(v.id.as_uuid())
                    .bind(v.organization_id.as_uuid())
                    .bind(v.kind.as_str())
                    .bind(&v.name)
                    .bind(&v.document)
                    .bind(v.is_default)
                    .bind(v.created_by.map(|u| u.as_uuid()))
                    .bind(v.created_at)
                    .bind(v.updated_at)
                    .bind(v.name.to_lowercase())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::ViewName))?;
                Ok(())
            }

            async fn update_view(&self, v: &SavedViewRecord) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE saved_views SET name = $3, name_key = $4, document = $5, updated_at = $6 WHERE organization_id = $1 AND id = $2",
                )
                .bind(v.organization_id.as_uuid())
                .bind(v.id.as_uuid())
                .bind(&v.name)
                .bind(v.name.to_lowercase())
                .bind(&v.document)
                .bind(v.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::ViewName))?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_view(&self, org: OrganizationId, id: SavedViewId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM saved_views WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn get_view(&self, org: OrganizationId, id: SavedViewId) -> Result<Option<SavedViewRecord>> {
                let row: Option<ViewRow> = sqlx::query_as(concat!("SELECT ", view_columns!(), " FROM saved_views WHERE organization_id = $1 AND id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_views(&self, org: OrganizationId, kind: ViewKind) -> Result<Vec<SavedViewRecord>> {
                let rows: Vec<ViewRow> =
                    sqlx::query_as(concat!("SELECT ", view_columns!(), " FROM saved_views WHERE organization_id = $1 AND kind = $2 ORDER BY name_key"))
                        .bind(org.as_uuid())
                        .bind(kind.as_str())
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn set_default_view(&self, org: OrganizationId, kind: ViewKind, id: Option<SavedViewId>) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE saved_views SET is_default = FALSE WHERE organization_id = $1 AND kind = $2")
                    .bind(org.as_uuid())
                    .bind(kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                if let Some(id) = id {
                    sqlx::query("UPDATE saved_views SET is_default = TRUE WHERE organization_id = $1 AND kind = $2 AND id = $3")
                        .bind(org.as_uuid())
                        .bind(kind.as_str())
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_rated_period(&self, org: OrganizationId, period: &str) -> Result<()> {
                sqlx::query("DELETE FROM rated_periods WHERE organization_id = $1 AND period = $2")
                    .bind(org.as_uuid())
                    .bind(period)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

rating_store!(SqliteStore);
rating_store!(PgStore);
