//! `/audit`: the audit trail (JSON) and `/audit.csv` (the same rows as CSV).

use axum::{
    Json,
    extract::{Query, RawQuery, State},
    http::header,
    response::{IntoResponse, Response},
};
use be_app::{AuditEvent, AuditQuery};

use super::ApiCaller;
use super::page::{Order, PageParams, Paged, paged_json};
use crate::{AppState, error::ApiError};

/// The events matching the filters, newest first, a page at a time (`limit` is the page size;
/// the filters' window holds at most 5000 events).
pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: PageParams,
    RawQuery(raw): RawQuery,
) -> Result<Json<Paged<serde_json::Value>>, ApiError> {
    let mut q: AuditQuery = super::page::own_params(raw.as_deref())?;
    q.limit = Some(5000);
    let items: Vec<AuditEvent> = s.app.audit_events(&caller, &q).await?;
    Ok(Json(paged_json(
        &page,
        items,
        Order::Descending,
        &["at", "id"],
    )?))
}

pub(crate) async fn csv(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let bytes = s.app.audit_csv(&caller, &q).await?;
    Ok(csv_response(bytes))
}

pub(crate) fn csv_response(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}
