//! Families (engine.md 2.3): groups of sub-accounts billed as one customer; the sub-accounts seen
//! in the data, with their name, billing account, source and the months they were seen, put into
//! (or moved between) families from a billing period.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::pricing::{AssignmentView, PricingView};
use be_app::rating::SourcesOverview;
use be_domain::BillingPeriod;
use serde::Deserialize;

use super::ConsoleUser;
use super::pages::{Allowed as _, Layout, error_page, layout, render};
use super::view::{Errors, FormData, Input, default_period, enc, safe_segment};
use crate::{AppState, error::status_of};

/// The notice a redirect asks for.
#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
    n: Option<usize>,
}

fn notice_text(q: &NoticeQuery) -> Option<String> {
    let n = q.n.unwrap_or(1);
    Some(match q.notice.as_deref()? {
        "created" => "Family created. Put sub-accounts into it below.".into(),
        "renamed" => "Family renamed.".into(),
        "deleted" => "Family deleted.".into(),
        "added" => format!("{n} sub-account(s) put into the family. The months concerned are being rated again."),
        "removed" => "The sub-account leaves the family from the month given. The months concerned are being rated again.".into(),
        _ => return None,
    })
}

/// Everything the family pages show.
struct Data {
    pricing: PricingView,
    sources: SourcesOverview,
    now: BillingPeriod,
    default_from: String,
}

async fn data(s: &AppState, user: &ConsoleUser) -> Result<Data, AppError> {
    let pricing = s.app.pricing(&user.caller).await?.view();
    let sources = s.app.sources(&user.caller).await?;
    let now = BillingPeriod::of_instant(s.app.now());
    let periods = sources
        .sources
        .iter()
        .flat_map(|src| src.periods.iter().map(|p| p.period.clone()))
        .collect::<Vec<_>>();
    Ok(Data {
        default_from: default_period(periods, now),
        pricing,
        sources,
        now,
    })
}

fn covers(from: Option<&str>, to: Option<&str>, p: BillingPeriod) -> bool {
    let parse = |v: Option<&str>| v.and_then(|v| BillingPeriod::parse(v).ok());
    parse(from).is_none_or(|f| f <= p) && parse(to).is_none_or(|t| t >= p)
}

fn plans_of_family(d: &Data, family_id: &str) -> Vec<(String, String)> {
    let current = |a: &AssignmentView| {
        a.family_id.as_deref() == Some(family_id) && covers(Some(&a.from), a.to.as_deref(), d.now)
    };
    d.pricing
        .plans
        .iter()
        .filter(|p| p.assigned_to.iter().any(current))
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect()
}

pub(crate) struct FamilyRow {
    id: String,
    name: String,
    members_now: usize,
    plans: Vec<(String, String)>,
}

pub(crate) struct SubRow {
    id: String,
    name: String,
    billing: String,
    source: String,
    first: String,
    last: String,
    family: Option<String>,
    family_id: Option<String>,
    checked: bool,
}

fn sub_rows(d: &Data, checked: &[String], skip_family: Option<&str>) -> Vec<SubRow> {
    d.sources
        .sub_accounts
        .iter()
        .filter(|s| skip_family.is_none() || s.family_id.as_deref() != skip_family)
        .map(|s| SubRow {
            id: s.sub_account_id.clone(),
            name: s.name.clone().unwrap_or_default(),
            billing: s.billing_account_id.clone().unwrap_or_default(),
            source: s.source.clone(),
            first: s.first_period.clone(),
            last: s.last_period.clone(),
            family: s.family.clone(),
            family_id: s.family_id.clone(),
            checked: checked.contains(&s.sub_account_id),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "families.html")]
struct FamiliesPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    families: Vec<FamilyRow>,
    subs: Vec<SubRow>,
    name: Input,
    family: Input,
    from: Input,
    subs_error: Option<String>,
    leftover: Vec<String>,
}

/// What a refused form sent, to show it again.
#[derive(Default)]
struct Entered {
    name: String,
    family: String,
    from: Option<String>,
    subs: Vec<String>,
}

async fn families_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    entered: Entered,
    errors: Errors,
) -> Response {
    let d = match data(s, user).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let families = d
        .pricing
        .families
        .iter()
        .map(|f| FamilyRow {
            id: f.id.clone(),
            name: f.name.clone(),
            members_now: f
                .members
                .iter()
                .filter(|m| covers(m.from.as_deref(), m.to.as_deref(), d.now))
                .count(),
            plans: plans_of_family(&d, &f.id),
        })
        .collect();
    let subs_error = [
        errors.take("sub_account_ids"),
        errors.take("sub_account_id"),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| a + " " + &b);
    let mut page = FamiliesPage {
        layout: Some(layout(s, user, "families").await),
        csrf: user.csrf.clone(),
        notice,
        families,
        subs: sub_rows(&d, &entered.subs, None),
        name: errors.input("name", entered.name),
        family: errors.input("family_id", entered.family),
        from: errors.input("from", entered.from.unwrap_or(d.default_from)),
        subs_error,
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn families_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    families_view(
        &s,
        &user,
        StatusCode::OK,
        notice_text(&q),
        Entered::default(),
        Errors::none(),
    )
    .await
}

pub(crate) async fn create_family(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    match s.app.create_family(&user.caller, &form.text("name")).await {
        Ok(f) => Redirect::to(&format!("/families/{}?notice=created", f.id)).into_response(),
        Err(e) if !e.field_errors().is_empty() => {
            let entered = Entered {
                name: form.text("name"),
                ..Entered::default()
            };
            families_view(&s, &user, status_of(&e), None, entered, Errors::of(&e, &[])).await
        }
        Err(e) => error_page(&e),
    }
}

/// Put the chosen sub-accounts into a family from a period; sent from the list (`family_id`
/// chosen there) or from the family's page (`back=family`).
pub(crate) async fn add_members(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let family = form.text("family_id");
    let mut subs = form.all("sub_account_ids");
    subs.extend(form.opt("sub_account_id"));
    let from = form.opt("from");
    let result = if family.trim().is_empty() {
        Err(AppError::Invalid(be_domain::FieldError::new(
            "family_id",
            "family_missing",
            "Choose the family to put them into.",
        )))
    } else {
        s.app
            .add_family_members(&user.caller, &family, &subs, from.as_deref())
            .await
    };
    let on_family_page = form.get("back") == Some("family");
    match result {
        Ok(()) if on_family_page => match safe_segment(&family) {
            Some(id) => Redirect::to(&format!("/families/{id}?notice=added&n={}", subs.len()))
                .into_response(),
            None => Redirect::to("/families").into_response(),
        },
        Ok(()) => Redirect::to(&format!(
            "/families?notice=added&n={}#sub-accounts",
            subs.len()
        ))
        .into_response(),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::NotFound { .. }
            | AppError::Conflict { .. }),
        ) => {
            let aliases = [("period", "from")];
            let errors = if matches!(e, AppError::NotFound { .. }) {
                not_found_beside(&e, "family_id")
            } else {
                Errors::of(&e, &aliases)
            };
            let entered = Entered {
                family: family.clone(),
                from,
                subs,
                ..Entered::default()
            };
            if on_family_page {
                family_view(&s, &user, &family, status_of(&e), None, entered, errors).await
            } else {
                families_view(&s, &user, status_of(&e), None, entered, errors).await
            }
        }
        Err(e) => error_page(&e),
    }
}

/// A "no such family" answer shown beside the field that chose it.
fn not_found_beside(e: &AppError, field: &'static str) -> Errors {
    Errors::of(
        &AppError::Invalid(be_domain::FieldError::new(
            field,
            e.code(),
            e.public_message(),
        )),
        &[],
    )
}

pub(crate) struct MemberRow {
    sub: String,
    name: String,
    from: String,
    to: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    layout: Option<Layout>,
    csrf: String,
    notice: Option<String>,
    id: String,
    title: String,
    name: Input,
    members: Vec<MemberRow>,
    candidates: Vec<SubRow>,
    other: Input,
    from: Input,
    subs_error: Option<String>,
    default_from: String,
    plans: Vec<(String, String)>,
    delete_error: Option<String>,
    leftover: Vec<String>,
}

async fn family_view(
    s: &AppState,
    user: &ConsoleUser,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    entered: Entered,
    errors: Errors,
) -> Response {
    let d = match data(s, user).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let Some(f) = d.pricing.families.iter().find(|f| f.id == id) else {
        return error_page(&AppError::NotFound {
            code: "pricing_item_not_found",
            message: "There is no such family.".into(),
        });
    };
    let names: std::collections::BTreeMap<&str, &str> = d
        .sources
        .sub_accounts
        .iter()
        .filter_map(|s| Some((s.sub_account_id.as_str(), s.name.as_deref()?)))
        .collect();
    let members = f
        .members
        .iter()
        .map(|m| {
            let state = if covers(m.from.as_deref(), m.to.as_deref(), d.now) {
                "current"
            } else if m
                .from
                .as_deref()
                .and_then(|v| BillingPeriod::parse(v).ok())
                .is_some_and(|p| p > d.now)
            {
                "upcoming"
            } else {
                "ended"
            };
            MemberRow {
                sub: m.sub_account_id.clone(),
                name: names
                    .get(m.sub_account_id.as_str())
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                from: m.from.clone().unwrap_or_default(),
                to: m.to.clone().unwrap_or_default(),
                state,
            }
        })
        .collect();
    let subs_error = [
        errors.take("sub_account_ids"),
        errors.take("sub_account_id"),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| a + " " + &b);
    let mut page = FamilyPage {
        layout: Some(layout(s, user, "families").await),
        csrf: user.csrf.clone(),
        notice,
        id: f.id.clone(),
        title: f.name.clone(),
        name: errors.input(
            "name",
            if entered.name.is_empty() {
                f.name.clone()
            } else {
                entered.name
            },
        ),
        members,
        candidates: sub_rows(&d, &entered.subs, Some(&f.id)),
        other: errors.input("sub_account_id", String::new()),
        from: errors.input(
            "from",
            entered.from.unwrap_or_else(|| d.default_from.clone()),
        ),
        subs_error,
        default_from: d.default_from.clone(),
        plans: plans_of_family(&d, &f.id),
        delete_error: errors.take("delete"),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn family_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    family_view(
        &s,
        &user,
        &id,
        StatusCode::OK,
        notice_text(&q),
        Entered::default(),
        Errors::none(),
    )
    .await
}

pub(crate) async fn rename_family(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    match s
        .app
        .rename_family(&user.caller, &id, &form.text("name"))
        .await
    {
        Ok(()) => Redirect::to(&format!("/families/{}?notice=renamed", enc(&id))).into_response(),
        Err(e) if !e.field_errors().is_empty() => {
            let entered = Entered {
                name: form.text("name"),
                ..Entered::default()
            };
            family_view(
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

pub(crate) async fn delete_family(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_family(&user.caller, &id).await {
        Ok(()) => Redirect::to("/families?notice=deleted").into_response(),
        Err(e @ AppError::Conflict { .. }) => {
            let errors = not_found_beside(&e, "delete");
            family_view(
                &s,
                &user,
                &id,
                status_of(&e),
                None,
                Entered::default(),
                errors,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn remove_member(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let from = form.opt("from");
    match s
        .app
        .remove_family_member(
            &user.caller,
            &id,
            &form.text("sub_account_id"),
            from.as_deref(),
        )
        .await
    {
        Ok(()) => Redirect::to(&format!("/families/{}?notice=removed", enc(&id))).into_response(),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::NotFound { .. }),
        ) => {
            let errors = Errors::of(&e, &[]);
            family_view(
                &s,
                &user,
                &id,
                status_of(&e),
                None,
                Entered::default(),
                errors,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}
