//! What invoicing is set up with: templates (the out-of-the-box one copied, never edited),
//! customers (every family, configured or not) and monthly schedules.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_app::invoicing::{
    CustomerInput, CustomerView, FormulaBody, HeaderField, ScheduleInput, TemplateBody,
    TemplateView,
};
use be_domain::FieldError;
use be_domain::invoicing::Issuer;
use serde::Deserialize;

use super::super::ConsoleUser;
use super::super::pages::{Allowed as _, Layout, error_page, layout, render, when};
use super::super::view::{Errors, FormData, Input, safe_segment};
use super::Tabs;
use super::runs::beside;
use crate::{AppState, error::status_of};

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(q: &NoticeQuery) -> Option<String> {
    Some(
        match q.notice.as_deref()? {
            "created" => "Template created.",
            "saved" => "Saved.",
            "copied" => "Copied: this copy is yours to edit.",
            "deleted" => "Deleted.",
            "customer" => "Customer saved: the next runs bill it so.",
            "scheduled" => "Schedule created.",
            _ => return None,
        }
        .into(),
    )
}

/// The error(s) about `name` and its indexed items (`line_by[1]`), claimed, as one message.
fn indexed(errors: &Errors, name: &str, items: usize) -> Option<String> {
    let found: Vec<String> = std::iter::once(name.to_string())
        .chain((0..items.max(8)).map(|i| format!("{name}[{i}]")))
        .filter_map(|n| errors.take(&n))
        .collect();
    (!found.is_empty()).then(|| found.join(" "))
}

fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|t| !t.is_empty())
}

/// A whole number of days, or the field's error.
fn days(form: &FormData, field: &'static str) -> Result<Option<u32>, FieldError> {
    match form.opt(field) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            FieldError::new(field, "days_invalid", "A whole number of days, such as 30.")
        }),
    }
}

// ----- Templates -----

pub(crate) struct TemplateRow {
    id: String,
    name: String,
    builtin: bool,
    invoice_by: String,
    line_by: String,
    measure: String,
    series: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "invoicing/templates.html")]
struct TemplatesPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    notice: Option<String>,
    templates: Vec<TemplateRow>,
    copy_name: Input,
    leftover: Vec<String>,
}

async fn templates_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    copy_name: String,
    errors: Errors,
) -> Response {
    let templates = match s.app.invoice_templates(&user.caller).await {
        Ok(t) => t,
        Err(e) => return error_page(&e),
    };
    let mut page = TemplatesPage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs {
            current: "templates",
        },
        csrf: user.csrf.clone(),
        notice,
        templates: templates
            .iter()
            .map(|t| TemplateRow {
                id: t.id.clone(),
                name: t.body.name.clone(),
                builtin: t.builtin,
                invoice_by: t.body.invoice_by.clone(),
                line_by: t.body.line_by.join(", "),
                measure: t.body.measure.clone(),
                series: t.body.series.clone(),
                updated: when(t.updated_at),
            })
            .collect(),
        copy_name: errors.input("name", copy_name),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn templates_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    templates_view(
        &s,
        &user,
        StatusCode::OK,
        notice_text(&q),
        String::new(),
        Errors::none(),
    )
    .await
}

pub(crate) struct FormulaInputs {
    label: Input,
    formula: Input,
    adds: bool,
    adds_name: String,
}

pub(crate) struct PairInputs {
    label: Input,
    value: Input,
}

/// The template form's inputs.
pub(crate) struct TemplateInputs {
    name: Input,
    invoice_by: Input,
    line_by: Input,
    measure: Input,
    formulas: Vec<FormulaInputs>,
    header_fields: Vec<PairInputs>,
    footer: Input,
    issuer_name: Input,
    issuer_address: Input,
    issuer_tax_id: Input,
    issuer_email: Input,
    paper: Input,
    show_zero_lines: bool,
    series: Input,
    credit_series: Input,
    debit_series: Input,
    terms: Input,
}

fn template_inputs(b: &TemplateBody, terms: String, errors: &Errors) -> TemplateInputs {
    let mut line_by = errors.input("line_by", b.line_by.join("\n"));
    line_by.error = indexed(errors, "line_by", b.line_by.len());
    let formulas = (0..b.formulas.len() + 1)
        .map(|i| {
            let f = b.formulas.get(i);
            FormulaInputs {
                label: errors.input(
                    &format!("formulas[{i}].label"),
                    f.map(|f| f.label.clone()).unwrap_or_default(),
                ),
                formula: errors.input(
                    &format!("formulas[{i}].formula"),
                    f.map(|f| f.formula.clone()).unwrap_or_default(),
                ),
                adds: f.is_some_and(|f| f.adds_to_total),
                adds_name: format!("formulas[{i}].adds_to_total"),
            }
        })
        .collect();
    let header_fields = (0..b.header_fields.len() + 1)
        .map(|i| {
            let h = b.header_fields.get(i);
            PairInputs {
                label: errors.input(
                    &format!("header_fields[{i}].label"),
                    h.map(|h| h.label.clone()).unwrap_or_default(),
                ),
                value: errors.input(
                    &format!("header_fields[{i}].value"),
                    h.map(|h| h.value.clone()).unwrap_or_default(),
                ),
            }
        })
        .collect();
    let i = &b.issuer;
    TemplateInputs {
        name: errors.input("name", b.name.clone()),
        invoice_by: errors.input("invoice_by", b.invoice_by.clone()),
        line_by,
        measure: errors.input("measure", b.measure.clone()),
        formulas,
        header_fields,
        footer: errors.input("footer", b.footer.clone()),
        issuer_name: errors.input("issuer.name", i.name.clone()),
        issuer_address: errors.input("issuer.address", i.address.join("\n")),
        issuer_tax_id: errors.input("issuer.tax_id", i.tax_id.clone().unwrap_or_default()),
        issuer_email: errors.input("issuer.email", i.email.clone().unwrap_or_default()),
        paper: errors.input("paper", b.paper.clone()),
        show_zero_lines: b.show_zero_lines,
        series: errors.input("series", b.series.clone()),
        credit_series: errors.input("credit_series", b.credit_series.clone()),
        debit_series: errors.input("debit_series", b.debit_series.clone()),
        terms: errors.input("payment_terms_days", terms),
    }
}

#[derive(Template)]
#[template(path = "invoicing/template.html")]
struct TemplatePage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    notice: Option<String>,
    /// None for a new template.
    id: Option<String>,
    builtin: bool,
    f: TemplateInputs,
    measures: Vec<(String, String)>,
    papers: Vec<(String, String)>,
    leftover: Vec<String>,
}

fn choices(all: &[(&str, &str)]) -> Vec<(String, String)> {
    all.iter()
        .map(|(v, t)| (v.to_string(), t.to_string()))
        .collect()
}

struct Shown {
    id: Option<String>,
    builtin: bool,
    body: TemplateBody,
    terms: String,
}

async fn template_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    shown: Shown,
    errors: Errors,
) -> Response {
    let f = template_inputs(&shown.body, shown.terms, &errors);
    let mut page = TemplatePage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs {
            current: "templates",
        },
        csrf: user.csrf.clone(),
        notice,
        id: shown.id,
        builtin: shown.builtin,
        f,
        measures: choices(&[
            ("BilledCost", "Billed cost"),
            ("EffectiveCost", "Effective cost"),
            ("ListCost", "List cost"),
        ]),
        papers: choices(&[("a4", "A4"), ("letter", "US Letter")]),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

fn shown_of(t: TemplateView) -> Shown {
    Shown {
        terms: t.body.payment_terms_days.to_string(),
        id: Some(t.id),
        builtin: t.builtin,
        body: t.body,
    }
}

pub(crate) async fn new_template(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let standard = match s.app.invoice_templates(&user.caller).await {
        Ok(all) => all.into_iter().find(|t| t.builtin),
        Err(e) => return error_page(&e),
    };
    let mut shown = match standard {
        Some(t) => shown_of(t),
        None => {
            return super::super::pages::message_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "The out-of-the-box template is missing.",
            );
        }
    };
    shown.id = None;
    shown.builtin = false;
    shown.body.name = String::new();
    template_view(&s, &user, StatusCode::OK, None, shown, Errors::none()).await
}

pub(crate) async fn edit_template(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    match s.app.invoice_template(&user.caller, &id).await {
        Ok(t) => {
            template_view(
                &s,
                &user,
                StatusCode::OK,
                notice_text(&q),
                shown_of(t),
                Errors::none(),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// The template a form describes, and the days as typed.
fn body_of(form: &FormData) -> (TemplateBody, String) {
    let formulas = (0..20)
        .filter_map(|i| {
            let label = form.text(&format!("formulas[{i}].label"));
            let formula = form.text(&format!("formulas[{i}].formula"));
            (!label.trim().is_empty() || !formula.trim().is_empty()).then(|| FormulaBody {
                label,
                formula,
                adds_to_total: form.get(&format!("formulas[{i}].adds_to_total")).is_some(),
            })
        })
        .collect();
    let header_fields = (0..20)
        .filter_map(|i| {
            let label = form.text(&format!("header_fields[{i}].label"));
            let value = form.text(&format!("header_fields[{i}].value"));
            (!label.trim().is_empty() || !value.trim().is_empty())
                .then_some(HeaderField { label, value })
        })
        .collect();
    let body = TemplateBody {
        name: form.text("name"),
        invoice_by: form.text("invoice_by"),
        line_by: lines(&form.text("line_by")),
        measure: form.text("measure"),
        formulas,
        header_fields,
        footer: form.text("footer"),
        issuer: Issuer {
            name: form.text("issuer.name").trim().to_string(),
            address: lines(&form.text("issuer.address")),
            tax_id: opt(&form.text("issuer.tax_id")),
            email: opt(&form.text("issuer.email")),
            logo_base64: None,
        },
        paper: form.text("paper"),
        show_zero_lines: form.get("show_zero_lines").is_some(),
        series: form.text("series"),
        credit_series: form.text("credit_series"),
        debit_series: form.text("debit_series"),
        payment_terms_days: 0,
    };
    (body, form.text("payment_terms_days"))
}

/// Save a new template (`id` None) or an existing one.
async fn save(s: &AppState, user: &ConsoleUser, id: Option<String>, form: FormData) -> Response {
    let (mut body, terms) = body_of(&form);
    let result = match days(&form, "payment_terms_days") {
        Err(e) => Err(AppError::Invalid(e)),
        Ok(d) => {
            body.payment_terms_days = d.unwrap_or(30);
            match &id {
                None => {
                    s.app
                        .create_invoice_template(&user.caller, body.clone())
                        .await
                }
                Some(id) => {
                    // The form has no logo field: keep the template's logo (set over the API).
                    if let Ok(current) = s.app.invoice_template(&user.caller, id).await {
                        body.issuer.logo_base64 = current.body.issuer.logo_base64;
                    }
                    s.app
                        .update_invoice_template(&user.caller, id, body.clone())
                        .await
                }
            }
        }
    };
    match result {
        Ok(t) => {
            let notice = if id.is_some() { "saved" } else { "created" };
            to_template(&t.id, notice)
        }
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Conflict { .. }),
        ) => {
            let shown = Shown {
                id,
                builtin: false,
                body,
                terms,
            };
            template_view(s, user, status_of(&e), None, shown, Errors::of(&e, &[])).await
        }
        Err(e) => error_page(&e),
    }
}

fn to_template(id: &str, notice: &str) -> Response {
    match safe_segment(id) {
        Some(id) => {
            Redirect::to(&format!("/invoices/templates/{id}?notice={notice}")).into_response()
        }
        None => Redirect::to("/invoices/templates").into_response(),
    }
}

pub(crate) async fn create_template(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    save(&s, &user, None, FormData(form)).await
}

pub(crate) async fn save_template(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    save(&s, &user, Some(id), FormData(form)).await
}

pub(crate) async fn copy_template(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let name = FormData(form).text("name");
    match s.app.copy_invoice_template(&user.caller, &id, &name).await {
        Ok(t) => to_template(&t.id, "copied"),
        Err(e) if !e.field_errors().is_empty() => {
            templates_view(&s, &user, status_of(&e), None, name, Errors::of(&e, &[])).await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_template(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_invoice_template(&user.caller, &id).await {
        Ok(()) => Redirect::to("/invoices/templates?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- Customers -----

pub(crate) struct CustomerRow {
    key: String,
    key_query: String,
    name: String,
    emails: String,
    tax_id: String,
    configured: bool,
}

#[derive(Template)]
#[template(path = "invoicing/customers.html")]
struct CustomersPage {
    layout: Option<Layout>,
    tabs: Tabs,
    notice: Option<String>,
    customers: Vec<CustomerRow>,
}

fn customer_row(c: &CustomerView) -> CustomerRow {
    let k = &c.customer;
    CustomerRow {
        key: k.key.clone(),
        key_query: super::super::view::enc(&k.key),
        name: k.billing_name.clone(),
        emails: k
            .emails
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        tax_id: k.tax_id.clone().unwrap_or_default(),
        configured: c.configured,
    }
}

pub(crate) async fn customers_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let customers = match s.app.customers(&user.caller).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let page = CustomersPage {
        layout: Some(layout(&s, &user, "invoices").await),
        tabs: Tabs {
            current: "customers",
        },
        notice: notice_text(&q),
        customers: customers.iter().map(customer_row).collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "invoicing/customer.html")]
struct CustomerPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    known: bool,
    key: Input,
    billing_name: Input,
    address: Input,
    emails: Input,
    tax_id: Input,
    purchase_order: Input,
    terms: Input,
    leftover: Vec<String>,
}

/// The customer form's values as text.
#[derive(Default)]
struct CustomerText {
    key: String,
    billing_name: String,
    address: String,
    emails: String,
    tax_id: String,
    purchase_order: String,
    terms: String,
}

async fn customer_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    known: bool,
    t: CustomerText,
    errors: Errors,
) -> Response {
    let mut emails = errors.input("emails", t.emails);
    emails.error = indexed(&errors, "emails", 20);
    let mut address = errors.input("address", t.address);
    address.error = indexed(&errors, "address", 20);
    let mut page = CustomerPage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs {
            current: "customers",
        },
        csrf: user.csrf.clone(),
        known,
        key: errors.input("key", t.key),
        billing_name: errors.input("billing_name", t.billing_name),
        address,
        emails,
        tax_id: errors.input("tax_id", t.tax_id),
        purchase_order: errors.input("purchase_order", t.purchase_order),
        terms: errors.input("payment_terms_days", t.terms),
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

#[derive(Deserialize)]
pub(crate) struct KeyQuery {
    key: Option<String>,
}

pub(crate) async fn edit_customer(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<KeyQuery>,
) -> Response {
    let all = match s.app.customers(&user.caller).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let found = q
        .key
        .as_deref()
        .and_then(|k| all.iter().find(|c| c.customer.key == k));
    let text = found.map_or_else(CustomerText::default, |c| {
        let k = &c.customer;
        CustomerText {
            key: k.key.clone(),
            billing_name: k.billing_name.clone(),
            address: k.address.join("\n"),
            emails: k
                .emails
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            tax_id: k.tax_id.clone().unwrap_or_default(),
            purchase_order: k.purchase_order.clone().unwrap_or_default(),
            terms: k
                .payment_terms_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        }
    });
    customer_view(
        &s,
        &user,
        StatusCode::OK,
        found.is_some(),
        text,
        Errors::none(),
    )
    .await
}

fn customer_text(form: &FormData) -> CustomerText {
    CustomerText {
        key: form.text("key"),
        billing_name: form.text("billing_name"),
        address: form.text("address"),
        emails: form.text("emails"),
        tax_id: form.text("tax_id"),
        purchase_order: form.text("purchase_order"),
        terms: form.text("payment_terms_days"),
    }
}

pub(crate) async fn save_customer(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let t = customer_text(&form);
    let result = match days(&form, "payment_terms_days") {
        Err(e) => Err(AppError::Invalid(e)),
        Ok(terms) => {
            let input = CustomerInput {
                key: t.key.clone(),
                billing_name: t.billing_name.clone(),
                address: lines(&t.address),
                emails: lines(&t.emails.replace(',', "\n")),
                tax_id: opt(&t.tax_id),
                purchase_order: opt(&t.purchase_order),
                payment_terms_days: terms,
            };
            s.app.set_customer(&user.caller, input).await
        }
    };
    match result {
        Ok(_) => Redirect::to("/invoices/customers?notice=customer").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::InvalidFields(_))) => {
            let known = form.get("known").is_some();
            customer_view(&s, &user, status_of(&e), known, t, Errors::of(&e, &[])).await
        }
        Err(e) => error_page(&e),
    }
}

// ----- Schedules -----

pub(crate) struct ScheduleRow {
    id: String,
    name: String,
    template: String,
    day: i32,
    finalize: bool,
    send: bool,
    next: String,
    last_run: Option<String>,
}

#[derive(Template)]
#[template(path = "invoicing/schedules.html")]
struct SchedulesPage {
    layout: Option<Layout>,
    tabs: Tabs,
    csrf: String,
    notice: Option<String>,
    schedules: Vec<ScheduleRow>,
    templates: Vec<(String, String)>,
    name: Input,
    template: Input,
    day: Input,
    finalize: bool,
    send: bool,
    leftover: Vec<String>,
}

#[derive(Default)]
struct ScheduleText {
    name: String,
    template: String,
    day: String,
    finalize: bool,
    send: bool,
}

async fn schedules_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    notice: Option<String>,
    t: ScheduleText,
    errors: Errors,
) -> Response {
    let (schedules, templates) = match tokio::try_join!(
        s.app.invoice_schedules(&user.caller),
        s.app.invoice_templates(&user.caller)
    ) {
        Ok(all) => all,
        Err(e) => return error_page(&e),
    };
    let name_of = |id: &str| {
        templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.body.name.clone())
            .unwrap_or_default()
    };
    let rows = schedules
        .iter()
        .map(|x| ScheduleRow {
            id: x.id.clone(),
            name: x.name.clone(),
            template: name_of(&x.template_id),
            day: x.day_of_month,
            finalize: x.finalize,
            send: x.send,
            next: when(x.next_run_at),
            last_run: x.last_run_id.clone(),
        })
        .collect();
    let mut page = SchedulesPage {
        layout: Some(layout(s, user, "invoices").await),
        tabs: Tabs {
            current: "schedules",
        },
        csrf: user.csrf.clone(),
        notice,
        schedules: rows,
        templates: templates
            .iter()
            .map(|t| (t.id.clone(), t.body.name.clone()))
            .collect(),
        name: errors.input("name", t.name),
        template: errors.input("template", t.template),
        day: errors.input(
            "day_of_month",
            if t.day.is_empty() { "5".into() } else { t.day },
        ),
        finalize: t.finalize,
        send: t.send,
        leftover: vec![],
    };
    page.leftover = errors.unclaimed();
    render(status, &page)
}

pub(crate) async fn schedules_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<NoticeQuery>,
) -> Response {
    schedules_view(
        &s,
        &user,
        StatusCode::OK,
        notice_text(&q),
        ScheduleText::default(),
        Errors::none(),
    )
    .await
}

pub(crate) async fn create_schedule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(form);
    let t = ScheduleText {
        name: form.text("name"),
        template: form.text("template"),
        day: form.text("day_of_month"),
        finalize: form.get("finalize").is_some(),
        send: form.get("send").is_some(),
    };
    let result = match t.day.trim().parse::<u8>() {
        Err(_) => Err(AppError::Invalid(FieldError::new(
            "day_of_month",
            "schedule_day_invalid",
            "Choose a day from 1 to 28 (every month has it).",
        ))),
        Ok(day) => {
            let input = ScheduleInput {
                name: t.name.clone(),
                template: opt(&t.template),
                day_of_month: day,
                finalize: t.finalize,
                send: t.send,
            };
            s.app.create_invoice_schedule(&user.caller, input).await
        }
    };
    match result {
        Ok(_) => Redirect::to("/invoices/schedules?notice=scheduled").into_response(),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::Conflict { .. }
            | AppError::NotFound { .. }),
        ) => {
            let errors = if matches!(e, AppError::NotFound { .. }) {
                beside(&e, "template")
            } else {
                Errors::of(&e, &[])
            };
            schedules_view(&s, &user, status_of(&e), None, t, errors).await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_schedule(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_invoice_schedule(&user.caller, &id).await {
        Ok(()) => Redirect::to("/invoices/schedules?notice=deleted").into_response(),
        Err(e) => error_page(&e),
    }
}
