//! The JSON API under `/api/v1`. Authenticated with `Authorization: Bearer <API token>`.

mod accounts;
pub(crate) mod connections;
mod json;
mod tokens;

use axum::{
    Json, Router,
    extract::FromRequestParts,
    http::{header, request::Parts},
    routing::{get, post},
};
use be_app::Caller;

use crate::{AppState, error::ApiError};

pub(crate) use json::ApiJson;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/auth/tokens", post(tokens::create_with_password))
        .route("/me", get(tokens::me))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route("/accounts/{id}", get(accounts::get).patch(accounts::rename).delete(accounts::delete))
        .route("/accounts/{id}/registrations", post(connections::register))
        .route("/connectable-accounts", get(connections::connectable))
        .route("/administration", get(connections::administration))
        .route("/connections", get(connections::list).post(connections::start))
        .route("/connections/{id}", get(connections::get).patch(connections::update).delete(connections::delete))
        .route("/connections/{id}/secret", axum::routing::put(connections::set_secret))
        .route("/connections/{id}/role-grant", get(connections::role_grant))
        .route("/connections/{id}/validate", post(connections::validate))
        .route("/connections/{id}/pause", post(connections::pause))
        .route("/connections/{id}/resume", post(connections::resume))
        .route("/connections/{id}/jobs", get(connections::jobs))
        .route("/connections/{id}/sync", get(connections::sync_status).post(connections::sync_now))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
}

/// The caller of an API request, from its bearer token.
pub(crate) struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(value) = header else {
            return Err(be_app::AppError::unauthenticated().into());
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::from(be_app::AppError::unauthenticated()))?;
        Ok(ApiCaller(state.app.token_caller(token).await?))
    }
}
