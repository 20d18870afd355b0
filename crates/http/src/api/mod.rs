//! The JSON API under `/api/v1`. Authenticated with `Authorization: Bearer <API token>`.

mod accounts;
pub(crate) mod audit;
pub(crate) mod connections;
pub(crate) mod invoicing;
mod json;
pub(crate) mod page;
mod pricing;
pub(crate) mod rating;
mod tokens;
mod users;

use axum::{
    Json, Router,
    extract::FromRequestParts,
    http::request::Parts,
    routing::{get, post},
};
use be_app::Caller;

use crate::{AppState, error::ApiError};

pub(crate) use json::ApiJson;

/// Largest rules-as-code file accepted (a configuration with thousands of sub-accounts).
pub(crate) const PRICING_FILE_BYTES: usize = 8 * 1024 * 1024;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .route("/auth/tokens", post(tokens::create_with_password))
        .route("/me", get(tokens::me))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route(
            "/accounts/{id}",
            get(accounts::get)
                .patch(accounts::rename)
                .delete(accounts::delete),
        )
        .route("/accounts/{id}/registrations", post(connections::register))
        .route("/connectable-accounts", get(connections::connectable))
        .route("/administration", get(connections::administration))
        .route(
            "/connections",
            get(connections::list).post(connections::start),
        )
        .route(
            "/connections/{id}",
            get(connections::get)
                .patch(connections::update)
                .delete(connections::delete),
        )
        .route(
            "/connections/{id}/secret",
            axum::routing::put(connections::set_secret),
        )
        .route("/connections/{id}/role-grant", get(connections::role_grant))
        .route("/connections/{id}/validate", post(connections::validate))
        .route("/connections/{id}/pause", post(connections::pause))
        .route("/connections/{id}/resume", post(connections::resume))
        .route("/connections/{id}/jobs", get(connections::jobs))
        .route(
            "/connections/{id}/sync",
            get(connections::sync_status).post(connections::sync_now),
        )
        .route("/pricing", get(pricing::get))
        .route("/pricing/history", get(pricing::history))
        .route("/pricing/export", get(pricing::export))
        .route(
            "/pricing/import",
            post(pricing::import).layer(axum::extract::DefaultBodyLimit::max(PRICING_FILE_BYTES)),
        )
        .route("/families", post(pricing::create_family))
        .route(
            "/families/{id}",
            axum::routing::patch(pricing::rename_family).delete(pricing::delete_family),
        )
        .route("/families/{id}/members", post(pricing::add_members))
        .route(
            "/families/{id}/members/{sub}",
            axum::routing::delete(pricing::remove_member),
        )
        .route("/plans", post(pricing::create_plan))
        .route(
            "/plans/{id}",
            axum::routing::patch(pricing::rename_plan).delete(pricing::delete_plan),
        )
        .route("/plans/{id}/assignments", post(pricing::assign))
        .route("/plans/{id}/unassign", post(pricing::unassign))
        .route("/plans/{id}/rules", post(pricing::add_rule))
        .route(
            "/rules/{id}",
            axum::routing::put(pricing::update_rule)
                .patch(pricing::patch_rule)
                .delete(pricing::delete_rule),
        )
        .route("/strategies", axum::routing::put(pricing::set_strategy))
        .route(
            "/strategies/{from}",
            axum::routing::delete(pricing::delete_strategy),
        )
        .route(
            "/allocations/{key}",
            axum::routing::put(pricing::put_allocation).delete(pricing::delete_allocation),
        )
        .route(
            "/allocations/{key}/preview",
            post(pricing::preview_allocation),
        )
        .route("/sources", get(rating::sources))
        .route(
            "/sources/{id}",
            axum::routing::delete(rating::delete_source),
        )
        .route(
            "/imports",
            post(rating::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/periods", get(rating::periods))
        .route("/periods/{period}", get(rating::period))
        .route("/periods/{period}/rate", post(rating::rate))
        .route("/periods/{period}/totals", get(rating::totals))
        .route("/periods/{period}/lines", get(rating::lines))
        .route("/periods/{period}/what-if", post(rating::what_if))
        .route("/explain", get(rating::explain))
        .route("/analysis", post(rating::analysis))
        .route("/views", get(rating::list_views).post(rating::create_view))
        .route(
            "/views/{id}",
            get(rating::get_view)
                .put(rating::update_view)
                .delete(rating::delete_view),
        )
        .route(
            "/asset-groups",
            get(rating::list_asset_groups).post(rating::create_asset_group),
        )
        .route(
            "/asset-groups/{id}",
            axum::routing::put(rating::update_asset_group).delete(rating::delete_view),
        )
        .route("/dashboard", get(rating::dashboard))
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::csv))
        .route("/users", get(users::list))
        .route(
            "/users/{id}",
            axum::routing::patch(users::set_role).delete(users::remove),
        )
        .route("/invites", get(users::invites).post(users::invite))
        .route("/invites/{id}", axum::routing::delete(users::revoke_invite))
        .merge(invoicing_routes())
        // After every route: it guards only the routes added before it.
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::access::api_guard,
        ))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::map_response(json_errors))
}

/// Every API error is the JSON error: a rejection written in plain text by the router or an
/// extractor (a path segment that is not UTF-8, a query parameter given twice or of the wrong
/// type) becomes `{"code", "message"}` with a stable code. Headers such as `Allow` are kept.
async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    use axum::http::{StatusCode, header::CONTENT_TYPE};
    use axum::response::IntoResponse;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let mut error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            format!(
                "The request body is larger than the limit of {} bytes.",
                crate::MAX_BODY_BYTES
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "Send the body as JSON with the header 'Content-Type: application/json'.",
        ),
        s if s.is_server_error() => ApiError::internal(),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("A path or query parameter is not valid ({text}). See /api/v1/openapi.json."),
        ),
    };
    if status.is_server_error() {
        error.status = status;
    }
    let mut answer = error.into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

fn invoicing_routes() -> Router<AppState> {
    use axum::routing::{delete, put};
    Router::new()
        .route(
            "/invoice-templates",
            get(invoicing::list_templates).post(invoicing::create_template),
        )
        .route(
            "/invoice-templates/{id}",
            get(invoicing::get_template)
                .put(invoicing::update_template)
                .delete(invoicing::delete_template),
        )
        .route(
            "/invoice-templates/{id}/copy",
            post(invoicing::copy_template),
        )
        .route(
            "/customers",
            get(invoicing::list_customers).put(invoicing::put_customer),
        )
        .route("/customers/{key}", delete(invoicing::delete_customer))
        .route(
            "/invoice-runs",
            get(invoicing::list_runs).post(invoicing::create_run),
        )
        .route("/invoice-runs/{id}", get(invoicing::get_run))
        .route("/invoice-runs/{id}/finalize", post(invoicing::finalize_run))
        .route("/invoice-runs/{id}/discard", post(invoicing::discard_run))
        .route("/invoices", get(invoicing::list_invoices))
        .route("/invoices/{id}", get(invoicing::get_invoice))
        .route("/invoices/{id}/pdf", get(invoicing::invoice_pdf))
        .route("/invoices/{id}/csv", get(invoicing::invoice_csv))
        .route("/invoices/{id}/send", post(invoicing::send_invoice))
        .route("/period-locks", get(invoicing::list_locks))
        .route(
            "/period-locks/{period}",
            put(invoicing::lock).delete(invoicing::unlock),
        )
        .route("/periods/{period}/rerate", post(invoicing::rerate))
        .route("/periods/{period}/tie-out", get(invoicing::tie_out))
        .route(
            "/invoice-schedules",
            get(invoicing::list_schedules).post(invoicing::create_schedule),
        )
        .route(
            "/invoice-schedules/{id}",
            delete(invoicing::delete_schedule),
        )
}

/// The caller of an API request, from its bearer token.
pub(crate) struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(ApiCaller(caller.clone()));
        }
        // The scheme is case-insensitive (RFC 9110 11.1): `BEARER x` is as good as `Bearer x`.
        let token = crate::access::bearer(&parts.headers)
            .ok_or_else(|| ApiError::from(be_app::AppError::unauthenticated()))?;
        let mut caller = state.app.token_caller(token).await?;
        caller.address = crate::access::client_address(&parts.extensions);
        Ok(ApiCaller(caller))
    }
}
