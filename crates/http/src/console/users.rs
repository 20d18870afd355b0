//! Console: the organization's users (owners only): roles, removal, invitations by link; and the
//! public page an invitation link opens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use be_app::{AppError, IssuedInvite};
use be_domain::Role;
use serde::Deserialize;

use super::{
    ConsoleUser, csrf,
    pages::{Layout, error_page, layout, render, when},
};
use crate::{AppState, cookies, error};

pub(crate) struct RoleOption {
    value: &'static str,
    label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label(),
        })
        .collect()
}

pub(crate) struct UserRow {
    id: String,
    email: String,
    role: &'static str,
    families: String,
    created: String,
    is_me: bool,
}

pub(crate) struct InviteRow {
    id: String,
    email: String,
    role_label: &'static str,
    expires: String,
}

pub(crate) struct FamilyOption {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Option<Layout>,
    csrf: String,
    users: Vec<UserRow>,
    invites: Vec<InviteRow>,
    roles: Vec<RoleOption>,
    families: Vec<FamilyOption>,
    link: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    email_value: String,
}

#[derive(Deserialize)]
pub(crate) struct UsersNotice {
    done: Option<String>,
}

/// Only messages the server chose: the query names one of them.
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "role" => Some("Role changed."),
        "removed" => Some("User removed."),
        "revoked" => Some("Invitation revoked."),
        _ => None,
    }
}

async fn users_view(
    s: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    link: Option<IssuedInvite>,
    notice: Option<&'static str>,
    error: Option<(String, String)>,
) -> Response {
    let (users, invites, pricing) = match tokio::try_join!(
        s.app.list_users(&user.caller),
        s.app.list_invites(&user.caller),
        s.app.pricing(&user.caller),
    ) {
        Ok(all) => all,
        Err(e) => return error_page(&e),
    };
    let family_name = |id: &be_domain::FamilyId| {
        pricing
            .config
            .families
            .iter()
            .find(|f| f.id == *id)
            .map(|f| f.name.to_string())
            .unwrap_or_else(|| id.to_string())
    };
    let users = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            is_me: u.id == user.caller.user_id,
            email: u.email.to_string(),
            role: u.role.as_str(),
            families: u
                .families
                .as_deref()
                .map(|f| f.iter().map(&family_name).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            created: when(u.created_at),
        })
        .collect();
    let invites = invites
        .into_iter()
        .map(|i| InviteRow {
            id: i.id.to_string(),
            email: i.email.to_string(),
            role_label: i.role.label(),
            expires: when(i.expires_at),
        })
        .collect();
    let (email_value, error) = error.map_or((String::new(), None), |(v, e)| (v, Some(e)));
    let page = UsersPage {
        layout: Some(layout(s, user, "users").await),
        csrf: user.csrf.clone(),
        users,
        invites,
        roles: role_options(),
        families: pricing
            .config
            .families
            .iter()
            .map(|f| FamilyOption {
                id: f.id.to_string(),
                name: f.name.to_string(),
            })
            .collect(),
        link: link.map(|l| l.link),
        notice,
        error,
        email_value,
    };
    let mut r = render(status, &page);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub(crate) async fn users_page(
    State(s): State<AppState>,
    user: ConsoleUser,
    Query(n): Query<UsersNotice>,
) -> Response {
    users_view(
        &s,
        &user,
        StatusCode::OK,
        None,
        notice(n.done.as_deref()),
        None,
    )
    .await
}

/// A role form: `role` and any number of `families` (checkboxes), sent urlencoded.
fn role_and_families(pairs: &[(String, String)]) -> (String, Vec<String>) {
    let role = pairs
        .iter()
        .find(|(k, _)| k == "role")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let families = pairs
        .iter()
        .filter(|(k, _)| k == "families")
        .map(|(_, v)| v.clone())
        .collect();
    (role, families)
}

pub(crate) async fn invite(
    State(s): State<AppState>,
    user: ConsoleUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let email = pairs
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (role, families) = role_and_families(&pairs);
    match s
        .app
        .invite_user(&user.caller, &email, &role, Some(&families))
        .await
    {
        Ok(issued) => users_view(&s, &user, StatusCode::CREATED, Some(issued), None, None).await,
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let status = error::status_of(&e);
            users_view(
                &s,
                &user,
                status,
                None,
                None,
                Some((email, e.public_message())),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn set_role(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (role, families) = role_and_families(&pairs);
    match s
        .app
        .set_user_role(&user.caller, &id, &role, Some(&families))
        .await
    {
        Ok(_) => Redirect::to("/users?done=role").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let status = error::status_of(&e);
            users_view(
                &s,
                &user,
                status,
                None,
                None,
                Some((String::new(), e.public_message())),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.remove_user(&user.caller, &id).await {
        Ok(_) => Redirect::to("/users?done=removed").into_response(),
        Err(e @ AppError::Conflict { .. }) => {
            let status = error::status_of(&e);
            users_view(
                &s,
                &user,
                status,
                None,
                None,
                Some((String::new(), e.public_message())),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn revoke_invite(
    State(s): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match s.app.revoke_invite(&user.caller, &id).await {
        Ok(()) => Redirect::to("/users?done=revoked").into_response(),
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    layout: Option<Layout>,
    csrf: String,
    token: String,
    email: String,
    role_label: &'static str,
    error: Option<String>,
}

/// The page an invitation link opens: choose a password to join.
pub(crate) async fn invite_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let invite = match s.app.invite_by_link(&token).await {
        Ok(i) => i,
        Err(e) => return error_page(&e),
    };
    let (pre, fresh) = match cookies::get(&headers, cookies::PRE_LOGIN, s.settings.secure_cookies) {
        Some(p) => (p, false),
        None => (super::pages::new_pre_login_value(), true),
    };
    let page = InvitePage {
        layout: None,
        csrf: s.app.keys().csrf_token(&csrf::pre_login_binding(&pre)),
        token,
        email: invite.email.to_string(),
        role_label: invite.role.label(),
        error: None,
    };
    let mut r = render(StatusCode::OK, &page);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if fresh {
        r.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::PRE_LOGIN, &pre, 86_400, s.settings.secure_cookies),
        );
    }
    r
}

#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    password: String,
}

pub(crate) async fn accept(
    State(s): State<AppState>,
    headers: HeaderMap,
    request: axum::http::Extensions,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let address = crate::access::client_address(&request);
    let caller = match s.app.accept_invite(&token, &form.password, address).await {
        Ok(c) => c,
        Err(e @ AppError::Invalid(_)) => {
            let Ok(invite) = s.app.invite_by_link(&token).await else {
                return error_page(&e);
            };
            let pre = cookies::get(&headers, cookies::PRE_LOGIN, s.settings.secure_cookies)
                .unwrap_or_default();
            let page = InvitePage {
                layout: None,
                csrf: s.app.keys().csrf_token(&csrf::pre_login_binding(&pre)),
                token,
                email: invite.email.to_string(),
                role_label: invite.role.label(),
                error: Some(e.public_message()),
            };
            return render(error::status_of(&e), &page);
        }
        Err(e) => return error_page(&e),
    };
    let session = match s.app.start_session(&caller).await {
        Ok(t) => t,
        Err(e) => return error_page(&e),
    };
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::SESSION,
            session.expose(),
            s.settings.session_ttl.whole_seconds(),
            s.settings.secure_cookies,
        ),
    );
    r
}
