//! Integration tests: the simulator driven over HTTP, as a user (or a client written from the
//! protocol documentation) would, with plain reqwest calls.

mod billing;
mod cost;
mod entra;
mod errors;
mod faults;
mod fidelity;
mod roles;
mod story;

use be_azure_sim::{AzureSim, DemoSeed, RunningSim, SimConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const READER: &str = "24f8edb6-1668-4659-b5e2-40bb5f3a7d7e";
pub const MCA_READER: &str = "50000000-aaaa-bbbb-cccc-100000000002";

pub struct T {
    pub sim: RunningSim,
    pub http: Client,
    pub demo: DemoSeed,
}

pub async fn spawn() -> T {
    spawn_with(SimConfig {
        seed_demo: true,
        ..Default::default()
    })
    .await
}

pub async fn spawn_with(config: SimConfig) -> T {
    let sim = AzureSim::start(SimConfig {
        seed_demo: true,
        ..config
    })
    .await
    .expect("simulator starts");
    let demo = sim.demo().cloned().expect("demo seeded");
    T {
        sim,
        http: crate::http_client(),
        demo,
    }
}

impl T {
    pub fn arm(&self, path_and_query: &str) -> String {
        format!("{}{}", self.sim.management_url(), path_and_query)
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.sim.login_url(), tenant)
    }

    /// POST a client-credentials form.
    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.token_url(tenant))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// A token for the demo app through the real token endpoint.
    pub async fn app_token(&self) -> String {
        let r = self
            .token_request(
                "contoso.onmicrosoft.com",
                &[
                    ("client_id", &self.demo.app.client_id.to_string()),
                    ("scope", ARM_SCOPE),
                    ("client_secret", &self.demo.client_secret),
                    ("grant_type", "client_credentials"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub fn ea_admin_token(&self) -> String {
        self.sim
            .sim()
            .user_token(self.demo.ea_admin.object_id)
            .expect("admin token")
            .access_token
    }

    pub fn mca_owner_token(&self) -> String {
        self.sim
            .sim()
            .user_token(self.demo.mca_owner.object_id)
            .expect("owner token")
            .access_token
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.arm(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        status_json(r).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, self.arm(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        status_json(r).await
    }

    /// Grant EnrollmentReader on the demo enrollment to the demo app, as the EA admin would.
    pub async fn grant_ea_reader(&self) {
        let ea = &self.demo.ea_enrollment;
        let (s, _) = self
            .send(
                reqwest::Method::PUT,
                &format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{}?api-version=2019-10-01-preview", uuid::Uuid::new_v4()),
                &self.ea_admin_token(),
                json!({"properties": {
                    "principalId": self.demo.app.service_principal_object_id,
                    "principalTenantId": self.demo.tenant.id,
                    "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}")
                }}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }

    /// Grant Billing account reader on the demo MCA account to the demo app.
    pub async fn grant_mca_reader(&self) {
        let mca = &self.demo.mca_billing_account;
        let (s, b) = self
            .send(
                reqwest::Method::POST,
                &format!("/providers/Microsoft.Billing/billingAccounts/{mca}/createBillingRoleAssignment?api-version=2024-04-01"),
                &self.mca_owner_token(),
                json!({
                    "principalId": self.demo.app.service_principal_object_id,
                    "principalTenantId": self.demo.tenant.id,
                    "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions/{MCA_READER}")
                }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

pub async fn status_json(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (s, v)
}

/// The JSON body of a fixture's response for a status.
pub fn fixture(path: &str, status: &str) -> Value {
    let full = format!(
        "{}/../../../shared/fixtures/azure/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let v: Value = serde_json::from_str(&text).expect("fixture json");
    v["responses"][status]["body"].clone()
}

/// Every field of `expected` exists in `actual` at the same place with the same JSON type
/// (null in the fixture matches anything; arrays are compared item-wise against the first item).
/// With `exact`, `actual` must not have fields the fixture lacks either.
pub fn same_shape(expected: &Value, actual: &Value, path: &str, exact: bool) -> Vec<String> {
    let mut errs = Vec::new();
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => errs.extend(same_shape(ev, av, &format!("{path}.{k}"), exact)),
                    None if ev.is_null() => {}
                    None => errs.push(format!("{path}.{k} missing")),
                }
            }
            if exact {
                for k in a.keys().filter(|k| !e.contains_key(*k)) {
                    errs.push(format!("{path}.{k} not in fixture"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let Some(first) = e.first() {
                if a.is_empty() {
                    errs.push(format!("{path} is empty"));
                }
                for (i, item) in a.iter().enumerate() {
                    errs.extend(same_shape(first, item, &format!("{path}[{i}]"), exact));
                }
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => {}
        (e, a) => errs.push(format!("{path}: fixture {e} vs simulator {a}")),
    }
    errs
}

pub fn assert_shape(expected: &Value, actual: &Value, exact: bool) {
    let errs = same_shape(expected, actual, "$", exact);
    assert!(
        errs.is_empty(),
        "shape differs:\n{}\nactual: {actual:#}",
        errs.join("\n")
    );
}

/// `error_codes[0]` and `error` of an Entra ID error, after checking its shape.
pub fn aad_error(v: &Value) -> (u64, String) {
    for k in [
        "error",
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    ] {
        assert!(v[k].is_string(), "{k} in {v}");
    }
    let code = v["error_codes"][0].as_u64().expect("error_codes");
    let desc = v["error_description"].as_str().unwrap_or_default();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(
        desc.contains("\r\nTrace ID: ")
            && desc.contains("\r\nCorrelation ID: ")
            && desc.contains("\r\nTimestamp: ")
    );
    (code, v["error"].as_str().unwrap_or_default().to_string())
}

/// A plain HTTP client (the process's TLS provider is installed once; reqwest brings none).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
