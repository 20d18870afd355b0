use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use be_app::IssuedToken;
use be_store::ApiTokenRecord;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

#[derive(Serialize)]
pub(crate) struct TokenView {
    id: String,
    name: String,
    prefix: String,
    /// The token's role (never more than its creator's current role).
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<be_domain::Role>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
}

impl From<ApiTokenRecord> for TokenView {
    fn from(r: ApiTokenRecord) -> Self {
        TokenView {
            id: r.id.to_string(),
            name: r.name.as_str().to_string(),
            prefix: r.prefix,
            role: r.role,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// A token at creation: the one time its value is returned.
#[derive(Serialize)]
pub(crate) struct IssuedView {
    #[serde(flatten)]
    token: TokenView,
    /// The secret value. Shown once; store it now.
    token_value: String,
}

impl From<IssuedToken> for IssuedView {
    fn from(t: IssuedToken) -> Self {
        IssuedView {
            token: t.record.into(),
            token_value: t.secret,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordExchange {
    email: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenInput {
    name: String,
    /// The caller's role (default) or a narrower one.
    #[serde(default)]
    role: Option<String>,
}

pub(crate) async fn create_with_password(
    State(s): State<AppState>,
    request: axum::http::Extensions,
    ApiJson(input): ApiJson<PasswordExchange>,
) -> Result<(StatusCode, Json<IssuedView>), ApiError> {
    let name = input.name.unwrap_or_else(|| "CLI".to_string());
    let issued = s
        .app
        .create_api_token_with_password(
            &input.email,
            &input.password,
            &name,
            crate::access::client_address(&request).as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

pub(crate) async fn create(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<(StatusCode, Json<IssuedView>), ApiError> {
    let issued = s
        .app
        .create_api_token_with_role(&caller, &input.name, input.role.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: crate::api::page::PageParams,
) -> Result<Json<crate::api::page::Paged<serde_json::Value>>, ApiError> {
    let items: Vec<TokenView> = s
        .app
        .list_api_tokens(&caller)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let order = crate::api::page::Order::Descending;
    Ok(Json(crate::api::page::paged_json(
        &page,
        items,
        order,
        &["created_at", "id"],
    )?))
}

pub(crate) async fn revoke(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.revoke_api_token(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct Me {
    user_id: String,
    email: String,
    role: be_domain::Role,
    organization_id: String,
    organization_name: String,
}

pub(crate) async fn me(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<Me>, ApiError> {
    let org = s.app.organization(&caller).await?;
    Ok(Json(Me {
        user_id: caller.user_id.to_string(),
        email: caller.email.to_string(),
        role: caller.role,
        organization_id: org.id.to_string(),
        organization_name: org.name.as_str().to_string(),
    }))
}
