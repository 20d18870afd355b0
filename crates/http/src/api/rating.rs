//! Sources (synced connections and imported FOCUS files), FOCUS imports (streamed uploads), and
//! rated periods: status, rate now, totals, lines, explain, what-if.

use axum::{
    Json,
    body::Body,
    extract::{Path, Query, State},
    http::StatusCode,
};
use be_app::rating::ImportOutcome;
use be_app::rating::{
    LineExplanation, LinesQuery, PeriodRating, RatedLine, SourcesOverview, TotalsBy, TotalsTable,
    WhatIf, WhatIfChange,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::{ApiCaller, ApiJson, accounts::Items};
use crate::{AppState, error::ApiError};

pub(crate) async fn sources(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<SourcesOverview>, ApiError> {
    Ok(Json(s.app.sources(&caller).await?))
}

pub(crate) async fn delete_source(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_import_source(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    /// The source's name (created when new); default "FOCUS import".
    #[serde(default)]
    source: Option<String>,
    /// The file's name, for messages (default "upload").
    #[serde(default)]
    filename: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ImportResult {
    source: String,
    #[serde(flatten)]
    outcome: ImportOutcome,
}

/// Largest FOCUS file accepted, in bytes.
pub(crate) const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024 * 1024;

/// Receive a body into a file under the uploads folder, streamed (a large file never sits in
/// memory). The file is removed when the guard drops.
pub(crate) async fn receive(s: &AppState, body: Body) -> Result<UploadGuard, ApiError> {
    store_upload(s, body.into_data_stream()).await
}

/// Write a stream of chunks (a request body, a multipart form's file) to a new file under the
/// uploads folder.
pub(crate) async fn store_upload<E>(
    s: &AppState,
    stream: impl futures_util::Stream<Item = Result<axum::body::Bytes, E>>,
) -> Result<UploadGuard, ApiError> {
    let dir = s.app.layout().uploads_dir();
    be_app::layout::create_private_dir_async(&dir)
        .await
        .map_err(|e| upload_failed(&e))?;
    let path = dir.join(uuid::Uuid::new_v4().to_string());
    let guard = UploadGuard(path.clone());
    let mut file = be_app::layout::private_file_options()
        .open(&path)
        .await
        .map_err(|e| upload_failed(&e))?;
    let mut stream = std::pin::pin!(stream);
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "The upload was interrupted; send the file again.",
            )
        })?;
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The file is larger than 50 GiB; split it by month.",
            ));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| upload_failed(&e))?;
    }
    file.flush().await.map_err(|e| upload_failed(&e))?;
    if size == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_empty_file",
            "The file is empty.",
        ));
    }
    Ok(guard)
}

fn upload_failed(e: &std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot store an upload");
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "upload_failed",
        "The server could not store the upload (disk full?); nothing was imported.",
    )
}

/// An upload on disk, removed when dropped.
pub(crate) struct UploadGuard(pub std::path::PathBuf);

impl Drop for UploadGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `POST /imports`: the body is the FOCUS file itself (CSV, gzip CSV or Parquet).
pub(crate) async fn import(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> Result<(StatusCode, Json<ImportResult>), ApiError> {
    let upload = receive(&s, body).await?;
    let name = q.filename.unwrap_or_else(|| "upload".into());
    let (source, outcome) = s
        .app
        .import_focus(&caller, q.source.as_deref(), &upload.0, &name)
        .await?;
    Ok((StatusCode::CREATED, Json(ImportResult { source, outcome })))
}

pub(crate) async fn periods(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items = s.app.rating_status(&caller).await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Descending,
        &["period"],
    )?))
}

pub(crate) async fn period(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(p): Path<String>,
) -> Result<Json<PeriodRating>, ApiError> {
    Ok(Json(s.app.period_rating(&caller, &p).await?))
}

pub(crate) async fn rate(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(p): Path<String>,
) -> Result<(StatusCode, Json<PeriodRating>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.app.rate_now(&caller, &p).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotalsQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    show_rules: Option<bool>,
}

/// Totals as JSON: each row an object of its key columns, currency, measures (exact decimals as
/// strings) and, with `show_rules`, one member per stage.
#[derive(Serialize)]
pub(crate) struct TotalsJson {
    period: String,
    by: TotalsBy,
    rating_run: be_app::rating::RunView,
    stages: Vec<be_app::rating::StageInfo>,
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
    totals: Vec<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) fn totals_json(t: TotalsTable) -> TotalsJson {
    let row = |r: &be_app::rating::TotalsRow| {
        let mut m = serde_json::Map::new();
        for (k, v) in t.key_columns.iter().zip(&r.key) {
            m.insert(
                k.clone(),
                v.clone()
                    .map(serde_json::Value::String)
                    .unwrap_or(serde_json::Value::Null),
            );
        }
        m.insert(
            "currency".into(),
            r.currency
                .clone()
                .map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        );
        for (k, v) in t.value_columns.iter().zip(&r.values) {
            m.insert(k.clone(), serde_json::Value::String(v.to_string()));
        }
        if let Some(margin) = &r.margin {
            m.insert(
                "margin_percent".into(),
                serde_json::Value::String(margin.clone()),
            );
        }
        m
    };
    TotalsJson {
        period: t.period.to_string(),
        by: t.by,
        rows: t.rows.iter().map(row).collect(),
        totals: t.totals.iter().map(row).collect(),
        rating_run: t.run.clone(),
        stages: t.stages.clone(),
    }
}

pub(crate) async fn totals(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(p): Path<String>,
    Query(q): Query<TotalsQuery>,
) -> Result<Json<TotalsJson>, ApiError> {
    let by =
        TotalsBy::parse(q.by.as_deref().unwrap_or("family")).map_err(be_app::AppError::from)?;
    Ok(Json(totals_json(
        s.app
            .totals(&caller, &p, by, q.show_rules.unwrap_or(false))
            .await?,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinesParams {
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    sub_account_id: Option<String>,
    #[serde(default)]
    new_lines: Option<bool>,
    #[serde(default)]
    limit: Option<usize>,
}

pub(crate) async fn lines(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(p): Path<String>,
    Query(q): Query<LinesParams>,
) -> Result<Json<Items<RatedLine>>, ApiError> {
    let query = LinesQuery {
        family: q.family,
        sub_account_id: q.sub_account_id,
        new_lines_only: q.new_lines.unwrap_or(false),
        limit: q.limit.unwrap_or(100),
        filter: Default::default(),
    };
    Ok(Json(Items {
        items: s.app.rated_lines(&caller, &p, query).await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainQuery {
    line: String,
}

pub(crate) async fn explain(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<ExplainQuery>,
) -> Result<Json<LineExplanation>, ApiError> {
    Ok(Json(s.app.explain_line(&caller, &q.line).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WhatIfInput {
    changes: Vec<WhatIfChange>,
}

pub(crate) async fn what_if(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(p): Path<String>,
    ApiJson(input): ApiJson<WhatIfInput>,
) -> Result<Json<WhatIf>, ApiError> {
    Ok(Json(s.app.what_if(&caller, &p, &input.changes).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalysisFormat {
    #[serde(default)]
    format: Option<String>,
}

/// `POST /analysis`: the pivot; `?format=csv` or `?format=parquet` exports the same table
/// (exact decimals).
pub(crate) async fn analysis(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(f): Query<AnalysisFormat>,
    ApiJson(query): ApiJson<be_app::rating::AnalysisQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let table = s.app.analysis(&caller, &query).await?;
    match f.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(table).into_response()),
        "csv" => {
            caller.require(be_app::Permission::Export)?;
            let bytes = table.to_csv()?;
            Ok((
                [
                    (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        "attachment; filename=\"analysis.csv\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        "parquet" => {
            let bytes = s.app.analysis_parquet(&caller, &query).await?;
            Ok((
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "application/vnd.apache.parquet",
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        "attachment; filename=\"analysis.parquet\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "format_invalid",
            format!("The format is json, csv or parquet, not {other:?}."),
        )
        .with_field("format")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViewInput {
    name: String,
    query: be_app::rating::AnalysisQuery,
}

pub(crate) async fn list_views(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items = s
        .app
        .list_views(&caller, be_domain::ViewKind::Analysis)
        .await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["name", "id"],
    )?))
}

pub(crate) async fn create_view(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<ViewInput>,
) -> Result<(StatusCode, Json<be_app::rating::SavedView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .save_view(&caller, None, &input.name, &input.query)
                .await?,
        ),
    ))
}

pub(crate) async fn get_view(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<be_app::rating::SavedView>, ApiError> {
    Ok(Json(s.app.get_view(&caller, &id).await?))
}

pub(crate) async fn update_view(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ViewInput>,
) -> Result<Json<be_app::rating::SavedView>, ApiError> {
    Ok(Json(
        s.app
            .save_view(&caller, Some(&id), &input.name, &input.query)
            .await?,
    ))
}

pub(crate) async fn delete_view(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_view(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_asset_groups(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    page: super::page::PageParams,
) -> Result<Json<super::page::Paged<serde_json::Value>>, ApiError> {
    let items = s
        .app
        .list_views(&caller, be_domain::ViewKind::AssetGroup)
        .await?;
    Ok(Json(super::page::paged_json(
        &page,
        items,
        super::page::Order::Ascending,
        &["name", "id"],
    )?))
}

pub(crate) async fn create_asset_group(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<be_app::rating::AssetGroupInput>,
) -> Result<(StatusCode, Json<be_app::rating::SavedView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.save_asset_group(&caller, None, &input).await?),
    ))
}

pub(crate) async fn update_asset_group(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<be_app::rating::AssetGroupInput>,
) -> Result<Json<be_app::rating::SavedView>, ApiError> {
    Ok(Json(
        s.app.save_asset_group(&caller, Some(&id), &input).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DashboardQuery {
    /// An asset group's ID; empty for none; absent for the default one.
    #[serde(default)]
    asset_group: Option<String>,
}

pub(crate) async fn dashboard(
    State(s): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<DashboardQuery>,
) -> Result<Json<be_app::rating::Dashboard>, ApiError> {
    Ok(Json(
        s.app.dashboard(&caller, q.asset_group.as_deref()).await?,
    ))
}
