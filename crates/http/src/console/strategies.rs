//! Strategies (engine.md 2.1): the four organization-wide settings, effective from a billing
//! period until the next set.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_domain::BillingPeriod;
use be_domain::pricing::file::StrategyFile;
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Allowed as _, Layout, error_page, layout, render};
use super::view::{Errors, FormData, Input, default_period};
use crate::{AppState, error::status_of};

/// Each setting: its field, its label, and its choices with what they do.
pub(crate) struct Setting {
    pub input: Input,
    pub label: &'static str,
    pub choices: Choices,
}

/// A setting's choices: (value, what it does).
type Choices = &'static [(&'static str, &'static str)];

const SETTINGS: [(&str, &str, Choices); 4] = [
    (
        "credits",
        "Provider credits",
        &[
            ("show", "Show: credits lower the bill"),
            ("hide", "Hide: credits are rated 0 (you keep them)"),
        ],
    ),
    (
        "commitments",
        "Commitment discounts (reservations, savings plans)",
        &[
            ("shared", "Shared: customers get the discounted price"),
            (
                "unshared",
                "Unshared: covered usage is rated at the on-demand price; you keep the savings",
            ),
        ],
    ),
    (
        "on_demand_basis",
        "On-demand price for unshared commitments",
        &[
            (
                "contracted",
                "Contracted: the enrollment's own price (ContractedCost)",
            ),
            ("list", "List: the public price (ListCost)"),
        ],
    ),
    (
        "taxes",
        "Published taxes",
        &[("keep", "Keep"), ("remove", "Remove: tax rows are rated 0")],
    ),
];

pub(crate) struct SetRow {
    from: String,
    values: Vec<String>,
    current: bool,
}

#[derive(Template)]
#[template(path = "strategies.html")]
struct StrategiesPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    sets: Vec<SetRow>,
    from: Input,
    settings: Vec<Setting>,
    leftover: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

fn label_of(field: &str, value: &str) -> String {
    SETTINGS
        .iter()
        .find(|(f, _, _)| *f == field)
        .and_then(|(_, _, choices)| choices.iter().find(|(v, _)| *v == value))
        .map(|(_, l)| l.split(':').next().unwrap_or(l).to_string())
        .unwrap_or_else(|| value.to_string())
}

async fn strategies_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    entered: Option<&FormData>,
    errors: Errors,
) -> Response {
    let (pricing, sources) = match (
        s.app.pricing(&user.caller).await,
        s.app.sources(&user.caller).await,
    ) {
        (Ok(p), Ok(src)) => (p.view(), src),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let now = BillingPeriod::of_instant(s.app.now());
    let current = pricing
        .strategies
        .iter()
        .filter(|x| BillingPeriod::parse(&x.from).is_ok_and(|f| f <= now))
        .map(|x| x.from.clone())
        .next_back();
    let sets = pricing
        .strategies
        .iter()
        .map(|x| SetRow {
            from: x.from.clone(),
            current: Some(&x.from) == current.as_ref(),
            values: [
                ("credits", &x.credits),
                ("commitments", &x.commitments),
                ("on_demand_basis", &x.on_demand_basis),
                ("taxes", &x.taxes),
            ]
            .iter()
            .map(|(f, v)| label_of(f, v.as_deref().unwrap_or_default()))
            .collect(),
        })
        .collect();
    let latest = pricing.strategies.last();
    let value_of = |field: &str| -> String {
        if let Some(form) = entered {
            return form.text(field);
        }
        let existing = latest.and_then(|x| match field {
            "credits" => x.credits.clone(),
            "commitments" => x.commitments.clone(),
            "on_demand_basis" => x.on_demand_basis.clone(),
            _ => x.taxes.clone(),
        });
        existing.unwrap_or_else(|| {
            SETTINGS
                .iter()
                .find(|(f, _, _)| *f == field)
                .map(|(_, _, c)| c[0].0.to_string())
                .unwrap_or_default()
        })
    };
    let periods = sources
        .sources
        .iter()
        .flat_map(|src| src.periods.iter().map(|p| p.period.clone()));
    let from = entered
        .map(|f| f.text("from"))
        .unwrap_or_else(|| default_period(periods, now));
    let mut page = StrategiesPage {
        layout: Some(layout(s, user, "strategies").await),
        csrf: user.csrf.clone(),
        notice,
        sets,
        from: errors.input("from", from),
        settings: SETTINGS
            .iter()
            .map(|(field, label, choices)| Setting {
                input: errors.input(field, value_of(field)),
                label,
                choices,
            })
            .collect(),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn strategies_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = match q.notice.as_deref() {
        Some("saved") => {
            Some("Strategies saved. The months concerned are being rated again.".to_string())
        }
        Some("deleted") => Some("Strategy set removed.".to_string()),
        _ => None,
    };
    strategies_view(&s, &user, StatusCode::OK, notice, None, Errors::none()).await
}

pub(crate) async fn set_strategies(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let file = StrategyFile {
        from: form.text("from"),
        credits: form.opt("credits"),
        commitments: form.opt("commitments"),
        on_demand_basis: form.opt("on_demand_basis"),
        taxes: form.opt("taxes"),
    };
    match s.app.set_strategy(&user.caller, &file).await {
        Ok(()) => Redirect::to("/strategies?notice=saved").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::InvalidFields(_))) => {
            strategies_view(
                &s,
                &user,
                status_of(&e),
                None,
                Some(&form),
                Errors::of(&e, &[("period", "from")]),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_strategies(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(from): Path<String>,
) -> Response {
    match s.app.delete_strategy(&user.caller, &from).await {
        Ok(()) => Redirect::to("/strategies?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}
