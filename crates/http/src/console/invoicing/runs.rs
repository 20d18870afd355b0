//! Invoice runs: the list, the "New run" form, a draft shown one invoice per tab as its document
//! (with the totals per currency and the "outdated" warning), finalize after a confirmation page,
//! discard.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::invoicing::{HeaderField, RunRequest, RunView};
use be_domain::BillingPeriod;
use be_domain::invoicing::InvoiceState;
use serde::Deserialize;

use super::super::ConsoleUser;
use super::super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::super::view::{Errors, FormData, Input, Money, default_period, safe_segment};
use super::document::{DocView, billed};
use super::{Tabs, range_text, state_badge};
use crate::{AppState, error::status_of};

/// Parameter rows the form offers (blank ones are left out).
const PARAMETER_ROWS: usize = 3;

pub(crate) struct RunRow {
    id: String,
    created: String,
    template: String,
    period: String,
    state: &'static str,
    badge: &'static str,
    invoices: usize,
    totals: Vec<Money>,
    outdated: bool,
}

fn run_row(r: &RunView) -> RunRow {
    RunRow {
        id: r.id.clone(),
        created: when(r.created_at),
        template: r.template.clone(),
        period: range_text(&r.period_from, &r.period_to),
        state: r.state.as_str(),
        badge: state_badge(r.state),
        invoices: r.invoices.len(),
        totals: totals(r),
        outdated: r.outdated,
    }
}

fn totals(r: &RunView) -> Vec<Money> {
    r.totals
        .iter()
        .map(|(c, v)| Money::of(*v, Some(c)))
        .collect()
}

pub(crate) struct ParamRow {
    label: Input,
    value: Input,
}

#[derive(Template)]
#[template(path = "invoicing/runs.html")]
struct RunsPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    runs: Vec<RunRow>,
    templates: Vec<(String, String)>,
    template: Input,
    from: Input,
    to: Input,
    issue_date: Input,
    parameters: Vec<ParamRow>,
    leftover: Vec<String>,
}

/// What the form sent (or starts with).
#[derive(Default)]
struct Entered {
    template: String,
    from: Option<String>,
    to: String,
    issue_date: String,
    parameters: Vec<(String, String)>,
}

async fn runs_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    entered: Entered,
    errors: Errors,
) -> Response {
    let (runs, templates, rating) = match tokio::try_join!(
        s.app.invoice_runs(&user.caller, 50),
        s.app.invoice_templates(&user.caller),
        s.app.rating_status(&user.caller),
    ) {
        Ok(all) => all,
        Err(e) => return error_page(&e),
    };
    let now = BillingPeriod::of_instant(s.app.now()).previous();
    let from = entered
        .from
        .unwrap_or_else(|| default_period(rating.iter().map(|p| p.period.to_string()), now));
    let parameters = (0..PARAMETER_ROWS)
        .map(|i| {
            let (l, v) = entered.parameters.get(i).cloned().unwrap_or_default();
            ParamRow {
                label: errors.input(&format!("parameters[{i}].label"), l),
                value: errors.input(&format!("parameters[{i}].value"), v),
            }
        })
        .collect();
    let mut page = RunsPage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs { current: "runs" },
        csrf: user.csrf.clone(),
        runs: runs.iter().map(run_row).collect(),
        templates: templates
            .iter()
            .map(|t| (t.id.clone(), t.body.name.clone()))
            .collect(),
        template: errors.input("template", entered.template),
        from: errors.input("from", from),
        to: errors.input("to", entered.to),
        issue_date: errors.input("issue_date", entered.issue_date),
        parameters,
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn runs_page(State(s): State<AppState>, user: ConsoleUser) -> Response {
    runs_view(
        &s,
        &user,
        StatusCode::OK,
        Entered::default(),
        Errors::none(),
    )
    .await
}

fn entered_of(form: &FormData) -> Entered {
    Entered {
        template: form.text("template"),
        from: Some(form.text("from")),
        to: form.text("to"),
        issue_date: form.text("issue_date"),
        parameters: (0..PARAMETER_ROWS)
            .map(|i| {
                (
                    form.text(&format!("parameters[{i}].label")),
                    form.text(&format!("parameters[{i}].value")),
                )
            })
            .collect(),
    }
}

fn request_of(e: &Entered) -> RunRequest {
    RunRequest {
        template: Some(e.template.trim().to_string()).filter(|t| !t.is_empty()),
        from: e.from.clone().unwrap_or_default().trim().to_string(),
        to: Some(e.to.trim().to_string()).filter(|t| !t.is_empty()),
        issue_date: Some(e.issue_date.trim().to_string()).filter(|t| !t.is_empty()),
        parameters: e
            .parameters
            .iter()
            .filter(|(l, v)| !l.trim().is_empty() || !v.trim().is_empty())
            .map(|(label, value)| HeaderField {
                label: label.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

pub(crate) async fn create_run(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let entered = entered_of(&FormData(form));
    match s
        .app
        .create_invoice_run(&user.caller, request_of(&entered))
        .await
    {
        Ok(run) => match safe_segment(&run.id) {
            Some(id) => Redirect::to(&format!("/invoices/runs/{id}")).into_response(),
            None => Redirect::to("/invoices/runs").into_response(),
        },
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::NotFound { .. }
            | AppError::Conflict { .. }),
        ) => {
            let errors = if matches!(e, AppError::NotFound { .. }) {
                beside(&e, "template")
            } else {
                Errors::of(&e, &[("from.period", "from"), ("to.period", "to")])
            };
            runs_view(&s, &user, status_of(&e), entered, errors).await
        }
        Err(e) => error_page(&e),
    }
}

/// An error about a chosen thing, shown beside the field that chose it.
pub(crate) fn beside(e: &AppError, field: &'static str) -> Errors {
    Errors::of(
        &AppError::Invalid(be_domain::FieldError::new(
            field,
            e.code(),
            e.public_message(),
        )),
        &[],
    )
}

// ----- A run -----

pub(crate) struct InvoiceTab {
    href: String,
    label: String,
    total: Money,
    current: bool,
}

#[derive(Template)]
#[template(path = "invoicing/run.html")]
struct RunPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    run: RunRow,
    draft: bool,
    finalized: Option<String>,
    invoice_tabs: Vec<InvoiceTab>,
    doc: Option<DocView>,
    doc_link: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RunQuery {
    invoice: Option<String>,
    notice: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "finalized" => "Finalized: every invoice has its number and the periods are locked.",
            "discarded" => "Draft discarded.",
            _ => return None,
        }
        .into(),
    )
}

fn invoice_tabs(run: &RunView, chosen: &str) -> Vec<InvoiceTab> {
    run.invoices
        .iter()
        .map(|i| InvoiceTab {
            href: format!("/invoices/runs/{}?invoice={}#invoice", run.id, i.id),
            label: i.customer.clone(),
            total: billed(i.total, i.exact_total, &i.currency),
            current: i.id == chosen,
        })
        .collect()
}

pub(crate) async fn run_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<RunQuery>,
) -> Response {
    let run = match s.app.invoice_run(&user.caller, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let chosen = q
        .invoice
        .filter(|c| run.invoices.iter().any(|i| &i.id == c))
        .or_else(|| run.invoices.first().map(|i| i.id.clone()));
    let (doc, doc_link) = match chosen.as_deref() {
        Some(inv) => match s.app.invoice(&user.caller, inv).await {
            // The run's own summary knows the number a draft would take.
            Ok(v) => (
                Some(DocView::of(
                    &v.document,
                    v.summary.number.as_deref(),
                    run.invoices
                        .iter()
                        .find(|i| i.id == inv)
                        .and_then(|i| i.number_to_be.as_deref()),
                )),
                (v.summary.state == InvoiceState::Final).then(|| format!("/invoices/{inv}")),
            ),
            Err(e) => return error_page(&e),
        },
        None => (None, None),
    };
    let page = RunPage {
        layout: Some(layout(&s, &user, "invoices").await),
        tabs: Tabs { current: "runs" },
        csrf: user.csrf.clone(),
        draft: run.state == InvoiceState::Draft,
        finalized: run.finalized_at.map(when),
        invoice_tabs: invoice_tabs(&run, chosen.as_deref().unwrap_or_default()),
        run: run_row(&run),
        doc,
        doc_link,
        notice: notice_text(q.notice.as_deref()),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "invoicing/finalize.html")]
struct FinalizePage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    run: RunRow,
    numbers: Vec<(String, String, Money)>,
}

/// The confirmation before finalizing (a page, so it works without JavaScript).
pub(crate) async fn finalize_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let run = match s.app.invoice_run(&user.caller, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let numbers = run
        .invoices
        .iter()
        .map(|i| {
            (
                i.number_to_be.clone().unwrap_or_default(),
                i.customer.clone(),
                billed(i.total, i.exact_total, &i.currency),
            )
        })
        .collect();
    let page = FinalizePage {
        layout: Some(layout(&s, &user, "invoices").await),
        tabs: Tabs { current: "runs" },
        csrf: user.csrf.clone(),
        run: run_row(&run),
        numbers,
    };
    render(StatusCode::OK, &page)
}

pub(crate) async fn finalize(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.finalize_invoice_run(&user.caller, &id).await {
        Ok(run) => back_to(&run.id, "finalized"),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn discard(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.discard_invoice_run(&user.caller, &id).await {
        Ok(run) => back_to(&run.id, "discarded"),
        Err(e) => error_page(&e),
    }
}

fn back_to(run: &str, notice: &str) -> Response {
    match safe_segment(run) {
        Some(id) => Redirect::to(&format!("/invoices/runs/{id}?notice={notice}")).into_response(),
        None => Redirect::to("/invoices/runs").into_response(),
    }
}
