use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use be_app::{App, ConnectionDetails, RoleGrant, Validation};
use be_domain::{JobKind, JobState, SyncOutcome};
use be_store::{ConnectionRecord, JobRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

/// A connection as the API shows it. The secret itself is never part of it.
#[derive(Serialize)]
pub(crate) struct ConnectionView {
    id: String,
    account_id: String,
    provider: be_domain::Provider,
    product: be_domain::Product,
    state: be_domain::ConnectionState,
    /// The furthest wizard step reached: login, ids, secret, grant, connect.
    step: String,
    tenant_id: Option<String>,
    tenant_guid: Option<String>,
    client_id: Option<String>,
    agreement_type: Option<be_domain::AgreementType>,
    billing_account_id: Option<String>,
    billing_account_name: Option<String>,
    principal_object_id: Option<String>,
    secret: SecretView,
    checks: Vec<be_app::Check>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_validated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize)]
struct SecretView {
    set: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    set_at: Option<OffsetDateTime>,
    expires_on: Option<String>,
    /// Present when the secret expires within 30 days or has expired.
    warning: Option<String>,
}

pub(crate) fn view(app: &App, c: &ConnectionRecord) -> ConnectionView {
    ConnectionView {
        id: c.id.to_string(),
        account_id: c.account_id.to_string(),
        provider: c.provider,
        product: c.product,
        state: c.state,
        step: c.step.clone(),
        tenant_id: c.tenant_id.as_ref().map(|t| t.to_string()),
        tenant_guid: c.tenant_guid.clone(),
        client_id: c.client_id.as_ref().map(|t| t.as_str().to_string()),
        agreement_type: c.agreement_type,
        billing_account_id: c.billing_account_id.as_ref().map(|t| t.to_string()),
        billing_account_name: c.billing_account_name.clone(),
        principal_object_id: c.principal_object_id.clone(),
        secret: SecretView {
            set: c.secret_ciphertext.is_some(),
            set_at: c.secret_set_at,
            expires_on: c.secret_expires_on.map(|d| d.to_string()),
            warning: app.secret_warning(c),
        },
        checks: App::last_checks(c),
        last_validated_at: c.last_validated_at,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartInput {
    account_id: String,
    #[serde(default = "azure")]
    provider: String,
    #[serde(default = "billing_engine")]
    product: String,
}

fn azure() -> String {
    "azure".into()
}
fn billing_engine() -> String {
    "billing_engine".into()
}

pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items: Vec<_> = s
        .app
        .list_connections(&caller)
        .await?
        .iter()
        .map(|c| view(&s.app, c))
        .collect();
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["created_at", "id"],
    )?))
}

pub(crate) async fn start(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<StartInput>,
) -> Result<Response, ApiError> {
    let c = s
        .app
        .start_connection(&caller, &input.account_id, &input.provider, &input.product)
        .await?;
    let location = HeaderValue::from_str(&format!("/api/v1/connections/{}", c.id))
        .map_err(|_| ApiError::internal())?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view(&s.app, &c)),
    )
        .into_response())
}

pub(crate) async fn get(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(view(
        &s.app,
        &s.app.get_connection(&caller, &id).await?,
    )))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(mut input): ApiJson<ConnectionDetails>,
) -> Result<Json<ConnectionView>, ApiError> {
    // The API takes what its document says: EA or MCA in any case, not the long names the
    // console and the CLI also understand (refused here as any other value is).
    if let Some(a) = &input.agreement_type
        && !a.trim().is_empty()
        && !matches!(a.trim().to_ascii_lowercase().as_str(), "ea" | "mca")
    {
        input.agreement_type = Some("not EA or MCA".into());
    }
    Ok(Json(view(
        &s.app,
        &s.app.set_connection_details(&caller, &id, &input).await?,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretInput {
    client_secret: String,
    #[serde(default)]
    expires_on: Option<String>,
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretInput([redacted])")
    }
}

pub(crate) async fn set_secret(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SecretInput>,
) -> Result<Json<ConnectionView>, ApiError> {
    let c = s
        .app
        .set_connection_secret(
            &caller,
            &id,
            &input.client_secret,
            input.expires_on.as_deref().unwrap_or(""),
        )
        .await?;
    Ok(Json(view(&s.app, &c)))
}

pub(crate) async fn role_grant(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<RoleGrant>, ApiError> {
    Ok(Json(s.app.role_grant(&caller, &id).await?))
}

pub(crate) async fn validate(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Validation>, ApiError> {
    Ok(Json(s.app.validate_connection(&caller, &id).await?))
}

pub(crate) async fn pause(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(view(
        &s.app,
        &s.app.pause_connection(&caller, &id).await?,
    )))
}

pub(crate) async fn resume(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Validation>, ApiError> {
    Ok(Json(s.app.resume_connection(&caller, &id).await?))
}

#[derive(Deserialize)]
pub(crate) struct Confirm {
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    Query(q): Query<Confirm>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_connection(&caller, &id, &q.confirm).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct JobView {
    id: String,
    kind: JobKind,
    state: JobState,
    progress_done: i32,
    progress_total: i32,
    #[serde(with = "time::serde::rfc3339")]
    run_after: OffsetDateTime,
    attempts: i32,
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        JobView {
            id: j.id.to_string(),
            kind: j.kind,
            state: j.state,
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            run_after: j.run_after,
            attempts: j.attempts,
            last_error: j.last_error,
            created_at: j.created_at,
        }
    }
}

pub(crate) async fn jobs(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
    Path(id): Path<String>,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items: Vec<JobView> = s
        .app
        .connection_jobs(&caller, &id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["created_at", "id"],
    )?))
}

#[derive(Serialize)]
pub(crate) struct AdminView {
    account: be_domain::Account,
    products: Vec<be_domain::Product>,
    connection: Option<ConnectionView>,
}

#[derive(Deserialize)]
pub(crate) struct AdminQuery {
    product: Option<String>,
}

pub(crate) async fn administration(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
    Query(q): Query<AdminQuery>,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let product = q
        .product
        .as_deref()
        .map(be_domain::Product::parse)
        .transpose()
        .map_err(be_app::AppError::from)?;
    let items: Vec<_> = s
        .app
        .administration(&caller)
        .await?
        .into_iter()
        .filter(|row| product.is_none_or(|p| row.products.contains(&p)))
        .map(|row| AdminView {
            connection: row.connection.as_ref().map(|c| view(&s.app, c)),
            account: row.account,
            products: row.products,
        })
        .collect();
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["account.name", "account.id"],
    )?))
}

pub(crate) async fn connectable(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items = s.app.connectable_accounts(&caller).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["name", "id"],
    )?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistrationInput {
    product: String,
}

pub(crate) async fn register(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RegistrationInput>,
) -> Result<StatusCode, ApiError> {
    s.app.register_product(&caller, &id, &input.product).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn sync_now(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.app.sync_now(&caller, &id).await?.into()),
    ))
}

#[derive(Serialize)]
pub(crate) struct PeriodView {
    period: String,
    rows: i64,
    /// Azure's ActualCost total and the FOCUS SUM(BilledCost): equal when reconciled.
    actual_total: String,
    billed_total: String,
    /// Azure's AmortizedCost total and the FOCUS SUM(EffectiveCost): equal when reconciled.
    amortized_total: String,
    effective_total: String,
    /// The billing currency of the period's rows (none when unknown or mixed).
    currency: Option<String>,
    reconciled: bool,
    closed: bool,
    #[serde(with = "time::serde::rfc3339")]
    pulled_at: OffsetDateTime,
}

#[derive(Serialize)]
pub(crate) struct SyncPeriodView {
    job_id: String,
    period: String,
    outcome: SyncOutcome,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    duration_ms: Option<i64>,
    rows: i64,
    bytes: i64,
    actual_total: Option<String>,
    billed_total: Option<String>,
    amortized_total: Option<String>,
    effective_total: Option<String>,
    reconciled: Option<bool>,
    error_code: Option<String>,
    error: Option<String>,
    remedy: Option<String>,
    warnings: WarningsView,
}

/// Values a pull's conversion could not use as written: how many, and the first few.
#[derive(Serialize)]
pub(crate) struct WarningsView {
    count: i64,
    examples: Vec<String>,
}

/// A period whose latest pull failed: it keeps its previous data and is pulled again.
#[derive(Serialize)]
pub(crate) struct PeriodFailureView {
    period: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    code: String,
    message: String,
    remedy: String,
    previous_kept: bool,
}

impl From<be_app::sync::PeriodFailure> for PeriodFailureView {
    fn from(f: be_app::sync::PeriodFailure) -> Self {
        Self {
            period: f.period,
            at: f.at,
            code: f.code,
            message: f.message,
            remedy: f.remedy,
            previous_kept: f.previous_kept,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct SyncView {
    /// The newest pull of any period.
    #[serde(with = "time::serde::rfc3339::option")]
    data_as_of: Option<OffsetDateTime>,
    /// The waiting or running sync, if any.
    job: Option<JobView>,
    periods: Vec<PeriodView>,
    failing: Vec<PeriodFailureView>,
    history: Vec<SyncPeriodView>,
    /// When a month is closed, in a sentence (`[sync] ea_close_days`).
    closing_rule: String,
}

pub(crate) async fn sync_status(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<SyncView>, ApiError> {
    let periods = s.app.stored_periods(&caller, &id).await?;
    let history = s.app.sync_history(&caller, &id, 200).await?;
    let failing = s.app.failing_periods(&caller, &id).await?;
    let job = s.app.active_sync(&caller, &id).await?.map(Into::into);
    Ok(Json(SyncView {
        data_as_of: periods.iter().map(|p| p.pulled_at).max(),
        job,
        closing_rule: s.app.sync_settings().closing.describe(),
        failing: failing.into_iter().map(Into::into).collect(),
        periods: periods
            .into_iter()
            .map(|p| PeriodView {
                period: p.period,
                rows: p.rows_stored,
                actual_total: p.source_total,
                billed_total: p.focus_total,
                amortized_total: p.amortized_total,
                effective_total: p.effective_total,
                currency: p.billing_currency,
                reconciled: p.reconciled,
                closed: p.closed,
                pulled_at: p.pulled_at,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|h| SyncPeriodView {
                duration_ms: h
                    .finished_at
                    .map(|f| (f - h.started_at).whole_milliseconds() as i64),
                job_id: h.job_id.to_string(),
                period: h.period,
                outcome: h.outcome,
                started_at: h.started_at,
                rows: h.rows_written,
                bytes: h.bytes_downloaded,
                actual_total: h.source_total,
                billed_total: h.focus_total,
                amortized_total: h.amortized_total,
                effective_total: h.effective_total,
                reconciled: h.reconciled,
                error_code: h.error_code,
                error: h.error_message,
                remedy: h.remedy,
                warnings: WarningsView {
                    count: h.warning_count,
                    examples: h.warnings,
                },
            })
            .collect(),
    }))
}
