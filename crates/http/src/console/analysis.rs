//! The analysis page (issue 10): a pivot over rated periods. The form is a GET form, so the page's
//! address is the analysis (shareable, bookmarkable) and it works without JavaScript: condition
//! rows are added and removed by buttons that send the form again. Nested groups with subtotals
//! (app.js collapses them), a total per currency, exports of the current table, saved views
//! opened by URL inside the organization.

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::rating::{AnalysisQuery, AnalysisRow, AnalysisTable, MEASURES, SavedView};
use be_domain::{BillingPeriod, ViewKind};

use super::ConsoleUser;
use super::conditions::{self, ConditionsView, OPERATORS, Sets};
use super::pages::{Layout, error_page, layout, render};
use super::view::{Errors, FormData, Input, Money, enc, safe_segment};
use crate::AppState;

/// How many grouping levels the form offers.
const LEVELS: usize = 3;

/// The form as typed (or as a saved view holds it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
    from: String,
    to: String,
    group_by: Vec<String>,
    sets: Sets,
    measures: Vec<String>,
    show_rules: bool,
    sort: String,
    ascending: bool,
    top: String,
    /// `default`, empty for none, or an asset group's ID.
    asset_group: String,
}

impl Draft {
    fn from_form(f: &FormData) -> Self {
        Draft {
            from: f.text("from").trim().to_string(),
            to: f.text("to").trim().to_string(),
            group_by: f
                .all("group_by")
                .into_iter()
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect(),
            sets: conditions::from_form(f, ""),
            measures: f.all("measures"),
            show_rules: f.get("show_rules").is_some(),
            sort: f.text("sort").trim().to_string(),
            ascending: f.get("ascending").is_some(),
            top: f.text("top").trim().to_string(),
            asset_group: f.get("asset_group").unwrap_or("default").to_string(),
        }
    }

    fn from_query(q: &AnalysisQuery) -> Self {
        Draft {
            from: q.from.clone(),
            to: q.to.clone(),
            group_by: q.group_by.clone(),
            sets: conditions::from_file(&q.filter),
            measures: q.measures.clone(),
            show_rules: q.show_rules,
            sort: q.sort.clone().unwrap_or_default(),
            ascending: q.ascending,
            top: q.top.map(|n| n.to_string()).unwrap_or_default(),
            asset_group: q.asset_group.clone().unwrap_or_default(),
        }
    }

    fn query(&self) -> Result<AnalysisQuery, AppError> {
        let top = match self.top.as_str() {
            "" => None,
            t => Some(t.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                AppError::Invalid(be_domain::FieldError::new(
                    "top",
                    "top_invalid",
                    format!("Top N is a whole number of groups above 0, not {t:?}."),
                ))
            })?),
        };
        Ok(AnalysisQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            group_by: self.group_by.clone(),
            filter: conditions::to_file(&self.sets),
            measures: self.measures.clone(),
            show_rules: self.show_rules,
            sort: Some(self.sort.clone()).filter(|s| !s.is_empty()),
            ascending: self.ascending,
            top,
            asset_group: Some(self.asset_group.clone()).filter(|g| !g.is_empty()),
        })
    }

    /// The form's fields as a query string: the page's address for this analysis.
    fn url_query(&self) -> String {
        let mut pairs: Vec<(String, String)> = vec![
            ("from".into(), self.from.clone()),
            ("to".into(), self.to.clone()),
        ];
        pairs.extend(self.group_by.iter().map(|g| ("group_by".into(), g.clone())));
        for (i, set) in self.sets.iter().enumerate() {
            for (j, c) in set.iter().enumerate() {
                let p = format!("when[{i}][{j}]");
                pairs.push((format!("{p}.on"), c.on.clone()));
                pairs.push((format!("{p}.name"), c.name.clone()));
                pairs.push((format!("{p}.op"), c.op.clone()));
                pairs.push((format!("{p}.value"), c.value.clone()));
            }
        }
        pairs.extend(self.measures.iter().map(|m| ("measures".into(), m.clone())));
        if self.show_rules {
            pairs.push(("show_rules".into(), "1".into()));
        }
        if !self.sort.is_empty() {
            pairs.push(("sort".into(), self.sort.clone()));
        }
        if self.ascending {
            pairs.push(("ascending".into(), "1".into()));
        }
        if !self.top.is_empty() {
            pairs.push(("top".into(), self.top.clone()));
        }
        pairs.push(("asset_group".into(), self.asset_group.clone()));
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub(crate) struct Choice {
    value: String,
    label: String,
    selected: bool,
}

pub(crate) struct Header {
    label: String,
    num: bool,
}

pub(crate) struct CellView {
    text: String,
    title: String,
    neg: bool,
}

pub(crate) struct RowView {
    level: usize,
    path: String,
    parent: String,
    label: String,
    currency: String,
    cells: Vec<CellView>,
    margin: String,
    rows: i64,
    subtotal: bool,
    others: bool,
    /// The rated rows behind the row.
    drill: Option<String>,
}

pub(crate) struct TableView {
    headers: Vec<Header>,
    rows: Vec<RowView>,
    totals: Vec<RowView>,
    margin: bool,
    nested: bool,
}

#[derive(Template)]
#[template(path = "analysis.html")]
struct AnalysisPage {
    layout: Option<Layout>,
    csrf: String,
    from: Input,
    to: Input,
    group_by: Vec<Input>,
    group_error: Option<String>,
    conditions: ConditionsView,
    ops: &'static [(&'static str, &'static str)],
    suggestions: Vec<String>,
    measures: Vec<Choice>,
    measures_error: Option<String>,
    show_rules: bool,
    sort: Input,
    sort_options: Vec<Choice>,
    ascending: bool,
    top: Input,
    groups: Vec<Choice>,
    unclaimed: Vec<String>,
    table: Option<TableView>,
    unrated: Vec<String>,
    query: String,
    views: Vec<SavedView>,
    view: Option<SavedView>,
    save_name: Input,
    notice: Option<String>,
}

fn measure_label(m: &str) -> String {
    match m {
        "ProviderCost" => "Provider cost".into(),
        "ListCost" => "List cost".into(),
        "BilledCost" => "Billed cost".into(),
        "EffectiveCost" => "Effective cost".into(),
        "ConsumedQuantity" => "Consumed quantity".into(),
        "PricingQuantity" => "Pricing quantity".into(),
        other => other.into(),
    }
}

fn row_view(t: &AnalysisTable, r: &AnalysisRow, base: &str, alloc_keys: &[String]) -> RowView {
    let currency = r.currency.as_deref();
    let path_of = |keys: &[Option<String>]| {
        keys.iter()
            .map(|k| enc(k.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("/")
    };
    let label = if r.others {
        "Others".to_string()
    } else if r.level == 0 {
        format!("Total {}", currency.unwrap_or(""))
    } else {
        r.keys
            .get(r.level - 1)
            .cloned()
            .flatten()
            .unwrap_or_else(|| {
                // No value of an allocation key: the cost no entry took.
                let dim = t
                    .group_by
                    .get(r.level - 1)
                    .map(String::as_str)
                    .unwrap_or("");
                if alloc_keys.iter().any(|k| k == dim) {
                    "(unallocated)".into()
                } else {
                    "(none)".into()
                }
            })
    };
    let cells = t
        .columns
        .iter()
        .zip(&r.values)
        .map(|(col, v)| {
            let quantity = col.ends_with("Quantity");
            let m = Money::of(*v, if quantity { None } else { currency });
            CellView {
                text: m.text,
                title: m.exact,
                neg: m.negative,
            }
        })
        .collect();
    let keys = &r.keys[..r.level.min(r.keys.len())];
    let drill = (!r.others).then(|| {
        let mut href = format!("/analysis/rows?{base}");
        for k in keys {
            href.push_str(&format!("&key={}", enc(k.as_deref().unwrap_or(""))));
        }
        href + &format!("&currency={}", enc(currency.unwrap_or("")))
    });
    RowView {
        drill,
        level: r.level,
        path: format!("{}|{}", currency.unwrap_or(""), path_of(keys)),
        parent: format!(
            "{}|{}",
            currency.unwrap_or(""),
            path_of(&keys[..keys.len().saturating_sub(1)])
        ),
        label,
        currency: currency.unwrap_or("").to_string(),
        cells,
        margin: r
            .margin
            .clone()
            .map(|m| format!("{m} %"))
            .unwrap_or("–".into()),
        rows: r.rows,
        subtotal: r.subtotal,
        others: r.others,
    }
}

fn table_view(t: &AnalysisTable, base: &str, alloc_keys: &[String]) -> TableView {
    let mut headers = vec![Header {
        label: if t.group_by.is_empty() {
            "Group".into()
        } else {
            t.group_by.join(" › ")
        },
        num: false,
    }];
    headers.push(Header {
        label: "Currency".into(),
        num: false,
    });
    headers.extend(t.columns.iter().map(|c| Header {
        label: measure_label(c),
        num: true,
    }));
    TableView {
        headers,
        rows: t
            .rows
            .iter()
            .map(|r| row_view(t, r, base, alloc_keys))
            .collect(),
        totals: t
            .totals
            .iter()
            .map(|r| row_view(t, r, base, alloc_keys))
            .collect(),
        margin: t.rows.iter().chain(&t.totals).any(|r| r.margin.is_some())
            || t.query.measures.is_empty()
            || t.query
                .measures
                .iter()
                .any(|m| m.eq_ignore_ascii_case("Margin")),
        nested: t.group_by.len() > 1,
    }
}

/// The latest rated month (the range the page opens on), else this month.
async fn latest_rated(s: &AppState, user: &ConsoleUser) -> String {
    let now = BillingPeriod::of_instant(time::OffsetDateTime::now_utc());
    s.app
        .rating_status(&user.caller)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|p| p.current.is_some())
        .map(|p| p.period)
        .max()
        .unwrap_or(now)
        .to_string()
}

fn choices(draft: &Draft, groups: &[SavedView]) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let chosen: Vec<String> = if draft.measures.is_empty() {
        [
            "ProviderCost",
            "BilledCost",
            "EffectiveCost",
            "Profit",
            "Margin",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    } else {
        draft.measures.clone()
    };
    let measures = MEASURES
        .iter()
        .map(|m| Choice {
            value: m.to_string(),
            label: measure_label(m),
            selected: chosen.iter().any(|c| c.eq_ignore_ascii_case(m)),
        })
        .collect();
    let mut sort: Vec<Choice> = vec![Choice {
        value: String::new(),
        label: "Billed cost (default)".into(),
        selected: draft.sort.is_empty(),
    }];
    let mut names: Vec<(String, String)> = MEASURES
        .iter()
        .filter(|m| **m != "Margin")
        .map(|m| (m.to_string(), measure_label(m)))
        .collect();
    names.extend(
        draft
            .group_by
            .first()
            .map(|g| (g.clone(), format!("Name ({g}), A to Z"))),
    );
    if !draft.sort.is_empty() && !names.iter().any(|(v, _)| *v == draft.sort) {
        names.push((draft.sort.clone(), draft.sort.clone()));
    }
    sort.extend(names.into_iter().map(|(value, label)| Choice {
        selected: value == draft.sort,
        value,
        label,
    }));
    let default = groups.iter().find(|g| g.is_default);
    let mut gs = vec![
        Choice {
            value: "default".into(),
            label: default.map_or("Default (none set: all costs)".into(), |g| {
                format!("Default ({})", g.name)
            }),
            selected: draft.asset_group == "default",
        },
        Choice {
            value: String::new(),
            label: "All costs".into(),
            selected: draft.asset_group.is_empty(),
        },
    ];
    gs.extend(groups.iter().map(|g| Choice {
        value: g.id.clone(),
        label: g.name.clone(),
        selected: draft.asset_group == g.id,
    }));
    (measures, sort, gs)
}

/// What the page shows besides the form: the table (or the error that stopped it).
struct Outcome {
    table: Option<AnalysisTable>,
    errors: Errors,
}

async fn run(s: &AppState, user: &ConsoleUser, draft: &Draft) -> Result<Outcome, Response> {
    let result = match draft.query() {
        Ok(q) => s.app.analysis(&user.caller, &q).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Ok(Outcome {
            table: Some(t),
            errors: Errors::none(),
        }),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::NotFound { .. }
            | AppError::Conflict { .. }
            | AppError::Engine(_)),
        ) => Ok(Outcome {
            table: None,
            errors: Errors::of(&e, &[]).renamed_head("filter", "when"),
        }),
        Err(e) => Err(error_page(&e)),
    }
}

struct Extra {
    view: Option<SavedView>,
    save_name: Input,
    notice: Option<String>,
}

async fn page(
    s: &AppState,
    user: &ConsoleUser,
    draft: Draft,
    outcome: Outcome,
    extra: Extra,
) -> Response {
    let groups = s
        .app
        .list_views(&user.caller, ViewKind::AssetGroup)
        .await
        .unwrap_or_default();
    let views = s
        .app
        .list_views(&user.caller, ViewKind::Analysis)
        .await
        .unwrap_or_default();
    let keys: Vec<String> = s
        .app
        .pricing(&user.caller)
        .await
        .map(|st| {
            st.view()
                .allocations
                .into_iter()
                .map(|a| a.allocation.key)
                .collect()
        })
        .unwrap_or_default();
    let layout = layout(s, user, "analysis").await;
    let e = &outcome.errors;
    let (measures, sort_options, group_choices) = choices(&draft, &groups);
    let page = AnalysisPage {
        layout: Some(layout),
        csrf: user.csrf.clone(),
        from: e.input("from", draft.from.clone()),
        to: e.input("to", draft.to.clone()),
        group_by: (0..LEVELS)
            .map(|i| {
                let mut input = e.input(
                    &format!("group_by[{i}]"),
                    draft.group_by.get(i).cloned().unwrap_or_default(),
                );
                input.name = "group_by".into();
                input
            })
            .collect(),
        group_error: e.take_under("group_by"),
        conditions: conditions::view(&draft.sets, "", e),
        ops: &OPERATORS,
        suggestions: conditions::dimension_suggestions(&keys),
        measures,
        measures_error: e.take_under("measures"),
        show_rules: draft.show_rules,
        sort: e.input("sort", draft.sort.clone()),
        sort_options,
        ascending: draft.ascending,
        top: e.input("top", draft.top.clone()),
        groups: group_choices,
        unclaimed: e.unclaimed(),
        unrated: outcome
            .table
            .as_ref()
            .map(|t| t.unrated.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default(),
        table: outcome
            .table
            .as_ref()
            .map(|t| table_view(t, &draft.url_query(), &keys)),
        query: draft.url_query(),
        views,
        view: extra.view,
        save_name: extra.save_name,
        notice: extra.notice,
    };
    render(StatusCode::OK, &page)
}

fn form_of(raw: Option<&str>) -> FormData {
    FormData(
        url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// `GET /analysis`: the form and, below it, the table. `?view=ID` opens a saved view.
pub(crate) async fn analysis_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let form = form_of(raw.as_deref());
    let mut view = None;
    let mut draft = if let Some(id) = form.opt("view") {
        match s.app.get_view(&user.caller, &id).await {
            Ok(v) if v.kind == ViewKind::Analysis => {
                let q: Result<AnalysisQuery, _> = serde_json::from_value(v.document.clone());
                let Ok(q) = q else {
                    return error_page(&AppError::Conflict {
                        code: "view_unreadable",
                        field: None,
                        message: "This saved view was written by another version and cannot be opened; save it again.".into(),
                    });
                };
                view = Some(v);
                Draft::from_query(&q)
            }
            Ok(_) => return error_page(&view_not_found()),
            Err(e) => return error_page(&e),
        }
    } else if form.get("from").is_none() {
        let latest = latest_rated(&s, &user).await;
        Draft {
            from: latest.clone(),
            to: latest,
            group_by: vec![be_domain::FAMILY_DIMENSION.to_string()],
            asset_group: "default".into(),
            ..Draft::default()
        }
    } else {
        Draft::from_form(&form)
    };
    if let Some(act) = form.get("act") {
        conditions::act(&mut draft.sets, act);
    }
    let outcome = match run(&s, &user, &draft).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = view.as_ref().map(|v| v.name.clone()).unwrap_or_default();
    let notice = match form.get("notice") {
        Some("saved") => Some(
            "The view is saved. Its address opens it for anyone in your organization.".to_string(),
        ),
        Some("deleted") => Some("The view is deleted.".to_string()),
        _ => None,
    };
    let extra = Extra {
        view,
        save_name: Errors::none().input("name", name),
        notice,
    };
    page(&s, &user, draft, outcome, extra).await
}

fn view_not_found() -> AppError {
    AppError::NotFound {
        code: "view_not_found",
        message: "There is no such saved view.".into(),
    }
}

/// `GET /analysis/export?format=csv&...`: the current table as a file (exact decimals).
pub(crate) async fn export(
    State(s): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let form = form_of(raw.as_deref());
    let draft = Draft::from_form(&form);
    let query = match draft.query() {
        Ok(q) => q,
        Err(e) => return error_page(&e),
    };
    let table = match s.app.analysis(&user.caller, &query).await {
        Ok(t) => t,
        Err(e) => return error_page(&e),
    };
    match form.get("format").unwrap_or("csv") {
        "csv" => match table.to_csv() {
            Ok(bytes) => file_response("text/csv; charset=utf-8", "analysis.csv", bytes),
            Err(e) => error_page(&e),
        },
        "parquet" => match s.app.analysis_parquet(&user.caller, &query).await {
            Ok(bytes) => file_response("application/vnd.apache.parquet", "analysis.parquet", bytes),
            Err(e) => error_page(&e),
        },
        other => error_page(&AppError::Invalid(be_domain::FieldError::new(
            "format",
            "format_invalid",
            format!("The export format is csv or parquet, not {other:?}."),
        ))),
    }
}

fn file_response(content_type: &'static str, name: &'static str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `POST /analysis/views`: save the analysis in `query` under `name` (new, or replacing `id`'s).
pub(crate) async fn save_view(
    State(s): State<AppState>,
    user: ConsoleUser,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(pairs);
    let draft = Draft::from_form(&form_of(form.get("query")));
    let name = form.text("name");
    let id = form.opt("id");
    let saved = match draft.query() {
        Ok(q) => {
            s.app
                .save_view(&user.caller, id.as_deref(), &name, &q)
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(v) => match safe_segment(&v.id) {
            Some(id) => Redirect::to(&format!("/analysis?view={id}&notice=saved")).into_response(),
            None => error_page(&view_not_found()),
        },
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            let errors = Errors::of(&e, &[]);
            let save_name = errors.input("name", name);
            let outcome = match run(&s, &user, &draft).await {
                Ok(mut o) => {
                    o.errors = errors;
                    o
                }
                Err(r) => return r,
            };
            let view = match id {
                Some(id) => s.app.get_view(&user.caller, &id).await.ok(),
                None => None,
            };
            let extra = Extra {
                view,
                save_name,
                notice: None,
            };
            let mut r = page(&s, &user, draft, outcome, extra).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /analysis/views/{id}/delete`.
pub(crate) async fn delete_view(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_view(&user.caller, &id).await {
        Ok(v) if v.kind == ViewKind::Analysis => {}
        Ok(_) => return error_page(&view_not_found()),
        Err(e) => return error_page(&e),
    }
    match s.app.delete_view(&user.caller, &id).await {
        Ok(()) => Redirect::to("/analysis?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}

pub(crate) struct RowsPage {
    back: String,
    what: String,
    limit: usize,
    lines: Vec<super::rating::LineRow>,
}

#[derive(Template)]
#[template(path = "analysis_rows.html")]
struct RowsTemplate {
    layout: Option<Layout>,
    page: RowsPage,
}

/// `GET /analysis/rows?...&key=K1&key=K2&currency=C`: the rated rows behind a row of the table
/// (each links to its explanation). An empty key is "no value".
pub(crate) async fn rows_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Response {
    const LIMIT: usize = 200;
    let form = form_of(raw.as_deref());
    let draft = Draft::from_form(&form);
    let query = match draft.query() {
        Ok(q) => q,
        Err(e) => return error_page(&e),
    };
    let keys: Vec<Option<String>> = form
        .all("key")
        .into_iter()
        .map(|k| Some(k).filter(|k| !k.is_empty()))
        .collect();
    let currency = form.opt("currency");
    let lines = match s
        .app
        .analysis_lines(&user.caller, &query, &keys, currency.as_deref(), LIMIT)
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let mut what: Vec<String> = draft
        .group_by
        .iter()
        .zip(&keys)
        .map(|(d, k)| format!("{d} = {}", k.as_deref().unwrap_or("(none)")))
        .collect();
    what.extend(currency.map(|c| format!("BillingCurrency = {c}")));
    let page = RowsPage {
        back: format!("/analysis?{}", draft.url_query()),
        what: if what.is_empty() {
            "every row".into()
        } else {
            what.join(", ")
        },
        limit: LIMIT,
        lines: lines.into_iter().map(super::rating::LineRow::of).collect(),
    };
    render(
        StatusCode::OK,
        &RowsTemplate {
            layout: Some(layout(&s, &user, "analysis").await),
            page,
        },
    )
}
