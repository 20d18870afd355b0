//! Roles: every operation of the OpenAPI document and every console route, called with every
//! role, is allowed or refused (403 `forbidden`) as the tables below say. A route missing from
//! a table fails the test, so a new route has to state who may use it.

use be_app::{App, Caller, Role};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Browser, TestApp, spawn_app};

/// The lowest role allowed, per API operation (path under /api/v1). `None`: public.
const API: &[(&str, &str, Option<Role>)] = &[
    ("GET", "/openapi.json", None),
    ("POST", "/auth/tokens", None),
    ("GET", "/me", Some(Role::Viewer)),
    ("GET", "/tokens", Some(Role::Viewer)),
    ("POST", "/tokens", Some(Role::Viewer)),
    ("DELETE", "/tokens/{id}", Some(Role::Viewer)),
    ("GET", "/accounts", Some(Role::Analyst)),
    ("POST", "/accounts", Some(Role::BillingAdmin)),
    ("GET", "/accounts/{id}", Some(Role::Analyst)),
    ("PATCH", "/accounts/{id}", Some(Role::BillingAdmin)),
    ("DELETE", "/accounts/{id}", Some(Role::BillingAdmin)),
    (
        "POST",
        "/accounts/{id}/registrations",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/connectable-accounts", Some(Role::Analyst)),
    ("GET", "/administration", Some(Role::Analyst)),
    ("GET", "/connections", Some(Role::Analyst)),
    ("POST", "/connections", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}", Some(Role::Analyst)),
    ("PATCH", "/connections/{id}", Some(Role::BillingAdmin)),
    ("DELETE", "/connections/{id}", Some(Role::BillingAdmin)),
    ("PUT", "/connections/{id}/secret", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/role-grant", Some(Role::Analyst)),
    (
        "POST",
        "/connections/{id}/validate",
        Some(Role::BillingAdmin),
    ),
    ("POST", "/connections/{id}/pause", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/resume", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/jobs", Some(Role::Analyst)),
    ("GET", "/connections/{id}/sync", Some(Role::Analyst)),
    ("POST", "/connections/{id}/sync", Some(Role::BillingAdmin)),
    ("GET", "/pricing", Some(Role::Analyst)),
    ("GET", "/pricing/history", Some(Role::Analyst)),
    ("GET", "/pricing/export", Some(Role::Analyst)),
    ("POST", "/pricing/import", Some(Role::BillingAdmin)),
    ("POST", "/families", Some(Role::BillingAdmin)),
    ("PATCH", "/families/{id}", Some(Role::BillingAdmin)),
    ("DELETE", "/families/{id}", Some(Role::BillingAdmin)),
    ("POST", "/families/{id}/members", Some(Role::BillingAdmin)),
    (
        "DELETE",
        "/families/{id}/members/{sub}",
        Some(Role::BillingAdmin),
    ),
    ("POST", "/plans", Some(Role::BillingAdmin)),
    ("PATCH", "/plans/{id}", Some(Role::BillingAdmin)),
    ("DELETE", "/plans/{id}", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/assignments", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/unassign", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/rules", Some(Role::BillingAdmin)),
    ("PUT", "/rules/{id}", Some(Role::BillingAdmin)),
    ("PATCH", "/rules/{id}", Some(Role::BillingAdmin)),
    ("DELETE", "/rules/{id}", Some(Role::BillingAdmin)),
    ("PUT", "/strategies", Some(Role::BillingAdmin)),
    ("DELETE", "/strategies/{from}", Some(Role::BillingAdmin)),
    ("PUT", "/allocations/{key}", Some(Role::BillingAdmin)),
    ("DELETE", "/allocations/{key}", Some(Role::BillingAdmin)),
    ("POST", "/allocations/{key}/preview", Some(Role::Analyst)),
    ("GET", "/sources", Some(Role::Analyst)),
    ("DELETE", "/sources/{id}", Some(Role::BillingAdmin)),
    ("POST", "/imports", Some(Role::BillingAdmin)),
    ("GET", "/periods", Some(Role::Analyst)),
    ("GET", "/periods/{period}", Some(Role::Analyst)),
    ("POST", "/periods/{period}/rate", Some(Role::BillingAdmin)),
    ("GET", "/periods/{period}/totals", Some(Role::Analyst)),
    ("GET", "/periods/{period}/lines", Some(Role::Analyst)),
    ("POST", "/periods/{period}/what-if", Some(Role::Analyst)),
    ("GET", "/explain", Some(Role::Analyst)),
    ("POST", "/analysis", Some(Role::Viewer)),
    ("GET", "/views", Some(Role::Viewer)),
    ("POST", "/views", Some(Role::Analyst)),
    ("GET", "/views/{id}", Some(Role::Viewer)),
    ("PUT", "/views/{id}", Some(Role::Analyst)),
    ("DELETE", "/views/{id}", Some(Role::Analyst)),
    ("GET", "/asset-groups", Some(Role::Viewer)),
    ("POST", "/asset-groups", Some(Role::Analyst)),
    ("PUT", "/asset-groups/{id}", Some(Role::Analyst)),
    ("DELETE", "/asset-groups/{id}", Some(Role::Analyst)),
    ("GET", "/dashboard", Some(Role::Viewer)),
    ("GET", "/users", Some(Role::Owner)),
    ("PATCH", "/users/{id}", Some(Role::Owner)),
    ("DELETE", "/users/{id}", Some(Role::Owner)),
    ("GET", "/invites", Some(Role::Owner)),
    ("GET", "/audit", Some(Role::Analyst)),
    ("GET", "/audit.csv", Some(Role::Analyst)),
    ("POST", "/invites", Some(Role::Owner)),
    ("DELETE", "/invites/{id}", Some(Role::Owner)),
    // Invoicing: analysts read, billing admins change.
    ("GET", "/customers", Some(Role::Analyst)),
    ("PUT", "/customers", Some(Role::BillingAdmin)),
    ("DELETE", "/customers/{key}", Some(Role::BillingAdmin)),
    ("GET", "/invoice-runs", Some(Role::Analyst)),
    ("POST", "/invoice-runs", Some(Role::BillingAdmin)),
    ("GET", "/invoice-runs/{id}", Some(Role::Analyst)),
    (
        "POST",
        "/invoice-runs/{id}/discard",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/invoice-runs/{id}/finalize",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoice-schedules", Some(Role::Analyst)),
    ("POST", "/invoice-schedules", Some(Role::BillingAdmin)),
    (
        "DELETE",
        "/invoice-schedules/{id}",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoice-templates", Some(Role::Analyst)),
    ("POST", "/invoice-templates", Some(Role::BillingAdmin)),
    (
        "DELETE",
        "/invoice-templates/{id}",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoice-templates/{id}", Some(Role::Analyst)),
    ("PUT", "/invoice-templates/{id}", Some(Role::BillingAdmin)),
    (
        "POST",
        "/invoice-templates/{id}/copy",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoices", Some(Role::Analyst)),
    ("GET", "/invoices/{id}", Some(Role::Analyst)),
    ("GET", "/invoices/{id}/csv", Some(Role::Analyst)),
    ("GET", "/invoices/{id}/pdf", Some(Role::Analyst)),
    ("POST", "/invoices/{id}/send", Some(Role::BillingAdmin)),
    ("GET", "/period-locks", Some(Role::Analyst)),
    ("DELETE", "/period-locks/{period}", Some(Role::BillingAdmin)),
    ("PUT", "/period-locks/{period}", Some(Role::BillingAdmin)),
    ("POST", "/periods/{period}/rerate", Some(Role::BillingAdmin)),
    ("GET", "/periods/{period}/tie-out", Some(Role::Analyst)),
];

/// The lowest role allowed, per console route (as written in `console/mod.rs`). `None`: public.
const CONSOLE: &[(&str, &str, Option<Role>)] = &[
    ("GET", "/", Some(Role::Viewer)),
    ("GET", "/login", None),
    ("POST", "/login", None),
    ("POST", "/logout", None),
    ("GET", "/accounts", Some(Role::Analyst)),
    ("POST", "/accounts", Some(Role::BillingAdmin)),
    ("GET", "/accounts/{id}", Some(Role::Analyst)),
    ("POST", "/accounts/{id}/rename", Some(Role::BillingAdmin)),
    ("GET", "/accounts/{id}/delete", Some(Role::BillingAdmin)),
    ("POST", "/accounts/{id}/delete", Some(Role::BillingAdmin)),
    ("GET", "/tokens", Some(Role::Viewer)),
    ("POST", "/tokens", Some(Role::Viewer)),
    ("POST", "/tokens/{id}/revoke", Some(Role::Viewer)),
    ("GET", "/users", Some(Role::Owner)),
    ("GET", "/audit", Some(Role::Analyst)),
    ("GET", "/audit.csv", Some(Role::Analyst)),
    ("POST", "/users/invite", Some(Role::Owner)),
    ("POST", "/users/{id}/role", Some(Role::Owner)),
    ("POST", "/users/{id}/remove", Some(Role::Owner)),
    ("POST", "/invites/{id}/revoke", Some(Role::Owner)),
    ("GET", "/invite/{token}", None),
    ("POST", "/invite/{token}", None),
    ("GET", "/connect", Some(Role::BillingAdmin)),
    ("POST", "/connect", Some(Role::BillingAdmin)),
    ("POST", "/connect/check", Some(Role::BillingAdmin)),
    (
        "GET",
        "/connect/{account}/provider",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/connect/{account}/provider",
        Some(Role::BillingAdmin),
    ),
    (
        "GET",
        "/connect/{account}/product",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/connect/{account}/product",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/connections/{id}", Some(Role::Analyst)),
    ("GET", "/connections/{id}/login", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/login", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/ids", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/ids", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/secret", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/secret", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/grant", Some(Role::BillingAdmin)),
    (
        "POST",
        "/connections/{id}/validate",
        Some(Role::BillingAdmin),
    ),
    ("POST", "/connections/{id}/pause", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/sync", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/resume", Some(Role::BillingAdmin)),
    ("GET", "/connections/{id}/delete", Some(Role::BillingAdmin)),
    ("POST", "/connections/{id}/delete", Some(Role::BillingAdmin)),
    ("GET", "/administration", Some(Role::Analyst)),
    (
        "GET",
        "/administration/cloud-account",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/administration/cloud-account",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/dashboard", Some(Role::Viewer)),
    ("GET", "/analysis", Some(Role::Viewer)),
    ("GET", "/analysis/export", Some(Role::Analyst)),
    ("GET", "/analysis/rows", Some(Role::Viewer)),
    ("POST", "/analysis/views", Some(Role::Analyst)),
    ("POST", "/analysis/views/{id}/delete", Some(Role::Analyst)),
    ("GET", "/asset-groups", Some(Role::Viewer)),
    ("POST", "/asset-groups", Some(Role::Analyst)),
    ("POST", "/asset-groups/{id}/default", Some(Role::Analyst)),
    ("POST", "/asset-groups/{id}/delete", Some(Role::Analyst)),
    ("GET", "/invoices", Some(Role::Analyst)),
    ("GET", "/families", Some(Role::Analyst)),
    ("POST", "/families", Some(Role::BillingAdmin)),
    ("POST", "/families/members", Some(Role::BillingAdmin)),
    ("GET", "/families/{id}", Some(Role::Analyst)),
    ("POST", "/families/{id}/rename", Some(Role::BillingAdmin)),
    ("POST", "/families/{id}/delete", Some(Role::BillingAdmin)),
    (
        "POST",
        "/families/{id}/members/remove",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/plans", Some(Role::Analyst)),
    ("POST", "/plans", Some(Role::BillingAdmin)),
    ("GET", "/plans/{id}", Some(Role::Analyst)),
    ("POST", "/plans/{id}/rename", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/delete", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/assign", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/unassign", Some(Role::BillingAdmin)),
    ("POST", "/plans/{id}/rules", Some(Role::BillingAdmin)),
    ("GET", "/plans/{id}/rules/new", Some(Role::BillingAdmin)),
    ("POST", "/rules/{id}", Some(Role::BillingAdmin)),
    ("GET", "/rules/{id}/edit", Some(Role::BillingAdmin)),
    ("POST", "/rules/{id}/{action}", Some(Role::BillingAdmin)),
    ("GET", "/strategies", Some(Role::Analyst)),
    ("POST", "/strategies", Some(Role::BillingAdmin)),
    (
        "POST",
        "/strategies/{from}/delete",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/allocations", Some(Role::Analyst)),
    ("POST", "/allocations", Some(Role::BillingAdmin)),
    ("GET", "/allocations/new", Some(Role::BillingAdmin)),
    ("GET", "/allocations/{key}", Some(Role::BillingAdmin)),
    (
        "POST",
        "/allocations/{key}/delete",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/connections", Some(Role::Analyst)),
    ("POST", "/sources/{id}/delete", Some(Role::BillingAdmin)),
    ("GET", "/import", Some(Role::BillingAdmin)),
    ("GET", "/pricing/code", Some(Role::Analyst)),
    ("GET", "/pricing/export", Some(Role::Analyst)),
    ("GET", "/rating", Some(Role::Analyst)),
    ("GET", "/rating/{period}", Some(Role::Analyst)),
    ("POST", "/rating/{period}/rate", Some(Role::BillingAdmin)),
    ("GET", "/rating/{period}/lines", Some(Role::Analyst)),
    ("GET", "/rating/{period}/what-if", Some(Role::Analyst)),
    ("GET", "/explain", Some(Role::Analyst)),
    ("GET", "/static/app.css", None),
    ("GET", "/static/app.js", None),
    ("GET", "/static/wizard.js", None),
    ("POST", "/import/upload", Some(Role::BillingAdmin)),
    ("POST", "/pricing/code/upload", Some(Role::BillingAdmin)),
    // The Invoices area (console/invoicing/mod.rs): reading needs an analyst; changes and the
    // forms that make them, a billing admin.
    ("GET", "/invoices", Some(Role::Analyst)),
    ("GET", "/invoices/runs", Some(Role::Analyst)),
    ("POST", "/invoices/runs", Some(Role::BillingAdmin)),
    ("GET", "/invoices/runs/{id}", Some(Role::Analyst)),
    (
        "GET",
        "/invoices/runs/{id}/finalize",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/invoices/runs/{id}/finalize",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/invoices/runs/{id}/discard",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoices/{id}", Some(Role::Analyst)),
    ("GET", "/invoices/{id}/pdf", Some(Role::Analyst)),
    ("GET", "/invoices/{id}/csv", Some(Role::Analyst)),
    ("GET", "/invoices/{id}/json", Some(Role::Analyst)),
    ("POST", "/invoices/{id}/send", Some(Role::BillingAdmin)),
    ("GET", "/invoices/templates", Some(Role::Analyst)),
    ("POST", "/invoices/templates", Some(Role::BillingAdmin)),
    ("GET", "/invoices/templates/new", Some(Role::BillingAdmin)),
    ("GET", "/invoices/templates/{id}", Some(Role::Analyst)),
    ("POST", "/invoices/templates/{id}", Some(Role::BillingAdmin)),
    (
        "POST",
        "/invoices/templates/{id}/copy",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/invoices/templates/{id}/delete",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoices/customers", Some(Role::Analyst)),
    ("POST", "/invoices/customers", Some(Role::BillingAdmin)),
    ("GET", "/invoices/customers/edit", Some(Role::BillingAdmin)),
    ("GET", "/invoices/schedules", Some(Role::Analyst)),
    ("POST", "/invoices/schedules", Some(Role::BillingAdmin)),
    (
        "POST",
        "/invoices/schedules/{id}/delete",
        Some(Role::BillingAdmin),
    ),
    ("GET", "/invoices/periods", Some(Role::Analyst)),
    ("POST", "/invoices/periods", Some(Role::BillingAdmin)),
    (
        "POST",
        "/invoices/periods/{period}/unlock",
        Some(Role::BillingAdmin),
    ),
    (
        "GET",
        "/invoices/periods/{period}/rerate",
        Some(Role::BillingAdmin),
    ),
    (
        "POST",
        "/invoices/periods/{period}/rerate",
        Some(Role::BillingAdmin),
    ),
    (
        "GET",
        "/invoices/periods/{period}/tie-out",
        Some(Role::Analyst),
    ),
];

struct Member {
    role: Role,
    token: String,
    email: String,
}

const PASSWORD: &str = "a long enough password";

/// One user of each role in one organization (the tenant's administrator is the owner).
async fn members(test: &TestApp) -> Vec<Member> {
    let owner = test.tenant("Roles").await;
    let app: &App = &test.app;
    let owner_caller: Caller = app.token_caller(&owner.token).await.expect("owner");
    let mut out = vec![Member {
        role: Role::Owner,
        token: owner.token,
        email: owner.email,
    }];
    for role in [Role::BillingAdmin, Role::Analyst, Role::Viewer] {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let user = app
            .create_user(owner_caller.organization_id, &email, PASSWORD, role)
            .await
            .expect("user");
        let token = app
            .create_api_token(&user.into(), "roles")
            .await
            .expect("token")
            .secret;
        out.push(Member { role, token, email });
    }
    out
}

fn concrete(path: &str) -> String {
    path.replace("{period}", "2026-01")
        .replace("{key}", "CostCenter")
        .replace("{from}", "2026-01")
        .replace("{sub}", "sub-1")
        .replace("{action}", "up")
        .replace("{token}", "no-such-invitation")
        .replace("{account}", &uuid::Uuid::new_v4().to_string())
        .replace("{id}", &uuid::Uuid::new_v4().to_string())
}

fn expected<'a>(
    table: &'a [(&str, &str, Option<Role>)],
    method: &str,
    path: &str,
) -> Option<&'a Option<Role>> {
    table
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map(|(_, _, r)| r)
}

#[tokio::test]
async fn every_api_operation_allows_exactly_the_roles_of_the_table() {
    let test = spawn_app().await;
    let members = members(&test).await;
    let (_, doc) = test.api(Method::GET, "/openapi.json", None, None).await;
    let mut missing = vec![];
    let mut wrong = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            let Some(least) = expected(API, method, path) else {
                missing.push(format!("{} {path}", method.to_uppercase()));
                continue;
            };
            let Some(least) = least else { continue };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            // Least privileged first, so an allowed call never changes what a later one sees.
            for member in members.iter().rev() {
                let (status, body) = test
                    .api(
                        m.clone(),
                        &concrete(path),
                        Some(&member.token),
                        Some(json!({})),
                    )
                    .await;
                let allowed = member.role >= *least;
                let refused = status == 403 && body["code"] == "forbidden";
                if allowed == refused {
                    wrong.push(format!(
                        "{m} {path} as {}: {status} {}",
                        member.role.as_str(),
                        body["code"]
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in the roles table: {missing:#?}");
    assert!(wrong.is_empty(), "wrong answers: {wrong:#?}");
}

/// Every `.route("...", get(..).post(..))` of the console's router, read from its source.
fn console_routes() -> Vec<(String, String)> {
    let mut out = vec![];
    for src in CONSOLE_ROUTERS {
        routes_of(src, &mut out);
    }
    out
}

/// The console's router and the routers it merges (`.merge(x::routes())`).
const CONSOLE_ROUTERS: &[&str] = &[
    include_str!("../../src/console/mod.rs"),
    include_str!("../../src/console/invoicing/mod.rs"),
];

fn routes_of(src: &str, out: &mut Vec<(String, String)>) {
    let parts: Vec<&str> = src.split(".route(").skip(1).collect();
    for part in parts {
        let Some(start) = part.find('"') else {
            continue;
        };
        let rest = &part[start + 1..];
        let end = rest.find('"').expect("closing quote");
        let path = rest[..end].to_string();
        let handlers = &rest[end..];
        let handlers = handlers.split(".route").next().unwrap_or(handlers);
        for (token, method) in [("get(", "GET"), ("post(", "POST")] {
            if handlers.contains(token) {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
}

async fn signed_in<'a>(test: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let mut b = Browser::new(test);
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "{email} signs in");
    let csrf = b.get("/tokens").await.csrf();
    (b, csrf)
}

#[tokio::test]
async fn every_console_route_allows_exactly_the_roles_of_the_table() {
    let test = spawn_app().await;
    let members = members(&test).await;
    let routes = console_routes();
    assert!(routes.len() > 60, "{} console routes found", routes.len());
    let merged = CONSOLE_ROUTERS[0].matches("::routes())").count();
    assert_eq!(
        merged + 1,
        CONSOLE_ROUTERS.len(),
        "every router merged into the console is read by this test"
    );
    let mut missing = vec![];
    let mut wrong = vec![];
    for member in members.iter().rev() {
        let (mut b, csrf) = signed_in(&test, &member.email).await;
        for (method, path) in &routes {
            let Some(least) = expected(CONSOLE, method, path) else {
                if member.role == Role::Owner {
                    missing.push(format!("{method} {path}"));
                }
                continue;
            };
            let Some(least) = least else { continue };
            let url = concrete(path);
            let page = if method == "GET" {
                b.get(&url).await
            } else if path.ends_with("/upload") {
                b.post_multipart(&url, &[("csrf", None, csrf.as_bytes())])
                    .await
            } else {
                b.post(&url, &[("csrf", &csrf)]).await
            };
            let allowed = member.role >= *least;
            let refused = page.status == 403;
            if allowed == refused {
                wrong.push(format!(
                    "{method} {path} as {}: {}",
                    member.role.as_str(),
                    page.status
                ));
            }
        }
    }
    assert!(missing.is_empty(), "not in the roles table: {missing:#?}");
    assert!(wrong.is_empty(), "wrong answers: {wrong:#?}");
}

#[tokio::test]
async fn a_token_acts_with_a_narrower_role_and_never_beyond_its_creator() {
    let test = spawn_app().await;
    let members = members(&test).await;
    let owner = &members[0].token;
    let (status, made) = test
        .api(
            Method::POST,
            "/tokens",
            Some(owner),
            Some(json!({"name": "read only", "role": "analyst"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["role"], "analyst");
    let narrow = made["token_value"].as_str().expect("value").to_string();
    let (status, _) = test
        .api(Method::GET, "/accounts", Some(&narrow), None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = test
        .api(
            Method::POST,
            "/accounts",
            Some(&narrow),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (403, json!("forbidden")));
    let (_, me) = test.api(Method::GET, "/me", Some(&narrow), None).await;
    assert_eq!(me["role"], "analyst");
    // An analyst cannot mint an owner token.
    let analyst = &members[2].token;
    let (status, body) = test
        .api(
            Method::POST,
            "/tokens",
            Some(analyst),
            Some(json!({"name": "escalate", "role": "owner"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (422, json!("role_too_wide"))
    );
}

#[tokio::test]
async fn owners_invite_change_roles_and_remove_users_but_never_the_last_owner() {
    let test = spawn_app().await;
    let members = members(&test).await;
    let owner = &members[0].token;
    let email = format!("new-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, invite) = test
        .api(
            Method::POST,
            "/invites",
            Some(owner),
            Some(json!({"email": email, "role": "analyst"})),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let link = invite["link"].as_str().expect("link").to_string();
    let path = link
        .split_once("/invite/")
        .map(|(_, t)| format!("/invite/{t}"))
        .expect("path");
    // The invitee opens the link, chooses a password and is signed in as an analyst.
    let mut b = Browser::new(&test);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&email));
    let csrf = page.csrf();
    let short = b
        .post(&path, &[("csrf", &csrf), ("password", "short")])
        .await;
    assert_eq!(short.status, 422);
    // A most common password is refused too (issue 12, item 12), said once, beside the field.
    let common = b
        .post(&path, &[("csrf", &csrf), ("password", "Password1234")])
        .await;
    assert_eq!(common.status, 422);
    let said = common.field_error("password").expect("beside the password");
    assert!(said.contains("most common"), "{said}");
    assert_eq!(
        common.body.matches("most common").count(),
        1,
        "{}",
        common.body
    );
    let joined = b
        .post(&path, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    assert_eq!(
        (joined.status, joined.location.as_deref()),
        (303, Some("/"))
    );
    assert_eq!(b.get("/accounts").await.status, 200);
    assert_eq!(b.get("/users").await.status, 403);
    // The link works once.
    assert_eq!(Browser::new(&test).get(&path).await.status, 404);

    let (_, users) = test.api(Method::GET, "/users", Some(owner), None).await;
    let users = users["items"].as_array().expect("items").clone();
    let find = |e: &str| -> Value {
        users
            .iter()
            .find(|u| u["email"] == e)
            .cloned()
            .expect("listed")
    };
    let newcomer = find(&email);
    assert_eq!(newcomer["role"], "analyst");
    let id = newcomer["id"].as_str().expect("id");
    // A family limit is for viewers only, and names families of the organization.
    let family = uuid::Uuid::new_v4().to_string();
    let (status, body) = test
        .api(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(owner),
            Some(json!({"role": "analyst", "families": [family]})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (422, json!("families_only_for_viewers"))
    );
    let (status, body) = test
        .api(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(owner),
            Some(json!({"role": "viewer", "families": [family]})),
        )
        .await;
    assert_eq!(
        (status, body["field"].clone()),
        (422, json!("families[0]")),
        "{body}"
    );
    let (status, changed) = test
        .api(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(owner),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!((status, changed["role"].clone()), (200, json!("viewer")));
    assert_eq!(
        b.get("/accounts").await.status,
        403,
        "the new role applies at once"
    );
    let (status, _) = test
        .api(Method::DELETE, &format!("/users/{id}"), Some(owner), None)
        .await;
    assert_eq!(status, 204);
    let page = b.get("/dashboard").await;
    assert_eq!(page.status, 303, "a removed user's session ends");

    // The only owner can neither step down nor be removed.
    let me = find(&members[0].email);
    let my_id = me["id"].as_str().expect("id");
    let (status, body) = test
        .api(
            Method::PATCH,
            &format!("/users/{my_id}"),
            Some(owner),
            Some(json!({"role": "analyst"})),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (409, json!("last_owner")));
    let (status, body) = test
        .api(
            Method::DELETE,
            &format!("/users/{my_id}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!((status, body["code"].clone()), (409, json!("last_owner")));
}

/// The navigation and the Invoices area's actions show only what the role may do.
#[tokio::test]
async fn pages_offer_only_the_actions_the_role_allows() {
    let test = spawn_app().await;
    let members = members(&test).await;
    for member in &members {
        let (mut b, _) = signed_in(&test, &member.email).await;
        let dashboard = b.get("/dashboard").await;
        assert_eq!(dashboard.status, 200, "{:?}", member.role);
        let start = dashboard
            .body
            .find("<nav class=\"nav\"")
            .expect("navigation");
        let menu = &dashboard.body[start..];
        let menu = &menu[..menu.find("</nav>").expect("end of navigation")];
        let nav = |href: &str| menu.contains(&format!("<a href=\"{href}\""));
        assert!(nav("/dashboard") && nav("/tokens"), "{:?}", member.role);
        assert_eq!(
            nav("/families"),
            member.role >= Role::Analyst,
            "{:?}",
            member.role
        );
        assert_eq!(
            nav("/invoices"),
            member.role >= Role::Analyst,
            "{:?}",
            member.role
        );
        assert_eq!(
            nav("/import"),
            member.role >= Role::BillingAdmin,
            "{:?}",
            member.role
        );
        assert_eq!(
            nav("/users"),
            member.role == Role::Owner,
            "{:?}",
            member.role
        );
        if member.role < Role::Analyst {
            continue;
        }
        let runs = b.get("/invoices/runs").await;
        assert_eq!(runs.status, 200, "{:?}", member.role);
        let manage = member.role >= Role::BillingAdmin;
        assert_eq!(
            runs.body.contains("id=\"create-run\""),
            manage,
            "{:?}",
            member.role
        );
        let templates = b.get("/invoices/templates").await;
        assert_eq!(
            templates.body.contains("id=\"new-template\""),
            manage,
            "{:?}",
            member.role
        );
        let periods = b.get("/invoices/periods").await;
        assert_eq!(
            periods.body.contains("id=\"lock-form\""),
            manage,
            "{:?}",
            member.role
        );
    }
}

/// A viewer's empty dashboard does not send them to pages they cannot open.
#[tokio::test]
async fn an_empty_dashboard_offers_imports_only_to_who_may_import() {
    let test = spawn_app().await;
    let members = members(&test).await;
    for member in &members {
        let (mut b, _) = signed_in(&test, &member.email).await;
        let page = b.get("/dashboard").await;
        let main = &page.body[page.body.find("id=\"main\"").expect("main")..];
        assert_eq!(
            main.contains("href=\"/import\""),
            member.role >= Role::BillingAdmin,
            "{:?}",
            member.role
        );
    }
}

/// Pricing pages show their forms to billing admins and owners only; analysts read them.
#[tokio::test]
async fn pricing_pages_show_changes_only_to_who_may_make_them() {
    let test = spawn_app().await;
    let members = members(&test).await;
    for member in members.iter().filter(|m| m.role >= Role::Analyst) {
        let (mut b, _) = signed_in(&test, &member.email).await;
        let manage = member.role >= Role::BillingAdmin;
        for (page, form) in [
            ("/families", "action=\"/families\""),
            ("/plans", "action=\"/plans\""),
            ("/strategies", "action=\"/strategies\""),
            ("/allocations", "id=\"new-allocation\""),
            ("/pricing/code", "id=\"code-form\""),
        ] {
            let got = b.get(page).await;
            assert_eq!(got.status, 200, "{page} as {:?}", member.role);
            assert_eq!(
                got.body.contains(form),
                manage,
                "{page} as {:?}",
                member.role
            );
        }
    }
}

/// The data pages offer connecting, importing and account changes to who may make them.
#[tokio::test]
async fn data_pages_show_changes_only_to_who_may_make_them() {
    let test = spawn_app().await;
    let members = members(&test).await;
    for member in members.iter().filter(|m| m.role >= Role::Analyst) {
        let (mut b, _) = signed_in(&test, &member.email).await;
        let manage = member.role >= Role::BillingAdmin;
        for (page, action) in [
            ("/connections", "href=\"/connect\""),
            ("/connections", "id=\"import-link\""),
            ("/accounts", "action=\"/accounts\""),
            ("/accounts", "href=\"/connect\""),
        ] {
            let got = b.get(page).await;
            assert_eq!(got.status, 200, "{page} as {:?}", member.role);
            let main = &got.body[got.body.find("id=\"main\"").expect("main")..];
            assert_eq!(
                main.contains(action),
                manage,
                "{page} {action} as {:?}",
                member.role
            );
        }
    }
}
