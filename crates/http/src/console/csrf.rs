//! CSRF protection for every console form: a POST must carry a `csrf` field equal to the HMAC of
//! a cookie the attacker's page can neither read nor set for us (the session cookie, or before
//! login the pre-login cookie). Cookies are also SameSite=Lax, a second line of defence.

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
    if !valid(&state, &parts.headers, &token) {
        tracing::warn!(path = %parts.uri.path(), "form refused: missing or invalid CSRF token");
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether `token` is the CSRF token of this browser's session (or pre-login cookie). Upload
/// forms, which the guard does not buffer, check their first field with it.
pub(crate) fn valid(state: &AppState, headers: &HeaderMap, token: &str) -> bool {
    let keys = state.app.keys();
    let bindings = [
        cookies::get(headers, cookies::SESSION).map(|s| session_binding(&s)),
        cookies::get(headers, cookies::PRE_LOGIN).map(|p| pre_login_binding(&p)),
    ];
    !token.is_empty()
        && bindings
            .iter()
            .flatten()
            .any(|b| keys.verify_csrf(b, token))
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
