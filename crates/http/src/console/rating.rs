//! Seeing the result (issue 8): every month with data and where its rating stands (pending,
//! running, rated, failed with the reason), "Rate now", totals per family, sub-account and rule
//! with one column per rule on request and a total row per currency, the rated lines, a line
//! explained stage by stage, and what-if previews that store nothing.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::rating::{LinesQuery, PeriodRating, RunView, TotalsBy, TotalsRow, TotalsTable};
use be_domain::{BillingPeriod, Exact, RatingRunState};
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::view::{Money, enc};
use crate::AppState;

/// Where a period's rating stands, for people.
pub(crate) struct Status {
    pub key: &'static str,
    pub label: &'static str,
    pub badge: &'static str,
    pub reason: Option<String>,
}

impl Status {
    fn of(p: &PeriodRating) -> Self {
        let latest = p.latest.as_ref();
        let (key, label, badge) = match latest.map(|r| r.state) {
            Some(RatingRunState::Running) => ("running", "rating now", "badge-info badge-running"),
            Some(RatingRunState::Failed) => ("failed", "failed", "badge-bad"),
            _ if p.pending => ("pending", "waiting to be rated", "badge-warn"),
            _ if p.current.is_some() => ("rated", "rated", "badge-ok"),
            _ => ("pending", "waiting to be rated", "badge-warn"),
        };
        let reason = latest
            .filter(|r| r.state == RatingRunState::Failed)
            .map(|r| {
                let mut text = r
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "The rating failed.".into());
                if p.current.is_some() {
                    text.push_str(" The previous rating is still shown.");
                }
                if p.pending {
                    text.push_str(" A new rating is queued.");
                }
                text
            });
        Status {
            key,
            label,
            badge,
            reason,
        }
    }

    /// Pages of a month that is being rated reload by themselves.
    fn busy(&self) -> bool {
        matches!(self.key, "pending" | "running")
    }
}

/// A month as "October 2026".
fn month_name(p: BillingPeriod) -> String {
    format!("{} {}", p.month(), p.year())
}

pub(crate) struct PeriodRow {
    period: String,
    name: String,
    status: Status,
    run: Option<RunFacts>,
}

pub(crate) struct RunFacts {
    rows: i64,
    new_lines: i64,
    version: i32,
    finished: String,
}

impl RunFacts {
    fn of(r: &RunView) -> Self {
        RunFacts {
            rows: r.rows_rated,
            new_lines: r.new_lines,
            version: r.pricing_version,
            finished: r.finished_at.map(when).unwrap_or_else(|| "…".into()),
        }
    }
}

#[derive(Template)]
#[template(path = "rating.html")]
struct RatingPage {
    layout: Option<Layout>,
    csrf: String,
    periods: Vec<PeriodRow>,
    busy: bool,
}

pub(crate) async fn rating_page(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let periods = match s.app.rating_status(&user.caller).await {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let periods: Vec<PeriodRow> = periods
        .iter()
        .map(|p| PeriodRow {
            period: p.period.to_string(),
            name: month_name(p.period),
            status: Status::of(p),
            run: p.current.as_ref().map(RunFacts::of),
        })
        .collect();
    let busy = periods.iter().any(|p| p.status.busy());
    let page = RatingPage {
        layout: Some(layout(&s, &user, "rating").await),
        csrf: user.csrf.clone(),
        periods,
        busy,
    };
    render(StatusCode::OK, &page)
}

pub(crate) async fn rate_now(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
) -> Response {
    match s.app.rate_now(&user.caller, &period).await {
        Ok(p) => Redirect::to(&format!("/rating/{}?notice=queued", p.period)).into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- A month's totals -----

/// A table cell: text, the exact value on hover, and how to show it.
pub(crate) struct Cell {
    text: String,
    title: Option<String>,
    num: bool,
    neg: bool,
    href: Option<String>,
    col: String,
}

impl Cell {
    fn text(col: &str, text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            title: None,
            num: false,
            neg: false,
            href: None,
            col: col.to_string(),
        }
    }

    fn money(col: &str, v: Exact, currency: Option<&str>) -> Self {
        let m = Money::of(v, currency);
        Cell {
            text: m.text,
            title: Some(m.exact),
            num: true,
            neg: m.negative,
            href: None,
            col: col.to_string(),
        }
    }
}

pub(crate) struct Header {
    label: String,
    num: bool,
    wrap: bool,
}

pub(crate) struct Row {
    key: String,
    cells: Vec<Cell>,
}

/// One table of totals, generic over what it is grouped by.
pub(crate) struct Table {
    headers: Vec<Header>,
    rows: Vec<Row>,
    foot: Vec<Row>,
}

fn key_label(column: &str) -> &str {
    match column {
        "family" => "Family",
        "sub_account_id" => "Sub-account",
        "sub_account_name" => "Name",
        "stage" => "Strategy or rule",
        "kind" => "Kind",
        "plan" => "Plan",
        other => other,
    }
}

fn measure_label(column: &str) -> &str {
    match column {
        "ProviderCost" => "Provider cost",
        "ListCost" => "List cost",
        "BilledCost" => "Billed cost",
        "EffectiveCost" => "Effective cost",
        "Profit" => "Profit",
        "Effect" => "Effect on billed cost",
        other => other,
    }
}

const MEASURES: [&str; 6] = [
    "ProviderCost",
    "ListCost",
    "BilledCost",
    "EffectiveCost",
    "Profit",
    "Effect",
];

fn totals_table(t: &TotalsTable, period: &str) -> Table {
    let mut headers: Vec<Header> = t
        .key_columns
        .iter()
        .map(|k| Header {
            label: key_label(k).to_string(),
            num: false,
            wrap: false,
        })
        .collect();
    let with_margin = t.by != TotalsBy::Rule;
    for v in &t.value_columns {
        headers.push(Header {
            label: measure_label(v).to_string(),
            num: true,
            wrap: !MEASURES.contains(&v.as_str()),
        });
        if with_margin && v == "Profit" {
            headers.push(Header {
                label: "Margin".into(),
                num: true,
                wrap: false,
            });
        }
    }
    let row = |r: &TotalsRow, foot: bool| -> Row {
        let currency = r.currency.as_deref();
        let mut cells: Vec<Cell> = t
            .key_columns
            .iter()
            .zip(&r.key)
            .enumerate()
            .map(|(i, (col, v))| {
                let mut cell = match (foot, v) {
                    (true, _) if i == 0 => {
                        Cell::text(col, format!("Total {}", currency.unwrap_or("")))
                    }
                    (true, _) => Cell::text(col, ""),
                    (false, Some(v)) => Cell::text(col, v.clone()),
                    (false, None) if col == "family" => Cell::text(col, "(no family)"),
                    (false, None) if col == "sub_account_id" => {
                        Cell::text(col, "(family-level lines)")
                    }
                    (false, None) => Cell::text(col, "—"),
                };
                if !foot
                    && col == "family"
                    && let Some(f) = v
                {
                    cell.href = Some(format!("/rating/{period}/lines?family={}", enc(f)));
                }
                if !foot
                    && col == "sub_account_id"
                    && let Some(sub) = v
                {
                    cell.href = Some(format!("/rating/{period}/lines?sub_account={}", enc(sub)));
                }
                cell
            })
            .collect();
        for (col, v) in t.value_columns.iter().zip(&r.values) {
            cells.push(Cell::money(col, *v, currency));
            if with_margin && col == "Profit" {
                let margin = r
                    .margin
                    .as_ref()
                    .map(|m| format!("{m} %"))
                    .unwrap_or_else(|| "—".into());
                cells.push(Cell {
                    neg: margin.starts_with('-'),
                    num: true,
                    ..Cell::text("margin", margin)
                });
            }
        }
        let key = r.key.first().cloned().flatten().unwrap_or_else(|| {
            if foot {
                format!("total-{}", currency.unwrap_or(""))
            } else {
                "(none)".into()
            }
        });
        Row { key, cells }
    };
    Table {
        headers,
        rows: t.rows.iter().map(|r| row(r, false)).collect(),
        foot: t.totals.iter().map(|r| row(r, true)).collect(),
    }
}

/// The month at a glance, per currency.
pub(crate) struct Kpis {
    currency: String,
    provider: Money,
    billed: Money,
    profit: Money,
    margin: String,
}

fn kpis(t: &TotalsTable) -> Vec<Kpis> {
    t.totals
        .iter()
        .map(|r| {
            let c = r.currency.as_deref();
            let v = |col: &str| r.value(t, col).unwrap_or(Exact::ZERO);
            Kpis {
                currency: c.unwrap_or("").to_string(),
                provider: Money::of(v("ProviderCost"), c),
                billed: Money::of(v("BilledCost"), c),
                profit: Money::of(v("Profit"), c),
                margin: r
                    .margin
                    .as_ref()
                    .map(|m| format!("{m} %"))
                    .unwrap_or_else(|| "—".into()),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "period.html")]
struct PeriodPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    period: String,
    name: String,
    status: Status,
    run: Option<RunFacts>,
    by: &'static str,
    show_rules: bool,
    table: Option<Table>,
    kpis: Vec<Kpis>,
    unavailable: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PeriodQuery {
    by: Option<String>,
    rules: Option<String>,
    notice: Option<String>,
}

fn by_code(by: TotalsBy) -> &'static str {
    match by {
        TotalsBy::Family => "family",
        TotalsBy::SubAccount => "sub_account",
        TotalsBy::Rule => "rule",
    }
}

pub(crate) async fn period_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let rating = match s.app.period_rating(&user.caller, &period).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let by =
        q.by.as_deref()
            .and_then(|b| TotalsBy::parse(b).ok())
            .unwrap_or(TotalsBy::Family);
    let show_rules = q.rules.as_deref() == Some("1") && by != TotalsBy::Rule;
    let key = rating.period.to_string();
    let (table, kpi, unavailable) = match s.app.totals(&user.caller, &key, by, show_rules).await {
        Ok(t) => {
            // The figures at a glance are the month's totals, whatever the grouping.
            let glance = if by == TotalsBy::Family {
                kpis(&t)
            } else {
                s.app
                    .totals(&user.caller, &key, TotalsBy::Family, false)
                    .await
                    .map(|f| kpis(&f))
                    .unwrap_or_default()
            };
            (Some(totals_table(&t, &key)), glance, None)
        }
        Err(AppError::NotFound { .. }) => (None, vec![], None),
        Err(e @ (AppError::Conflict { .. } | AppError::Engine(_))) => {
            (None, vec![], Some(e.public_message()))
        }
        Err(e) => return error_page(&e),
    };
    let page = PeriodPage {
        layout: Some(layout(&s, &user, "rating").await),
        csrf: user.csrf.clone(),
        notice: (q.notice.as_deref() == Some("queued"))
            .then(|| "Rating queued: this page refreshes until it is done.".to_string()),
        period: key,
        name: month_name(rating.period),
        status: Status::of(&rating),
        run: rating.current.as_ref().map(RunFacts::of),
        by: by_code(by),
        show_rules,
        table,
        kpis: kpi,
        unavailable,
    };
    render(StatusCode::OK, &page)
}

// ----- Lines and explain -----

pub(crate) struct LineRow {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) family: String,
    pub(crate) sub: String,
    pub(crate) what: String,
    pub(crate) provider: Money,
    pub(crate) billed: Money,
}

impl LineRow {
    pub(crate) fn of(l: be_app::rating::RatedLine) -> Self {
        let c = l.currency.as_deref();
        LineRow {
            family: l.family.clone().unwrap_or_default(),
            sub: l.sub_account_id.clone().unwrap_or_default(),
            what: [l.service.as_deref(), l.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            provider: Money::of(l.provider_cost, c),
            billed: Money::of(l.billed_cost, c),
            href: format!("/explain?line={}", enc(&l.line_id)),
            id: l.line_id,
        }
    }
}

#[derive(Template)]
#[template(path = "lines.html")]
struct LinesPage {
    layout: Option<Layout>,
    period: String,
    name: String,
    family: String,
    sub_account: String,
    new_only: bool,
    limit: usize,
    families: Vec<String>,
    lines: Vec<LineRow>,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LinesParams {
    family: Option<String>,
    sub_account: Option<String>,
    new: Option<String>,
    limit: Option<usize>,
}

pub(crate) async fn lines_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
    Query(q): Query<LinesParams>,
) -> Response {
    let p = match BillingPeriod::parse(&period) {
        Ok(p) => p,
        Err(e) => return error_page(&AppError::Invalid(e)),
    };
    let non_empty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let query = LinesQuery {
        family: non_empty(&q.family),
        sub_account_id: non_empty(&q.sub_account),
        new_lines_only: q.new.is_some(),
        limit,
        filter: Default::default(),
    };
    let (lines, problem) = match s.app.rated_lines(&user.caller, &period, query).await {
        Ok(lines) => (lines, None),
        Err(
            e @ (AppError::NotFound { .. }
            | AppError::Conflict { .. }
            | AppError::Engine(_)
            | AppError::Invalid(_)),
        ) => (vec![], Some(e.public_message())),
        Err(e) => return error_page(&e),
    };
    let families = s
        .app
        .pricing(&user.caller)
        .await
        .map(|st| st.view().families.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    let page = LinesPage {
        layout: Some(layout(&s, &user, "rating").await),
        period: p.to_string(),
        name: month_name(p),
        family: non_empty(&q.family).unwrap_or_default(),
        sub_account: non_empty(&q.sub_account).unwrap_or_default(),
        new_only: q.new.is_some(),
        limit,
        families,
        lines: lines.into_iter().map(LineRow::of).collect(),
        problem,
    };
    render(StatusCode::OK, &page)
}

pub(crate) struct StageRow {
    label: String,
    kind: String,
    effect: Option<Money>,
    after: Money,
}

#[derive(Template)]
#[template(path = "explain.html")]
struct ExplainPage {
    layout: Option<Layout>,
    line: String,
    period: String,
    facts: Vec<(String, String)>,
    provider: Money,
    billed: Money,
    effective: Money,
    splits: Vec<(String, String, String)>,
    stages: Vec<StageRow>,
    source: Vec<(String, String)>,
    source_note: Option<String>,
    rated: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub(crate) struct ExplainQuery {
    line: String,
}

/// The columns a person looks at first, in this order.
const FACTS: [(&str, &str); 9] = [
    ("BillingFamilyName", "Family"),
    ("SubAccountId", "Sub-account"),
    ("SubAccountName", "Sub-account name"),
    ("x_PlanName", "Plan"),
    ("ServiceName", "Service"),
    ("ChargeCategory", "Charge category"),
    ("ChargeDescription", "Description"),
    ("ResourceId", "Resource"),
    ("BillingCurrency", "Currency"),
];

pub(crate) async fn explain_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let e = match s.app.explain_line(&user.caller, &q.line).await {
        Ok(e) => e,
        Err(e) => return error_page(&e),
    };
    let cell = |pairs: &[(String, Option<String>)], name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.clone())
    };
    let currency = cell(&e.rated, "BillingCurrency");
    let c = currency.as_deref();
    let shown = |pairs: &[(String, Option<String>)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
            .collect()
    };
    let page = ExplainPage {
        layout: Some(layout(&s, &user, "rating").await),
        line: e.line_id.clone(),
        period: e.period.to_string(),
        facts: FACTS
            .iter()
            .filter_map(|(col, label)| {
                cell(&e.rated, col)
                    .filter(|v| !v.is_empty())
                    .map(|v| (label.to_string(), v))
            })
            .collect(),
        provider: Money::of(e.provider_cost, c),
        billed: Money::of(e.billed_cost, c),
        effective: Money::of(e.effective_cost, c),
        splits: e
            .splits
            .iter()
            .map(|sp| (sp.key.clone(), sp.value.clone(), sp.percent.clone()))
            .collect(),
        stages: e
            .stages
            .iter()
            .map(|st| StageRow {
                label: st.label.clone(),
                kind: st.kind.clone(),
                effect: st.effect.map(|v| Money::of(v, c)),
                after: Money::of(st.billed_after, c),
            })
            .collect(),
        source: e
            .source
            .as_deref()
            .map(shown)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        source_note: e.source_note.clone(),
        rated: shown(&e.rated),
    };
    render(StatusCode::OK, &page)
}

pub(crate) use super::what_if::what_if_page;
