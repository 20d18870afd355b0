//! Asset groups (issue 10): saved filter sets by provider, billing account, family, sub-account,
//! service and region that apply to the dashboard and the analysis; one can be the default.
//! Each field takes values one per line ("is one of"); the fields are joined by AND.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::rating::{AssetGroupInput, SavedView};
use be_domain::pricing::file::ConditionFile;
use be_domain::{FieldError, ViewKind};
use serde::Deserialize;

use super::ConsoleUser;
use super::conditions::describe;
use super::pages::{Layout, error_page, layout, render};
use super::view::{Errors, FormData, Input};
use crate::AppState;

/// The form's fields: (input name, label, the dimension it filters).
const FIELDS: [(&str, &str, &str); 6] = [
    ("provider", "Providers", "ProviderName"),
    ("billing_account", "Billing account IDs", "BillingAccountId"),
    ("family", "Families", "BillingFamilyName"),
    ("sub_account", "Sub-account names", "SubAccountName"),
    ("service", "Services", "ServiceName"),
    ("region", "Regions", "RegionName"),
];

pub(crate) struct GroupRow {
    id: String,
    name: String,
    filter: String,
    is_default: bool,
}

pub(crate) struct FieldView {
    input: Input,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "asset_groups.html")]
struct AssetGroupsPage {
    layout: Option<Layout>,
    csrf: String,
    groups: Vec<GroupRow>,
    name: Input,
    fields: Vec<FieldView>,
    make_default: bool,
    unclaimed: Vec<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

fn row_of(v: &SavedView) -> GroupRow {
    let sets: Vec<Vec<ConditionFile>> =
        serde_json::from_value(v.document["filter"].clone()).unwrap_or_default();
    GroupRow {
        id: v.id.clone(),
        name: v.name.clone(),
        filter: describe(&sets),
        is_default: v.is_default,
    }
}

async fn show(
    s: &AppState,
    user: &ConsoleUser,
    form: &FormData,
    errors: Errors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let groups = match s.app.list_views(&user.caller, ViewKind::AssetGroup).await {
        Ok(g) => g,
        Err(e) => return error_page(&e),
    };
    let layout = layout(s, user, "asset-groups").await;
    let page = AssetGroupsPage {
        layout: Some(layout),
        csrf: user.csrf.clone(),
        groups: groups.iter().map(row_of).collect(),
        name: errors.input("name", form.text("name")),
        fields: FIELDS
            .iter()
            .map(|(name, label, _)| FieldView {
                input: errors.input(name, form.text(name)),
                label,
            })
            .collect(),
        make_default: form.get("is_default").is_some(),
        unclaimed: errors.unclaimed(),
        notice,
    };
    render(status, &page)
}

pub(crate) async fn asset_groups_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = match q.notice.as_deref() {
        Some("created") => Some("The asset group is saved.".to_string()),
        Some("default") => Some("The default asset group is set.".to_string()),
        Some("deleted") => Some("The asset group is deleted.".to_string()),
        _ => None,
    };
    show(
        &s,
        &user,
        &FormData(vec![]),
        Errors::none(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// The filter the form describes, and which field each condition came from.
fn filter_of(form: &FormData) -> (Vec<Vec<ConditionFile>>, Vec<&'static str>) {
    let mut set = Vec::new();
    let mut from = Vec::new();
    for (name, _, dimension) in FIELDS {
        let values: Vec<String> = form
            .text(name)
            .lines()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if values.is_empty() {
            continue;
        }
        set.push(ConditionFile {
            dimension: Some(dimension.to_string()),
            tag: None,
            op: "in".into(),
            value: None,
            values: Some(values),
        });
        from.push(name);
    }
    let sets = if set.is_empty() { vec![] } else { vec![set] };
    (sets, from)
}

pub(crate) async fn create(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(pairs);
    let (filter, from) = filter_of(&form);
    let result = if filter.is_empty() {
        Err(AppError::Invalid(FieldError::new(
            FIELDS[0].0,
            "asset_group_empty",
            "Fill at least one field: a group of all costs is no group.",
        )))
    } else {
        let input = AssetGroupInput {
            name: form.text("name"),
            filter,
            is_default: form.get("is_default").is_some(),
        };
        s.app.save_asset_group(&user.caller, None, &input).await
    };
    match result {
        Ok(_) => Redirect::to("/asset-groups?notice=created").into_response(),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            // `filter[0][k].values` is the k-th filled field.
            let aliases: Vec<(String, &str)> = from
                .iter()
                .enumerate()
                .flat_map(|(k, name)| {
                    ["", ".values", ".value", ".dimension", ".op"]
                        .into_iter()
                        .map(move |suffix| (format!("filter[0][{k}]{suffix}"), *name))
                })
                .collect();
            let aliases: Vec<(&str, &str)> =
                aliases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
            let errors = Errors::of(&e, &aliases);
            show(
                &s,
                &user,
                &form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /asset-groups/{id}/default` (`none` clears the default).
pub(crate) async fn make_default(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let id = (id != "none").then_some(id);
    match s
        .app
        .set_default_asset_group(&user.caller, id.as_deref())
        .await
    {
        Ok(()) => Redirect::to("/asset-groups?notice=default").into_response(),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_view(&user.caller, &id).await {
        Ok(v) if v.kind == ViewKind::AssetGroup => {}
        Ok(_) => {
            return error_page(&AppError::NotFound {
                code: "view_not_found",
                message: "There is no such asset group.".into(),
            });
        }
        Err(e) => return error_page(&e),
    }
    match s.app.delete_view(&user.caller, &id).await {
        Ok(()) => Redirect::to("/asset-groups?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}
