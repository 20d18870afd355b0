//! Invoicing over the API: templates, customers, runs (draft, finalize, discard), invoices (JSON,
//! PDF, CSV, e-mail), period locks, re-rating a locked period, the tie-out, monthly schedules.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use be_app::invoicing::{
    CustomerInput, CustomerView, DeliveryView, InvoiceView, LockView, Rerate, RunRequest, RunView,
    ScheduleInput, ScheduleView, TemplateBody, TemplateView, TieOut,
};
use serde::Deserialize;

use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

type Api<T> = Result<Json<T>, ApiError>;

pub(crate) async fn list_templates(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.invoice_templates(&c).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["name", "id"],
    )?))
}

pub(crate) async fn create_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_invoice_template(&c, body).await?),
    ))
}

pub(crate) async fn get_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Api<TemplateView> {
    Ok(Json(s.app.invoice_template(&c, &id).await?))
}

pub(crate) async fn update_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Api<TemplateView> {
    Ok(Json(s.app.update_invoice_template(&c, &id, body).await?))
}

pub(crate) async fn delete_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_invoice_template(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CopyBody {
    name: String,
}

pub(crate) async fn copy_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CopyBody>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.copy_invoice_template(&c, &id, &body.name).await?),
    ))
}

pub(crate) async fn list_customers(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.customers(&c).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["key"],
    )?))
}

pub(crate) async fn put_customer(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiJson(body): ApiJson<CustomerInput>,
) -> Api<CustomerView> {
    Ok(Json(s.app.set_customer(&c, body).await?))
}

pub(crate) async fn delete_customer(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_customer(&c, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The page parameters of runs and invoices (read by [`super::page::PageParams`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitQuery {
    #[serde(default)]
    #[allow(dead_code)]
    limit: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    cursor: Option<String>,
}

/// The newest runs and invoices pages are cut from.
const WINDOW: i64 = 10_000;

pub(crate) async fn list_runs(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
    Query(_): Query<LimitQuery>,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.invoice_runs(&c, WINDOW).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["created_at", "id"],
    )?))
}

pub(crate) async fn create_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiJson(body): ApiJson<RunRequest>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_invoice_run(&c, body).await?),
    ))
}

pub(crate) async fn get_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Api<RunView> {
    Ok(Json(s.app.invoice_run(&c, &id).await?))
}

pub(crate) async fn finalize_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Api<RunView> {
    Ok(Json(s.app.finalize_invoice_run(&c, &id).await?))
}

pub(crate) async fn discard_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Api<RunView> {
    Ok(Json(s.app.discard_invoice_run(&c, &id).await?))
}

pub(crate) async fn list_invoices(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
    Query(_): Query<LimitQuery>,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.invoices(&c, WINDOW).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["issue_date", "id"],
    )?))
}

pub(crate) async fn get_invoice(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Api<InvoiceView> {
    Ok(Json(s.app.invoice(&c, &id).await?))
}

/// A downloaded file with its name.
pub(crate) fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) async fn invoice_pdf(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (name, bytes) = s.app.invoice_pdf(&c, &id).await?;
    Ok(attachment("application/pdf", &name, bytes))
}

pub(crate) async fn invoice_csv(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (name, bytes) = s.app.invoice_csv(&c, &id).await?;
    Ok(attachment("text/csv; charset=utf-8", &name, bytes))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendBody {
    /// Addresses to send to instead of the customer's recipients.
    #[serde(default)]
    to: Vec<String>,
}

pub(crate) async fn send_invoice(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendBody>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.app.send_invoice(&c, &id, &body.to).await?),
    ))
}

pub(crate) async fn list_locks(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.period_locks(&c).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["period"],
    )?))
}

pub(crate) async fn lock(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(period): Path<String>,
) -> Api<LockView> {
    Ok(Json(s.app.lock_period(&c, &period).await?))
}

pub(crate) async fn unlock(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(period): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.unlock_period(&c, &period).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RerateBody {
    /// Show the differences without rating or issuing anything.
    #[serde(default)]
    dry_run: bool,
}

pub(crate) async fn rerate(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(period): Path<String>,
    ApiJson(body): ApiJson<RerateBody>,
) -> Api<Rerate> {
    Ok(Json(s.app.rerate_period(&c, &period, body.dry_run).await?))
}

pub(crate) async fn tie_out(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(period): Path<String>,
) -> Api<TieOut> {
    Ok(Json(s.app.tie_out(&c, &period).await?))
}

pub(crate) async fn list_schedules(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    page: super::page::PageParams,
) -> Api<super::page::Paged<serde_json::Value>> {
    let items = s.app.invoice_schedules(&c).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["name", "id"],
    )?))
}

pub(crate) async fn create_schedule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_invoice_schedule(&c, body).await?),
    ))
}

pub(crate) async fn delete_schedule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_invoice_schedule(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
