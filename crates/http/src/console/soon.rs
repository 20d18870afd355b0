//! Dashboard and Analysis are not built yet (issue 10): their
//! navigation entries lead to honest pages that say so and point to what exists today. No
//! made-up figures.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::ConsoleUser;
use super::pages::{Layout, layout, render};
use crate::AppState;

#[derive(Template)]
#[template(path = "soon.html")]
struct SoonPage {
    layout: Option<Layout>,
    title: &'static str,
    what: &'static str,
    meanwhile: &'static [(&'static str, &'static str)],
}

async fn soon(s: &AppState, user: &ConsoleUser, section: &'static str, page: SoonPage) -> Response {
    render(
        StatusCode::OK,
        &SoonPage {
            layout: Some(layout(s, user, section).await),
            ..page
        },
    )
}

pub(crate) async fn dashboard(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let page = SoonPage {
        layout: None,
        title: "Dashboard",
        what: "This month so far and last month (provider cost, billed, profit, margin), the trend over 13 months, top families, sub-accounts and services, and each connection's freshness, as charts.",
        meanwhile: &[
            (
                "/rating",
                "Rating: totals per family, sub-account and rule for every month",
            ),
            ("/connections", "Connections: each source's freshness"),
        ],
    };
    soon(&s, &user, "dashboard", page).await
}

pub(crate) async fn analysis(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let page = SoonPage {
        layout: None,
        title: "Analysis",
        what: "A pivot over rated costs: group by any FOCUS field, family, plan, allocation key or tag, with filters, one column per rule, saved views and CSV or Parquet exports.",
        meanwhile: &[
            (
                "/rating",
                "Rating: totals per family, sub-account and rule, with one column per rule",
            ),
            (
                "/pricing/code",
                "Rules as code: the whole configuration as a file",
            ),
        ],
    };
    soon(&s, &user, "analysis", page).await
}
