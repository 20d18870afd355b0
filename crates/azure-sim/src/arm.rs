//! Azure Resource Manager: authentication of bearer tokens, dispatch, shared error shapes
//! (azure-protocol.md sections 0 and 2.4).

use crate::clock::arm_us_datetime;
use crate::faults::{FaultEndpoint, FaultKind};
use crate::generator::Agreement;
use crate::http_util::{json_response, parse_form, percent_decode, set_header};
use crate::model::{BillingAccount, State as SimState};
use crate::roles;
use crate::sim::Sim;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

/// The authenticated caller of an ARM request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub oid: Uuid,
    pub tid: Uuid,
    pub upn: Option<String>,
}

impl Caller {
    /// How ARM names the client in AuthorizationFailed messages.
    pub fn display(&self) -> String {
        self.upn.clone().unwrap_or_else(|| self.oid.to_string())
    }
}

/// `{"error":{"code","message"}}`
pub(crate) fn arm_error(status: u16, code: &str, message: impl Into<String>) -> Response {
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// The bare `{"code","message"}` of billing 404s.
pub(crate) fn bare_not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"code": "NotFound", "message": "The resource or one of its dependencies could not be found."}),
    )
}

pub(crate) fn authorization_failed(caller: &Caller, action: &str, scope: &str) -> Response {
    arm_error(
        403,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.display(),
            caller.oid
        ),
    )
}

fn unauthorized(code: &str, message: &str, www: &str) -> Response {
    let mut r = arm_error(401, code, message);
    set_header(
        r.headers_mut(),
        "www-authenticate",
        &format!(
            "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\", error_description=\"{www}\""
        ),
    );
    r
}

const ALLOWED_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// Check the `Authorization: Bearer` header as ARM does.
pub(crate) fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(h) = headers.get("authorization") else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let h = h.to_str().unwrap_or_default();
    let token = match h.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            return Err(unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                "The authentication failed because of invalid 'Authorization' header.",
            ));
        }
    };
    let claims = match crate::jwt::verify(&sim.inner.key, token) {
        Ok(c) => c,
        Err(_) => {
            return Err(unauthorized(
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                "The access token is invalid.",
            ));
        }
    };
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ALLOWED_AUDIENCES.contains(&aud) {
        return Err(unauthorized(
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            ),
            "The access token has been obtained for wrong audience or resource.",
        ));
    }
    let now = sim.now();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now.unix_timestamp() {
        sim.count(|s| s.expired_token_answers += 1);
        let exp_t = time::OffsetDateTime::from_unix_timestamp(exp)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        return Err(unauthorized(
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_us_datetime(exp_t),
                arm_us_datetime(now)
            ),
            "The access token expiry UTC time is earlier than current UTC time.",
        ));
    }
    if claims.get("nbf").and_then(Value::as_i64).unwrap_or(0) > now.unix_timestamp() + 300 {
        return Err(unauthorized(
            "InvalidAuthenticationToken",
            "The access token is not yet valid.",
            "The access token is invalid.",
        ));
    }
    let parse = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    match (parse("oid"), parse("tid")) {
        (Some(oid), Some(tid)) => Ok(Caller {
            oid,
            tid,
            upn: claims
                .get("upn")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
        _ => Err(unauthorized(
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            "The access token is invalid.",
        )),
    }
}

pub(crate) const BILLING_VERSIONS: &[&str] = &["2019-10-01-preview", "2020-05-01", "2024-04-01"];
pub(crate) const COST_VERSIONS: &[&str] = &[
    "2022-05-01",
    "2022-10-01",
    "2023-03-01",
    "2023-08-01",
    "2023-09-01",
    "2023-11-01",
    "2024-08-01",
    "2025-03-01",
];

/// `api-version` present and supported, or ARM's 400.
pub(crate) fn api_version(
    query: &[(String, String)],
    supported: &[&str],
    namespace: &str,
    resource_type: &str,
) -> Result<String, Response> {
    match crate::http_util::get_ci(query, "api-version") {
        None | Some("") => Err(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(v) if supported.contains(&v) => Ok(v.to_string()),
        Some(v) => Err(arm_error(
            400,
            "InvalidResourceType",
            format!(
                "The resource type '{resource_type}' could not be found in the namespace '{namespace}' for api version '{v}'. The supported api-versions are '{}'.",
                supported.join(",")
            ),
        )),
    }
}

/// `guid:guid_YYYY-MM-DD`
pub(crate) fn is_mca_account_name(s: &str) -> bool {
    let Some((a, rest)) = s.split_once(':') else {
        return false;
    };
    let Some((b, date)) = rest.split_once('_') else {
        return false;
    };
    Uuid::parse_str(a).is_ok()
        && a.len() == 36
        && Uuid::parse_str(b).is_ok()
        && b.len() == 36
        && time::Date::parse(
            date,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok()
}

/// Roles the caller holds on an account.
pub(crate) fn caller_roles(acct: &BillingAccount, caller: &Caller) -> Vec<&'static roles::RoleDef> {
    acct.assignments
        .iter()
        .filter(|a| a.principal_id == caller.oid && a.principal_tenant_id == caller.tid)
        .filter_map(|a| roles::lookup(acct.agreement, a.role_definition))
        .collect()
}

pub(crate) fn can_read(acct: &BillingAccount, caller: &Caller) -> bool {
    caller_roles(acct, caller).iter().any(|r| r.read)
}

pub(crate) fn can_manage(acct: &BillingAccount, caller: &Caller) -> bool {
    caller_roles(acct, caller).iter().any(|r| r.manage_access)
}

pub(crate) fn find_account<'a>(st: &'a SimState, name: &str) -> Option<&'a BillingAccount> {
    st.accounts.get(name).or_else(|| {
        st.accounts
            .values()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    })
}

/// A fault for an ARM endpoint: an early answer, or a body fault to apply to the answer.
pub(crate) async fn check_fault(
    sim: &Sim,
    ep: FaultEndpoint,
    account: Option<&str>,
) -> Result<Option<FaultKind>, Response> {
    let kind = { crate::faults::take(&mut sim.state().faults, ep, account) };
    match kind {
        None | Some(FaultKind::ReportFailed) => Ok(None),
        Some(FaultKind::Slow { delay_ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            Ok(None)
        }
        Some(FaultKind::Throttle { retry_after_secs }) => Err(throttled(
            retry_after_secs,
            ep == FaultEndpoint::GenerateCostDetailsReport,
        )),
        Some(FaultKind::ServerError { status }) => Err(server_error(status)),
        Some(k) => Ok(Some(k)),
    }
}

pub(crate) fn throttled(retry_after_secs: u64, cost_management: bool) -> Response {
    let mut r = arm_error(
        429,
        "TooManyRequests",
        "Request is throttled. Retry after waiting for the time specified in the \"retry-after\" header.",
    );
    set_header(
        r.headers_mut(),
        "retry-after",
        &retry_after_secs.to_string(),
    );
    if cost_management {
        set_header(
            r.headers_mut(),
            "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
            &retry_after_secs.to_string(),
        );
    }
    r
}

pub(crate) fn server_error(status: u16) -> Response {
    if status == 503 {
        let mut r = arm_error(
            503,
            "ServiceUnavailable",
            "Service is temporarily unavailable. Retry after waiting for the time specified in the \"Retry-After\" header.",
        );
        set_header(r.headers_mut(), "retry-after", "10");
        r
    } else {
        arm_error(
            status,
            "InternalServerError",
            "Encountered internal server error. Diagnostic information: timestamp '', correlation Id ''.",
        )
    }
}

/// A parsed ARM request.
pub(crate) struct ArmRequest {
    pub method: Method,
    /// Decoded path segments.
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Every path that is not Entra ID, the blob store or the admin API.
pub(crate) async fn handle(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segs: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let query = parse_form(uri.query().unwrap_or_default());
    let req = ArmRequest {
        method,
        segs,
        query,
        headers,
        body,
    };
    let corr = req
        .headers
        .get("x-ms-client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cm = req.segs.windows(2).position(|w| {
        w[0].eq_ignore_ascii_case("providers")
            && w[1].eq_ignore_ascii_case("Microsoft.CostManagement")
    });
    let mut resp = if let Some(i) = cm {
        crate::cost::handle(&sim, &req, i).await
    } else if req.segs.len() >= 3
        && req.segs[0].eq_ignore_ascii_case("providers")
        && req.segs[1].eq_ignore_ascii_case("Microsoft.Billing")
        && req.segs[2].eq_ignore_ascii_case("billingAccounts")
    {
        crate::billing::handle(&sim, &req).await
    } else {
        arm_error(
            404,
            "NotFound",
            format!(
                "The requested resource '{}' was not found in the simulator.",
                uri.path()
            ),
        )
    };
    let rid = Uuid::new_v4().to_string();
    set_header(resp.headers_mut(), "x-ms-request-id", &rid);
    set_header(
        resp.headers_mut(),
        "x-ms-correlation-request-id",
        corr.as_deref().unwrap_or(&rid),
    );
    if let Some(c) = corr {
        set_header(resp.headers_mut(), "x-ms-client-request-id", &c);
    }
    resp
}

pub(crate) fn agreement_type(a: Agreement) -> &'static str {
    match a {
        Agreement::Ea => "EnterpriseAgreement",
        Agreement::Mca => "MicrosoftCustomerAgreement",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn mca_names() {
        assert!(is_mca_account_name(
            "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31"
        ));
        assert!(!is_mca_account_name(
            "00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000"
        ));
        assert!(!is_mca_account_name("7645820"));
    }
}
