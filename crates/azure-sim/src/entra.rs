//! Entra ID: the client-credentials token endpoint and the OpenID configuration
//! (azure-protocol.md section 1).

use crate::clock::entra_timestamp;
use crate::faults::{FaultEndpoint, FaultKind};
use crate::http_util::{get, json_response, parse_form, set_header};
use crate::model::App;
use crate::sim::Sim;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;
use uuid::Uuid;

/// An Entra ID error: status, `error`, AADSTS number and description.
pub(crate) struct AadError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
}

fn aad(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> AadError {
    AadError {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        error,
        code,
        message: message.into(),
    }
}

impl AadError {
    pub(crate) fn into_response(self, sim: &Sim) -> Response {
        let now = sim.now();
        let ts = entra_timestamp(now);
        let trace = Uuid::new_v4();
        let corr = Uuid::new_v4();
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}", self.code, self.message),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace.to_string(),
            "correlation_id": corr.to_string(),
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut r = json_response(self.status, &body);
        set_header(r.headers_mut(), "x-ms-request-id", &trace.to_string());
        set_header(r.headers_mut(), "cache-control", "no-store, no-cache");
        r
    }
}

const ARM_RESOURCES: &[&str] = &[
    "https://management.azure.com",
    "https://management.azure.com/",
    "https://management.core.windows.net",
    "https://management.core.windows.net/",
];

pub(crate) fn tenant_syntax_ok(t: &str) -> bool {
    Uuid::parse_str(t).is_ok()
        || (t.contains('.')
            && t.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }))
}

enum Tenantish {
    Found(crate::model::Tenant),
    Err(AadError),
}

fn resolve_tenant(sim: &Sim, tenant: &str, discovery: bool) -> Tenantish {
    let lower = tenant.to_ascii_lowercase();
    if matches!(lower.as_str(), "common" | "consumers" | "organizations") && !discovery {
        return Tenantish::Err(aad(
            400,
            "invalid_request",
            9001023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        ));
    }
    let err = if discovery {
        "invalid_tenant"
    } else {
        "invalid_request"
    };
    if !tenant_syntax_ok(tenant) {
        return Tenantish::Err(aad(
            400,
            err,
            900023,
            format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    match sim.state().tenant_by_ref(tenant) {
        Some(t) => Tenantish::Found(t.clone()),
        None => Tenantish::Err(aad(
            400,
            err,
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )),
    }
}

fn fault_response(sim: &Sim, kind: &FaultKind) -> Option<Response> {
    match kind {
        FaultKind::Throttle { retry_after_secs } => {
            let mut r = aad(
                429,
                "temporarily_unavailable",
                90055,
                "There are too many incoming requests. Please try again later.",
            )
            .into_response(sim);
            set_header(
                r.headers_mut(),
                "retry-after",
                &retry_after_secs.to_string(),
            );
            Some(r)
        }
        FaultKind::ServerError { status } => {
            let mut r = aad(
                *status,
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again.",
            )
            .into_response(sim);
            if *status == 503 {
                set_header(r.headers_mut(), "retry-after", "10");
            }
            Some(r)
        }
        _ => None,
    }
}

/// Apply a fault for an Entra ID endpoint: an early answer, or a body/latency fault to apply later.
pub(crate) async fn check_fault(
    sim: &Sim,
    ep: FaultEndpoint,
) -> Result<Option<FaultKind>, Response> {
    let kind = { crate::faults::take(&mut sim.state().faults, ep, None) };
    match kind {
        None => Ok(None),
        Some(FaultKind::Slow { delay_ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            Ok(None)
        }
        Some(k) => match fault_response(sim, &k) {
            Some(r) => Err(r),
            None => Ok(Some(k)),
        },
    }
}

fn finish(resp: Response, body_fault: Option<FaultKind>) -> Response {
    match body_fault {
        Some(k) => crate::faults::apply_to_body(resp, &k),
        None => resp,
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`
pub(crate) async fn token(
    State(sim): State<Sim>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body_fault = match check_fault(&sim, FaultEndpoint::Token).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let resp = match token_inner(&sim, &tenant, &headers, &body) {
        Ok(t) => {
            let mut r = json_response(StatusCode::OK, &serde_json::to_value(t).unwrap_or_default());
            set_header(r.headers_mut(), "cache-control", "no-store, no-cache");
            set_header(
                r.headers_mut(),
                "x-ms-request-id",
                &Uuid::new_v4().to_string(),
            );
            r
        }
        Err(e) => e.into_response(&sim),
    };
    finish(resp, body_fault)
}

/// The same endpoint without a tenant segment.
pub(crate) async fn token_without_tenant(State(sim): State<Sim>) -> Response {
    aad(400, "invalid_request", 90019, "No tenant-identifying information found in either the request or implied by any provided credentials.").into_response(&sim)
}

fn token_inner(
    sim: &Sim,
    tenant: &str,
    headers: &HeaderMap,
    body: &str,
) -> Result<crate::sim::IssuedToken, AadError> {
    let t = match resolve_tenant(sim, tenant, false) {
        Tenantish::Found(t) => t,
        Tenantish::Err(e) => return Err(e),
    };
    let form = parse_form(body);
    let missing = |name: &str| {
        aad(
            400,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let grant = get(&form, "grant_type")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("grant_type"))?;
    // HTTP Basic (RFC 6749 2.3.1) may carry client_id and client_secret.
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':').map(|(a, b)| {
                (
                    crate::http_util::percent_decode(a, true),
                    crate::http_util::percent_decode(b, true),
                )
            })
        });
    let client_id = get(&form, "client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let client_id = client_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("client_id"))?;
    match grant {
        "client_credentials" => {}
        "password" => return password_grant(sim, &t, &form),
        other => {
            return Err(aad(
                400,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
    }
    let scope = get(&form, "scope")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing("scope"))?;
    let app: App = {
        let st = sim.state();
        let found = Uuid::parse_str(&client_id).ok().and_then(|cid| {
            st.apps
                .iter()
                .find(|a| a.client_id == cid && a.tenant_id == t.id)
                .cloned()
        });
        found.ok_or_else(|| {
            aad(400, "unauthorized_client", 700016, format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", t.display_name))
        })?
    };
    if !app.has_service_principal {
        return Err(aad(
            401,
            "invalid_client",
            7000229,
            format!(
                "The client application {} is missing service principal in the tenant {}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
                app.client_id, t.id
            ),
        ));
    }
    if app.disabled {
        return Err(aad(
            400,
            "unauthorized_client",
            7000112,
            format!(
                "Application '{}'({}) is disabled.",
                app.client_id, app.display_name
            ),
        ));
    }
    // Scope: exactly one resource, `{resource}/.default`, and the resource must be ARM.
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let mut resources = Vec::new();
    for s in &scopes {
        match s.strip_suffix("/.default") {
            Some(r) if !r.is_empty() => {
                if !resources.contains(&r) {
                    resources.push(r)
                }
            }
            _ => {
                return Err(aad(
                    400,
                    "invalid_scope",
                    70011,
                    format!(
                        "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                    ),
                ));
            }
        }
    }
    if resources.len() > 1 {
        return Err(aad(
            400,
            "invalid_scope",
            700022,
            format!(
                "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        ));
    }
    let resource = resources.first().copied().unwrap_or_default();
    if !ARM_RESOURCES.contains(&resource)
        && !ARM_RESOURCES.contains(&resource.trim_end_matches('/'))
    {
        return Err(aad(
            400,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                t.display_name
            ),
        ));
    }
    let secret = get(&form, "client_secret")
        .map(str::to_string)
        .or_else(|| basic.map(|b| b.1));
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(aad(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    let now = sim.now();
    let matching: Vec<_> = app
        .secrets
        .iter()
        .filter(|s| crate::jwt::constant_time_eq(s.value.as_bytes(), secret.as_bytes()))
        .collect();
    if matching.is_empty() {
        return Err(aad(
            401,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    if !matching.iter().any(|s| s.expires_at > now) {
        return Err(aad(
            401,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                app.client_id
            ),
        ));
    }
    sim.count(|s| s.app_tokens_issued += 1);
    Ok(sim.issue(sim.app_claims(&app)))
}

/// Resource-owner password grant, for administrators (not in azure-protocol.md; lets a curl user get
/// an admin token the way a script would).
fn password_grant(
    sim: &Sim,
    t: &crate::model::Tenant,
    form: &[(String, String)],
) -> Result<crate::sim::IssuedToken, AadError> {
    let missing = |name: &str| {
        aad(
            400,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let username = get(form, "username")
        .ok_or_else(|| missing("username"))?
        .to_ascii_lowercase();
    let password = get(form, "password").ok_or_else(|| missing("password"))?;
    let user = sim
        .state()
        .users
        .iter()
        .find(|u| u.tenant_id == t.id && u.user_principal_name == username)
        .cloned();
    let Some(user) = user else {
        return Err(aad(
            400,
            "invalid_grant",
            50034,
            format!(
                "The user account {username} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                t.id
            ),
        ));
    };
    if !crate::jwt::constant_time_eq(user.password.as_bytes(), password.as_bytes()) {
        return Err(aad(
            400,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    Ok(sim.issue(sim.user_claims(&user)))
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`
pub(crate) async fn openid_configuration(
    State(sim): State<Sim>,
    Path(tenant): Path<String>,
) -> Response {
    let body_fault = match check_fault(&sim, FaultEndpoint::OpenidConfiguration).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let t = match resolve_tenant(&sim, &tenant, true) {
        Tenantish::Found(t) => t,
        Tenantish::Err(e) => return e.into_response(&sim),
    };
    let login = format!("{}/login", sim.base_url());
    let tid = t.id;
    let body = json!({
        "token_endpoint": format!("{login}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{login}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{login}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{login}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{login}/{tid}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    });
    finish(json_response(StatusCode::OK, &body), body_fault)
}
