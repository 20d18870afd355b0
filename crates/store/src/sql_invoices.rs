//! [`InvoiceStore`] for both backends. Same SQL text on both, like `sql.rs`.

use async_trait::async_trait;
use be_domain::invoicing::{DeliveryState, DocumentKind, InvoiceState, LockReason};
use be_domain::{
    DeliveryId, InvoiceId, InvoiceRunId, OrganizationId, ScheduleId, TemplateId, UserId,
};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Conflict, CustomerRecord, DeliveryRecord, InvoiceRecord, InvoiceRunRecord, InvoiceStore,
    PeriodLockRecord, PgStore, Result, ScheduleRecord, SqliteStore, StoreError, TemplateRecord,
};

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {v:?}"))
}

#[derive(FromRow)]
struct TemplateRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    document: String,
    builtin: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<TemplateRow> for TemplateRecord {
    fn from(r: TemplateRow) -> Self {
        Self {
            id: TemplateId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            name: r.name,
            document: r.document,
            builtin: r.builtin,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct CustomerRow {
    organization_id: Uuid,
    customer_key: String,
    document: String,
    updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct RunRow {
    id: Uuid,
    organization_id: Uuid,
    template_id: Uuid,
    template: String,
    period_from: String,
    period_to: String,
    issue_date: String,
    state: String,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    finalized_at: Option<OffsetDateTime>,
}

impl TryFrom<RunRow> for InvoiceRunRecord {
    type Error = StoreError;
    fn try_from(r: RunRow) -> Result<Self> {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        Ok(Self {
            id: InvoiceRunId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            template_id: TemplateId::from_uuid(r.template_id),
            template: r.template,
            period_from: r.period_from,
            period_to: r.period_to,
            issue_date: time::Date::parse(&r.issue_date, fmt)
                .map_err(|_| corrupt("issue date", &r.issue_date))?,
            state: InvoiceState::from_db(&r.state).ok_or_else(|| corrupt("run state", &r.state))?,
            created_by: r.created_by.map(UserId::from_uuid),
            created_at: r.created_at,
            finalized_at: r.finalized_at,
        })
    }
}

#[derive(FromRow)]
struct InvoiceRow {
    id: Uuid,
    organization_id: Uuid,
    run_id: Uuid,
    kind: String,
    state: String,
    series: String,
    number: Option<String>,
    position: i32,
    customer_key: String,
    currency: String,
    total: String,
    exact_total: String,
    document: String,
    pdf_sha256: Option<String>,
    related_invoice: Option<Uuid>,
    created_at: OffsetDateTime,
    finalized_at: Option<OffsetDateTime>,
}

impl TryFrom<InvoiceRow> for InvoiceRecord {
    type Error = StoreError;
    fn try_from(r: InvoiceRow) -> Result<Self> {
        Ok(Self {
            id: InvoiceId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            run_id: InvoiceRunId::from_uuid(r.run_id),
            kind: DocumentKind::from_db(&r.kind)
                .ok_or_else(|| corrupt("document kind", &r.kind))?,
            state: InvoiceState::from_db(&r.state)
                .ok_or_else(|| corrupt("invoice state", &r.state))?,
            series: r.series,
            number: r.number,
            position: r.position,
            customer_key: r.customer_key,
            currency: r.currency,
            total: r.total,
            exact_total: r.exact_total,
            document: r.document,
            pdf_sha256: r.pdf_sha256,
            related_invoice: r.related_invoice.map(InvoiceId::from_uuid),
            created_at: r.created_at,
            finalized_at: r.finalized_at,
        })
    }
}

#[derive(FromRow)]
struct LockRow {
    organization_id: Uuid,
    period: String,
    reason: String,
    locked_by: Option<Uuid>,
    locked_at: OffsetDateTime,
    pending_since: Option<OffsetDateTime>,
}

impl TryFrom<LockRow> for PeriodLockRecord {
    type Error = StoreError;
    fn try_from(r: LockRow) -> Result<Self> {
        Ok(Self {
            organization_id: OrganizationId::from_uuid(r.organization_id),
            reason: LockReason::from_db(&r.reason)
                .ok_or_else(|| corrupt("lock reason", &r.reason))?,
            period: r.period,
            locked_by: r.locked_by.map(UserId::from_uuid),
            locked_at: r.locked_at,
            pending_since: r.pending_since,
        })
    }
}

#[derive(FromRow)]
struct DeliveryRow {
    id: Uuid,
    organization_id: Uuid,
    invoice_id: Uuid,
    recipients: String,
    state: String,
    attempts: i32,
    server_answer: Option<String>,
    next_attempt_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
}

impl TryFrom<DeliveryRow> for DeliveryRecord {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Self {
            id: DeliveryId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            invoice_id: InvoiceId::from_uuid(r.invoice_id),
            recipients: r.recipients,
            state: DeliveryState::from_db(&r.state)
                .ok_or_else(|| corrupt("delivery state", &r.state))?,
            attempts: r.attempts,
            server_answer: r.server_answer,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

#[derive(FromRow)]
struct ScheduleRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    template_id: Uuid,
    day_of_month: i32,
    finalize: bool,
    send: bool,
    next_run_at: OffsetDateTime,
    last_run_id: Option<Uuid>,
    created_at: OffsetDateTime,
}

impl From<ScheduleRow> for ScheduleRecord {
    fn from(r: ScheduleRow) -> Self {
        Self {
            id: ScheduleId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            name: r.name,
            template_id: TemplateId::from_uuid(r.template_id),
            day_of_month: r.day_of_month,
            finalize: r.finalize,
            send: r.send,
            next_run_at: r.next_run_at,
            last_run_id: r.last_run_id.map(InvoiceRunId::from_uuid),
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
struct NextRow {
    next_number: i64,
}

macro_rules! run_columns {
    () => {
        "id, organization_id, template_id, template, period_from, period_to, issue_date, state, created_by, created_at, finalized_at"
    };
}

macro_rules! invoice_columns {
    () => {
        "id, organization_id, run_id, kind, state, series, number, position, customer_key, currency, total, exact_total, document, \
         pdf_sha256, related_invoice, created_at, finalized_at"
    };
}

macro_rules! delivery_columns {
    () => {
        "id, organization_id, invoice_id, recipients, state, attempts, server_answer, next_attempt_at, created_at, sent_at"
    };
}

macro_rules! schedule_columns {
    () => {
        "id, organization_id, name, template_id, day_of_month, finalize, send, next_run_at, last_run_id, created_at"
    };
}

macro_rules! invoice_store {
    ($store:ident) => {
        #[async_trait]
        impl InvoiceStore for $store {
            async fn create_template(&self, t: &TemplateRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO invoice_templates (id, organization_id, name, name_key, document, builtin, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(t.id.as_uuid())
                .bind(t.organization_id.as_uuid())
                .bind(&t.name)
                .bind(t.name.to_lowercase())
                .bind(&t.document)
                .bind(t.builtin)
                .bind(t.created_at)
                .bind(t.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::TemplateName))?;
                Ok(())
            }

            async fn update_template(&self, t: &TemplateRecord) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE invoice_templates SET name = $3, name_key = $4, document = $5, updated_at = $6 \
                     WHERE organization_id = $1 AND id = $2 AND builtin = FALSE",
                )
                .bind(t.organization_id.as_uuid())
                .bind(t.id.as_uuid())
                .bind(&t.name)
                .bind(t.name.to_lowercase())
                .bind(&t.document)
                .bind(t.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::TemplateName))?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_template(&self, org: OrganizationId, id: TemplateId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM invoice_templates WHERE organization_id = $1 AND id = $2 AND builtin = FALSE")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn get_template(&self, org: OrganizationId, id: TemplateId) -> Result<Option<TemplateRecord>> {
                let row: Option<TemplateRow> = sqlx::query_as(
                    "SELECT id, organization_id, name, document, builtin, created_at, updated_at FROM invoice_templates WHERE organization_id = $1 AND id = $2",
                )
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_templates(&self, org: OrganizationId) -> Result<Vec<TemplateRecord>> {
                let rows: Vec<TemplateRow> = sqlx::query_as(
                    "SELECT id, organization_id, name, document, builtin, created_at, updated_at FROM invoice_templates \
                     WHERE organization_id = $1 ORDER BY builtin DESC, name_key",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn upsert_customer(&self, c: &CustomerRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO customers (organization_id, customer_key, document, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (organization_id, customer_key) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                )
                .bind(c.organization_id.as_uuid())
                .bind(&c.key)
                .bind(&c.document)
                .bind(c.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_customer(&self, org: OrganizationId, key: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM customers WHERE organization_id = $1 AND customer_key = $2")
                    .bind(org.as_uuid())
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_customers(&self, org: OrganizationId) -> Result<Vec<CustomerRecord>> {
                let rows: Vec<CustomerRow> =
                    sqlx::query_as("SELECT organization_id, customer_key, document, updated_at FROM customers WHERE organization_id = $1 ORDER BY customer_key")
                        .bind(org.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| CustomerRecord { organization_id: OrganizationId::from_uuid(r.organization_id), key: r.customer_key, document: r.document, updated_at: r.updated_at })
                    .collect())
            }

            async fn create_invoice_run(&self, run: &InvoiceRunRecord, invoices: &[InvoiceRecord]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(concat!("INSERT INTO invoice_runs (", run_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(run.id.as_uuid())
                    .bind(run.organization_id.as_uuid())
                    .bind(run.template_id.as_uuid())
                    .bind(&run.template)
                    .bind(&run.period_from)
                    .bind(&run.period_to)
                    .bind(run.issue_date.to_string())
                    .bind(run.state.as_str())
                    .bind(run.created_by.map(|u| u.as_uuid()))
                    .bind(run.created_at)
                    .bind(run.finalized_at)
                    .execute(&mut *tx)
                    .await?;
                for i in invoices {
                    sqlx::query(concat!(
                        "INSERT INTO invoices (", invoice_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
                    ))
                    .bind(i.id.as_uuid())
                    .bind(i.organization_id.as_uuid())
                    .bind(i.run_id.as_uuid())
                    .bind(i.kind.as_str())
                    .bind(i.state.as_str())
                    .bind(&i.series)
                    .bind(&i.number)
                    .bind(i.position)
                    .bind(&i.customer_key)
                    .bind(&i.currency)
                    .bind(&i.total)
                    .bind(&i.exact_total)
                    .bind(&i.document)
                    .bind(&i.pdf_sha256)
                    .bind(i.related_invoice.map(|r| r.as_uuid()))
                    .bind(i.created_at)
                    .bind(i.finalized_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_invoice_run(&self, org: OrganizationId, id: InvoiceRunId) -> Result<Option<InvoiceRunRecord>> {
                let row: Option<RunRow> = sqlx::query_as(concat!("SELECT ", run_columns!(), " FROM invoice_runs WHERE organization_id = $1 AND id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_invoice_runs(&self, org: OrganizationId, limit: i64) -> Result<Vec<InvoiceRunRecord>> {
                let rows: Vec<RunRow> =
                    sqlx::query_as(concat!("SELECT ", run_columns!(), " FROM invoice_runs WHERE organization_id = $1 ORDER BY created_at DESC, id LIMIT $2"))
                        .bind(org.as_uuid())
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn list_run_invoices(&self, org: OrganizationId, run: InvoiceRunId) -> Result<Vec<InvoiceRecord>> {
                let rows: Vec<InvoiceRow> =
                    sqlx::query_as(concat!("SELECT ", invoice_columns!(), " FROM invoices WHERE organization_id = $1 AND run_id = $2 ORDER BY position"))
                        .bind(org.as_uuid())
                        .bind(run.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_invoice(&self, org: OrganizationId, id: InvoiceId) -> Result<Option<InvoiceRecord>> {
                let row: Option<InvoiceRow> = sqlx::query_as(concat!("SELECT ", invoice_columns!(), " FROM invoices WHERE organization_id = $1 AND id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_final_invoices(&self, org: OrganizationId, limit: i64) -> Result<Vec<InvoiceRecord>> {
                let rows: Vec<InvoiceRow> = sqlx::query_as(concat!(
                    "SELECT ", invoice_columns!(), " FROM invoices WHERE organization_id = $1 AND state = 'final' ORDER BY finalized_at DESC, number DESC LIMIT $2"
                ))
                .bind(org.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn discard_invoice_run(&self, org: OrganizationId, run: InvoiceRunId) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE invoice_runs SET state = 'discarded' WHERE organization_id = $1 AND id = $2 AND state = 'draft'")
                    .bind(org.as_uuid())
                    .bind(run.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE invoices SET state = 'discarded' WHERE organization_id = $1 AND run_id = $2 AND state = 'draft'")
                    .bind(org.as_uuid())
                    .bind(run.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn finalize_invoice_run(&self, org: OrganizationId, run: InvoiceRunId, now: OffsetDateTime) -> Result<Option<Vec<InvoiceRecord>>> {
                let mut tx = self.pool.begin().await?;
                // Taking the run first serializes concurrent finalizations of the same run.
                let claimed = sqlx::query("UPDATE invoice_runs SET state = 'final', finalized_at = $3 WHERE organization_id = $1 AND id = $2 AND state = 'draft'")
                    .bind(org.as_uuid())
                    .bind(run.as_uuid())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if claimed.rows_affected() == 0 {
                    return Ok(None);
                }
                let rows: Vec<InvoiceRow> =
                    sqlx::query_as(concat!("SELECT ", invoice_columns!(), " FROM invoices WHERE organization_id = $1 AND run_id = $2 ORDER BY position"))
                        .bind(org.as_uuid())
                        .bind(run.as_uuid())
                        .fetch_all(&mut *tx)
                        .await?;
                let mut out = Vec::new();
                for row in rows {
                    let mut inv: InvoiceRecord = row.try_into()?;
                    sqlx::query("INSERT INTO invoice_counters (organization_id, series, next_number) VALUES ($1, $2, 1) ON CONFLICT (organization_id, series) DO NOTHING")
                        .bind(org.as_uuid())
                        .bind(&inv.series)
                        .execute(&mut *tx)
                        .await?;
                    let next: NextRow = sqlx::query_as(
                        "UPDATE invoice_counters SET next_number = next_number + 1 WHERE organization_id = $1 AND series = $2 RETURNING next_number",
                    )
                    .bind(org.as_uuid())
                    .bind(&inv.series)
                    .fetch_one(&mut *tx)
                    .await?;
                    let number = be_domain::invoicing::document_number(&inv.series, next.next_number - 1);
                    sqlx::query("UPDATE invoices SET state = 'final', number = $3, finalized_at = $4 WHERE organization_id = $1 AND id = $2")
                        .bind(org.as_uuid())
                        .bind(inv.id.as_uuid())
                        .bind(&number)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    (inv.number, inv.state, inv.finalized_at) = (Some(number), InvoiceState::Final, Some(now));
                    out.push(inv);
                }
                tx.commit().await?;
                Ok(Some(out))
            }

            async fn next_invoice_number(&self, org: OrganizationId, series: &str) -> Result<i64> {
                let row: Option<NextRow> = sqlx::query_as("SELECT next_number FROM invoice_counters WHERE organization_id = $1 AND series = $2")
                    .bind(org.as_uuid())
                    .bind(series)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map_or(1, |r| r.next_number))
            }

            async fn set_invoice_pdf_hash(&self, org: OrganizationId, id: InvoiceId, sha256: &str) -> Result<()> {
                sqlx::query("UPDATE invoices SET pdf_sha256 = $3 WHERE organization_id = $1 AND id = $2 AND pdf_sha256 IS NULL")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .bind(sha256)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn lock_period(&self, l: &PeriodLockRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO period_locks (organization_id, period, reason, locked_by, locked_at, pending_since) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (organization_id, period) DO NOTHING",
                )
                .bind(l.organization_id.as_uuid())
                .bind(&l.period)
                .bind(l.reason.as_str())
                .bind(l.locked_by.map(|u| u.as_uuid()))
                .bind(l.locked_at)
                .bind(l.pending_since)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn unlock_period(&self, org: OrganizationId, period: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM period_locks WHERE organization_id = $1 AND period = $2")
                    .bind(org.as_uuid())
                    .bind(period)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_period_locks(&self, org: OrganizationId) -> Result<Vec<PeriodLockRecord>> {
                let rows: Vec<LockRow> = sqlx::query_as(
                    "SELECT organization_id, period, reason, locked_by, locked_at, pending_since FROM period_locks WHERE organization_id = $1 ORDER BY period",
                )
                .bind(org.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn mark_lock_pending(&self, org: OrganizationId, period: &str, now: OffsetDateTime) -> Result<()> {
                sqlx::query("UPDATE period_locks SET pending_since = $3 WHERE organization_id = $1 AND period = $2 AND pending_since IS NULL")
                    .bind(org.as_uuid())
                    .bind(period)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn clear_lock_pending(&self, org: OrganizationId, period: &str) -> Result<()> {
                sqlx::query("UPDATE period_locks SET pending_since = NULL WHERE organization_id = $1 AND period = $2")
                    .bind(org.as_uuid())
                    .bind(period)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_delivery(&self, d: &DeliveryRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO deliveries (", delivery_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                    .bind(d.id.as_uuid())
                    .bind(d.organization_id.as_uuid())
                    .bind(d.invoice_id.as_uuid())
                    .bind(&d.recipients)
                    .bind(d.state.as_str())
                    .bind(d.attempts)
                    .bind(&d.server_answer)
                    .bind(d.next_attempt_at)
                    .bind(d.created_at)
                    .bind(d.sent_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn update_delivery(&self, d: &DeliveryRecord) -> Result<()> {
                sqlx::query(
                    "UPDATE deliveries SET state = $3, attempts = $4, server_answer = $5, next_attempt_at = $6, sent_at = $7 WHERE organization_id = $1 AND id = $2",
                )
                .bind(d.organization_id.as_uuid())
                .bind(d.id.as_uuid())
                .bind(d.state.as_str())
                .bind(d.attempts)
                .bind(&d.server_answer)
                .bind(d.next_attempt_at)
                .bind(d.sent_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_deliveries(&self, org: OrganizationId, invoice: InvoiceId) -> Result<Vec<DeliveryRecord>> {
                let rows: Vec<DeliveryRow> =
                    sqlx::query_as(concat!("SELECT ", delivery_columns!(), " FROM deliveries WHERE organization_id = $1 AND invoice_id = $2 ORDER BY created_at"))
                        .bind(org.as_uuid())
                        .bind(invoice.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn pending_deliveries(&self, org: OrganizationId, limit: i64) -> Result<Vec<DeliveryRecord>> {
                let rows: Vec<DeliveryRow> = sqlx::query_as(concat!(
                    "SELECT ", delivery_columns!(), " FROM deliveries WHERE organization_id = $1 AND state = 'pending' ORDER BY next_attempt_at LIMIT $2"
                ))
                .bind(org.as_uuid())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn claim_delivery(&self, d: &DeliveryRecord, retry_at: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $4 \
                     WHERE organization_id = $1 AND id = $2 AND attempts = $3 AND state = 'pending'",
                )
                .bind(d.organization_id.as_uuid())
                .bind(d.id.as_uuid())
                .bind(d.attempts)
                .bind(retry_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_schedule(&self, s: &ScheduleRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO invoice_schedules (", schedule_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                    .bind(s.id.as_uuid())
                    .bind(s.organization_id.as_uuid())
                    .bind(&s.name)
                    .bind(s.template_id.as_uuid())
                    .bind(s.day_of_month)
                    .bind(s.finalize)
                    .bind(s.send)
                    .bind(s.next_run_at)
                    .bind(s.last_run_id.map(|r| r.as_uuid()))
                    .bind(s.created_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn update_schedule(&self, s: &ScheduleRecord) -> Result<()> {
                sqlx::query(
                    "UPDATE invoice_schedules SET name = $3, template_id = $4, day_of_month = $5, finalize = $6, send = $7, next_run_at = $8, last_run_id = $9 \
                     WHERE organization_id = $1 AND id = $2",
                )
                .bind(s.organization_id.as_uuid())
                .bind(s.id.as_uuid())
                .bind(&s.name)
                .bind(s.template_id.as_uuid())
                .bind(s.day_of_month)
                .bind(s.finalize)
                .bind(s.send)
                .bind(s.next_run_at)
                .bind(s.last_run_id.map(|r| r.as_uuid()))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_schedule(&self, org: OrganizationId, id: ScheduleId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM invoice_schedules WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_schedules(&self, org: OrganizationId) -> Result<Vec<ScheduleRecord>> {
                let rows: Vec<ScheduleRow> =
                    sqlx::query_as(concat!("SELECT ", schedule_columns!(), " FROM invoice_schedules WHERE organization_id = $1 ORDER BY name"))
                        .bind(org.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn claim_schedule(&self, s: &ScheduleRecord, next_run_at: OffsetDateTime) -> Result<bool> {
                let done = sqlx::query("UPDATE invoice_schedules SET next_run_at = $4 WHERE organization_id = $1 AND id = $2 AND next_run_at = $3")
                    .bind(s.organization_id.as_uuid())
                    .bind(s.id.as_uuid())
                    .bind(s.next_run_at)
                    .bind(next_run_at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

invoice_store!(SqliteStore);
invoice_store!(PgStore);
