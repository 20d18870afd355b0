//! Allocation assignments (engine.md 2.2): a key whose values rows receive by conditions; each
//! entry has condition sets and one value (direct) or several with percentages summing to 100
//! (split). The app refuses a split that does not sum to 100 and names the sum; the message is
//! shown beside that entry's values.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_domain::pricing::file::{AllocationFile, EntryFile, ShareFile};
use serde::Deserialize;

use super::ConsoleUser;
use super::conditions::{self, ConditionsView, Sets};
use super::pages::{Allowed as _, Layout, error_page, layout, render};
use super::view::{Errors, FormData, Input, Money, default_period};
use crate::{AppState, error::status_of};

#[derive(Debug, Clone, PartialEq, Eq)]
struct EntryDraft {
    sets: Sets,
    values: Vec<(String, String)>,
}

impl EntryDraft {
    fn blank() -> Self {
        EntryDraft {
            sets: vec![],
            values: vec![(String::new(), "100".into())],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllocDraft {
    key: String,
    entries: Vec<EntryDraft>,
}

impl AllocDraft {
    fn from_file(a: &AllocationFile) -> Self {
        AllocDraft {
            key: a.key.clone(),
            entries: a
                .entries
                .iter()
                .map(|e| EntryDraft {
                    sets: conditions::from_file(&e.when),
                    values: e
                        .values
                        .iter()
                        .map(|s| (s.value.clone(), s.percent.clone()))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Read the form; value rows and entries left blank are dropped.
    fn from_form(form: &FormData) -> Self {
        let numbers: BTreeSet<usize> = form
            .0
            .iter()
            .filter_map(|(k, _)| {
                conditions::indices(k, "entries").and_then(|(ix, _)| ix.first().copied())
            })
            .collect();
        let entries = numbers
            .into_iter()
            .map(|e| {
                let mut values: BTreeMap<usize, (String, String)> = BTreeMap::new();
                for (key, v) in &form.0 {
                    if let Some((ix, field)) =
                        conditions::indices(key, &format!("entries[{e}].values"))
                        && let [k] = ix[..]
                    {
                        let share = values.entry(k).or_default();
                        match field {
                            "value" => share.0 = v.clone(),
                            "percent" => share.1 = v.clone(),
                            _ => {}
                        }
                    }
                }
                EntryDraft {
                    sets: conditions::from_form(form, &format!("entries[{e}].")),
                    values: values
                        .into_values()
                        .filter(|(v, p)| !v.trim().is_empty() || !p.trim().is_empty())
                        .collect(),
                }
            })
            .filter(|e| !e.sets.is_empty() || !e.values.is_empty())
            .collect();
        AllocDraft {
            key: form.text("key"),
            entries,
        }
    }

    fn to_file(&self) -> AllocationFile {
        AllocationFile {
            key: self.key.trim().to_string(),
            entries: self
                .entries
                .iter()
                .map(|e| EntryFile {
                    when: conditions::to_file(&e.sets),
                    values: e
                        .values
                        .iter()
                        .map(|(v, p)| ShareFile {
                            value: v.trim().to_string(),
                            percent: p.trim().to_string(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Row buttons: entries, value rows, and each entry's conditions.
    fn act(&mut self, action: &str) -> bool {
        let Some((verb, path)) = action.split_once(':') else {
            return false;
        };
        if (verb, path) == ("add", "entries") {
            self.entries.push(EntryDraft::blank());
            return true;
        }
        let Some((ix, rest)) = conditions::indices(path, "entries") else {
            return false;
        };
        let Some(entry) = ix.first().copied().filter(|e| *e < self.entries.len()) else {
            return false;
        };
        match (verb, rest) {
            ("del", "") => {
                self.entries.remove(entry);
                true
            }
            ("add", "values") => {
                self.entries[entry]
                    .values
                    .push((String::new(), String::new()));
                true
            }
            (_, r) if r.starts_with("values") => match conditions::indices(r, "values")
                .map(|(ix, _)| ix)
            {
                Some(k)
                    if verb == "del" && k.len() == 1 && k[0] < self.entries[entry].values.len() =>
                {
                    self.entries[entry].values.remove(k[0]);
                    true
                }
                _ => false,
            },
            (_, r) => conditions::act(&mut self.entries[entry].sets, &format!("{verb}:{r}")),
        }
    }
}

pub(crate) struct ShareView {
    value: Input,
    percent: Input,
    remove: String,
}

pub(crate) struct EntryView {
    number: usize,
    conditions: ConditionsView,
    values: Vec<ShareView>,
    values_error: Option<String>,
    add_value: String,
    remove: String,
}

/// What the assignment would give on a month's data, before it is saved.
pub(crate) struct PreviewView {
    period: String,
    rows: Vec<PreviewRow>,
}

pub(crate) struct PreviewRow {
    value: String,
    unallocated: bool,
    rows: i64,
    provider: Money,
    billed: Money,
}

#[derive(Template)]
#[template(path = "allocation.html")]
struct AllocationPage {
    layout: Option<Layout>,
    csrf: String,
    editing: bool,
    key: Input,
    entries: Vec<EntryView>,
    entries_error: Option<String>,
    operators: &'static [(&'static str, &'static str)],
    suggestions: Vec<String>,
    preview_period: Input,
    preview: Option<PreviewView>,
    leftover: Vec<String>,
}

/// What the form shows besides the draft: the month to preview on and its result.
struct Extra {
    preview_period: Option<String>,
    preview: Option<PreviewView>,
}

async fn allocation_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    editing: bool,
    d: &AllocDraft,
    errors: Errors,
    extra: Extra,
) -> Response {
    let (pricing, sources) = match (
        s.app.pricing(&user.caller).await,
        s.app.sources(&user.caller).await,
    ) {
        (Ok(p), Ok(src)) => (p.view(), src),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let periods = sources
        .sources
        .iter()
        .flat_map(|src| src.periods.iter().map(|p| p.period.clone()));
    let preview_period = extra.preview_period.unwrap_or_else(|| {
        default_period(periods, be_domain::BillingPeriod::of_instant(s.app.now()))
    });
    // Conditions may name the keys of the assignments before this one.
    let earlier: Vec<String> = pricing
        .allocations
        .iter()
        .map(|a| a.allocation.key.clone())
        .take_while(|k| !k.eq_ignore_ascii_case(d.key.trim()))
        .collect();
    let entries = d
        .entries
        .iter()
        .enumerate()
        .map(|(e, entry)| {
            let prefix = format!("entries[{e}].");
            EntryView {
                number: e + 1,
                conditions: conditions::view(&entry.sets, &prefix, &errors),
                values: entry
                    .values
                    .iter()
                    .enumerate()
                    .map(|(k, (v, p))| ShareView {
                        value: errors.input(&format!("{prefix}values[{k}].value"), v.clone()),
                        percent: errors.input(&format!("{prefix}values[{k}].percent"), p.clone()),
                        remove: format!("del:{prefix}values[{k}]"),
                    })
                    .collect(),
                values_error: errors.take(&format!("{prefix}values")),
                add_value: format!("add:{prefix}values"),
                remove: format!("del:entries[{e}]"),
            }
        })
        .collect();
    let mut page = AllocationPage {
        layout: Some(layout(s, user, "allocations").await),
        csrf: user.csrf.clone(),
        editing,
        key: errors.input("key", d.key.clone()),
        entries,
        entries_error: errors.take("entries"),
        operators: &conditions::OPERATORS,
        suggestions: conditions::dimension_suggestions(&earlier),
        preview_period: errors.input("preview_period", preview_period),
        preview: extra.preview,
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

fn no_extra() -> Extra {
    Extra {
        preview_period: None,
        preview: None,
    }
}

fn preview_view(p: be_app::rating::AllocationPreview) -> PreviewView {
    PreviewView {
        period: p.period.to_string(),
        rows: p
            .rows
            .into_iter()
            .map(|r| {
                let c = r.currency.as_deref();
                PreviewRow {
                    unallocated: r.value.is_none(),
                    value: r.value.unwrap_or_else(|| "(unallocated)".into()),
                    rows: r.rows,
                    provider: Money::of(r.provider_cost, c),
                    billed: Money::of(r.billed_cost, c),
                }
            })
            .collect(),
    }
}

/// Preview the draft on a month; its mistakes are shown beside their fields like a save's.
async fn preview(
    s: &AppState,
    user: &ConsoleUser,
    editing: bool,
    d: &AllocDraft,
    period: Option<String>,
) -> Response {
    match s
        .app
        .allocation_preview(&user.caller, &d.to_file(), period.as_deref())
        .await
    {
        Ok(p) => {
            allocation_view(
                s,
                user,
                StatusCode::OK,
                editing,
                d,
                Errors::none(),
                Extra {
                    preview_period: period,
                    preview: Some(preview_view(p)),
                },
            )
            .await
        }
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::NotFound { .. }
            | AppError::Conflict { .. }
            | AppError::Engine(_)),
        ) => {
            let errors = match &e {
                AppError::NotFound { .. } | AppError::Conflict { .. } | AppError::Engine(_) => {
                    Errors::of(
                        &AppError::Invalid(be_domain::FieldError::new(
                            "preview_period",
                            e.code(),
                            e.public_message(),
                        )),
                        &[],
                    )
                }
                _ => Errors::of(&e, &[("period", "preview_period")]),
            };
            allocation_view(
                s,
                user,
                crate::error::status_of(&e),
                editing,
                d,
                errors,
                Extra {
                    preview_period: period,
                    preview: None,
                },
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) struct AllocationRow {
    key: String,
    entries: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "allocations.html")]
struct AllocationsPage {
    layout: Option<Layout>,
    notice: Option<String>,
    csrf: String,
    allocations: Vec<AllocationRow>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

pub(crate) async fn allocations_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    let allocations = pricing
        .allocations
        .iter()
        .map(|a| AllocationRow {
            key: a.allocation.key.clone(),
            entries: a
                .allocation
                .entries
                .iter()
                .map(|e| {
                    let values = e
                        .values
                        .iter()
                        .map(|v| {
                            if e.values.len() == 1 {
                                v.value.clone()
                            } else {
                                format!("{} {} %", v.value, v.percent)
                            }
                        })
                        .collect::<Vec<_>>();
                    (conditions::describe(&e.when), values.join(", "))
                })
                .collect(),
        })
        .collect();
    let notice = match q.notice.as_deref() {
        Some("saved") => {
            Some("Allocation saved. The months concerned are being rated again.".to_string())
        }
        Some("deleted") => Some("Allocation deleted.".to_string()),
        _ => None,
    };
    let page = AllocationsPage {
        layout: Some(layout(&s, &user, "allocations").await),
        notice,
        csrf: user.csrf.clone(),
        allocations,
    };
    render(StatusCode::OK, &page)
}

pub(crate) async fn new_allocation(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let d = AllocDraft {
        key: String::new(),
        entries: vec![EntryDraft::blank()],
    };
    allocation_view(
        &s,
        &user,
        StatusCode::OK,
        false,
        &d,
        Errors::none(),
        no_extra(),
    )
    .await
}

pub(crate) async fn edit_allocation(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(key): Path<String>,
) -> Response {
    let pricing = match s.app.pricing(&user.caller).await {
        Ok(p) => p.view(),
        Err(e) => return error_page(&e),
    };
    match pricing
        .allocations
        .iter()
        .find(|a| a.allocation.key.eq_ignore_ascii_case(&key))
    {
        Some(a) => {
            allocation_view(
                &s,
                &user,
                StatusCode::OK,
                true,
                &AllocDraft::from_file(&a.allocation),
                Errors::none(),
                no_extra(),
            )
            .await
        }
        None => error_page(&AppError::NotFound {
            code: "pricing_item_not_found",
            message: "There is no such allocation.".into(),
        }),
    }
}

pub(crate) async fn save_allocation(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let editing = form.get("editing").is_some();
    let mut d = AllocDraft::from_form(&form);
    match form.get("act") {
        Some("preview") => {
            return preview(&s, &user, editing, &d, form.opt("preview_period")).await;
        }
        Some(action) => {
            d.act(action);
            return allocation_view(
                &s,
                &user,
                StatusCode::OK,
                editing,
                &d,
                Errors::none(),
                no_extra(),
            )
            .await;
        }
        None => {}
    }
    match s.app.put_allocation(&user.caller, &d.to_file()).await {
        Ok(_) => Redirect::to("/allocations?notice=saved").into_response(),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            allocation_view(
                &s,
                &user,
                status_of(&e),
                editing,
                &d,
                Errors::of(&e, &[]),
                no_extra(),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_allocation(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(key): Path<String>,
) -> Response {
    match s.app.delete_allocation(&user.caller, &key).await {
        Ok(()) => Redirect::to("/allocations?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn entries_values_and_conditions_from_the_form() {
        let d = AllocDraft::from_form(&form(&[
            ("key", "CostCenter"),
            ("entries[0].when[0][0].on", "dimension"),
            ("entries[0].when[0][0].name", "SubAccountId"),
            ("entries[0].when[0][0].op", "equals"),
            ("entries[0].when[0][0].value", "sub-A"),
            ("entries[0].values[0].value", "Web"),
            ("entries[0].values[0].percent", "60"),
            ("entries[0].values[1].value", "Batch"),
            ("entries[0].values[1].percent", "40"),
            ("entries[0].values[2].value", ""),
            ("entries[0].values[2].percent", ""),
            ("entries[1].values[0].value", ""),
            ("entries[1].values[0].percent", ""),
        ]));
        assert_eq!(d.entries.len(), 1, "the blank entry is dropped");
        let f = d.to_file();
        assert_eq!(f.entries[0].values.len(), 2);
        assert_eq!(f.entries[0].when[0][0].value.as_deref(), Some("sub-A"));
        assert_eq!(AllocDraft::from_file(&f), d);
    }

    #[test]
    fn row_buttons() {
        let mut d = AllocDraft {
            key: "K".into(),
            entries: vec![EntryDraft::blank()],
        };
        assert!(d.act("add:entries[0].values"));
        assert_eq!(d.entries[0].values.len(), 2);
        assert!(d.act("del:entries[0].values[0]"));
        assert!(d.act("add:entries[0].when"));
        assert!(d.act("add:entries[0].when[0]"));
        assert_eq!(d.entries[0].sets[0].len(), 2);
        assert!(d.act("add:entries"));
        assert!(d.act("del:entries[1]"));
        assert_eq!(d.entries.len(), 1);
        assert!(!d.act("del:entries[7]"));
    }
}
