//! Invoices are not built yet (the invoicing issue): their
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

pub(crate) async fn invoices(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let page = SoonPage {
        layout: None,
        title: "Invoices",
        what: "Invoices per family, sub-account or other field (PDF and CSV), with customer details, each line rounded to the currency's minor unit and the exact total beside it, delivered monthly by e-mail.",
        meanwhile: &[
            (
                "/rating",
                "Rating: what each family owes this month, exact to the last digit",
            ),
            ("/families", "Families: who is billed together"),
        ],
    };
    soon(&s, &user, "invoices", page).await
}
