//! Months and their locks: every rated month with its lock (why, since when, changes waiting),
//! lock and unlock, the re-rate of a locked month (a dry run of the differences per invoice and
//! line, then "Issue notes"), and the tie-out from the provider's cost to the invoiced total.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::invoicing::{InvoiceChange, LockView, Rerate, StepKind, TieOut};
use be_domain::invoicing::LockReason;
use serde::Deserialize;

use super::super::ConsoleUser;
use super::super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::super::view::{Errors, FormData, Input, Money};
use super::{Tabs, kind_badge};
use crate::{AppState, error::status_of};

pub(crate) struct MonthRow {
    period: String,
    rated: bool,
    lock: Option<LockFacts>,
}

pub(crate) struct LockFacts {
    reason: &'static str,
    since: String,
    pending: Option<String>,
}

fn lock_facts(l: &LockView) -> LockFacts {
    LockFacts {
        reason: match l.reason {
            LockReason::Invoiced => "invoiced",
            LockReason::Manual => "locked by hand",
            LockReason::ProviderClosed => "provider closed the month",
        },
        since: when(l.locked_at),
        pending: l.pending_since.map(when),
    }
}

#[derive(Template)]
#[template(path = "invoicing/periods.html")]
struct PeriodsPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    notice: Option<String>,
    months: Vec<MonthRow>,
    period: Input,
    leftover: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

async fn periods_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    period: String,
    errors: Errors,
) -> Response {
    let (locks, rating) = match tokio::try_join!(
        s.app.period_locks(&user.caller),
        s.app.rating_status(&user.caller)
    ) {
        Ok(all) => all,
        Err(e) => return error_page(&e),
    };
    let mut months: BTreeMap<String, MonthRow> = rating
        .iter()
        .map(|p| {
            let key = p.period.to_string();
            (
                key.clone(),
                MonthRow {
                    period: key,
                    rated: p.current.is_some(),
                    lock: None,
                },
            )
        })
        .collect();
    for l in &locks {
        months
            .entry(l.period.clone())
            .or_insert_with(|| MonthRow {
                period: l.period.clone(),
                rated: false,
                lock: None,
            })
            .lock = Some(lock_facts(l));
    }
    let mut page = PeriodsPage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs { current: "periods" },
        csrf: user.csrf.clone(),
        notice,
        months: months.into_values().rev().collect(),
        period: errors.input("period", period),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn locks_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = match q.notice.as_deref() {
        Some("locked") => Some("Locked: changes to this month now wait for a re-rate.".to_string()),
        Some("unlocked") => {
            Some("Unlocked: the month is rated again after every change.".to_string())
        }
        _ => None,
    };
    periods_view(
        &s,
        &user,
        StatusCode::OK,
        notice,
        String::new(),
        Errors::none(),
    )
    .await
}

pub(crate) async fn lock(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let period = FormData(form).text("period");
    match s.app.lock_period(&user.caller, &period).await {
        Ok(_) => Redirect::to("/invoices/periods?notice=locked").into_response(),
        Err(e) if !e.field_errors().is_empty() => {
            periods_view(&s, &user, status_of(&e), None, period, Errors::of(&e, &[])).await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn unlock(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
) -> Response {
    match s.app.unlock_period(&user.caller, &period).await {
        Ok(()) => Redirect::to("/invoices/periods?notice=unlocked").into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- Re-rate -----

pub(crate) struct LineDiff {
    what: String,
    before: Money,
    after: Money,
    difference: Money,
}

pub(crate) struct ChangeView {
    invoice_id: Option<String>,
    number: String,
    customer: String,
    before: Money,
    after: Money,
    difference: Money,
    settled_by: &'static str,
    badge: &'static str,
    lines: Vec<LineDiff>,
}

fn change_view(c: &InvoiceChange) -> ChangeView {
    let cur = Some(c.currency.as_str());
    ChangeView {
        invoice_id: c.invoice_id.clone(),
        number: c.number.clone().unwrap_or_else(|| "new invoice".into()),
        customer: c.customer.clone(),
        before: Money::of(c.before, cur),
        after: Money::of(c.after, cur),
        difference: Money::of(c.difference, cur),
        settled_by: c.settled_by.title(),
        badge: kind_badge(c.settled_by),
        lines: c
            .lines
            .iter()
            .map(|l| LineDiff {
                what: l.rule.clone().unwrap_or_else(|| l.values.join(" · ")),
                before: Money::of(l.before, cur),
                after: Money::of(l.after, cur),
                difference: Money::of(l.difference, cur),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "invoicing/rerate.html")]
struct ReratePage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    period: String,
    applied: bool,
    version: i32,
    changes: Vec<ChangeView>,
    issued: Vec<(String, String, String, Money)>,
}

async fn rerate_view(s: &AppState, user: &ConsoleUser, r: Rerate) -> Response {
    let page = ReratePage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs { current: "periods" },
        csrf: user.csrf.clone(),
        period: r.period.clone(),
        applied: r.applied,
        version: r.pricing_version,
        changes: r.changes.iter().map(change_view).collect(),
        issued: r
            .issued
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.number.clone().unwrap_or_default(),
                    i.customer.clone(),
                    Money::of(i.total, Some(&i.currency)),
                )
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// The dry run: what a re-rate would change, nothing issued.
pub(crate) async fn rerate_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
) -> Response {
    match s.app.rerate_period(&user.caller, &period, true).await {
        Ok(r) => rerate_view(&s, &user, r).await,
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn rerate(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
) -> Response {
    match s.app.rerate_period(&user.caller, &period, false).await {
        Ok(r) => rerate_view(&s, &user, r).await,
        Err(e) => error_page(&e),
    }
}

// ----- Tie-out -----

pub(crate) struct StepRow {
    label: String,
    kind: &'static str,
    amount: Money,
    flagged: bool,
}

pub(crate) struct CurrencyTie {
    currency: String,
    provider: Money,
    steps: Vec<StepRow>,
    invoiced: Money,
    invoices: usize,
    reconciled: bool,
}

fn kind_text(k: StepKind) -> &'static str {
    match k {
        StepKind::Uninvoiced => "outside every invoice",
        StepKind::Stage => "strategy or rule",
        StepKind::Measure => "measure",
        StepKind::Rounding => "rounding",
        StepKind::Formulas => "formula lines",
        StepKind::Unexplained => "unexplained",
    }
}

#[derive(Template)]
#[template(path = "invoicing/tie_out.html")]
struct TieOutPage {
    layout: Option<Layout>,
    tabs: Tabs,
    period: String,
    basis: &'static str,
    template: String,
    currencies: Vec<CurrencyTie>,
    reported: Option<Money>,
}

fn currency_tie(t: &be_app::invoicing::TieOutCurrency) -> CurrencyTie {
    let cur = Some(t.currency.as_str());
    CurrencyTie {
        currency: t.currency.clone(),
        provider: Money::of(t.provider_total, cur),
        steps: t
            .steps
            .iter()
            .map(|st| StepRow {
                label: st.label.clone(),
                kind: kind_text(st.kind),
                amount: Money::of(st.amount, cur),
                flagged: st.kind == StepKind::Unexplained,
            })
            .collect(),
        invoiced: Money::of(t.invoiced_total, cur),
        invoices: t.invoices,
        reconciled: t.reconciled,
    }
}

fn tie_out_page(layout: Layout, t: &TieOut) -> TieOutPage {
    TieOutPage {
        layout: Some(layout),
        tabs: Tabs { current: "periods" },
        period: t.period.clone(),
        basis: t.basis.as_str(),
        template: t.template.clone(),
        currencies: t.currencies.iter().map(currency_tie).collect(),
        reported: t.provider_reported.map(|v| Money::of(v, None)),
    }
}

pub(crate) async fn tie_out(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
) -> Response {
    match s.app.tie_out(&user.caller, &period).await {
        Ok(t) => render(
            StatusCode::OK,
            &tie_out_page(layout(&s, &user, "invoices").await, &t),
        ),
        Err(e) => error_page(&e),
    }
}
