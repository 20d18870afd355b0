//! CSRF protection for every console form: a POST must carry a `csrf` field equal to the HMAC of
//! a cookie the attacker's page can neither read nor set for us. The forms sent before sign-in
//! (`/login`, `/invite/{token}`) are bound to the pre-login cookie; every other form only to the
//! session cookie, so a token made before sign-in (which a page could have obtained while the
//! browser was signed out) never authorizes a signed-in action. Cookies are also SameSite=Lax
//! and, when Secure, `__Host-` prefixed (`cookies.rs`).

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{AppState, cookies};

pub(crate) fn session_binding(session: &str) -> String {
    format!("session:{session}")
}

pub(crate) fn pre_login_binding(pre: &str) -> String {
    format!("pre:{pre}")
}

pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, crate::MAX_BODY_BYTES).await else {
        return super::pages::message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "The form sent more data than the server accepts.",
        );
    };
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v)
        })
        .unwrap_or_default();
    let binding = if before_sign_in(parts.uri.path()) {
        Binding::PreLogin
    } else {
        Binding::Session
    };
    if !valid(&state, &parts.headers, &token, binding) {
        tracing::warn!(path = %parts.uri.path(), "form refused: missing or invalid CSRF token");
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The forms sent before there is a session: signing in and accepting an invitation.
fn before_sign_in(path: &str) -> bool {
    path == "/login" || path.starts_with("/invite/")
}

/// What a form's token must be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// The session cookie: every form of a signed-in user.
    Session,
    /// The pre-login cookie: only the forms sent before sign-in.
    PreLogin,
}

/// Whether `token` is the CSRF token of this browser's session (or, for `Binding::PreLogin`, of
/// its pre-login cookie). Upload forms, which the guard does not buffer, check their first field
/// with it.
pub(crate) fn valid(state: &AppState, headers: &HeaderMap, token: &str, binding: Binding) -> bool {
    let secure = state.settings.secure_cookies;
    let bound = match binding {
        Binding::Session => {
            cookies::get(headers, cookies::SESSION, secure).map(|s| session_binding(&s))
        }
        Binding::PreLogin => {
            cookies::get(headers, cookies::PRE_LOGIN, secure).map(|p| pre_login_binding(&p))
        }
    };
    !token.is_empty() && bound.is_some_and(|b| state.app.keys().verify_csrf(&b, token))
}

/// The answer to a form without a valid token.
pub(crate) fn refused() -> Response {
    super::pages::message_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not accepted because it expired or came from another site. Go back, reload the page and send it again.",
    )
    .into_response()
}
