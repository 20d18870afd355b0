//! Billing Engine's Azure client: Entra ID client-credentials tokens, ARM `Microsoft.Billing`
//! billing accounts, and Cost Management's Cost Details API. Written from
//! `../shared/docs/azure-protocol.md`; it knows the wire format and nothing about billing rules.
//!
//! Every call returns a typed result or an [`AzureError`] whose [`ErrorKind`] classifies the
//! failure (tenant not found, wrong secret, role missing, throttled, ...). Error bodies are parsed
//! defensively: the ARM envelope, the bare `{code, message}` shape and ASP.NET ProblemDetails.
//! 429 and 5xx answers are retried with backoff, honouring every `*retry-after*` header; every
//! call's `x-ms-request-id` is logged and kept on errors.

mod billing;
mod cost;
mod download;
mod error;
mod http;
mod token;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

pub use billing::BillingAccount;
pub use cost::{CostMetric, CostReportRequest, CostReportStatus, Manifest, ManifestBlob};
pub use download::{FetchLimits, FetchedReport};
pub use error::{AzureError, ErrorKind};
pub use http::RetryPolicy;
pub use token::{AccessToken, ClientCredentials, TokenClaims};

/// Where Azure is. Production uses the defaults; tests and `demo` point at the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Entra ID, e.g. `https://login.microsoftonline.com`.
    pub login: url::Url,
    /// Azure Resource Manager, e.g. `https://management.azure.com`.
    pub management: url::Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            login: url::Url::parse("https://login.microsoftonline.com").expect("valid URL"),
            management: url::Url::parse("https://management.azure.com").expect("valid URL"),
        }
    }
}

/// The token scope for Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// A client for one set of endpoints. Cheap to clone (clones share the connection pool and the
/// per-scope report turns).
#[derive(Clone)]
pub struct AzureClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    retry: RetryPolicy,
    /// Reports in flight per scope (see [`FetchLimits::reports_in_flight`]).
    report_slots: Arc<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

impl AzureClient {
    pub fn new(endpoints: Endpoints, retry: RetryPolicy) -> Result<Self, AzureError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("billing-engine/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(retry.request_timeout)
            .build()
            .map_err(|e| {
                AzureError::new(
                    ErrorKind::Unreachable,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            http,
            endpoints,
            retry,
            report_slots: Arc::default(),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn management_url(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.endpoints.management.as_str().trim_end_matches('/'),
            path_and_query
        )
    }
}
