//! The dashboard (issue 10), the landing page after sign-in: this month so far and last month
//! (provider cost, billed, profit, margin), the 13-month trend as an SVG chart, the top families,
//! sub-accounts and services, cost by category, and each connection's freshness; under an asset
//! group (the default one unless another or none is chosen). Figures per currency, never summed
//! across currencies.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use be_app::rating::{Dashboard, MonthFigures, SavedView, TopRow};
use be_domain::{BillingPeriod, Currency, Exact, ViewKind};
use serde::Deserialize;

use super::ConsoleUser;
use super::chart::{self, Series};
use super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::view::Money;
use crate::AppState;

/// A month's figures in one currency, for people.
pub(crate) struct Figures {
    currency: String,
    provider: Money,
    billed: Money,
    profit: Money,
    margin: String,
}

impl Figures {
    fn of(m: &MonthFigures) -> Self {
        let c = m.currency.as_deref();
        Figures {
            currency: c.unwrap_or("").to_string(),
            provider: Money::of(m.provider_cost, c),
            billed: Money::of(m.billed_cost, c),
            profit: Money::of(m.profit, c),
            margin: m
                .margin
                .clone()
                .map(|p| format!("{p} %"))
                .unwrap_or("–".into()),
        }
    }
}

pub(crate) struct MonthBlock {
    id: &'static str,
    title: String,
    figures: Vec<Figures>,
}

/// A top list in one currency.
pub(crate) struct TopTable {
    id: String,
    title: String,
    currency: String,
    rows: Vec<TopLine>,
}

pub(crate) struct TopLine {
    name: String,
    billed: Money,
    provider: Money,
    profit: Money,
}

pub(crate) struct Chart {
    currency: String,
    svg: String,
}

pub(crate) struct Fresh {
    id: String,
    account: String,
    state: &'static str,
    badge: &'static str,
    last_pull: String,
    periods: usize,
}

pub(crate) struct GroupChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Option<Layout>,
    group_name: Option<String>,
    groups: Vec<GroupChoice>,
    months: Vec<MonthBlock>,
    trend: Vec<Chart>,
    top_month: Option<String>,
    tops: Vec<TopTable>,
    categories: Vec<Chart>,
    freshness: Vec<Fresh>,
    has_data: bool,
}

#[derive(Deserialize)]
pub(crate) struct DashboardQuery {
    /// An asset group's ID; empty for none; absent for the default one.
    asset_group: Option<String>,
}

fn month_name(p: BillingPeriod) -> String {
    format!("{} {}", p.month(), p.year())
}

/// `Nov 25`: a month on the chart's axis.
fn short_month(p: BillingPeriod) -> String {
    let m: String = p.month().to_string().chars().take(3).collect();
    format!("{m} {:02}", p.year() % 100)
}

fn currencies(d: &Dashboard) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = d.trend.iter().map(|m| m.currency.clone()).collect();
    out.sort();
    out.dedup();
    out
}

fn trend_charts(d: &Dashboard) -> Vec<Chart> {
    let months: Vec<BillingPeriod> =
        BillingPeriod::range(d.this_month.plus_months(-12), d.this_month).collect();
    let labels: Vec<String> = months.iter().map(|p| short_month(*p)).collect();
    currencies(d)
        .into_iter()
        .map(|c| {
            let pick = |f: fn(&MonthFigures) -> Exact| -> Vec<Exact> {
                months
                    .iter()
                    .map(|p| {
                        d.trend
                            .iter()
                            .find(|m| m.period == *p && m.currency == c)
                            .map(f)
                            .unwrap_or_default()
                    })
                    .collect()
            };
            let code = c.clone().unwrap_or_default();
            let series = [
                Series {
                    name: "Provider cost",
                    class: "s0",
                    values: pick(|m| m.provider_cost),
                },
                Series {
                    name: "Billed",
                    class: "s1",
                    values: pick(|m| m.billed_cost),
                },
            ];
            Chart {
                svg: chart::bars(
                    &format!("trend-{}", code.to_lowercase()),
                    &format!("Provider cost and billed per month, {code}"),
                    &labels,
                    &series,
                    c.as_deref().and_then(|c| Currency::parse(c).ok()),
                ),
                currency: code,
            }
        })
        .collect()
}

/// One table per currency of a top list.
fn tops(id: &str, title: &str, rows: &[TopRow]) -> Vec<TopTable> {
    let mut cs: Vec<Option<String>> = rows.iter().map(|r| r.currency.clone()).collect();
    cs.sort();
    cs.dedup();
    cs.into_iter()
        .map(|c| TopTable {
            id: format!("{id}-{}", c.clone().unwrap_or_default().to_lowercase()),
            title: title.to_string(),
            currency: c.clone().unwrap_or_default(),
            rows: rows
                .iter()
                .filter(|r| r.currency == c)
                .map(|r| TopLine {
                    name: r.name.clone().unwrap_or_else(|| "(none)".into()),
                    billed: Money::of(r.billed_cost, c.as_deref()),
                    provider: Money::of(r.provider_cost, c.as_deref()),
                    profit: Money::of(r.profit, c.as_deref()),
                })
                .collect(),
        })
        .collect()
}

fn category_charts(rows: &[TopRow]) -> Vec<Chart> {
    let mut cs: Vec<Option<String>> = rows.iter().map(|r| r.currency.clone()).collect();
    cs.sort();
    cs.dedup();
    cs.into_iter()
        .map(|c| {
            let code = c.clone().unwrap_or_default();
            let items: Vec<(String, Exact)> = rows
                .iter()
                .filter(|r| r.currency == c)
                .map(|r| {
                    (
                        r.name.clone().unwrap_or_else(|| "(none)".into()),
                        r.billed_cost,
                    )
                })
                .collect();
            Chart {
                svg: chart::ranking(
                    &format!("categories-{}", code.to_lowercase()),
                    &format!("Billed cost by category, {code}"),
                    &items,
                    c.as_deref().and_then(|c| Currency::parse(c).ok()),
                ),
                currency: code,
            }
        })
        .collect()
}

fn freshness(d: &Dashboard) -> Vec<Fresh> {
    use be_domain::ConnectionState as S;
    d.freshness
        .iter()
        .map(|f| {
            let badge = match f.state {
                S::Connected => "badge-ok",
                S::Failed => "badge-bad",
                S::Paused => "badge-warn",
                S::Draft | S::Validating => "badge-info",
            };
            Fresh {
                id: f.connection_id.clone(),
                account: f.account.clone(),
                state: f.state.as_str(),
                badge,
                last_pull: f.last_pull.map(when).unwrap_or_else(|| "never".into()),
                periods: f.periods,
            }
        })
        .collect()
}

fn group_choices(groups: &[SavedView], chosen: Option<&str>) -> Vec<GroupChoice> {
    let default = groups.iter().find(|g| g.is_default);
    let mut out = vec![
        GroupChoice {
            value: "default".into(),
            label: match default {
                Some(g) => format!("Default ({})", g.name),
                None => "Default (none set: all costs)".into(),
            },
            selected: chosen.is_none(),
        },
        GroupChoice {
            value: String::new(),
            label: "All costs".into(),
            selected: chosen == Some(""),
        },
    ];
    out.extend(groups.iter().map(|g| GroupChoice {
        value: g.id.clone(),
        label: g.name.clone(),
        selected: chosen == Some(g.id.as_str()),
    }));
    out
}

pub(crate) async fn dashboard_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<DashboardQuery>,
) -> Response {
    // "default" (the form's first choice) is the same as no choice.
    let chosen = q.asset_group.as_deref().filter(|g| *g != "default");
    let d = match s.app.dashboard(&user.caller, chosen).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let groups = match s.app.list_views(&user.caller, ViewKind::AssetGroup).await {
        Ok(g) => g,
        Err(e) => return error_page(&e),
    };
    let months = [
        ("this-month", "This month so far", d.this_month),
        ("last-month", "Last month", d.last_month),
    ]
    .into_iter()
    .map(|(id, label, p)| MonthBlock {
        id,
        title: format!("{label} · {}", month_name(p)),
        figures: d.month(p).into_iter().map(Figures::of).collect(),
    })
    .collect();
    let mut top_tables = tops("top-families", "Top families", &d.top_families);
    top_tables.extend(tops(
        "top-sub-accounts",
        "Top sub-accounts",
        &d.top_sub_accounts,
    ));
    top_tables.extend(tops("top-services", "Top services", &d.top_services));
    let page = DashboardPage {
        layout: Some(layout(&s, &user, "dashboard").await),
        group_name: d.asset_group.as_ref().map(|g| g.name.clone()),
        groups: group_choices(&groups, chosen),
        months,
        trend: trend_charts(&d),
        top_month: d.top_period.map(month_name),
        tops: top_tables,
        categories: category_charts(&d.by_category),
        freshness: freshness(&d),
        has_data: !d.trend.is_empty(),
    };
    render(StatusCode::OK, &page)
}
