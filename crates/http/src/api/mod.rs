//! The JSON API under `/api/v1`. Authenticated with `Authorization: Bearer <API token>`.

mod accounts;
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
