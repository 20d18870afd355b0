//! A JSON body extractor whose every failure is a clear 4xx with a stable code.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;

use crate::{AppState, error::ApiError};

pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with the header 'Content-Type: application/json'.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "The request body is larger than the limit of {} bytes.",
                        crate::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "The request body could not be read.",
                )
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if let Ok(v) = value {
        return de.end().map(|()| v).map_err(|e| malformed(&e));
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let msg = inner.to_string();
        let bare = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => malformed(&inner),
            Category::Data if bare.starts_with("unknown field") => {
                // The path already ends with the unknown key.
                let field = if path == "." { bare.split('`').nth(1).unwrap_or_default().to_string() } else { path };
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unknown_field",
                    format!("{}. Remove it; see /api/v1/openapi.json for the fields this endpoint accepts.", capitalize(&bare)),
                )
                .with_field(field)
            }
            Category::Data if bare.starts_with("missing field") => {
                let field = bare.split('`').nth(1).unwrap_or_default().to_string();
                ApiError::new(StatusCode::BAD_REQUEST, "missing_field", format!("The field `{}` is required.", join_path(&at_path(&path), &field)))
                    .with_field(join_path(&at_path(&path), &field))
            }
            Category::Data => {
                let mut e = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_field",
                    if path == "." { format!("The request body has the wrong shape: {bare}.") } else { format!("The field `{path}` is not valid: {bare}.") },
                );
                if path != "." {
                    e = e.with_field(path);
                }
                e
            }
        }
    })
}

fn malformed(e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    let bare = msg.split(" at line ").next().unwrap_or(&msg);
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        format!(
            "The request body is not valid JSON: {bare} (line {}, column {}).",
            e.line(),
            e.column()
        ),
    )
}

fn at_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[test]
    fn each_failure_has_its_code() {
        for (body, code, field) in [
            (&b"{"[..], "malformed_json", None),
            (b"not json", "malformed_json", None),
            (b"{\"name\": \"a\"} trailing", "malformed_json", None),
            (
                b"{\"name\": \"a\", \"nmae\": 1}",
                "unknown_field",
                Some("nmae"),
            ),
            (b"{}", "missing_field", Some("name")),
            (b"{\"name\": 5}", "invalid_field", Some("name")),
            (b"[]", "invalid_field", None),
        ] {
            let err = parse::<Body>(body).expect_err("fails");
            assert_eq!(err.code, code, "{}", String::from_utf8_lossy(body));
            assert_eq!(
                err.field.as_deref(),
                field,
                "{}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
        }
        assert_eq!(parse::<Body>(b"{\"name\": \"a\"}").expect("ok").name, "a");
    }
}
