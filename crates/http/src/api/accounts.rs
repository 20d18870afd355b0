use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use be_domain::Account;
use serde::{Deserialize, Serialize};

use super::page::{PageParams, Paged, encode_cursor};
use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountInput {
    name: String,
}

#[derive(Serialize)]
pub(crate) struct Items<T> {
    pub items: Vec<T>,
}

/// Accounts by name, a page at a time: read by the `(organization, name_key)` index, so a page
/// costs the same with 600 accounts or 60 000. The cursor is the last name key.
pub(crate) async fn list(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: PageParams,
) -> Result<Json<Paged<Account>>, ApiError> {
    let mut items = s
        .app
        .list_accounts_after(&caller, page.after.as_deref(), page.limit + 1)
        .await?;
    let more = items.len() > page.limit;
    items.truncate(page.limit);
    let next_cursor = more
        .then(|| items.last().map(|a| encode_cursor(&a.name.key())))
        .flatten();
    Ok(Json(Paged { items, next_cursor }))
}

pub(crate) async fn create(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<AccountInput>,
) -> Result<Response, ApiError> {
    let account = s.app.create_account(&caller, &input.name).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/accounts/{}", account.id))
        .map_err(|_| ApiError::internal())?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(account),
    )
        .into_response())
}

pub(crate) async fn get(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(s.app.get_account(&caller, &id).await?))
}

pub(crate) async fn rename(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AccountInput>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(s.app.rename_account(&caller, &id, &input.name).await?))
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_account(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
