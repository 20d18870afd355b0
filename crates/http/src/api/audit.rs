//! `/audit`: the audit trail (JSON) and `/audit.csv` (the same rows as CSV).

use axum::{
    Json,
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use be_app::{AuditEvent, AuditQuery};

use super::{ApiCaller, accounts::Items};
use crate::{AppState, error::ApiError};

pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Items<AuditEvent>>, ApiError> {
    Ok(Json(Items {
        items: s.app.audit_events(&caller, &q).await?,
    }))
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
