//! Console: the audit trail with filters, and its CSV download.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use be_app::AuditQuery;
use be_domain::{AuditAction, AuditKind};

use super::{
    ConsoleUser,
    pages::{Layout, error_page, layout, render, when},
};
use crate::AppState;

pub(crate) struct Row {
    at: String,
    actor: String,
    address: String,
    kind: &'static str,
    action: &'static str,
    target: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Option<Layout>,
    rows: Vec<Row>,
    kinds: Vec<&'static str>,
    actions: Vec<&'static str>,
    kind: String,
    action: String,
    actor: String,
    target: String,
    from: String,
    to: String,
    csv_link: String,
    error: Option<String>,
}

fn text(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

pub(crate) async fn audit_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AuditQuery>,
) -> Response {
    let (rows, error) = match s.app.audit_events(&user.caller, &q).await {
        Ok(events) => (
            events
                .into_iter()
                .map(|e| Row {
                    at: when(e.at),
                    actor: e.actor,
                    address: e.address.unwrap_or_default(),
                    kind: e.kind.as_str(),
                    action: e.action.as_str(),
                    target: e.target,
                    before: text(&e.before),
                    after: text(&e.after),
                })
                .collect(),
            None,
        ),
        Err(e @ be_app::AppError::Invalid(_)) => (vec![], Some(e.public_message())),
        Err(e) => return error_page(&e),
    };
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let query: Vec<(&str, String)> = [
        ("kind", v(&q.kind)),
        ("action", v(&q.action)),
        ("actor", v(&q.actor)),
        ("target", v(&q.target)),
        ("from", v(&q.from)),
        ("to", v(&q.to)),
    ]
    .into_iter()
    .filter(|(_, x)| !x.is_empty())
    .collect();
    let csv_link = format!(
        "/audit.csv?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish()
    );
    let page = AuditPage {
        layout: Some(layout(&s, &user, "audit").await),
        rows,
        kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
        actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
        kind: v(&q.kind),
        action: v(&q.action),
        actor: v(&q.actor),
        target: v(&q.target),
        from: v(&q.from),
        to: v(&q.to),
        csv_link,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

pub(crate) async fn audit_csv(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AuditQuery>,
) -> Response {
    match s.app.audit_csv(&user.caller, &q).await {
        Ok(bytes) => crate::api::audit::csv_response(bytes),
        Err(e) => error_page(&e),
    }
}
