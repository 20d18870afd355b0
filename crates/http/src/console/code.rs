//! Rules as code in the console: download the whole configuration as JSON or YAML; upload a file
//! and see what it would change (a dry run), then apply exactly that file; the history of
//! versions.

use askama::Template;
use axum::{
    extract::{Multipart, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use be_app::{AppError, ConfigFormat};
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::upload::{self, UploadForm};
use crate::AppState;

pub(crate) struct DiffLine {
    class: &'static str,
    text: String,
}

pub(crate) struct Preview {
    changes: Vec<DiffLine>,
    text: String,
    format: &'static str,
    file: String,
}

pub(crate) struct VersionRow {
    version: i32,
    summary: String,
    at: String,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    version: i32,
    updated: Option<String>,
    preview: Option<Preview>,
    file_errors: Vec<String>,
    history: Vec<VersionRow>,
}

#[derive(Deserialize)]
pub(crate) struct CodeQuery {
    notice: Option<String>,
    n: Option<usize>,
    v: Option<i32>,
}

fn format_code(f: ConfigFormat) -> &'static str {
    match f {
        ConfigFormat::Json => "json",
        ConfigFormat::Yaml => "yaml",
    }
}

async fn code_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    preview: Option<Preview>,
    file_errors: Vec<String>,
) -> Response {
    let (state, history) = match (
        s.app.pricing(&user.caller).await,
        s.app.pricing_history(&user.caller, 20).await,
    ) {
        (Ok(p), Ok(h)) => (p, h),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let page = CodePage {
        layout: Some(layout(s, user, "code").await),
        csrf: user.csrf.clone(),
        notice,
        version: state.version,
        updated: state.updated_at.map(when),
        preview,
        file_errors,
        history: history
            .into_iter()
            .map(|h| VersionRow {
                version: h.version,
                summary: h.summary,
                at: when(h.created_at),
            })
            .collect(),
    };
    render(status, &page)
}

pub(crate) async fn code_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<CodeQuery>,
) -> Response {
    let notice = match q.notice.as_deref() {
        Some("applied") => Some(format!(
            "Imported: {} change(s); the configuration is now version {}. The months concerned are being rated again.",
            q.n.unwrap_or(0),
            q.v.unwrap_or(0)
        )),
        Some("unchanged") => {
            Some("The file matches the configuration: nothing changed.".to_string())
        }
        _ => None,
    };
    code_view(&s, &user, StatusCode::OK, notice, None, vec![]).await
}

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    format: Option<String>,
}

pub(crate) async fn export(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<ExportQuery>,
) -> Response {
    let format = match ConfigFormat::parse(q.format.as_deref().unwrap_or("json")) {
        Ok(f) => f,
        Err(e) => return error_page(&AppError::Invalid(e)),
    };
    match s.app.export_pricing(&user.caller, format).await {
        Ok(text) => {
            let (content_type, name) = match format {
                ConfigFormat::Json => ("application/json", "attachment; filename=\"pricing.json\""),
                ConfigFormat::Yaml => ("application/yaml", "attachment; filename=\"pricing.yaml\""),
            };
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CONTENT_DISPOSITION, HeaderValue::from_static(name)),
                ],
                text,
            )
                .into_response()
        }
        Err(e) => error_page(&e),
    }
}

/// The file's text and format: the uploaded file, or the text sent back by "apply".
async fn file_text(form: &UploadForm) -> Result<(String, ConfigFormat, String), String> {
    let by_name = |name: &str| {
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            ConfigFormat::Yaml
        } else {
            ConfigFormat::Json
        }
    };
    if let Some(file) = &form.file {
        let len = tokio::fs::metadata(&file.upload.0)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        if len > crate::api::PRICING_FILE_BYTES as u64 {
            return Err("The file is larger than 8 MiB; a configuration file is much smaller. Is it the right file?".into());
        }
        let bytes = tokio::fs::read(&file.upload.0)
            .await
            .map_err(|_| "The file could not be read back; send it again.".to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| {
            "The file is not UTF-8 text: choose the JSON or YAML file exported here.".to_string()
        })?;
        return Ok((
            text,
            by_name(&file.name.to_ascii_lowercase()),
            file.name.clone(),
        ));
    }
    if let Some(err) = form.text("file_error") {
        return Err(err.to_string());
    }
    match (
        form.text("text"),
        form.text("format").map(ConfigFormat::parse),
    ) {
        (Some(text), Some(Ok(format))) => Ok((
            text.to_string(),
            format,
            form.text("file_name").unwrap_or("the file").to_string(),
        )),
        _ => Err("Choose a rules-as-code file (JSON or YAML).".into()),
    }
}

pub(crate) async fn upload(
    State(s): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let form = match upload::read(&s, &headers, multipart, "file").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (text, format, file) = match file_text(&form).await {
        Ok(x) => x,
        Err(message) => {
            return code_view(
                &s,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                vec![message],
            )
            .await;
        }
    };
    let apply = form.text("mode") == Some("apply");
    match s
        .app
        .import_pricing(&user.caller, &text, format, !apply)
        .await
    {
        Ok(done) if apply && done.changes.is_empty() => {
            Redirect::to("/pricing/code?notice=unchanged").into_response()
        }
        Ok(done) if apply => Redirect::to(&format!(
            "/pricing/code?notice=applied&n={}&v={}",
            done.changes.len(),
            done.version
        ))
        .into_response(),
        Ok(done) => {
            let changes = done
                .changes
                .into_iter()
                .map(|text| DiffLine {
                    class: match text.chars().next() {
                        Some('+') => "add",
                        Some('-') => "remove",
                        _ => "change",
                    },
                    text,
                })
                .collect();
            let preview = Preview {
                changes,
                text,
                format: format_code(format),
                file,
            };
            code_view(&s, &user, StatusCode::OK, None, Some(preview), vec![]).await
        }
        Err(e @ (AppError::Invalid(_) | AppError::InvalidFields(_))) => {
            // Paths name the place in the file (`plans[0].rules[0].percent`): kept whole.
            let errors = e
                .field_errors()
                .into_iter()
                .map(|f| {
                    if f.field.is_empty() || f.field == "file" {
                        f.message
                    } else {
                        format!("{}: {}", f.field, f.message)
                    }
                })
                .collect();
            code_view(&s, &user, crate::error::status_of(&e), None, None, errors).await
        }
        Err(e) => error_page(&e),
    }
}
