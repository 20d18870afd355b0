//! Console pages and form handlers. Forms follow post/redirect/get; a refused form is shown again
//! with the entered value and the message beside the field it concerns.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use be_app::AppError;
use be_domain::Account;
use serde::Deserialize;
use time::{OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};

use super::{ConsoleUser, csrf};
use crate::{AppState, cookies, error};

const WHEN: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute] UTC");

pub(crate) fn when(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(WHEN)
        .unwrap_or_default()
}

/// The header bar of a signed-in page.
pub(crate) struct Layout {
    pub(crate) email: String,
    pub(crate) organization: String,
    pub(crate) csrf: String,
    pub(crate) section: &'static str,
    /// What the signed-in user's role allows: the navigation and the action buttons show only
    /// what the user may do (the route table refuses the rest anyway).
    pub(crate) can: Can,
}

/// The permissions a page asks about, from the caller's role ([`be_domain::Role::allows`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Can {
    pub(crate) read: bool,
    pub(crate) read_invoices: bool,
    pub(crate) read_audit: bool,
    pub(crate) manage_connections: bool,
    pub(crate) manage_pricing: bool,
    pub(crate) manage_invoices: bool,
    pub(crate) manage_users: bool,
}

impl Can {
    pub(crate) fn of(caller: &be_app::Caller) -> Self {
        use be_domain::Permission as P;
        let allows = |p| caller.role.allows(p);
        Can {
            read: allows(P::Read),
            read_invoices: allows(P::ReadInvoices),
            read_audit: allows(P::ReadAudit),
            manage_connections: allows(P::ManageConnections),
            manage_pricing: allows(P::ManagePricing),
            manage_invoices: allows(P::ManageInvoices),
            manage_users: allows(P::ManageUsers),
        }
    }
}

/// `layout.can()` in a page's template: what the user may do (nothing when not signed in).
pub(crate) trait Allowed {
    fn can(&self) -> Can;
}

impl Allowed for Option<Layout> {
    fn can(&self) -> Can {
        self.as_ref().map(|l| l.can).unwrap_or_default()
    }
}

pub(crate) async fn layout(state: &AppState, user: &ConsoleUser, section: &'static str) -> Layout {
    let organization = state
        .app
        .organization(&user.caller)
        .await
        .map(|o| o.name.as_str().to_string())
        .unwrap_or_default();
    Layout {
        email: user.caller.email.to_string(),
        organization,
        csrf: user.csrf.clone(),
        section,
        can: Can::of(&user.caller),
    }
}

pub(crate) fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("Something went wrong on our side.".to_string()),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Option<Layout>,
    title: String,
    message: String,
}

pub(crate) fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            layout: None,
            title: title.into(),
            message: message.into(),
        },
    )
}

/// A use-case error as a page (for errors not tied to a form field).
pub(crate) fn error_page(err: &AppError) -> Response {
    error::log_if_server_error(err);
    let status = error::status_of(err);
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::UNAUTHORIZED => "Sign in required",
        StatusCode::FORBIDDEN => "Not allowed",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    message_page(status, title, &err.public_message())
}

pub(crate) async fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    )
}

pub(crate) async fn wizard_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/wizard.js"),
    )
        .into_response()
}

pub(crate) async fn app_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

// ----- Login -----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Option<Layout>,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// Only same-site paths are followed after login (no open redirect).
/// Where to go after signing in: `next` only if it is a path on this site, else the dashboard. It must
/// start with one `/`, hold no control character, space or backslash (browsers read `/\t/host`
/// and `/\\host` as another site), and stay on this origin once parsed; what is returned is the
/// parsed path and query, so it is always a valid `Location`.
fn safe_next(next: Option<&str>) -> String {
    let home = || "/dashboard".to_string();
    let Some(n) = next else { return home() };
    let suspicious = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if !n.starts_with('/') || n.starts_with("//") || n.chars().any(suspicious) {
        return home();
    }
    let Ok(base) = url::Url::parse("http://console.invalid/") else {
        return home();
    };
    match base.join(n) {
        Ok(u) if u.origin() == base.origin() => u[url::Position::BeforePath..].to_string(),
        _ => home(),
    }
}

/// `/`: the dashboard, the landing page of every role.
pub(crate) async fn home(_user: ConsoleUser) -> Redirect {
    Redirect::to("/dashboard")
}

pub(crate) fn new_pre_login_value() -> String {
    uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string()
}

pub(crate) async fn login_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(token) = cookies::get(&headers, cookies::SESSION, s.settings.secure_cookies)
        && let Ok(Some(_)) = s.app.session_caller(&token).await
    {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let (pre, fresh) = match cookies::get(&headers, cookies::PRE_LOGIN, s.settings.secure_cookies) {
        Some(p) => (p, false),
        None => (new_pre_login_value(), true),
    };
    let page = LoginPage {
        layout: None,
        csrf: s.app.keys().csrf_token(&csrf::pre_login_binding(&pre)),
        next: safe_next(q.next.as_deref()),
        email: String::new(),
        error: None,
    };
    let mut response = render(StatusCode::OK, &page);
    if fresh {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::PRE_LOGIN, &pre, 86_400, s.settings.secure_cookies),
        );
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    request: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = crate::access::client_address(&request);
    match s
        .app
        .login(&form.email, &form.password, address.as_deref())
        .await
    {
        Ok((token, _)) => {
            let mut r = Redirect::to(&safe_next(form.next.as_deref())).into_response();
            let ttl = s.settings.session_ttl.whole_seconds();
            r.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(
                    cookies::SESSION,
                    token.expose(),
                    ttl,
                    s.settings.secure_cookies,
                ),
            );
            r
        }
        Err(e @ (AppError::Unauthenticated { .. } | AppError::RateLimited { .. })) => {
            let pre = cookies::get(&headers, cookies::PRE_LOGIN, s.settings.secure_cookies)
                .unwrap_or_default();
            let page = LoginPage {
                layout: None,
                csrf: s.app.keys().csrf_token(&csrf::pre_login_binding(&pre)),
                next: safe_next(form.next.as_deref()),
                email: form.email,
                error: Some(e.public_message()),
            };
            let mut r = render(error::status_of(&e), &page);
            if let AppError::RateLimited {
                retry_after_seconds,
                ..
            } = &e
            {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            r
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookies::get(&headers, cookies::SESSION, s.settings.secure_cookies)
        && let Err(e) = s.app.logout(&token).await
    {
        return error_page(&e);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::SESSION, s.settings.secure_cookies),
    );
    r
}

// ----- Accounts -----

struct AccountRow {
    id: String,
    name: String,
    created: String,
    updated: String,
}

impl From<&Account> for AccountRow {
    fn from(a: &Account) -> Self {
        AccountRow {
            id: a.id.to_string(),
            name: a.name.to_string(),
            created: when(a.created_at),
            updated: when(a.updated_at),
        }
    }
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Option<Layout>,
    csrf: String,
    accounts: Vec<AccountRow>,
    notice: Option<String>,
    highlight: Option<String>,
    name_value: String,
    name_error: Option<String>,
    /// This rendering's token: the form is submitted once ([`super::once`]).
    form_token: String,
}

#[derive(Deserialize)]
pub(crate) struct Notice {
    created: Option<String>,
    deleted: Option<String>,
    renamed: Option<String>,
}

async fn accounts_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    mut page: AccountsPage,
) -> Response {
    match s.app.list_accounts(&user.caller).await {
        Ok(accounts) => {
            page.accounts = accounts.iter().map(AccountRow::from).collect();
            page.layout = Some(layout(s, user, "accounts").await);
            page.csrf = user.csrf.clone();
            render(status, &page)
        }
        Err(e) => error_page(&e),
    }
}

fn empty_accounts_page() -> AccountsPage {
    AccountsPage {
        layout: None,
        csrf: String::new(),
        accounts: vec![],
        notice: None,
        highlight: None,
        name_value: String::new(),
        name_error: None,
        form_token: super::once::new_token(),
    }
}

pub(crate) async fn accounts_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(n): Query<Notice>,
) -> Response {
    let mut page = empty_accounts_page();
    if let Some(id) = n.created {
        if let Ok(a) = s.app.get_account(&user.caller, &id).await {
            page.notice = Some(format!("Account “{}” created.", a.name));
            page.highlight = Some(a.id.to_string());
        }
    } else if n.deleted.is_some() {
        // Only a mark in the address: a name there could be any text an attacker links to.
        page.notice = Some("The account was deleted.".into());
    }
    accounts_view(&s, &user, StatusCode::OK, page).await
}

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    form_token: String,
}

/// Create an account; a second submission of the same form lands on the account the first created.
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
        Ok(a) => Redirect::to(&format!("/accounts?created={}", a.id)).into_response(),
        Err(e) if e.field() == Some("name") => {
            let page = AccountsPage {
                name_value: form.name,
                name_error: Some(e.public_message()),
                ..empty_accounts_page()
            };
            accounts_view(&s, &user, error::status_of(&e), page).await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Option<Layout>,
    csrf: String,
    account: AccountRow,
    notice: Option<String>,
    name_value: String,
    name_error: Option<String>,
}

pub(crate) async fn account_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    match s.app.get_account(&user.caller, &id).await {
        Ok(a) => {
            let page = AccountPage {
                layout: Some(layout(&s, &user, "accounts").await),
                csrf: user.csrf.clone(),
                notice: n.renamed.map(|_| "Account renamed.".to_string()),
                name_value: a.name.to_string(),
                account: AccountRow::from(&a),
                name_error: None,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn rename_account(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<NameForm>,
) -> Response {
    match s.app.rename_account(&user.caller, &id, &form.name).await {
        Ok(a) => Redirect::to(&format!("/accounts/{}?renamed=1", a.id)).into_response(),
        Err(e) if e.field() == Some("name") => match s.app.get_account(&user.caller, &id).await {
            Ok(a) => {
                let page = AccountPage {
                    layout: Some(layout(&s, &user, "accounts").await),
                    csrf: user.csrf.clone(),
                    account: AccountRow::from(&a),
                    notice: None,
                    name_value: form.name,
                    name_error: Some(e.public_message()),
                };
                render(error::status_of(&e), &page)
            }
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "account_delete.html")]
struct DeletePage {
    layout: Option<Layout>,
    csrf: String,
    account: AccountRow,
}

pub(crate) async fn delete_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.get_account(&user.caller, &id).await {
        Ok(a) => {
            let page = DeletePage {
                layout: Some(layout(&s, &user, "accounts").await),
                csrf: user.csrf.clone(),
                account: AccountRow::from(&a),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn delete_account(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.delete_account(&user.caller, &id).await {
        Ok(()) => Redirect::to("/accounts?deleted=1").into_response(),
        Err(e) => error_page(&e),
    }
}

// ----- API tokens -----

struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
}

struct Issued {
    name: String,
    value: String,
    url: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Option<Layout>,
    csrf: String,
    tokens: Vec<TokenRow>,
    issued: Option<Issued>,
    notice: Option<String>,
    name_value: String,
    name_error: Option<String>,
}

async fn tokens_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    mut page: TokensPage,
) -> Response {
    match s.app.list_api_tokens(&user.caller).await {
        Ok(tokens) => {
            page.tokens = tokens
                .into_iter()
                .map(|t| TokenRow {
                    id: t.id.to_string(),
                    name: t.name.as_str().to_string(),
                    prefix: t.prefix,
                    created: when(t.created_at),
                    last_used: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                })
                .collect();
            page.layout = Some(layout(s, user, "tokens").await);
            page.csrf = user.csrf.clone();
            render(status, &page)
        }
        Err(e) => error_page(&e),
    }
}

fn empty_tokens_page() -> TokensPage {
    TokensPage {
        layout: None,
        csrf: String::new(),
        tokens: vec![],
        issued: None,
        notice: None,
        name_value: String::new(),
        name_error: None,
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenNotice {
    revoked: Option<String>,
}

pub(crate) async fn tokens_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(n): Query<TokenNotice>,
) -> Response {
    let page = TokensPage {
        notice: n.revoked.map(|_| "Token revoked.".to_string()),
        ..empty_tokens_page()
    };
    tokens_view(&s, &user, StatusCode::OK, page).await
}

pub(crate) async fn create_token(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<NameForm>,
) -> Response {
    match s.app.create_api_token(&user.caller, &form.name).await {
        Ok(issued) => {
            // The configured public address, never the request's Host header (which the client
            // chooses).
            let page = TokensPage {
                issued: Some(Issued {
                    name: issued.record.name.as_str().to_string(),
                    value: issued.secret,
                    url: s.app.settings().public_url.clone(),
                }),
                ..empty_tokens_page()
            };
            // The token is in this response only: never cache it.
            let mut r = tokens_view(&s, &user, StatusCode::CREATED, page).await;
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) if e.field() == Some("name") => {
            let page = TokensPage {
                name_value: form.name,
                name_error: Some(e.public_message()),
                ..empty_tokens_page()
            };
            tokens_view(&s, &user, error::status_of(&e), page).await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn revoke_token(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.revoke_api_token(&user.caller, &id).await {
        Ok(()) => Redirect::to("/tokens?revoked=1").into_response(),
        Err(e) => error_page(&e),
    }
}
