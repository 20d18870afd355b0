//! `/users` and `/invites`: the organization's people and their roles (owners only).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use be_app::{IssuedInvite, UserView};
use serde::Deserialize;

use super::page::{Order, PageParams, Paged, paged_json};
use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleInput {
    role: String,
    /// For a viewer: the family IDs they may see (absent or empty: all).
    #[serde(default)]
    families: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteInput {
    email: String,
    role: String,
    #[serde(default)]
    families: Option<Vec<String>>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: PageParams,
) -> Result<Json<Paged<serde_json::Value>>, ApiError> {
    let items = s.app.list_users(&caller).await?;
    Ok(Json(paged_json(
        &page,
        items,
        Order::Ascending,
        &["email", "id"],
    )?))
}

pub(crate) async fn set_role(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<UserView>, ApiError> {
    let user = s
        .app
        .set_user_role(&caller, &id, &input.role, input.families.as_deref())
        .await?;
    Ok(Json(user))
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.remove_user(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn invites(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: PageParams,
) -> Result<Json<Paged<serde_json::Value>>, ApiError> {
    let items = s.app.list_invites(&caller).await?;
    Ok(Json(paged_json(
        &page,
        items,
        Order::Descending,
        &["created_at", "id"],
    )?))
}

pub(crate) async fn invite(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<InviteInput>,
) -> Result<(StatusCode, Json<IssuedInvite>), ApiError> {
    let issued = s
        .app
        .invite_user(
            &caller,
            &input.email,
            &input.role,
            input.families.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn revoke_invite(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.revoke_invite(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
