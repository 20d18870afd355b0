//! Final invoices and notes: the list, an invoice's page (its document, PDF / CSV / JSON links,
//! the notes issued against it, its e-mail deliveries and the Send form), the downloads.

use askama::Template;
use axum::{
    Form, Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::invoicing::{DeliveryView, InvoiceSummary, InvoiceView};
use be_domain::invoicing::DeliveryState;
use serde::Deserialize;

use super::super::ConsoleUser;
use super::super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::super::view::{Errors, FormData, Input, Money, safe_segment};
use super::document::{DocView, billed};
use super::{Tabs, kind_badge, range_text};
use crate::api::invoicing::attachment;
use crate::{AppState, error::status_of};

pub(crate) struct InvoiceRow {
    id: String,
    number: String,
    kind: &'static str,
    badge: &'static str,
    customer: String,
    period: String,
    issued: String,
    total: Money,
}

fn invoice_row(i: &InvoiceSummary) -> InvoiceRow {
    InvoiceRow {
        id: i.id.clone(),
        number: i
            .number
            .clone()
            .or_else(|| i.number_to_be.clone())
            .unwrap_or_default(),
        kind: i.kind.title(),
        badge: kind_badge(i.kind),
        customer: i.customer.clone(),
        period: range_text(&i.period_from, &i.period_to),
        issued: i.issue_date.to_string(),
        total: billed(i.total, i.exact_total, &i.currency),
    }
}

#[derive(Template)]
#[template(path = "invoicing/invoices.html")]
struct InvoicesPage {
    layout: Option<Layout>,
    tabs: Tabs,
    invoices: Vec<InvoiceRow>,
}

pub(crate) async fn invoices_page(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let invoices = match s.app.invoices(&user.caller, 500).await {
        Ok(i) => i,
        Err(e) => return error_page(&e),
    };
    let page = InvoicesPage {
        layout: Some(layout(&s, &user, "invoices").await),
        tabs: Tabs {
            current: "invoices",
        },
        invoices: invoices.iter().map(invoice_row).collect(),
    };
    render(StatusCode::OK, &page)
}

pub(crate) struct DeliveryRow {
    created: String,
    recipients: String,
    state: &'static str,
    badge: &'static str,
    attempts: i32,
    answer: String,
    sent: String,
}

fn delivery_row(d: &DeliveryView) -> DeliveryRow {
    DeliveryRow {
        created: when(d.created_at),
        recipients: d.recipients.join(", "),
        state: d.state.as_str(),
        badge: match d.state {
            DeliveryState::Sent => "badge badge-ok",
            DeliveryState::Pending => "badge badge-info",
            DeliveryState::Failed => "badge badge-bad",
        },
        attempts: d.attempts,
        answer: d.server_answer.clone().unwrap_or_default(),
        sent: d.sent_at.map(when).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "invoicing/invoice.html")]
struct InvoicePage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    id: String,
    run_id: String,
    row: InvoiceRow,
    doc: DocView,
    notes: Vec<InvoiceRow>,
    related: Option<String>,
    deliveries: Vec<DeliveryRow>,
    recipients: Input,
    default_recipients: String,
    notice: Option<String>,
    leftover: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct InvoiceQuery {
    notice: Option<String>,
}

fn invoice_view(
    layout: Layout,
    user: &ConsoleUser,
    v: &InvoiceView,
    recipients: String,
    errors: &Errors,
) -> InvoicePage {
    InvoicePage {
        layout: Some(layout),
        tabs: Tabs {
            current: "invoices",
        },
        csrf: user.csrf.clone(),
        id: v.summary.id.clone(),
        run_id: v.summary.run_id.clone(),
        row: invoice_row(&v.summary),
        doc: DocView::of(
            &v.document,
            v.summary.number.as_deref(),
            v.summary.number_to_be.as_deref(),
        ),
        notes: v.notes.iter().map(invoice_row).collect(),
        related: v.summary.related_invoice.clone(),
        deliveries: v.deliveries.iter().map(delivery_row).collect(),
        recipients: errors.input("recipients", recipients),
        default_recipients: v
            .document
            .customer
            .emails
            .iter()
            .map(|e| e.as_str().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        notice: None,
        leftover: vec![],
    }
}

async fn show_invoice(
    s: &AppState,
    user: &ConsoleUser,
    id: &str,
    status: StatusCode,
    recipients: String,
    errors: Errors,
    notice: Option<String>,
) -> Response {
    let v = match s.app.invoice(&user.caller, id).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let l = layout(s, user, "invoices").await;
    let mut page = invoice_view(l, user, &v, recipients, &errors);
    page.notice = notice;
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn invoice_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<InvoiceQuery>,
) -> Response {
    let notice = (q.notice.as_deref() == Some("queued"))
        .then(|| "The e-mail is queued; its delivery is listed below.".to_string());
    show_invoice(
        &s,
        &user,
        &id,
        StatusCode::OK,
        String::new(),
        Errors::none(),
        notice,
    )
    .await
}

/// Addresses typed one per line or separated by commas.
fn addresses(raw: &str) -> Vec<String> {
    raw.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) async fn send(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let raw = FormData(form).text("recipients");
    match s
        .app
        .send_invoice(&user.caller, &id, &addresses(&raw))
        .await
    {
        Ok(_) => match safe_segment(&id) {
            Some(id) => {
                Redirect::to(&format!("/invoices/{id}?notice=queued#deliveries")).into_response()
            }
            None => Redirect::to("/invoices").into_response(),
        },
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            let errors = Errors::of(&e, &[]);
            show_invoice(&s, &user, &id, status_of(&e), raw, errors, None).await
        }
        Err(e) => error_page(&e),
    }
}

fn download(r: Result<(String, Vec<u8>), AppError>, content_type: &'static str) -> Response {
    match r {
        Ok((name, bytes)) => attachment(content_type, &name, bytes),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn pdf(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    download(
        s.app.invoice_pdf(&user.caller, &id).await,
        "application/pdf",
    )
}

pub(crate) async fn csv(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    download(
        s.app.invoice_csv(&user.caller, &id).await,
        "text/csv; charset=utf-8",
    )
}

pub(crate) async fn json(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.invoice(&user.caller, &id).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error_page(&e),
    }
}
