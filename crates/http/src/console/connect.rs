//! The connection wizard and the connection pages (product.md section 1, the seed's steps).

use askama::Template;
use axum::{
    Form, Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use be_app::{App, AppError, CheckOutcome, ConnectionDetails, RoleGrant};
use be_domain::{
    AgreementType, BillingAccountId, ClientId, ClientSecretValue, ConnectionState, JobState,
    Product, TenantId,
};
use be_store::ConnectionRecord;
use serde::Deserialize;

use super::pages::Allowed as _;
use super::{
    ConsoleUser,
    pages::{Layout, error_page, layout, render, when},
    view::Money,
};
use crate::AppState;

const LABELS: [&str; 8] = [
    "Create account",
    "Cloud provider",
    "Product",
    "Log in to Azure",
    "IDs",
    "Client secret",
    "Grant role",
    "Connect",
];

fn step_path(step: &str) -> &'static str {
    match step {
        "login" => "login",
        "ids" => "ids",
        "secret" => "secret",
        _ => "grant",
    }
}

async fn account_name(s: &AppState, user: &ConsoleUser, c: &ConnectionRecord) -> String {
    s.app
        .get_account(&user.caller, &c.account_id.to_string())
        .await
        .map(|a| a.name.to_string())
        .unwrap_or_default()
}

// ----- Steps 1 to 3 -----

#[derive(Template)]
#[template(path = "connect_account.html")]
struct AccountStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    name_value: String,
    name_error: Option<String>,
    /// This rendering's token: the form is submitted once ([`super::once`]).
    form_token: String,
}

pub(crate) async fn account_step(State(s): State<AppState>, user: ConsoleUser) -> Response {
    let page = AccountStep {
        layout: Some(layout(&s, &user, "connections").await),
        csrf: user.csrf.clone(),
        wizard_labels: LABELS,
        wizard_step: 1,
        name_value: String::new(),
        name_error: None,
        form_token: super::once::new_token(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    form_token: String,
}

/// Step 1: a second submission of the same form continues with the account the first created.
pub(crate) async fn create_account(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<NameForm>,
) -> Response {
    let token = form.form_token.clone();
    s.forms
        .clone()
        .once(
            user.caller.user_id,
            &token,
            create_account_now(s, user, form),
        )
        .await
}

async fn create_account_now(s: AppState, user: ConsoleUser, form: NameForm) -> Response {
    match s.app.create_account(&user.caller, &form.name).await {
        Ok(a) => Redirect::to(&format!("/connect/{}/provider", a.id)).into_response(),
        Err(e) if e.field() == Some("name") => {
            let page = AccountStep {
                layout: Some(layout(&s, &user, "connections").await),
                csrf: user.csrf.clone(),
                wizard_labels: LABELS,
                wizard_step: 1,
                name_error: Some(e.public_message()),
                name_value: form.name,
                form_token: super::once::new_token(),
            };
            render(crate::error::status_of(&e), &page)
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "connect_provider.html")]
struct ProviderStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    account_id: String,
    account_name: String,
}

pub(crate) async fn provider_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(account): Path<String>,
) -> Response {
    match s.app.get_account(&user.caller, &account).await {
        Ok(a) => render(
            StatusCode::OK,
            &ProviderStep {
                layout: Some(layout(&s, &user, "connections").await),
                csrf: user.csrf.clone(),
                wizard_labels: LABELS,
                wizard_step: 2,
                account_id: a.id.to_string(),
                account_name: a.name.to_string(),
            },
        ),
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ProviderForm {
    #[serde(default)]
    provider: String,
}

pub(crate) async fn choose_provider(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(account): Path<String>,
    Form(form): Form<ProviderForm>,
) -> Response {
    if let Err(e) = s.app.get_account(&user.caller, &account).await {
        return error_page(&e);
    }
    match be_domain::Provider::parse(&form.provider) {
        Ok(_) => Redirect::to(&format!("/connect/{account}/product")).into_response(),
        Err(e) => error_page(&AppError::Invalid(e)),
    }
}

#[derive(Template)]
#[template(path = "connect_product.html")]
struct ProductStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    account_id: String,
    account_name: String,
    error: Option<String>,
    /// This rendering's token: the form is submitted once ([`super::once`]).
    form_token: String,
}

async fn product_page(
    s: &AppState,
    user: &ConsoleUser,
    account: &str,
    error: Option<&AppError>,
) -> Response {
    match s.app.get_account(&user.caller, account).await {
        Ok(a) => render(
            error.map(crate::error::status_of).unwrap_or(StatusCode::OK),
            &ProductStep {
                layout: Some(layout(s, user, "connections").await),
                csrf: user.csrf.clone(),
                wizard_labels: LABELS,
                wizard_step: 3,
                account_id: a.id.to_string(),
                account_name: a.name.to_string(),
                error: error.map(AppError::public_message),
                form_token: super::once::new_token(),
            },
        ),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn product_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(account): Path<String>,
) -> Response {
    product_page(&s, &user, &account, None).await
}

#[derive(Deserialize)]
pub(crate) struct ProductForm {
    #[serde(default)]
    product: String,
    #[serde(default)]
    form_token: String,
}

/// Step 3: start the draft. The same form sent twice lands on the draft the first created; the
/// account's own unfinished draft is continued rather than refused as "already connected".
pub(crate) async fn choose_product(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(account): Path<String>,
    Form(form): Form<ProductForm>,
) -> Response {
    let token = form.form_token.clone();
    s.forms
        .clone()
        .once(
            user.caller.user_id,
            &token,
            choose_product_now(s, user, account, form),
        )
        .await
}

/// The account's draft, if it has one (where a repeated step 3 continues).
async fn draft_of(s: &AppState, user: &ConsoleUser, account: &str) -> Option<ConnectionRecord> {
    s.app
        .list_connections(&user.caller)
        .await
        .ok()?
        .into_iter()
        .find(|c| {
            c.account_id.to_string() == account && c.state == be_domain::ConnectionState::Draft
        })
}

async fn choose_product_now(
    s: AppState,
    user: ConsoleUser,
    account: String,
    form: ProductForm,
) -> Response {
    let started = s
        .app
        .start_connection(&user.caller, &account, "azure", &form.product)
        .await;
    if let Err(AppError::Conflict { .. }) = &started
        && let Some(c) = draft_of(&s, &user, &account).await
    {
        return Redirect::to(&format!("/connections/{}/{}", c.id, step_path(&c.step)))
            .into_response();
    }
    match started {
        Ok(c) => Redirect::to(&format!("/connections/{}/login", c.id)).into_response(),
        Err(e @ (AppError::Conflict { .. } | AppError::Invalid(_))) => {
            product_page(&s, &user, &account, Some(&e)).await
        }
        Err(e) => error_page(&e),
    }
}

// ----- Step 4: log in to Azure -----

#[derive(Template)]
#[template(path = "connect_login.html")]
struct LoginStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    id: String,
    account_name: String,
    redirect_uri: String,
}

pub(crate) async fn login_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => render(
            StatusCode::OK,
            &LoginStep {
                layout: Some(layout(&s, &user, "connections").await),
                csrf: user.csrf.clone(),
                wizard_labels: LABELS,
                wizard_step: 4,
                id: c.id.to_string(),
                account_name: account_name(&s, &user, &c).await,
                redirect_uri: s.app.settings().public_url.clone(),
            },
        ),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn login_done(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.connection_step_seen(&user.caller, &id, "ids").await {
        Ok(c) => Redirect::to(&format!("/connections/{}/ids", c.id)).into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- Step 5: IDs -----

struct Field {
    name: &'static str,
    label: &'static str,
    value: String,
    placeholder: &'static str,
    hint: &'static str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "connect_ids.html")]
struct IdsStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    id: String,
    account_name: String,
    fields: Vec<Field>,
    /// On a connection with stored data: what a change of tenant, agreement type or billing
    /// account does to it (said before it happens; the change needs `replace_data`).
    stored_data: Option<String>,
}

fn ids_fields(values: [String; 4], errors: &[be_domain::FieldError]) -> Vec<Field> {
    let err = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
    };
    let [client, tenant, agreement, billing] = values;
    vec![
        Field {
            name: "client_id",
            label: "Application (client) ID",
            value: client,
            placeholder: "00001111-aaaa-2222-bbbb-3333cccc4444",
            hint: "On the app registration's Overview page.",
            error: err("client_id"),
        },
        Field {
            name: "tenant_id",
            label: "Directory (tenant) ID",
            value: tenant,
            placeholder: "a GUID, or a domain such as contoso.onmicrosoft.com",
            hint: "On the same Overview page; a verified domain of the directory works too.",
            error: err("tenant_id"),
        },
        Field {
            name: "agreement_type",
            label: "Agreement type",
            value: agreement,
            placeholder: "",
            hint: "",
            error: err("agreement_type"),
        },
        Field {
            name: "billing_account_id",
            label: "Billing account ID",
            value: billing,
            placeholder: "EA: the enrollment number · MCA: guid:guid_YYYY-MM-DD",
            hint: "Cost Management + Billing → Billing scopes (EA) or the billing account's Properties (MCA).",
            error: err("billing_account_id"),
        },
    ]
}

async fn ids_page(
    s: &AppState,
    user: &ConsoleUser,
    c: &ConnectionRecord,
    values: [String; 4],
    errors: &[be_domain::FieldError],
    status: StatusCode,
) -> Response {
    let stored = s
        .app
        .stored_periods(&user.caller, &c.id.to_string())
        .await
        .unwrap_or_default();
    let stored_data = match (stored.first(), stored.last()) {
        (Some(first), Some(last)) => Some(format!(
            "This connection holds {} month(s) of cost data ({} to {}) from {} {}. Changing only the application (client) ID keeps them. Changing the tenant, the agreement type or the billing account removes them when you save, and the new billing account's months are backfilled after it validates.",
            stored.len(),
            first.period,
            last.period,
            c.agreement_type.map(|a| a.code()).unwrap_or("?"),
            c.billing_account_id
                .as_ref()
                .map(|b| b.as_str())
                .unwrap_or("?"),
        )),
        _ => None,
    };
    render(
        status,
        &IdsStep {
            layout: Some(layout(s, user, "connections").await),
            csrf: user.csrf.clone(),
            wizard_labels: LABELS,
            wizard_step: 5,
            id: c.id.to_string(),
            account_name: account_name(s, user, c).await,
            fields: ids_fields(values, errors),
            stored_data,
        },
    )
}

pub(crate) async fn ids_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => {
            let values = [
                c.client_id
                    .as_ref()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default(),
                c.tenant_id
                    .as_ref()
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                c.agreement_type
                    .map(|a| a.code().to_string())
                    .unwrap_or_default(),
                c.billing_account_id
                    .as_ref()
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
            ];
            ids_page(&s, &user, &c, values, &[], StatusCode::OK).await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct IdsForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    agreement_type: String,
    #[serde(default)]
    billing_account_id: String,
    /// The "Remove the stored data" box (sent only when ticked).
    #[serde(default)]
    replace_data: Option<String>,
}

pub(crate) async fn save_ids(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<IdsForm>,
) -> Response {
    let details = ConnectionDetails {
        tenant_id: Some(form.tenant_id.clone()),
        client_id: Some(form.client_id.clone()),
        agreement_type: Some(form.agreement_type.clone()),
        billing_account_id: Some(form.billing_account_id.clone()),
        replace_data: form.replace_data.is_some(),
    };
    match s
        .app
        .set_connection_details(&user.caller, &id, &details)
        .await
    {
        Ok(c) if c.state == ConnectionState::Draft => {
            Redirect::to(&format!("/connections/{}/secret", c.id)).into_response()
        }
        Ok(c) => Redirect::to(&format!("/connections/{}?notice=ids", c.id)).into_response(),
        Err(e) if !e.field_errors().is_empty() => {
            let status = match e {
                AppError::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            match s.app.get_connection(&user.caller, &id).await {
                Ok(c) => {
                    let values = [
                        form.client_id,
                        form.tenant_id,
                        form.agreement_type,
                        form.billing_account_id,
                    ];
                    ids_page(&s, &user, &c, values, &e.field_errors(), status).await
                }
                Err(e) => error_page(&e),
            }
        }
        Err(e) => error_page(&e),
    }
}

/// As-typed checks for the wizard's fields (the same parsers as on submit).
#[derive(Deserialize)]
pub(crate) struct CheckForm {
    field: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    agreement_type: String,
}

pub(crate) async fn check_field(_user: ConsoleUser, Form(form): Form<CheckForm>) -> Response {
    let result: Result<(), be_domain::FieldError> = match form.field.as_str() {
        "tenant_id" => TenantId::parse(&form.value).map(drop),
        "client_id" => ClientId::parse(&form.value).map(drop),
        "client_secret" => ClientSecretValue::parse(&form.value).map(drop),
        "billing_account_id" => match AgreementType::parse(&form.agreement_type) {
            Ok(a) => BillingAccountId::parse(a, &form.value).map(drop),
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    };
    let body = match result {
        Ok(()) => serde_json::json!({"ok": true}),
        Err(e) => serde_json::json!({"ok": false, "code": e.code, "message": e.message}),
    };
    Json(body).into_response()
}

// ----- Step 6: secret -----

#[derive(Template)]
#[template(path = "connect_secret.html")]
struct SecretStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    id: String,
    account_name: String,
    secret_set: bool,
    secret_set_at: Option<String>,
    rotating: bool,
    error: Option<String>,
    secret_error: Option<String>,
    expiry_error: Option<String>,
    expiry_value: String,
}

async fn secret_page(
    s: &AppState,
    user: &ConsoleUser,
    c: &ConnectionRecord,
    err: Option<&AppError>,
    expiry_value: String,
) -> Response {
    let fields = err.map(AppError::field_errors).unwrap_or_default();
    let of = |name: &str| {
        fields
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
    };
    let page = SecretStep {
        layout: Some(layout(s, user, "connections").await),
        csrf: user.csrf.clone(),
        wizard_labels: LABELS,
        wizard_step: 6,
        id: c.id.to_string(),
        account_name: account_name(s, user, c).await,
        secret_set: c.secret_ciphertext.is_some(),
        secret_set_at: c.secret_set_at.map(when),
        rotating: c.secret_ciphertext.is_some() && c.state != ConnectionState::Draft,
        error: err
            .filter(|_| fields.is_empty())
            .map(AppError::public_message),
        secret_error: of("client_secret"),
        expiry_error: of("secret_expires_on"),
        expiry_value,
    };
    render(
        err.map(crate::error::status_of).unwrap_or(StatusCode::OK),
        &page,
    )
}

pub(crate) async fn secret_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => {
            let expiry = c
                .secret_expires_on
                .map(|d| d.to_string())
                .unwrap_or_default();
            secret_page(&s, &user, &c, None, expiry).await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct SecretForm {
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    secret_expires_on: String,
}

pub(crate) async fn save_secret(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<SecretForm>,
) -> Response {
    let before = match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    match s
        .app
        .set_connection_secret(
            &user.caller,
            &id,
            &form.client_secret,
            &form.secret_expires_on,
        )
        .await
    {
        Ok(c) if before.state == ConnectionState::Draft => {
            Redirect::to(&format!("/connections/{}/grant", c.id)).into_response()
        }
        Ok(c) => Redirect::to(&format!("/connections/{}?notice=secret", c.id)).into_response(),
        Err(
            e @ (AppError::Invalid(_) | AppError::InvalidFields(_) | AppError::Upstream { .. }),
        ) => secret_page(&s, &user, &before, Some(&e), form.secret_expires_on).await,
        Err(e) => error_page(&e),
    }
}

// ----- Step 7: grant -----

struct CallView {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body_pretty: String,
    curl: String,
    az_rest: String,
}

#[derive(Template)]
#[template(path = "connect_grant.html")]
struct GrantStep {
    layout: Option<Layout>,
    csrf: String,
    wizard_labels: [&'static str; 8],
    wizard_step: usize,
    id: String,
    account_name: String,
    error: Option<String>,
    role_name: String,
    role_id: String,
    principal_id: String,
    tenant_guid: String,
    billing_account_id: String,
    ea_call: Option<CallView>,
    steps: Vec<String>,
}

pub(crate) async fn grant_step(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let c = match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let mut page = GrantStep {
        layout: Some(layout(&s, &user, "connections").await),
        csrf: user.csrf.clone(),
        wizard_labels: LABELS,
        wizard_step: 7,
        id: c.id.to_string(),
        account_name: account_name(&s, &user, &c).await,
        error: None,
        role_name: "reader".into(),
        role_id: String::new(),
        principal_id: String::new(),
        tenant_guid: String::new(),
        billing_account_id: String::new(),
        ea_call: None,
        steps: vec![],
    };
    match s.app.role_grant(&user.caller, &id).await {
        Ok(RoleGrant {
            role_name,
            role_definition_id,
            principal_object_id,
            principal_tenant_id,
            billing_account_id,
            ea_call,
            steps,
            ..
        }) => {
            page.role_name = role_name.into();
            page.role_id = role_definition_id.into();
            page.principal_id = principal_object_id;
            page.tenant_guid = principal_tenant_id;
            page.billing_account_id = billing_account_id;
            page.steps = steps;
            page.ea_call = ea_call.map(|call| CallView {
                method: call.method,
                body_pretty: serde_json::to_string_pretty(&call.body).unwrap_or_default(),
                url: call.url,
                headers: call.headers,
                curl: call.curl,
                az_rest: call.az_rest,
            });
            render(StatusCode::OK, &page)
        }
        Err(e @ (AppError::Upstream { .. } | AppError::Invalid(_))) => {
            page.error = Some(e.public_message());
            render(crate::error::status_of(&e), &page)
        }
        Err(e) => error_page(&e),
    }
}

// ----- Step 8 and the connection page -----

pub(crate) async fn validate(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.validate_connection(&user.caller, &id).await {
        Ok(_) => Redirect::to(&format!("/connections/{id}")).into_response(),
        // The address carries a code, never text: the page says only what the server chose.
        Err(e @ AppError::Invalid(_)) => Redirect::to(&format!(
            "/connections/{id}?error={}",
            url::form_urlencoded::byte_serialize(e.code().as_bytes()).collect::<String>()
        ))
        .into_response(),
        Err(e) => error_page(&e),
    }
}

struct CheckView {
    name: String,
    title: String,
    outcome: &'static str,
    outcome_label: &'static str,
    message: String,
    remedy: Option<String>,
    request_id: Option<String>,
}

#[derive(Template)]
#[template(path = "connection.html")]
struct ConnectionPage {
    layout: Option<Layout>,
    csrf: String,
    id: String,
    account_name: String,
    state: &'static str,
    resume_step: &'static str,
    notice: Option<String>,
    error: Option<String>,
    secret_warning: Option<String>,
    agreement: String,
    billing_account_id: String,
    billing_account_name: Option<String>,
    tenant_id: String,
    tenant_guid: Option<String>,
    client_id: String,
    principal_id: String,
    secret_status: String,
    last_validated: String,
    checks: Vec<CheckView>,
    next: Option<String>,
    data_as_of: String,
    /// When a month is closed (`[sync] ea_close_days`).
    closing_rule: String,
    sync_job: Option<String>,
    periods: Vec<PeriodRowView>,
    /// The sums of the periods' columns, when they share one currency.
    period_totals: Option<PeriodTotalsView>,
    failing: Vec<FailingRowView>,
    history: Vec<HistoryRowView>,
}

/// A period whose latest pull failed.
struct FailingRowView {
    period: String,
    at: String,
    code: String,
    message: String,
    remedy: String,
    previous_kept: bool,
}

struct PeriodRowView {
    period: String,
    rows: i64,
    actual_total: Money,
    billed_total: Money,
    amortized_total: Money,
    effective_total: Money,
    reconciled: bool,
    closed: bool,
    pulled_at: String,
}

struct PeriodTotalsView {
    rows: i64,
    actual_total: Money,
    billed_total: Money,
    amortized_total: Money,
    effective_total: Money,
}

/// The totals row of the stored periods: exact sums of each column, in their one currency (none
/// when the periods are in several, or a value does not parse).
fn period_totals(periods: &[be_store::PeriodRecord]) -> Option<PeriodTotalsView> {
    let first = periods.first()?;
    if periods
        .iter()
        .any(|p| p.billing_currency != first.billing_currency)
    {
        return None;
    }
    let currency = first.billing_currency.as_deref();
    let sum = |column: fn(&be_store::PeriodRecord) -> &str| -> Option<Money> {
        let mut total = be_domain::Exact::ZERO;
        for p in periods {
            total = total.checked_add(be_domain::Exact::parse(column(p))?)?;
        }
        Some(Money::of(total, currency))
    };
    Some(PeriodTotalsView {
        rows: periods.iter().map(|p| p.rows_stored).sum(),
        actual_total: sum(|p| &p.source_total)?,
        billed_total: sum(|p| &p.focus_total)?,
        amortized_total: sum(|p| &p.amortized_total)?,
        effective_total: sum(|p| &p.effective_total)?,
    })
}

struct HistoryRowView {
    started: String,
    period: String,
    outcome: &'static str,
    rows: i64,
    bytes: i64,
    duration: String,
    reconciliation: String,
    error: Option<String>,
    remedy: Option<String>,
    /// Values the conversion could not use as written (stored as null): how many, the first few.
    warning_count: i64,
    warnings: Vec<String>,
    warnings_note: String,
}

/// What a pull's warnings mean, and whether all are listed.
fn warnings_note(count: i64, shown: usize) -> String {
    let what = "The rows are kept: optional values that could not be read are empty, unknown charge types count as adjustments.";
    if count > shown as i64 {
        format!("{what} The first {shown} of {count}:")
    } else {
        what.to_string()
    }
}

/// The text of a validation refusal named by its code in the page's address (`?error=`); any
/// other value shows nothing.
fn validation_error_text(code: &str) -> Option<String> {
    match code {
        "connection_incomplete" => Some(
            "Enter the missing details first (directory ID, application ID, client secret, agreement type and billing account ID), then validate."
                .into(),
        ),
        _ => None,
    }
}

#[derive(Deserialize)]
pub(crate) struct ConnectionNotice {
    notice: Option<String>,
    error: Option<String>,
}

pub(crate) async fn connection_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<ConnectionNotice>,
) -> Response {
    let c = match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let sync = s
        .app
        .active_sync(&user.caller, &id)
        .await
        .unwrap_or_default();
    let periods = s
        .app
        .stored_periods(&user.caller, &id)
        .await
        .unwrap_or_default();
    let history = s
        .app
        .sync_history(&user.caller, &id, 40)
        .await
        .unwrap_or_default();
    let failing = s
        .app
        .failing_periods(&user.caller, &id)
        .await
        .unwrap_or_default();
    let now = s.app.now();
    let sync_job = sync.map(|j| match j.state {
        JobState::Running => format!(
            "syncing: {} of {} periods done",
            j.progress_done, j.progress_total
        ),
        _ if j.run_after <= now => "a sync is about to start".to_string(),
        _ => format!("next check at {}", when(j.run_after)),
    });
    let checks = App::last_checks(&c);
    let all_passed =
        !checks.is_empty() && checks.iter().all(|ch| ch.outcome == CheckOutcome::Passed);
    let none = || "—".to_string();
    let page = ConnectionPage {
        layout: Some(layout(&s, &user, "connections").await),
        csrf: user.csrf.clone(),
        id: c.id.to_string(),
        account_name: account_name(&s, &user, &c).await,
        state: c.state.as_str(),
        resume_step: step_path(&c.step),
        notice: match q.notice.as_deref() {
            Some("secret") => Some("The new client secret was accepted by Azure and replaced the old one.".into()),
            Some("ids") => Some("Saved. Validate again to check the new values.".into()),
            Some("paused") => Some("Syncing is paused. Resume to validate again and continue.".into()),
            Some("sync") => Some("A sync is queued; this page shows its progress when you reload it.".into()),
            _ => None,
        },
        error: q.error.as_deref().and_then(validation_error_text),
        secret_warning: s.app.secret_warning(&c),
        agreement: c.agreement_type.map(|a| a.code().to_string()).unwrap_or_else(none),
        billing_account_id: c.billing_account_id.as_ref().map(|b| b.to_string()).unwrap_or_else(none),
        billing_account_name: c.billing_account_name.clone(),
        tenant_id: c.tenant_id.as_ref().map(|t| t.to_string()).unwrap_or_else(none),
        tenant_guid: c.tenant_guid.clone().filter(|g| Some(g.as_str()) != c.tenant_id.as_ref().map(|t| t.as_str())),
        client_id: c.client_id.as_ref().map(|x| x.as_str().to_string()).unwrap_or_else(none),
        principal_id: c.principal_object_id.clone().unwrap_or_else(none),
        secret_status: match (&c.secret_set_at, &c.secret_expires_on) {
            (Some(at), Some(exp)) => format!("stored encrypted since {}; expires on {exp}", when(*at)),
            (Some(at), None) => format!("stored encrypted since {}; no expiry date given", when(*at)),
            _ => "not set".into(),
        },
        last_validated: c.last_validated_at.map(when).unwrap_or_else(|| "never".into()),
        next: (all_passed && c.state == ConnectionState::Connected).then(|| {
            "Connected. The first sync is queued: it backfills the last 13 months, oldest first, and recent data appears within minutes of the sync starting. New data is checked every 4 hours.".to_string()
        }),
        checks: checks
            .into_iter()
            .map(|ch| CheckView {
                name: ch.name,
                title: ch.title,
                outcome: match ch.outcome {
                    CheckOutcome::Passed => "passed",
                    CheckOutcome::Failed => "failed",
                    CheckOutcome::Skipped => "skipped",
                },
                outcome_label: match ch.outcome {
                    CheckOutcome::Passed => "✓",
                    CheckOutcome::Failed => "✗",
                    CheckOutcome::Skipped => "–",
                },
                message: ch.message,
                remedy: ch.remedy,
                request_id: ch.azure_request_id,
            })
            .collect(),
        data_as_of: periods.iter().map(|p| p.pulled_at).max().map(when).unwrap_or_else(|| "no data yet".into()),
        closing_rule: s.app.sync_settings().closing.describe(),
        sync_job,
        period_totals: period_totals(&periods),
        periods: periods
            .into_iter()
            .rev()
            .map(|p| {
                let c = p.billing_currency.as_deref();
                PeriodRowView {
                period: p.period,
                rows: p.rows_stored,
                actual_total: Money::of_text(&p.source_total, c),
                billed_total: Money::of_text(&p.focus_total, c),
                amortized_total: Money::of_text(&p.amortized_total, c),
                effective_total: Money::of_text(&p.effective_total, c),
                reconciled: p.reconciled,
                closed: p.closed,
                pulled_at: when(p.pulled_at),
            }})
            .collect(),
        failing: failing
            .into_iter()
            .map(|f| FailingRowView {
                period: f.period,
                at: when(f.at),
                code: f.code,
                message: f.message,
                remedy: f.remedy,
                previous_kept: f.previous_kept,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|h| HistoryRowView {
                started: when(h.started_at),
                duration: h.finished_at.map(|f| format!("{:.1} s", (f - h.started_at).as_seconds_f64())).unwrap_or_else(|| "…".into()),
                reconciliation: match h.reconciled {
                    Some(true) => "✓ totals equal".into(),
                    Some(false) => format!(
                        "✗ BilledCost {} vs ActualCost {}",
                        h.focus_total.unwrap_or_default(),
                        h.source_total.unwrap_or_default()
                    ),
                    None => "—".into(),
                },
                period: h.period,
                outcome: h.outcome.as_str(),
                rows: h.rows_written,
                bytes: h.bytes_downloaded,
                error: h.error_message,
                remedy: h.remedy,
                warnings_note: warnings_note(h.warning_count, h.warnings.len()),
                warning_count: h.warning_count,
                warnings: h.warnings,
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

pub(crate) async fn sync_now(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.sync_now(&user.caller, &id).await {
        Ok(_) => Redirect::to(&format!("/connections/{id}?notice=sync")).into_response(),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn pause(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.pause_connection(&user.caller, &id).await {
        Ok(_) => Redirect::to(&format!("/connections/{id}?notice=paused")).into_response(),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn resume(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.resume_connection(&user.caller, &id).await {
        Ok(_) => Redirect::to(&format!("/connections/{id}")).into_response(),
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "connection_delete.html")]
struct DeletePage {
    layout: Option<Layout>,
    csrf: String,
    id: String,
    account_name: String,
    error: Option<String>,
}

pub(crate) async fn delete_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_connection(&user.caller, &id).await {
        Ok(c) => {
            let page = DeletePage {
                layout: Some(layout(&s, &user, "connections").await),
                csrf: user.csrf.clone(),
                id: c.id.to_string(),
                account_name: account_name(&s, &user, &c).await,
                error: None,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    match s
        .app
        .delete_connection(&user.caller, &id, &form.confirm)
        .await
    {
        Ok(()) => Redirect::to("/administration?notice=deleted").into_response(),
        Err(e @ AppError::Invalid(_)) => match s.app.get_connection(&user.caller, &id).await {
            Ok(c) => {
                let page = DeletePage {
                    layout: Some(layout(&s, &user, "connections").await),
                    csrf: user.csrf.clone(),
                    id: c.id.to_string(),
                    account_name: account_name(&s, &user, &c).await,
                    error: Some(e.public_message()),
                };
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}

// ----- Administration -----

struct AdminRowView {
    account: String,
    products: String,
    billing: String,
    state: &'static str,
    connection_id: Option<String>,
}

#[derive(Template)]
#[template(path = "administration.html")]
struct AdministrationPage {
    layout: Option<Layout>,
    tab: &'static str,
    tab_label: &'static str,
    notice: Option<String>,
    rows: Vec<AdminRowView>,
}

#[derive(Deserialize)]
pub(crate) struct AdminQuery {
    tab: Option<String>,
    notice: Option<String>,
}

pub(crate) async fn administration(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AdminQuery>,
) -> Response {
    let product = match q.tab.as_deref() {
        Some("cost_intelligence") => Product::CostIntelligence,
        _ => Product::BillingEngine,
    };
    let rows = match s.app.administration(&user.caller).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&e),
    };
    let page = AdministrationPage {
        layout: Some(layout(&s, &user, "administration").await),
        tab: product.as_str(),
        tab_label: product.label(),
        notice: (q.notice.as_deref() == Some("deleted"))
            .then(|| "The connection and its data were deleted.".to_string()),
        rows: rows
            .into_iter()
            .filter(|r| r.products.contains(&product))
            .map(|r| AdminRowView {
                account: r.account.name.to_string(),
                products: r
                    .products
                    .iter()
                    .map(|p| p.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                billing: r
                    .connection
                    .as_ref()
                    .filter(|_| product == Product::BillingEngine)
                    .and_then(|c| {
                        c.billing_account_id.as_ref().map(|b| {
                            format!("{} {b}", c.agreement_type.map(|a| a.code()).unwrap_or(""))
                        })
                    })
                    .unwrap_or_else(|| "—".into()),
                state: r
                    .connection
                    .as_ref()
                    .filter(|_| product == Product::BillingEngine)
                    .map(|c| c.state.as_str())
                    .unwrap_or("recorded"),
                connection_id: r
                    .connection
                    .as_ref()
                    .filter(|_| product == Product::BillingEngine)
                    .map(|c| c.id.to_string()),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "cloud_account.html")]
struct CloudAccountPage {
    layout: Option<Layout>,
    csrf: String,
    error: Option<String>,
    accounts: Vec<(String, String)>,
}

async fn cloud_account_page(
    s: &AppState,
    user: &ConsoleUser,
    error: Option<&AppError>,
) -> Response {
    match s.app.connectable_accounts(&user.caller).await {
        Ok(accounts) => render(
            error.map(crate::error::status_of).unwrap_or(StatusCode::OK),
            &CloudAccountPage {
                layout: Some(layout(s, user, "administration").await),
                csrf: user.csrf.clone(),
                error: error.map(AppError::public_message),
                accounts: accounts
                    .into_iter()
                    .map(|a| (a.id.to_string(), a.name.to_string()))
                    .collect(),
            },
        ),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn cloud_account(State(s): State<AppState>, user: ConsoleUser) -> Response {
    cloud_account_page(&s, &user, None).await
}

#[derive(Deserialize)]
pub(crate) struct CloudAccountForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    account_id: String,
}

pub(crate) async fn add_cloud_account(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<CloudAccountForm>,
) -> Response {
    match s
        .app
        .start_connection(
            &user.caller,
            &form.account_id,
            &form.provider,
            "billing_engine",
        )
        .await
    {
        // The wizard continues at "log in to Azure".
        Ok(c) => Redirect::to(&format!("/connections/{}/login", c.id)).into_response(),
        Err(e @ (AppError::Conflict { .. } | AppError::Invalid(_) | AppError::NotFound { .. })) => {
            cloud_account_page(&s, &user, Some(&e)).await
        }
        Err(e) => error_page(&e),
    }
}
