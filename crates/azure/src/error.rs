//! Classification of every failure signal in azure-protocol.md sections 1.4, 2.4, 4.5 and 8.

use std::{fmt, time::Duration};

use serde_json::Value;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    // Entra ID (token endpoint), section 1.4.
    /// AADSTS90002: no such tenant (GUID or domain).
    TenantNotFound,
    /// AADSTS900023 / 90019 / 50059 / 50128: the tenant string is neither a GUID nor a domain.
    TenantInvalid,
    /// AADSTS9001023 and friends: `common`/`consumers`/`organizations` used instead of a tenant.
    TenantRequired,
    /// AADSTS700016 / 700011: the client ID is not an application in this tenant.
    AppNotFound,
    /// AADSTS7000215 / 70002: wrong client secret (often the secret ID pasted instead of its value).
    InvalidSecret,
    /// AADSTS7000222: the client secret has expired.
    SecretExpired,
    /// AADSTS7000112 / 70001: the application is disabled.
    AppDisabled,
    /// AADSTS7000229: the application has no service principal in the tenant.
    NoServicePrincipal,
    /// AADSTS7000218: no secret was sent.
    SecretMissing,
    /// AADSTS53003 / 530032: blocked by Conditional Access.
    BlockedByPolicy,
    /// AADSTS70011 / 700022 / 500011 / 900144: a request the client built wrongly (a bug here).
    BadTokenRequest,
    /// Another token-endpoint refusal.
    TokenRefused,

    // ARM, section 2.4.
    /// 401 ExpiredAuthenticationToken.
    TokenExpired,
    /// 401 InvalidAuthenticationTokenAudience / InvalidAuthenticationToken / AuthenticationFailed.
    TokenRejected,
    /// 401 "No claims present for the caller in the system": on EA, the billing role is missing.
    NoBillingClaims,
    /// 403: the principal may not perform the action at this scope.
    AccessDenied,
    /// 404: no such billing account (or none this principal can see).
    NotFound,
    /// 400 from ARM or Cost Management (invalid payload, range too long, too old).
    BadRequest,
    /// 429 after the retries allowed.
    Throttled,
    /// 5xx after the retries allowed.
    ServiceUnavailable,
    /// No answer: DNS, connection refused, TLS, timeout.
    Unreachable,
    /// An answer this client does not understand.
    UnexpectedResponse,
    /// A download did not match its manifest, or its signed link expired.
    DownloadFailed,
}

/// A classified failure, with what Azure said and the request ID support will ask for.
#[derive(Debug, Clone, thiserror::Error)]
pub struct AzureError {
    pub kind: ErrorKind,
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Azure's own code (`error` / `error.code` / `code`), or the AADSTS number as `AADSTS<n>`.
    pub code: Option<String>,
    /// Azure's message, without trace lines.
    pub message: String,
    /// `x-ms-request-id` (or the STS trace ID) of the failing call.
    pub request_id: Option<String>,
    /// How long Azure asked us to wait (429/503).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for AzureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.kind)?;
        if let Some(s) = self.status {
            write!(f, " (HTTP {s}")?;
            if let Some(c) = &self.code {
                write!(f, ", {c}")?;
            }
            write!(f, ")")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

impl AzureError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            code: None,
            message: message.into(),
            request_id: None,
            retry_after: None,
        }
    }
}

/// Code and message from any of the three error envelopes (plus the OAuth one).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ParsedBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Parse an error body defensively: ARM `{"error":{code,message}}`, then bare `{code,message}`,
/// then ASP.NET ProblemDetails `{title, errors}`. Anything else keeps the text (truncated).
pub(crate) fn parse_error_body(body: &[u8]) -> ParsedBody {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return ParsedBody {
            code: None,
            message: (!text.is_empty()).then(|| text.chars().take(300).collect()),
        };
    };
    if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        return ParsedBody {
            code: str_at(err, "code").map(str::to_string),
            message: str_at(err, "message").map(str::to_string),
        };
    }
    if let (Some(code), Some(message)) = (str_at(&v, "code"), str_at(&v, "message")) {
        return ParsedBody {
            code: Some(code.to_string()),
            message: Some(message.to_string()),
        };
    }
    if let Some(title) = str_at(&v, "title") {
        let details: Vec<String> = v
            .get("errors")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(field, msgs)| {
                        let list: Vec<&str> = msgs
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        format!("{field}: {}", list.join(" "))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let message = if details.is_empty() {
            title.to_string()
        } else {
            format!("{title} {}", details.join("; "))
        };
        return ParsedBody {
            code: Some("ValidationProblem".into()),
            message: Some(message),
        };
    }
    ParsedBody {
        code: str_at(&v, "code").map(str::to_string),
        message: str_at(&v, "message").map(str::to_string),
    }
}

/// The token endpoint's error: `error`, the first AADSTS number, and the description's first line.
pub(crate) fn classify_token_error(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
) -> AzureError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let oauth_error = str_at(&v, "error").unwrap_or_default().to_string();
    let description = str_at(&v, "error_description").unwrap_or_default();
    let first_line = description
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let aadsts: Option<u64> = v
        .get("error_codes")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_u64)
        .or_else(|| {
            let rest = description.strip_prefix("AADSTS")?;
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        });
    let kind = match aadsts {
        Some(90002) => ErrorKind::TenantNotFound,
        Some(900023 | 90019 | 50059 | 50128) => ErrorKind::TenantInvalid,
        Some(9001023 | 90124 | 90130) => ErrorKind::TenantRequired,
        Some(700016 | 700011) => ErrorKind::AppNotFound,
        Some(7000215 | 70002) => ErrorKind::InvalidSecret,
        Some(7000222) => ErrorKind::SecretExpired,
        Some(7000112 | 70001) => ErrorKind::AppDisabled,
        Some(7000229) => ErrorKind::NoServicePrincipal,
        Some(7000218) => ErrorKind::SecretMissing,
        Some(53003 | 530032) => ErrorKind::BlockedByPolicy,
        Some(70011 | 700022 | 500011 | 900144) => ErrorKind::BadTokenRequest,
        Some(90055) => ErrorKind::Throttled,
        Some(90033 | 90006 | 90024) => ErrorKind::ServiceUnavailable,
        _ => match (status, oauth_error.as_str()) {
            (429, _) => ErrorKind::Throttled,
            (s, _) if s >= 500 => ErrorKind::ServiceUnavailable,
            (_, "temporarily_unavailable") => ErrorKind::ServiceUnavailable,
            (_, "invalid_tenant") => ErrorKind::TenantNotFound,
            (_, "invalid_client") => ErrorKind::InvalidSecret,
            (_, "unauthorized_client") => ErrorKind::AppNotFound,
            _ => ErrorKind::TokenRefused,
        },
    };
    let trace_id = str_at(&v, "trace_id").map(str::to_string);
    AzureError {
        kind,
        status: Some(status),
        code: aadsts
            .map(|n| format!("AADSTS{n}"))
            .or_else(|| (!oauth_error.is_empty()).then_some(oauth_error)),
        message: first_line,
        request_id: request_id.or(trace_id),
        retry_after: None,
    }
}

/// An ARM or Cost Management error answer.
pub(crate) fn classify_arm_error(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> AzureError {
    let parsed = parse_error_body(body);
    let code = parsed.code.clone().unwrap_or_default();
    let message = parsed.message.clone().unwrap_or_default();
    let kind = match status {
        401 if message.contains("No claims present") => ErrorKind::NoBillingClaims,
        401 if code == "ExpiredAuthenticationToken" => ErrorKind::TokenExpired,
        401 => ErrorKind::TokenRejected,
        403 => ErrorKind::AccessDenied,
        404 => ErrorKind::NotFound,
        400 | 422 => ErrorKind::BadRequest,
        429 => ErrorKind::Throttled,
        s if s >= 500 => ErrorKind::ServiceUnavailable,
        _ => ErrorKind::UnexpectedResponse,
    };
    AzureError {
        kind,
        status: Some(status),
        code: parsed.code,
        message,
        request_id,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_envelopes_parse() {
        let arm = br#"{"error":{"code":"ExpiredAuthenticationToken","message":"The access token expiry UTC time is earlier."}}"#;
        assert_eq!(
            parse_error_body(arm).code.as_deref(),
            Some("ExpiredAuthenticationToken")
        );
        let bare = br#"{"code":"NotFound","message":"The resource or one of its dependencies could not be found."}"#;
        assert_eq!(parse_error_body(bare).code.as_deref(), Some("NotFound"));
        let problem = br#"{"errors":{"Properties.RoleDefinitionId":["The RoleDefinitionId field is required."]},"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"One or more validation errors occurred.","status":400,"traceId":"x"}"#;
        let p = parse_error_body(problem);
        assert_eq!(p.code.as_deref(), Some("ValidationProblem"));
        assert!(
            p.message
                .expect("message")
                .contains("RoleDefinitionId field is required")
        );
        assert_eq!(
            parse_error_body(b"<html>Bad gateway</html>")
                .message
                .as_deref(),
            Some("<html>Bad gateway</html>")
        );
        assert_eq!(parse_error_body(b""), ParsedBody::default());
    }

    #[test]
    fn token_errors_are_classified_by_aadsts_then_oauth_error() {
        let body = |code: u64, error: &str| {
            format!(
                r#"{{"error":"{error}","error_description":"AADSTS{code}: Something.\r\nTrace ID: t\r\nCorrelation ID: c","error_codes":[{code}],"trace_id":"t-1"}}"#
            )
        };
        for (code, status, error, kind) in [
            (90002, 400, "invalid_request", ErrorKind::TenantNotFound),
            (900023, 400, "invalid_request", ErrorKind::TenantInvalid),
            (700016, 400, "unauthorized_client", ErrorKind::AppNotFound),
            (7000215, 401, "invalid_client", ErrorKind::InvalidSecret),
            (7000222, 401, "invalid_client", ErrorKind::SecretExpired),
            (
                7000229,
                401,
                "invalid_client",
                ErrorKind::NoServicePrincipal,
            ),
            (7000112, 401, "unauthorized_client", ErrorKind::AppDisabled),
            (53003, 400, "invalid_grant", ErrorKind::BlockedByPolicy),
            (70011, 400, "invalid_scope", ErrorKind::BadTokenRequest),
        ] {
            let e = classify_token_error(status, body(code, error).as_bytes(), None);
            assert_eq!(e.kind, kind, "AADSTS{code}");
            assert_eq!(e.code.as_deref(), Some(format!("AADSTS{code}").as_str()));
            assert_eq!(
                e.message,
                format!("AADSTS{code}: Something."),
                "trace lines dropped"
            );
            assert_eq!(e.request_id.as_deref(), Some("t-1"));
        }
        let unknown = classify_token_error(401, br#"{"error":"invalid_client"}"#, None);
        assert_eq!(unknown.kind, ErrorKind::InvalidSecret);
        let discovery = classify_token_error(400, br#"{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'x' not found."}"#, None);
        assert_eq!(
            discovery.kind,
            ErrorKind::TenantNotFound,
            "number read from the description when error_codes is absent"
        );
    }

    #[test]
    fn arm_errors_are_classified_by_status_and_signal() {
        let no_claims = br#"{"error":{"code":"401","message":"No claims present for the caller in the system"}}"#;
        assert_eq!(
            classify_arm_error(401, no_claims, None, None).kind,
            ErrorKind::NoBillingClaims
        );
        let expired = br#"{"error":{"code":"ExpiredAuthenticationToken","message":"expired"}}"#;
        assert_eq!(
            classify_arm_error(401, expired, None, None).kind,
            ErrorKind::TokenExpired
        );
        assert_eq!(
            classify_arm_error(401, b"{}", None, None).kind,
            ErrorKind::TokenRejected
        );
        assert_eq!(
            classify_arm_error(403, b"{}", None, None).kind,
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify_arm_error(404, br#"{"code":"NotFound","message":"x"}"#, None, None).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_arm_error(400, b"{}", None, None).kind,
            ErrorKind::BadRequest
        );
        assert_eq!(
            classify_arm_error(429, b"", None, None).kind,
            ErrorKind::Throttled
        );
        assert_eq!(
            classify_arm_error(503, b"", None, None).kind,
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(
            classify_arm_error(302, b"", None, None).kind,
            ErrorKind::UnexpectedResponse
        );
    }
}
