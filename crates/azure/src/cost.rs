//! Cost Management's Cost Details API (azure-protocol.md section 4): create a report, follow its
//! `Location` as given, read the manifest.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    AccessToken, AzureClient, AzureError, ErrorKind, billing::path_segment,
    error::classify_arm_error,
};

pub const COST_API_VERSION: &str = "2022-05-01";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CostMetric {
    ActualCost,
    AmortizedCost,
}

/// What to report on: a date range (at most one month, inclusive) or an EA billing period (`YYYYMM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CostReportRequest {
    TimePeriod {
        metric: CostMetric,
        start: Date,
        end: Date,
    },
    BillingPeriod {
        metric: CostMetric,
        period: String,
    },
}

impl CostReportRequest {
    fn body(&self) -> serde_json::Value {
        let ymd = time::macros::format_description!("[year]-[month]-[day]");
        match self {
            CostReportRequest::TimePeriod { metric, start, end } => serde_json::json!({
                "metric": metric,
                "timePeriod": {"start": start.format(&ymd).unwrap_or_default(), "end": end.format(&ymd).unwrap_or_default()}
            }),
            CostReportRequest::BillingPeriod { metric, period } => {
                serde_json::json!({"metric": metric, "billingPeriod": period})
            }
        }
    }
}

/// Where a report stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CostReportStatus {
    /// Being generated: poll `location` after `retry_after`.
    Pending {
        location: String,
        retry_after: Duration,
    },
    Completed(Manifest),
    /// No cost data for the request (204, or status `NoDataFound`).
    NoData,
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub blob_count: u64,
    pub byte_count: u64,
    pub blobs: Vec<ManifestBlob>,
    /// When the links stop working (`validTill`, top level or inside the manifest).
    pub valid_till: Option<OffsetDateTime>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ManifestBlob {
    /// A pre-signed link: fetched without an Authorization header, never logged whole.
    pub link: String,
    pub byte_count: u64,
}

impl std::fmt::Debug for ManifestBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestBlob")
            .field("link", &crate::http::loggable(&self.link))
            .field("byte_count", &self.byte_count)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationResult {
    status: Option<String>,
    manifest: Option<RawManifest>,
    valid_till: Option<String>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    blob_count: Option<u64>,
    byte_count: Option<u64>,
    #[serde(default)]
    blobs: Vec<RawBlob>,
    valid_till: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBlob {
    blob_link: String,
    byte_count: Option<u64>,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn interpret(answer: crate::http::Answer) -> Result<CostReportStatus, AzureError> {
    match answer.status {
        202 => {
            let location = answer
                .header("location")
                .ok_or_else(|| {
                    AzureError::new(
                        ErrorKind::UnexpectedResponse,
                        "202 Accepted without a Location header",
                    )
                })?
                .to_string();
            Ok(CostReportStatus::Pending {
                location,
                retry_after: answer.retry_after.unwrap_or(Duration::from_secs(60)),
            })
        }
        204 => Ok(CostReportStatus::NoData),
        200 => {
            let r: OperationResult = serde_json::from_slice(&answer.body).map_err(|e| {
                AzureError::new(
                    ErrorKind::UnexpectedResponse,
                    format!("report status not understood: {e}"),
                )
            })?;
            match r.status.as_deref() {
                Some("NoDataFound") => Ok(CostReportStatus::NoData),
                Some("Failed") => Ok(CostReportStatus::Failed {
                    message: r
                        .error
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "the report failed".into()),
                }),
                _ => {
                    let m = r.manifest.ok_or_else(|| {
                        AzureError::new(
                            ErrorKind::UnexpectedResponse,
                            "completed report without a manifest",
                        )
                    })?;
                    let valid_till = r
                        .valid_till
                        .as_deref()
                        .or(m.valid_till.as_deref())
                        .and_then(parse_time);
                    let blobs: Vec<ManifestBlob> = m
                        .blobs
                        .into_iter()
                        .map(|b| ManifestBlob {
                            link: b.blob_link,
                            byte_count: b.byte_count.unwrap_or(0),
                        })
                        .collect();
                    Ok(CostReportStatus::Completed(Manifest {
                        blob_count: m.blob_count.unwrap_or(blobs.len() as u64),
                        byte_count: m
                            .byte_count
                            .unwrap_or_else(|| blobs.iter().map(|b| b.byte_count).sum()),
                        blobs,
                        valid_till,
                    }))
                }
            }
        }
        status => Err(classify_arm_error(
            status,
            &answer.body,
            answer.request_id,
            answer.retry_after,
        )),
    }
}

impl AzureClient {
    /// `POST {scope}/providers/Microsoft.CostManagement/generateCostDetailsReport`, where `scope`
    /// is e.g. `providers/Microsoft.Billing/billingAccounts/{id}`.
    pub async fn create_cost_report(
        &self,
        token: &AccessToken,
        scope: &str,
        request: &CostReportRequest,
    ) -> Result<CostReportStatus, AzureError> {
        let url = self.management_url(&format!(
            "/{}/providers/Microsoft.CostManagement/generateCostDetailsReport?api-version={COST_API_VERSION}",
            scope.trim_matches('/')
        ));
        let body = request.body();
        let answer = self
            .send("generate cost details report", &url, || {
                self.http.post(&url).bearer_auth(token.bearer()).json(&body)
            })
            .await?;
        interpret(answer)
    }

    /// Poll a report at the `Location` Azure gave, as given. The token is only sent to ARM.
    pub async fn poll_cost_report(
        &self,
        token: &AccessToken,
        location: &str,
    ) -> Result<CostReportStatus, AzureError> {
        if !self.same_host(location) {
            return Err(AzureError::new(
                ErrorKind::UnexpectedResponse,
                "the report's Location is not on Azure Resource Manager",
            ));
        }
        let answer = self
            .send("cost details report status", location, || {
                self.http.get(location).bearer_auth(token.bearer())
            })
            .await?;
        interpret(answer)
    }

    /// The billing-account scope for Cost Management.
    pub fn billing_account_scope(id: &str) -> String {
        format!(
            "providers/Microsoft.Billing/billingAccounts/{}",
            path_segment(id)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> serde_json::Value {
        let full = format!(
            "{}/../../../shared/fixtures/azure/costmanagement/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(
            &std::fs::read_to_string(full).expect("../shared/fixtures beside the project"),
        )
        .expect("json")
    }

    fn answer(status: u16, body: &serde_json::Value) -> crate::http::Answer {
        crate::http::Answer {
            status,
            headers: Default::default(),
            body: body.to_string().into_bytes(),
            request_id: None,
            retry_after: None,
        }
    }

    #[test]
    fn both_manifest_vintages_parse() {
        let current = fixture("2022-05-01/CostDetailsOperationResultsBySubscriptionScope.json");
        let CostReportStatus::Completed(m) =
            interpret(answer(200, &current["responses"]["200"]["body"])).expect("ok")
        else {
            panic!("completed expected")
        };
        assert_eq!((m.blob_count, m.byte_count, m.blobs.len()), (1, 32741, 1));
        assert!(m.valid_till.is_some(), "top-level validTill");

        let draft = fixture("2022-05-01/CostDetailsOperationStatusBySubscriptionScope.json");
        let CostReportStatus::Completed(m) =
            interpret(answer(200, &draft["responses"]["200"]["body"])).expect("ok")
        else {
            panic!("completed expected")
        };
        assert!(m.valid_till.is_some(), "validTill inside the manifest");
        assert!(
            !format!("{:?}", m.blobs[0]).contains("sig="),
            "signatures are not printed"
        );
    }

    #[test]
    fn no_data_and_request_bodies() {
        assert_eq!(
            interpret(answer(204, &serde_json::Value::Null)).expect("ok"),
            CostReportStatus::NoData
        );
        let body = CostReportRequest::TimePeriod {
            metric: CostMetric::ActualCost,
            start: time::macros::date!(2026 - 10 - 01),
            end: time::macros::date!(2026 - 10 - 31),
        }
        .body();
        assert_eq!(
            body,
            serde_json::json!({"metric": "ActualCost", "timePeriod": {"start": "2026-10-01", "end": "2026-10-31"}})
        );
    }
}
