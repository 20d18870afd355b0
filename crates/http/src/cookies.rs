//! Reading and writing the console's cookies.
//!
//! When cookies are Secure their names carry the `__Host-` prefix: a browser then accepts them
//! only from this host over a secure origin, with `Path=/` and no `Domain`, so a sibling subdomain
//! or a plain-HTTP page cannot plant or overwrite them.

use axum::http::{HeaderMap, HeaderValue, header};

pub const SESSION: &str = "be_session";
/// A random per-browser value the login form's CSRF token is bound to (before there is a session).
pub const PRE_LOGIN: &str = "be_pre";

/// The name a cookie has on the wire: `__Host-{name}` when cookies are Secure.
pub fn wire_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// The value of cookie `name` (as named by [`wire_name`]) in the request, if present.
pub fn get(headers: &HeaderMap, name: &str, secure: bool) -> Option<String> {
    let name = wire_name(name, secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: always HttpOnly, path /, SameSite=Lax; Secure (and `__Host-`) unless
/// turned off.
pub fn set(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let wire = wire_name(name, secure);
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{wire}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}
