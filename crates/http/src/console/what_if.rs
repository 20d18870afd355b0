//! What-if on a real month (engine.md section 5): change a rule's percent, add a rule, move a
//! sub-account to another family (or none), in any combination; see the billed cost before and
//! after, and the difference, per family, sub-account and rule. Nothing is saved.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use be_app::AppError;
use be_app::pricing::PricingView;
use be_app::rating::{WhatIf, WhatIfChange, WhatIfRow};
use be_domain::pricing::file::RuleFile;
use be_domain::{BillingPeriod, Percent};
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Layout, error_page, layout, render};
use super::rule_form::kind_label;
use super::view::{Errors, Input, Money};
use crate::AppState;

#[derive(Deserialize, Default)]
pub(crate) struct WhatIfParams {
    run: Option<String>,
    rule: Option<String>,
    percent: Option<String>,
    add_plan: Option<String>,
    add_name: Option<String>,
    add_kind: Option<String>,
    add_percent: Option<String>,
    add_scope: Option<String>,
    move_sub: Option<String>,
    move_family: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The rules whose percent can change: markups, markdowns, and upcharges and discounts by
/// percent; (id, "Plan / Rule (now 10 %)").
fn percent_rules(p: &PricingView) -> Vec<(String, String)> {
    p.plans
        .iter()
        .flat_map(|plan| {
            plan.rules.iter().filter_map(move |r| {
                let percent = r.rule.percent.as_ref()?;
                Some((
                    r.id.clone(),
                    format!(
                        "{} / {} ({}, now {percent} %)",
                        plan.name,
                        r.rule.name,
                        kind_label(&r.rule.kind).to_lowercase()
                    ),
                ))
            })
        })
        .collect()
}

/// The place of a rule in the configuration, as whole-configuration paths name it.
fn place(p: &PricingView, rule: &str) -> Option<String> {
    p.plans.iter().enumerate().find_map(|(i, plan)| {
        plan.rules
            .iter()
            .position(|r| r.id == rule)
            .map(|j| format!("plans[{i}].rules[{j}]."))
    })
}

pub(crate) struct DiffRow {
    key: String,
    cells: Vec<String>,
    before: Money,
    after: Money,
    difference: Money,
    changed: bool,
}

pub(crate) struct DiffTable {
    id: &'static str,
    title: &'static str,
    headers: &'static [&'static str],
    rows: Vec<DiffRow>,
}

/// `nones`: what each key column says when empty.
fn diff_rows(rows: &[WhatIfRow], nones: &[&str]) -> Vec<DiffRow> {
    rows.iter()
        .map(|r| {
            let c = r.currency.as_deref();
            let mut difference = Money::of(r.difference, c);
            if !r.difference.is_negative() && !r.difference.is_zero() {
                // `USD 22.84` reads `USD +22.84`.
                difference.text = match difference.text.split_once(' ') {
                    Some((code, number)) => format!("{code} +{number}"),
                    None => format!("+{}", difference.text),
                };
            }
            DiffRow {
                key: r
                    .key
                    .first()
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| nones.first().copied().unwrap_or_default().to_string()),
                cells: r
                    .key
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        k.clone()
                            .unwrap_or_else(|| nones.get(i).copied().unwrap_or("—").to_string())
                    })
                    .collect(),
                before: Money::of(r.before, c),
                after: Money::of(r.after, c),
                difference,
                changed: !r.difference.is_zero(),
            }
        })
        .collect()
}

fn tables(w: &WhatIf) -> Vec<DiffTable> {
    vec![
        DiffTable {
            id: "by-family",
            title: "By family",
            headers: &["Family"],
            rows: diff_rows(&w.by_family, &["(no family)"]),
        },
        DiffTable {
            id: "by-sub-account",
            title: "By sub-account",
            headers: &["Sub-account", "Name", "Family"],
            rows: diff_rows(
                &w.by_sub_account,
                &["(family-level lines)", "", "(no family)"],
            ),
        },
        DiffTable {
            id: "by-rule",
            title: "By strategy and rule (the ones that change)",
            headers: &["Strategy or rule", "Kind", "Plan"],
            rows: diff_rows(&w.by_rule, &["—", "—", "—"]),
        },
    ]
}

#[derive(Template)]
#[template(path = "what_if.html")]
struct WhatIfPage {
    layout: Option<Layout>,
    period: String,
    rules: Vec<(String, String)>,
    plans: Vec<(String, String)>,
    families: Vec<(String, String)>,
    subs: Vec<(String, String)>,
    rule: Input,
    percent: Input,
    add_plan: Input,
    add_name: Input,
    add_kind: Input,
    add_percent: Input,
    add_scope: Input,
    move_sub: Input,
    move_family: Input,
    totals: Vec<DiffRow>,
    tables: Vec<DiffTable>,
    ran: bool,
    leftover: Vec<String>,
}

/// The changes asked for, and the problems found reading them (each under its form field).
fn changes(
    q: &WhatIfParams,
    pricing: &PricingView,
    period: BillingPeriod,
) -> (Vec<WhatIfChange>, Vec<be_domain::FieldError>) {
    let (mut out, mut problems) = (vec![], vec![]);
    if let Some(rule_id) = given(&q.rule) {
        match Percent::parse(q.percent.as_deref().unwrap_or_default(), "percent") {
            Ok(_) => out.push(WhatIfChange::RulePercent {
                rule_id,
                percent: q.percent.clone().unwrap_or_default().trim().to_string(),
            }),
            Err(e) => problems.push(e),
        }
    }
    if let Some(plan_id) = given(&q.add_plan) {
        let kind = given(&q.add_kind).unwrap_or_else(|| "markup".into());
        let rule = RuleFile {
            name: q.add_name.clone().unwrap_or_default(),
            scope: matches!(kind.as_str(), "upcharge" | "discount")
                .then(|| given(&q.add_scope).unwrap_or_else(|| "family".into())),
            kind,
            percent: given(&q.add_percent),
            ..RuleFile::default()
        };
        let keys: Vec<&str> = pricing
            .allocations
            .iter()
            .map(|a| a.allocation.key.as_str())
            .collect();
        match rule.into_rule(&keys, period) {
            Ok(_) => out.push(WhatIfChange::AddRule { plan_id, rule }),
            Err(errs) => problems.extend(errs.into_iter().map(|e| be_domain::FieldError {
                field: format!("add_{}", e.field).into(),
                ..e
            })),
        }
    }
    if let Some(sub_account_id) = given(&q.move_sub) {
        out.push(WhatIfChange::MoveSubAccount {
            sub_account_id,
            family_id: given(&q.move_family),
        });
    }
    (out, problems)
}

/// Whole-configuration messages about the changed or the added rule, named by the form's fields.
fn errors_of(e: &AppError, pricing: &PricingView, q: &WhatIfParams) -> Errors {
    let changed = given(&q.rule).and_then(|r| place(pricing, &r));
    let added = given(&q.add_plan).and_then(|p| {
        pricing
            .plans
            .iter()
            .position(|x| x.id == p)
            .map(|i| format!("plans[{i}].rules[{}].", pricing.plans[i].rules.len()))
    });
    let renamed: Vec<be_domain::FieldError> = e
        .field_errors()
        .into_iter()
        .map(|f| {
            let field = match (&changed, &added) {
                (Some(c), _) if f.field.starts_with(c.as_str()) => "percent".to_string(),
                (_, Some(a)) if f.field.starts_with(a.as_str()) => {
                    format!("add_{}", &f.field[a.len()..])
                }
                _ => f.field.to_string(),
            };
            be_domain::FieldError {
                field: field.into(),
                ..f
            }
        })
        .collect();
    if renamed.is_empty() {
        Errors::of(e, &[])
    } else {
        Errors::of(&AppError::InvalidFields(renamed), &[])
    }
}

pub(crate) async fn what_if_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(period): Path<String>,
    Query(q): Query<WhatIfParams>,
) -> Response {
    let p = match BillingPeriod::parse(&period) {
        Ok(p) => p,
        Err(e) => return error_page(&AppError::Invalid(e)),
    };
    let (pricing, sources) = match (
        s.app.pricing(&user.caller).await,
        s.app.sources(&user.caller).await,
    ) {
        (Ok(x), Ok(y)) => (x.view(), y),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let ran = q.run.is_some();
    let (list, problems) = if ran {
        changes(&q, &pricing, p)
    } else {
        (vec![], vec![])
    };
    let (result, errors) = if !problems.is_empty() {
        (None, Errors::of(&AppError::InvalidFields(problems), &[]))
    } else if ran && list.is_empty() {
        (
            None,
            Errors::of(
                &AppError::Invalid(be_domain::FieldError::new(
                    "",
                    "what_if_empty",
                    "Choose at least one change to preview.",
                )),
                &[],
            ),
        )
    } else if ran {
        match s.app.what_if(&user.caller, &p.to_string(), &list).await {
            Ok(w) => (Some(w), Errors::none()),
            Err(
                e @ (AppError::Invalid(_)
                | AppError::InvalidFields(_)
                | AppError::NotFound { .. }
                | AppError::Conflict { .. }
                | AppError::Engine(_)),
            ) => (None, errors_of(&e, &pricing, &q)),
            Err(e) => return error_page(&e),
        }
    } else {
        (None, Errors::none())
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut page = WhatIfPage {
        layout: Some(layout(&s, &user, "rating").await),
        period: p.to_string(),
        rules: percent_rules(&pricing),
        plans: pricing
            .plans
            .iter()
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect(),
        families: pricing
            .families
            .iter()
            .map(|f| (f.id.clone(), f.name.clone()))
            .collect(),
        subs: sources
            .sub_accounts
            .iter()
            .map(|x| {
                (
                    x.sub_account_id.clone(),
                    x.name
                        .clone()
                        .map(|n| format!("{} ({n})", x.sub_account_id))
                        .unwrap_or_else(|| x.sub_account_id.clone()),
                )
            })
            .collect(),
        rule: errors.input("rule", value(&q.rule)),
        percent: errors.input("percent", value(&q.percent)),
        add_plan: errors.input("add_plan", value(&q.add_plan)),
        add_name: errors.input("add_name", value(&q.add_name)),
        add_kind: errors.input(
            "add_kind",
            q.add_kind.clone().unwrap_or_else(|| "markup".into()),
        ),
        add_percent: errors.input("add_percent", value(&q.add_percent)),
        add_scope: errors.input(
            "add_scope",
            q.add_scope.clone().unwrap_or_else(|| "family".into()),
        ),
        move_sub: errors.input("move_sub", value(&q.move_sub)),
        move_family: errors.input("move_family", value(&q.move_family)),
        totals: result
            .as_ref()
            .map(|w| diff_rows(&w.before_total, &[""]))
            .unwrap_or_default(),
        tables: result.as_ref().map(tables).unwrap_or_default(),
        ran: result.is_some(),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    let status = if page.leftover.is_empty() && errors_free(&page) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page)
}

fn errors_free(p: &WhatIfPage) -> bool {
    [
        &p.rule,
        &p.percent,
        &p.add_plan,
        &p.add_name,
        &p.add_kind,
        &p.add_percent,
        &p.add_scope,
        &p.move_sub,
        &p.move_family,
    ]
    .iter()
    .all(|i| i.error.is_none())
}
