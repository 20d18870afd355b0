//! Plans (engine.md 2.3 and 2.4): ordered lists of rules assigned to families and sub-accounts
//! from a billing period; each rule added or edited with a form that covers every kind, moved up
//! or down, enabled or disabled, deleted.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::pricing::{PlanView, PricingView};
use be_app::{AppError, AssignTo};
use be_domain::BillingPeriod;
use serde::Deserialize;

use super::ConsoleUser;
use super::conditions;
use super::pages::{Allowed as _, Layout, error_page, layout, render};
use super::rule_form::{self, Draft, RuleFormView};
use super::view::{Errors, FormData, Input, default_period, enc, safe_segment};
use crate::{AppState, error::status_of};

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(q: &NoticeQuery) -> Option<String> {
    Some(
        match q.notice.as_deref()? {
            "created" => "Plan created. Assign it and add its rules below.",
            "renamed" => "Plan renamed.",
            "deleted" => "Plan deleted.",
            "assigned" => "Plan assigned. The months concerned are being rated again.",
            "unassigned" => "Assignment ended. The months concerned are being rated again.",
            "rule-added" => "Rule added. The months concerned are being rated again.",
            "rule-saved" => "Rule saved. The months concerned are being rated again.",
            "rule-moved" => "Rule moved: rules run in this order.",
            "rule-enabled" => "Rule enabled.",
            "rule-disabled" => "Rule disabled: it stays in the plan but changes nothing.",
            "rule-deleted" => "Rule deleted.",
            _ => return None,
        }
        .to_string(),
    )
}

fn no_plan() -> AppError {
    AppError::NotFound {
        code: "pricing_item_not_found",
        message: "There is no such plan.".into(),
    }
}

/// The configuration, and the month forms start from.
async fn pricing_and_period(
    s: &AppState,
    user: &ConsoleUser,
) -> Result<(PricingView, String, Vec<String>), AppError> {
    let pricing = s.app.pricing(&user.caller).await?.view();
    let sources = s.app.sources(&user.caller).await?;
    let periods = sources
        .sources
        .iter()
        .flat_map(|src| src.periods.iter().map(|p| p.period.clone()));
    let default = default_period(periods, BillingPeriod::of_instant(s.app.now()));
    let subs = sources
        .sub_accounts
        .into_iter()
        .map(|s| s.sub_account_id)
        .collect();
    Ok((pricing, default, subs))
}

// ----- The list -----

pub(crate) struct PlanRow {
    id: String,
    name: String,
    rules: usize,
    targets: String,
}

fn target_label(a: &be_app::pricing::AssignmentView) -> String {
    match (&a.family, &a.sub_account_id) {
        (Some(f), _) => f.clone(),
        (None, Some(s)) => format!("sub-account {s}"),
        _ => "?".into(),
    }
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    plans: Vec<PlanRow>,
    name: Input,
    leftover: Vec<String>,
}

async fn plans_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    name: String,
    errors: Errors,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let plans = pricing
        .plans
        .iter()
        .map(|p| PlanRow {
            id: p.id.clone(),
            name: p.name.clone(),
            rules: p.rules.len(),
            targets: p
                .assigned_to
                .iter()
                .filter(|a| a.to.is_none())
                .map(target_label)
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let mut page = PlansPage {
        layout: Some(layout(s, user, "plans").await),
        csrf: user.csrf.clone(),
        notice,
        plans,
        name: errors.input("name", name),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn plans_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    plans_view(
        &s,
        &user,
        StatusCode::OK,
        notice_text(&q),
        String::new(),
        Errors::none(),
    )
    .await
}

pub(crate) async fn create_plan(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    match s.app.create_plan(&user.caller, &form.text("name")).await {
        Ok(p) => Redirect::to(&format!("/plans/{}?notice=created", p.id)).into_response(),
        Err(e) if !e.field_errors().is_empty() => {
            plans_view(
                &s,
                &user,
                status_of(&e),
                None,
                form.text("name"),
                Errors::of(&e, &[]),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

// ----- A plan -----

pub(crate) struct AssignmentRow {
    label: String,
    target: String,
    from: String,
    to: String,
    current: bool,
}

pub(crate) struct RuleRow {
    id: String,
    index: usize,
    name: String,
    kind: String,
    what: String,
    filter: String,
    enabled: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    id: String,
    title: String,
    name: Input,
    assignments: Vec<AssignmentRow>,
    rules: Vec<RuleRow>,
    /// Assignment targets: (`family:<id>`, name) and (`sub:<id>`, id).
    families: Vec<(String, String)>,
    subs: Vec<(String, String)>,
    target: Input,
    from: Input,
    default_from: String,
    kinds: &'static [(&'static str, &'static str)],
    leftover: Vec<String>,
}

#[derive(Default)]
struct PlanEntered {
    name: Option<String>,
    target: String,
    from: Option<String>,
}

async fn plan_view(
    s: &AppState,
    user: &ConsoleUser,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    entered: PlanEntered,
    errors: Errors,
) -> Response {
    let (pricing, default_from, subs) = match pricing_and_period(s, user).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let Some(p) = pricing.plans.iter().find(|p| p.id == id) else {
        return error_page(&no_plan());
    };
    let now = BillingPeriod::of_instant(s.app.now()).to_string();
    let mut page = PlanPage {
        layout: Some(layout(s, user, "plans").await),
        csrf: user.csrf.clone(),
        notice,
        id: p.id.clone(),
        title: p.name.clone(),
        name: errors.input("name", entered.name.unwrap_or_else(|| p.name.clone())),
        assignments: assignments(p, &now),
        rules: rules(p),
        families: pricing
            .families
            .iter()
            .map(|f| (format!("family:{}", f.id), f.name.clone()))
            .collect(),
        subs: subs.into_iter().map(|s| (format!("sub:{s}"), s)).collect(),
        target: errors.input("target", entered.target),
        from: errors.input("from", entered.from.unwrap_or_else(|| default_from.clone())),
        default_from,
        kinds: &rule_form::KINDS,
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

fn assignments(p: &PlanView, now: &str) -> Vec<AssignmentRow> {
    p.assigned_to
        .iter()
        .map(|a| AssignmentRow {
            label: target_label(a),
            target: match (&a.family_id, &a.sub_account_id) {
                (Some(f), _) => format!("family:{f}"),
                (None, Some(s)) => format!("sub:{s}"),
                _ => String::new(),
            },
            from: a.from.clone(),
            to: a.to.clone().unwrap_or_default(),
            current: a.from.as_str() <= now && a.to.as_deref().is_none_or(|t| t >= now),
        })
        .collect()
}

fn rules(p: &PlanView) -> Vec<RuleRow> {
    p.rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            id: r.id.clone(),
            index: i,
            name: r.rule.name.clone(),
            kind: rule_form::kind_label(&r.rule.kind).to_string(),
            what: rule_form::describe(&r.rule),
            filter: conditions::describe(&r.rule.when),
            enabled: r.rule.enabled != Some(false),
            last: i + 1 == p.rules.len(),
        })
        .collect()
}

pub(crate) async fn plan_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    plan_view(
        &s,
        &user,
        &id,
        StatusCode::OK,
        notice_text(&q),
        PlanEntered::default(),
        Errors::none(),
    )
    .await
}

fn back_to_plan(id: &str, notice: &str) -> Response {
    match safe_segment(id) {
        Some(id) => Redirect::to(&format!("/plans/{id}?notice={notice}")).into_response(),
        None => Redirect::to("/plans").into_response(),
    }
}

pub(crate) async fn rename_plan(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    match s
        .app
        .rename_plan(&user.caller, &id, &form.text("name"))
        .await
    {
        Ok(()) => back_to_plan(&id, "renamed"),
        Err(e) if !e.field_errors().is_empty() => {
            let entered = PlanEntered {
                name: Some(form.text("name")),
                ..PlanEntered::default()
            };
            plan_view(
                &s,
                &user,
                &id,
                status_of(&e),
                None,
                entered,
                Errors::of(&e, &[]),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_plan(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_plan(&user.caller, &id).await {
        Ok(()) => Redirect::to("/plans?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}

/// `family:<id>` or `sub:<sub-account>`, as the target select sends it.
fn assign_to(target: &str, from: Option<String>) -> AssignTo {
    match target.split_once(':') {
        Some(("family", id)) => AssignTo {
            family_id: Some(id.to_string()),
            sub_account_id: None,
            from,
        },
        Some(("sub", id)) => AssignTo {
            family_id: None,
            sub_account_id: Some(id.to_string()),
            from,
        },
        _ => AssignTo {
            family_id: None,
            sub_account_id: None,
            from,
        },
    }
}

async fn assignment_change(
    s: AppState,
    user: ConsoleUser,
    id: String,
    form: FormData,
    assign: bool,
) -> Response {
    let target = assign_to(&form.text("target"), form.opt("from"));
    let result = if assign {
        s.app.assign_plan(&user.caller, &id, &target).await
    } else {
        s.app.unassign_plan(&user.caller, &id, &target).await
    };
    match result {
        Ok(()) => back_to_plan(&id, if assign { "assigned" } else { "unassigned" }),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::NotFound { .. }),
        ) => {
            let errors = Errors::of(
                &e,
                &[
                    ("period", "from"),
                    ("sub_account_id", "target"),
                    ("assigned_to", "target"),
                ],
            );
            let entered = PlanEntered {
                name: None,
                target: form.text("target"),
                from: form.opt("from"),
            };
            plan_view(&s, &user, &id, status_of(&e), None, entered, errors).await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn assign(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    assignment_change(s, user, id, FormData(form), true).await
}

pub(crate) async fn unassign(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    assignment_change(s, user, id, FormData(form), false).await
}

// ----- Rules -----

/// The plan a rule belongs to, and its place.
fn plan_of_rule<'a>(pricing: &'a PricingView, rule: &str) -> Option<(&'a PlanView, usize)> {
    pricing
        .plans
        .iter()
        .find_map(|p| p.rules.iter().position(|r| r.id == rule).map(|i| (p, i)))
}

#[derive(Template)]
#[template(path = "rule_form.html")]
struct RulePage {
    layout: Option<Layout>,
    csrf: String,
    plan_id: String,
    plan_name: String,
    /// Where the form goes: `/plans/{id}/rules` (new) or `/rules/{id}` (edit).
    action: String,
    editing: bool,
    form: RuleFormView,
    suggestions: Vec<String>,
}

async fn rule_page(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    plan_id: &str,
    rule_id: Option<&str>,
    draft: &Draft,
    errors: Errors,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let Some(plan) = pricing.plans.iter().find(|p| p.id == plan_id) else {
        return error_page(&no_plan());
    };
    let keys: Vec<String> = pricing
        .allocations
        .iter()
        .map(|a| a.allocation.key.clone())
        .collect();
    let page = RulePage {
        layout: Some(layout(s, user, "plans").await),
        csrf: user.csrf.clone(),
        plan_id: plan.id.clone(),
        plan_name: plan.name.clone(),
        action: match rule_id {
            Some(r) => format!("/rules/{}", enc(r)),
            None => format!("/plans/{}/rules", enc(&plan.id)),
        },
        editing: rule_id.is_some(),
        form: RuleFormView::of(draft, &errors),
        suggestions: conditions::dimension_suggestions(&keys),
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub(crate) struct NewRuleQuery {
    kind: Option<String>,
}

pub(crate) async fn new_rule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(plan): Path<String>,
    Query(q): Query<NewRuleQuery>,
) -> Response {
    let period = match pricing_and_period(&s, &user).await {
        Ok((_, p, _)) => p,
        Err(e) => return error_page(&e),
    };
    let draft = Draft::new(q.kind.as_deref().unwrap_or("markup"), &period);
    rule_page(
        &s,
        &user,
        StatusCode::OK,
        &plan,
        None,
        &draft,
        Errors::none(),
    )
    .await
}

pub(crate) async fn edit_rule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(rule): Path<String>,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let Some((plan, i)) = plan_of_rule(&pricing, &rule) else {
        return error_page(&AppError::NotFound {
            code: "pricing_item_not_found",
            message: "There is no such rule.".into(),
        });
    };
    let draft = Draft::from_file(&plan.rules[i].rule);
    rule_page(
        &s,
        &user,
        StatusCode::OK,
        &plan.id.clone(),
        Some(&rule),
        &draft,
        Errors::none(),
    )
    .await
}

/// A row button or a change of kind shows the form again; anything else saves.
fn pending_action(form: &FormData, draft: &mut Draft) -> bool {
    match form.get("act") {
        Some("refresh") => true,
        Some(action) => {
            draft.act(action);
            true
        }
        None => false,
    }
}

pub(crate) async fn add_rule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(plan): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let mut draft = Draft::from_form(&form);
    if pending_action(&form, &mut draft) {
        return rule_page(
            &s,
            &user,
            StatusCode::OK,
            &plan,
            None,
            &draft,
            Errors::none(),
        )
        .await;
    }
    match s
        .app
        .add_rule(&user.caller, &plan, &draft.to_file(), None)
        .await
    {
        Ok(_) => back_to_plan(&plan, "rule-added"),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            rule_page(
                &s,
                &user,
                status_of(&e),
                &plan,
                None,
                &draft,
                Errors::of(&e, &[]),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn save_rule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(rule): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let Some(plan) = plan_of_rule(&pricing, &rule).map(|(p, _)| p.id.clone()) else {
        return error_page(&AppError::NotFound {
            code: "pricing_item_not_found",
            message: "There is no such rule.".into(),
        });
    };
    let mut draft = Draft::from_form(&form);
    if pending_action(&form, &mut draft) {
        return rule_page(
            &s,
            &user,
            StatusCode::OK,
            &plan,
            Some(&rule),
            &draft,
            Errors::none(),
        )
        .await;
    }
    match s
        .app
        .update_rule(&user.caller, &rule, &draft.to_file())
        .await
    {
        Ok(_) => back_to_plan(&plan, "rule-saved"),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            rule_page(
                &s,
                &user,
                status_of(&e),
                &plan,
                Some(&rule),
                &draft,
                Errors::of(&e, &[]),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// Move, enable/disable or delete a rule, then back to its plan.
pub(crate) async fn rule_action(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path((rule, action)): Path<(String, String)>,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let Some((plan, index)) = plan_of_rule(&pricing, &rule) else {
        return error_page(&AppError::NotFound {
            code: "pricing_item_not_found",
            message: "There is no such rule.".into(),
        });
    };
    let (result, notice) = match action.as_str() {
        "up" => (
            s.app
                .move_rule(&user.caller, &rule, index.saturating_sub(1))
                .await,
            "rule-moved",
        ),
        "down" => (
            s.app.move_rule(&user.caller, &rule, index + 1).await,
            "rule-moved",
        ),
        "enable" => (
            s.app.set_rule_enabled(&user.caller, &rule, true).await,
            "rule-enabled",
        ),
        "disable" => (
            s.app.set_rule_enabled(&user.caller, &rule, false).await,
            "rule-disabled",
        ),
        "delete" => (s.app.delete_rule(&user.caller, &rule).await, "rule-deleted"),
        _ => return super::pages::not_found().await,
    };
    match result {
        Ok(()) => back_to_plan(&plan.id, notice),
        Err(e) => error_page(&e),
    }
}
