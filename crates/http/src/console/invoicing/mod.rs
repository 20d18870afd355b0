//! The Invoices area (issue 11): runs (draft, each invoice shown as its document, finalize,
//! discard), final invoices and notes (downloads, e-mail), templates, customers, period locks
//! with re-rating and the tie-out, monthly schedules. Every page carries the area's tabs.

mod document;
mod periods;
mod runs;
mod setup;
mod sheets;

use axum::{
    Router,
    routing::{get, post},
};
use be_domain::invoicing::{DocumentKind, InvoiceState};

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/invoices", get(sheets::invoices_page))
        .route(
            "/invoices/runs",
            get(runs::runs_page).post(runs::create_run),
        )
        .route("/invoices/runs/{id}", get(runs::run_page))
        .route(
            "/invoices/runs/{id}/finalize",
            get(runs::finalize_page).post(runs::finalize),
        )
        .route("/invoices/runs/{id}/discard", post(runs::discard))
        .route("/invoices/{id}", get(sheets::invoice_page))
        .route("/invoices/{id}/pdf", get(sheets::pdf))
        .route("/invoices/{id}/csv", get(sheets::csv))
        .route("/invoices/{id}/json", get(sheets::json))
        .route("/invoices/{id}/send", post(sheets::send))
        .route(
            "/invoices/templates",
            get(setup::templates_page).post(setup::create_template),
        )
        .route("/invoices/templates/new", get(setup::new_template))
        .route(
            "/invoices/templates/{id}",
            get(setup::edit_template).post(setup::save_template),
        )
        .route("/invoices/templates/{id}/copy", post(setup::copy_template))
        .route(
            "/invoices/templates/{id}/delete",
            post(setup::delete_template),
        )
        .route(
            "/invoices/customers",
            get(setup::customers_page).post(setup::save_customer),
        )
        .route("/invoices/customers/edit", get(setup::edit_customer))
        .route(
            "/invoices/schedules",
            get(setup::schedules_page).post(setup::create_schedule),
        )
        .route(
            "/invoices/schedules/{id}/delete",
            post(setup::delete_schedule),
        )
        .route(
            "/invoices/periods",
            get(periods::locks_page).post(periods::lock),
        )
        .route("/invoices/periods/{period}/unlock", post(periods::unlock))
        .route(
            "/invoices/periods/{period}/rerate",
            get(periods::rerate_page).post(periods::rerate),
        )
        .route("/invoices/periods/{period}/tie-out", get(periods::tie_out))
}

/// The area's tabs, and which one a page belongs to.
pub(crate) struct Tabs {
    pub current: &'static str,
}

impl Tabs {
    pub(crate) const ALL: [(&'static str, &'static str, &'static str); 6] = [
        ("invoices", "/invoices", "Invoices"),
        ("runs", "/invoices/runs", "Runs"),
        ("templates", "/invoices/templates", "Templates"),
        ("customers", "/invoices/customers", "Customers"),
        ("periods", "/invoices/periods", "Periods"),
        ("schedules", "/invoices/schedules", "Schedules"),
    ];

    pub(crate) fn all(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &Self::ALL
    }
}

/// A document's kind as a badge (`Invoice`, `Credit note`).
pub(crate) fn kind_badge(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "badge plain",
        DocumentKind::CreditNote => "badge badge-ok",
        DocumentKind::DebitNote => "badge badge-warn",
    }
}

/// A run's or invoice's state as a badge class.
pub(crate) fn state_badge(state: InvoiceState) -> &'static str {
    match state {
        InvoiceState::Draft => "badge badge-warn",
        InvoiceState::Final => "badge badge-ok",
        InvoiceState::Discarded => "badge plain",
    }
}

/// A range of periods as people write it: `2026-10` or `2026-10 – 2026-12`.
pub(crate) fn range_text(from: &str, to: &str) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from} – {to}")
    }
}
