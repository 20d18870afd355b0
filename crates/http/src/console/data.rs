//! Where the cost data comes from: the Connections page (Azure billing accounts and imported
//! FOCUS sources with their months) and the Import page (a FOCUS file uploaded as a normal form,
//! streamed to disk; engine.md section 1).

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::rating::{ImportOutcome, SourcePeriod, SourcesOverview};
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Allowed as _, Layout, error_page, layout, render};
use super::upload;
use super::view::Money;
use crate::AppState;

pub(crate) struct SourceRow {
    id: String,
    name: String,
    href: Option<String>,
    state: Option<&'static str>,
    detail: String,
    periods: Vec<PeriodRow>,
}

pub(crate) struct PeriodRow {
    period: String,
    rows: i64,
    billed: Money,
    stored: String,
}

/// The months of a source, newest first.
fn period_rows(periods: impl Iterator<Item = PeriodRow>) -> Vec<PeriodRow> {
    let mut periods: Vec<PeriodRow> = periods.collect();
    periods.sort_by(|a, b| b.period.cmp(&a.period));
    periods
}

fn period_row(p: &SourcePeriod) -> PeriodRow {
    PeriodRow {
        period: p.period.clone(),
        rows: p.rows,
        billed: Money::of_text(&p.billed_total, p.currency.as_deref()),
        stored: super::pages::when(p.stored_at),
    }
}

#[derive(Template)]
#[template(path = "connections.html")]
struct ConnectionsPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    azure: Vec<SourceRow>,
    imports: Vec<SourceRow>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

async fn sources_and_admin(
    s: &AppState,
    user: &ConsoleUser,
) -> Result<(SourcesOverview, Vec<be_app::AdminRow>), AppError> {
    Ok((
        s.app.sources(&user.caller).await?,
        s.app.administration(&user.caller).await?,
    ))
}

pub(crate) async fn connections_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (sources, admin) = match sources_and_admin(&s, &user).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let azure = admin
        .iter()
        .filter_map(|r| r.connection.as_ref().map(|c| (r, c)))
        .map(|(r, c)| {
            let id = c.id.to_string();
            let stored = sources.sources.iter().find(|src| src.id == id);
            SourceRow {
                name: r.account.name.to_string(),
                href: Some(format!("/connections/{id}")),
                state: Some(c.state.as_str()),
                detail: c
                    .billing_account_id
                    .as_ref()
                    .map(|b| format!("{} {b}", c.agreement_type.map(|a| a.code()).unwrap_or("")))
                    .unwrap_or_else(|| "setup not finished".into()),
                periods: stored
                    .map(|src| period_rows(src.periods.iter().map(period_row)))
                    .unwrap_or_default(),
                id,
            }
        })
        .collect();
    let imports = sources
        .sources
        .iter()
        .filter(|src| src.kind == "focus_import")
        .map(|src| SourceRow {
            id: src.id.clone(),
            name: src.name.clone(),
            href: None,
            state: None,
            detail: "FOCUS file import".into(),
            periods: period_rows(src.periods.iter().map(period_row)),
        })
        .collect();
    let notice = (q.notice.as_deref() == Some("source-deleted")).then(|| "The import source and its months were deleted; the months are being rated again without them.".to_string());
    let page = ConnectionsPage {
        layout: Some(layout(&s, &user, "connections").await),
        csrf: user.csrf.clone(),
        notice,
        azure,
        imports,
    };
    render(StatusCode::OK, &page)
}

pub(crate) async fn delete_source(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_import_source(&user.caller, &id).await {
        Ok(()) => Redirect::to("/connections?notice=source-deleted").into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- Import -----

pub(crate) struct ImportedRow {
    period: String,
    rows: u64,
    billed: Money,
    effective: Money,
}

/// What an import did, for people.
pub(crate) struct ImportResult {
    source: String,
    file: String,
    format: String,
    periods: Vec<ImportedRow>,
    missing: Vec<String>,
    ignored: Vec<String>,
    extensions: Vec<String>,
    rounded: u64,
}

impl ImportResult {
    fn of(source: String, file: String, o: ImportOutcome) -> Self {
        let format = match o.format.as_str() {
            "csv" => "CSV",
            "csv_gzip" => "gzip CSV",
            "parquet" => "Parquet",
            other => other,
        }
        .to_string();
        ImportResult {
            source,
            file,
            format,
            periods: o
                .periods
                .iter()
                .map(|p| ImportedRow {
                    period: p.period.to_string(),
                    rows: p.rows,
                    billed: Money::of(p.billed_total, p.currency.as_deref()),
                    effective: Money::of(p.effective_total, p.currency.as_deref()),
                })
                .collect(),
            missing: o.missing_columns,
            ignored: o.ignored_columns,
            extensions: o.extensions,
            rounded: o.rounded_values,
        }
    }
}

/// An import refused: what is wrong (with file, line and column when the file is at fault), its
/// code, and what to do.
pub(crate) struct ImportProblem {
    code: String,
    message: String,
    remedy: Option<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Option<Layout>,
    csrf: String,
    source: String,
    result: Option<ImportResult>,
    problem: Option<ImportProblem>,
    file_error: Option<String>,
    source_error: Option<String>,
}

async fn import_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    page: ImportPage,
) -> Response {
    render(
        status,
        &ImportPage {
            layout: Some(layout(s, user, "import").await),
            csrf: user.csrf.clone(),
            ..page
        },
    )
}

fn blank_import(source: String) -> ImportPage {
    ImportPage {
        layout: None,
        csrf: String::new(),
        source,
        result: None,
        problem: None,
        file_error: None,
        source_error: None,
    }
}

pub(crate) async fn import_page(State(s): State<AppState>, user: ConsoleUser) -> Response {
    import_view(&s, &user, StatusCode::OK, blank_import(String::new())).await
}

pub(crate) async fn import_upload(
    State(s): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let form = match upload::read(&s, &headers, multipart, "file").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let source = form.text("source").map(str::to_string);
    let mut page = blank_import(source.clone().unwrap_or_default());
    let Some(file) = &form.file else {
        page.file_error = Some(
            form.text("file_error")
                .unwrap_or("Choose a FOCUS file (CSV, gzip CSV or Parquet).")
                .to_string(),
        );
        return import_view(&s, &user, StatusCode::UNPROCESSABLE_ENTITY, page).await;
    };
    match s
        .app
        .import_focus(&user.caller, source.as_deref(), &file.upload.0, &file.name)
        .await
    {
        Ok((source, outcome)) => {
            page.result = Some(ImportResult::of(source, file.name.clone(), outcome));
            import_view(&s, &user, StatusCode::OK, page).await
        }
        Err(e) if e.field() == Some("source") => {
            page.source_error = Some(e.public_message());
            import_view(&s, &user, crate::error::status_of(&e), page).await
        }
        Err(AppError::Engine(e)) if e.kind != be_app::PortErrorKind::Failed => {
            let status = crate::error::status_of(&AppError::Engine(e.clone()));
            page.problem = Some(ImportProblem {
                code: e.code.to_string(),
                message: e.message,
                remedy: Some(e.remedy).filter(|r| !r.is_empty()),
            });
            import_view(&s, &user, status, page).await
        }
        Err(e @ (AppError::Conflict { .. } | AppError::Invalid(_))) => {
            page.problem = Some(ImportProblem {
                code: e.code().to_string(),
                message: e.public_message(),
                remedy: None,
            });
            import_view(&s, &user, crate::error::status_of(&e), page).await
        }
        Err(e) => error_page(&e),
    }
}
