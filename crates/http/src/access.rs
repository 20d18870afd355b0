//! Who may call which route. Every API and console route is listed here with the [`Permission`]
//! it needs; [`api_guard`] and [`console_guard`] check the caller's role before the handler reads
//! the request (so a refused caller learns nothing from validation), answering 403 `forbidden`.
//! The use cases check again (`Caller::require`), so no path around the HTTP edge skips it.
//!
//! A new route adds one arm to [`api_permission`] or [`console_permission`]. A route missing
//! here is owner-only (`ManageUsers`), and `tests/it/roles.rs` fails until it is listed there too.

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use be_app::{Caller, Permission};

use crate::{AppState, cookies, error::ApiError};

/// What a route needs: nothing (public), or a permission of a signed-in caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Public,
    Needs(Permission),
}

use Access::{Needs, Public};
use Permission::*;

/// The API's table, by method and route template under `/api/v1`.
pub(crate) fn api_permission(method: &Method, path: &str) -> Access {
    let read = method == Method::GET;
    let p = match (path, read) {
        ("/openapi.json" | "/auth/tokens", _) => return Public,
        ("/me" | "/tokens" | "/tokens/{id}", _) => OwnTokens,
        ("/accounts" | "/accounts/{id}" | "/connections" | "/connections/{id}", true) => Read,
        ("/accounts" | "/accounts/{id}" | "/accounts/{id}/registrations", false) => {
            ManageConnections
        }
        ("/connectable-accounts" | "/administration", true) => Read,
        ("/connections/{id}/role-grant" | "/connections/{id}/jobs", true) => Read,
        ("/connections/{id}/sync", true) => Read,
        (p, false) if p.starts_with("/connections") => ManageConnections,
        ("/pricing" | "/pricing/history", true) => Read,
        ("/pricing/export", true) => Export,
        ("/pricing/import", false) => ManagePricing,
        ("/allocations/{key}/preview", false) => Read,
        (p, false)
            if [
                "/families",
                "/plans",
                "/rules",
                "/strategies",
                "/allocations",
            ]
            .iter()
            .any(|prefix| p.starts_with(prefix)) =>
        {
            ManagePricing
        }
        ("/sources", true) => Read,
        ("/sources/{id}" | "/imports", false) => ManageConnections,
        ("/periods/{period}/rate", false) => ManagePricing,
        ("/periods/{period}/tie-out", true) => ReadInvoices,
        ("/periods/{period}/rerate", false) => ManageInvoices,
        ("/periods/{period}/what-if", false) => Read,
        (p, true) if p.starts_with("/periods") => Read,
        ("/explain", true) => Read,
        ("/analysis", false) | ("/dashboard", true) => ViewAnalysis,
        ("/views" | "/views/{id}" | "/asset-groups" | "/asset-groups/{id}", true) => ViewAnalysis,
        ("/views" | "/views/{id}" | "/asset-groups" | "/asset-groups/{id}", false) => SaveViews,
        ("/users" | "/users/{id}" | "/invites" | "/invites/{id}", _) => ManageUsers,
        ("/audit" | "/audit.csv", true) => ReadAudit,
        (p, true) if is_invoicing(p) => ReadInvoices,
        (p, false) if is_invoicing(p) => ManageInvoices,
        _ => ManageUsers,
    };
    Needs(p)
}

/// The console's table, by method and route template.
pub(crate) fn console_permission(method: &Method, path: &str) -> Access {
    let read = method == Method::GET;
    let p = match (path, read) {
        ("/" | "/login" | "/logout" | "/invite/{token}", _) => return Public,
        (p, _) if p.starts_with("/static/") => return Public,
        ("/tokens" | "/tokens/{id}/revoke", _) => OwnTokens,
        ("/dashboard" | "/analysis" | "/analysis/rows" | "/asset-groups", true) => ViewAnalysis,
        ("/analysis/export", true) => Export,
        ("/analysis/views" | "/analysis/views/{id}/delete", false) => SaveViews,
        ("/asset-groups" | "/asset-groups/{id}/default" | "/asset-groups/{id}/delete", false) => {
            SaveViews
        }
        ("/users" | "/users/{id}" | "/users/{id}/role" | "/users/{id}/remove", _) => ManageUsers,
        ("/users/invite" | "/invites/{id}/revoke", _) => ManageUsers,
        ("/audit" | "/audit.csv", true) => ReadAudit,
        ("/pricing/export", true) => Export,
        (p, _) if p.starts_with("/connect") && !p.starts_with("/connections") => ManageConnections,
        ("/administration/cloud-account", _) => ManageConnections,
        ("/connections/{id}/delete" | "/import", true) => ManageConnections,
        ("/connections/{id}/login" | "/connections/{id}/ids", true) => ManageConnections,
        ("/connections/{id}/secret" | "/connections/{id}/grant", true) => ManageConnections,
        ("/accounts/{id}/delete", true) => ManageConnections,
        (
            "/accounts" | "/accounts/{id}" | "/accounts/{id}/rename" | "/accounts/{id}/delete",
            false,
        ) => ManageConnections,
        (p, false) if p.starts_with("/connections") => ManageConnections,
        ("/sources/{id}/delete" | "/import/upload", false) => ManageConnections,
        ("/rating/{period}/rate", false) => ManagePricing,
        ("/allocations/new" | "/allocations/{key}" | "/rules/{id}/edit", true) => ManagePricing,
        ("/plans/{id}/rules/new", true) => ManagePricing,
        (p, false)
            if [
                "/families",
                "/plans",
                "/rules",
                "/strategies",
                "/allocations",
                "/pricing",
            ]
            .iter()
            .any(|prefix| p.starts_with(prefix)) =>
        {
            ManagePricing
        }
        ("/invoices", true) => ReadInvoices,
        (
            "/invoices/templates/new"
            | "/invoices/customers/edit"
            | "/invoices/runs/{id}/finalize"
            | "/invoices/periods/{period}/rerate",
            true,
        ) => ManageInvoices,
        (p, false) if p.starts_with("/invoices") => ManageInvoices,
        (_, true) => Read,
        _ => ManageUsers,
    };
    Needs(p)
}

/// The client's IP address (for the audit trail), when the server knows it.
pub(crate) fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Invoicing's routes: invoices, runs, templates, schedules, customers, period locks.
fn is_invoicing(path: &str) -> bool {
    ["/invoic", "/customers", "/period-locks"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn template(req: &Request, prefix: &str) -> Option<String> {
    let matched = req.extensions().get::<MatchedPath>()?.as_str();
    Some(matched.strip_prefix(prefix).unwrap_or(matched).to_string())
}

/// The bearer token of a request (the scheme is case-insensitive).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// API routes: the caller's role against [`api_permission`]. Without credentials the handler
/// answers 401 as before; a known caller is handed to the handler (no second lookup).
pub(crate) async fn api_guard(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let access = template(&req, "/api/v1").map(|p| api_permission(req.method(), &p));
    let Some(Needs(permission)) = access else {
        return next.run(req).await;
    };
    let Some(token) = bearer(req.headers()) else {
        return next.run(req).await;
    };
    let mut caller = match s.app.token_caller(token).await {
        Ok(caller) => caller,
        Err(e) => return ApiError::from(e).into_response(),
    };
    caller.address = client_address(req.extensions());
    if let Err(e) = caller.require(permission) {
        return ApiError::from(e).into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// Console routes: the signed-in user's role against [`console_permission`]; a refusal is a 403
/// page. Without a session the handler sends the browser to sign in, as before.
pub(crate) async fn console_guard(
    State(s): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let access = template(&req, "").map(|p| console_permission(req.method(), &p));
    let Some(Needs(permission)) = access else {
        return next.run(req).await;
    };
    let Some(token) = cookies::get(req.headers(), cookies::SESSION, s.settings.secure_cookies)
    else {
        return next.run(req).await;
    };
    let mut caller: Caller = match s.app.session_caller(&token).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return next.run(req).await,
        Err(e) => return crate::console::error_page(&e),
    };
    if let Err(e) = caller.require(permission) {
        return crate::console::error_page(&e);
    }
    caller.address = client_address(req.extensions());
    req.extensions_mut().insert(caller);
    next.run(req).await
}
