//! The pricing configuration over the API: families, plans and rules, strategies, allocations,
//! and rules as code (export, import with a dry run). Request bodies for rules, allocations and
//! strategies have the rules-as-code file's shape.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use be_app::{AssignTo, ConfigFormat, PricingImport, PricingView, RuleView};
use be_domain::pricing::file::{AllocationFile, RuleFile, StrategyFile};
use serde::{Deserialize, Serialize};

use super::{ApiCaller, ApiJson};
use crate::{AppState, error::ApiError};

pub(crate) async fn get(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<PricingView>, ApiError> {
    Ok(Json(s.app.pricing(&caller).await?.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// The page size and cursor (read by [`super::page::PageParams`]).
    #[serde(default)]
    #[allow(dead_code)]
    limit: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    cursor: Option<String>,
}

pub(crate) async fn history(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
    Query(_): Query<HistoryQuery>,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items = s.app.pricing_history(&caller, 10_000).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["version"],
    )?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    dry_run: Option<bool>,
}

fn content_type(format: ConfigFormat) -> &'static str {
    match format {
        ConfigFormat::Json => "application/json",
        ConfigFormat::Yaml => "application/yaml",
    }
}

pub(crate) async fn export(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = ConfigFormat::parse(q.format.as_deref().unwrap_or("json"))
        .map_err(be_app::AppError::from)?;
    let text = s.app.export_pricing(&caller, format).await?;
    let ext = if format == ConfigFormat::Json {
        "json"
    } else {
        "yaml"
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"pricing.{ext}\""))
        .map_err(|_| ApiError::internal())?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(format)),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

/// The file's format: `?format=`, else the body's Content-Type (JSON by default).
fn body_format(q: &FormatQuery, headers: &HeaderMap) -> Result<ConfigFormat, ApiError> {
    let declared = q.format.clone().or_else(|| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
    });
    Ok(ConfigFormat::parse(declared.as_deref().unwrap_or("json"))
        .map_err(be_app::AppError::from)?)
}

pub(crate) async fn import(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PricingImport>, ApiError> {
    let format = body_format(&q, &headers)?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            "The file is not UTF-8 text.",
        )
    })?;
    Ok(Json(
        s.app
            .import_pricing(&caller, text, format, q.dry_run.unwrap_or(false))
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameInput {
    name: String,
}

#[derive(Serialize)]
pub(crate) struct Created {
    id: String,
    name: String,
}

fn created(location: String, body: impl Serialize) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(&location).map_err(|_| ApiError::internal())?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

pub(crate) async fn create_family(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<NameInput>,
) -> Result<Response, ApiError> {
    let f = s.app.create_family(&caller, &input.name).await?;
    created(
        format!("/api/v1/families/{}", f.id),
        Created {
            id: f.id.to_string(),
            name: f.name.to_string(),
        },
    )
}

pub(crate) async fn rename_family(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NameInput>,
) -> Result<StatusCode, ApiError> {
    s.app.rename_family(&caller, &id, &input.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_family(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_family(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembersInput {
    sub_account_ids: Vec<String>,
    #[serde(default)]
    from: Option<String>,
}

pub(crate) async fn add_members(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MembersInput>,
) -> Result<StatusCode, ApiError> {
    s.app
        .add_family_members(&caller, &id, &input.sub_account_ids, input.from.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FromQuery {
    #[serde(default)]
    from: Option<String>,
}

pub(crate) async fn remove_member(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, sub)): Path<(String, String)>,
    Query(q): Query<FromQuery>,
) -> Result<StatusCode, ApiError> {
    s.app
        .remove_family_member(&caller, &id, &sub, q.from.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn create_plan(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<NameInput>,
) -> Result<Response, ApiError> {
    let p = s.app.create_plan(&caller, &input.name).await?;
    created(
        format!("/api/v1/plans/{}", p.id),
        Created {
            id: p.id.to_string(),
            name: p.name.to_string(),
        },
    )
}

pub(crate) async fn rename_plan(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NameInput>,
) -> Result<StatusCode, ApiError> {
    s.app.rename_plan(&caller, &id, &input.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_plan(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_plan(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn assign(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssignTo>,
) -> Result<StatusCode, ApiError> {
    s.app.assign_plan(&caller, &id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn unassign(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssignTo>,
) -> Result<StatusCode, ApiError> {
    s.app.unassign_plan(&caller, &id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PositionQuery {
    /// Where to insert the rule (0-based); at the end without it.
    #[serde(default)]
    position: Option<usize>,
}

pub(crate) async fn add_rule(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(plan): Path<String>,
    Query(q): Query<PositionQuery>,
    ApiJson(rule): ApiJson<RuleFile>,
) -> Result<Response, ApiError> {
    let rule = s.app.add_rule(&caller, &plan, &rule, q.position).await?;
    created(format!("/api/v1/rules/{}", rule.id), RuleView::of(&rule))
}

pub(crate) async fn update_rule(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(rule): ApiJson<RuleFile>,
) -> Result<Json<RuleView>, ApiError> {
    Ok(Json(RuleView::of(
        &s.app.update_rule(&caller, &id, &rule).await?,
    )))
}

pub(crate) async fn delete_rule(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_rule(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleState {
    #[serde(default)]
    position: Option<usize>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// Move a rule (`position`, 0-based) and/or enable or disable it.
pub(crate) async fn patch_rule(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleState>,
) -> Result<StatusCode, ApiError> {
    if let Some(p) = input.position {
        s.app.move_rule(&caller, &id, p).await?;
    }
    if let Some(e) = input.enabled {
        s.app.set_rule_enabled(&caller, &id, e).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn set_strategy(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<StrategyFile>,
) -> Result<StatusCode, ApiError> {
    s.app.set_strategy(&caller, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_strategy(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(from): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_strategy(&caller, &from).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn put_allocation(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(key): Path<String>,
    ApiJson(mut input): ApiJson<AllocationFile>,
) -> Result<Json<be_app::pricing::AllocationView>, ApiError> {
    if !input.key.trim().eq_ignore_ascii_case(key.trim()) && !input.key.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "allocation_key_mismatch",
            "The key in the body differs from the key in the path.",
        )
        .with_field("key"));
    }
    input.key = key;
    let a = s.app.put_allocation(&caller, &input).await?;
    Ok(Json(be_app::pricing::AllocationView {
        id: a.id.to_string(),
        allocation: AllocationFile::from_allocation(&a),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodQuery {
    #[serde(default)]
    period: Option<String>,
}

/// What an allocation would give on a period (default: the current month so far), unsaved.
pub(crate) async fn preview_allocation(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(key): Path<String>,
    Query(q): Query<PeriodQuery>,
    ApiJson(mut input): ApiJson<AllocationFile>,
) -> Result<Json<be_app::rating::AllocationPreview>, ApiError> {
    if input.key.trim().is_empty() {
        input.key = key;
    }
    Ok(Json(
        s.app
            .allocation_preview(&caller, &input, q.period.as_deref())
            .await?,
    ))
}

pub(crate) async fn delete_allocation(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_allocation(&caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
