//! ARM `Microsoft.Billing` billing accounts (azure-protocol.md section 2).

use serde::Deserialize;

use crate::{AccessToken, AzureClient, AzureError, ErrorKind, error::classify_arm_error};

pub const BILLING_API_VERSION: &str = "2024-04-01";

/// A billing account as ARM describes it. Enumerations stay strings: real answers carry values
/// outside the documented sets (section 2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingAccount {
    /// The billing account ID: an enrollment number (EA) or `guid:guid_YYYY-MM-DD` (MCA).
    pub name: String,
    pub display_name: Option<String>,
    /// `EnterpriseAgreement`, `MicrosoftCustomerAgreement`, ...
    pub agreement_type: Option<String>,
    pub account_status: Option<String>,
    pub has_read_access: Option<bool>,
}

impl BillingAccount {
    pub fn is_enterprise_agreement(&self) -> bool {
        self.agreement_type.as_deref() == Some("EnterpriseAgreement")
    }

    pub fn is_customer_agreement(&self) -> bool {
        self.agreement_type.as_deref() == Some("MicrosoftCustomerAgreement")
    }
}

#[derive(Deserialize)]
struct Resource {
    name: Option<String>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Properties {
    display_name: Option<String>,
    agreement_type: Option<String>,
    account_status: Option<String>,
    has_read_access: Option<bool>,
}

impl From<Resource> for BillingAccount {
    fn from(r: Resource) -> Self {
        BillingAccount {
            name: r.name.unwrap_or_default(),
            display_name: r.properties.display_name,
            agreement_type: r.properties.agreement_type,
            account_status: r.properties.account_status,
            has_read_access: r.properties.has_read_access,
        }
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Resource>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

fn unexpected(e: serde_json::Error) -> AzureError {
    AzureError::new(
        ErrorKind::UnexpectedResponse,
        format!("billing account answer not understood: {e}"),
    )
}

pub(crate) fn path_segment(s: &str) -> String {
    // ':' stays as it is (MCA IDs carry it unescaped in every example); everything else unsafe is escaped.
    s.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._~:".contains(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32)
            }
        })
        .collect()
}

impl AzureClient {
    /// `GET /providers/Microsoft.Billing/billingAccounts/{id}`.
    pub async fn billing_account(
        &self,
        token: &AccessToken,
        id: &str,
    ) -> Result<BillingAccount, AzureError> {
        let url = self.management_url(&format!(
            "/providers/Microsoft.Billing/billingAccounts/{}?api-version={BILLING_API_VERSION}",
            path_segment(id)
        ));
        let answer = self
            .send("billing account", &url, || {
                self.http.get(&url).bearer_auth(token.bearer())
            })
            .await?;
        if answer.status != 200 {
            return Err(classify_arm_error(
                answer.status,
                &answer.body,
                answer.request_id,
                answer.retry_after,
            ));
        }
        let resource: Resource = serde_json::from_slice(&answer.body).map_err(unexpected)?;
        Ok(resource.into())
    }

    /// `GET /providers/Microsoft.Billing/billingAccounts`, following `nextLink` on the ARM host
    /// only (the token is never sent anywhere else). A principal without a billing role gets an
    /// empty list, not an error (section 8.4).
    pub async fn billing_accounts(
        &self,
        token: &AccessToken,
    ) -> Result<Vec<BillingAccount>, AzureError> {
        let mut url = self.management_url(&format!(
            "/providers/Microsoft.Billing/billingAccounts?api-version={BILLING_API_VERSION}"
        ));
        let mut all = vec![];
        for _ in 0..100 {
            let answer = self
                .send("billing accounts", &url, || {
                    self.http.get(&url).bearer_auth(token.bearer())
                })
                .await?;
            if answer.status != 200 {
                return Err(classify_arm_error(
                    answer.status,
                    &answer.body,
                    answer.request_id,
                    answer.retry_after,
                ));
            }
            let page: Page = serde_json::from_slice(&answer.body).map_err(unexpected)?;
            all.extend(page.value.into_iter().map(BillingAccount::from));
            match page.next_link {
                Some(next) if self.same_host(&next) => url = next,
                Some(_) => {
                    return Err(AzureError::new(
                        ErrorKind::UnexpectedResponse,
                        "nextLink points outside Azure Resource Manager",
                    ));
                }
                None => return Ok(all),
            }
        }
        Err(AzureError::new(
            ErrorKind::UnexpectedResponse,
            "too many pages of billing accounts",
        ))
    }

    pub(crate) fn same_host(&self, url: &str) -> bool {
        url::Url::parse(url).is_ok_and(|u| {
            u.scheme() == self.endpoints.management.scheme()
                && u.host_str() == self.endpoints.management.host_str()
                && u.port_or_known_default() == self.endpoints.management.port_or_known_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_colons_and_escape_the_rest() {
        let mca =
            "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31";
        assert_eq!(path_segment(mca), mca);
        assert_eq!(path_segment("12 34/5"), "12%2034%2F5");
    }

    #[test]
    fn fixture_bodies_parse() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/azure/billing/2024-04-01/billingAccountsGet.json"
        ))
        .expect("../shared/fixtures beside the project");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let body = &v["responses"]["200"]["body"];
        let account: BillingAccount = serde_json::from_value::<Resource>(body.clone())
            .expect("parses")
            .into();
        assert!(account.is_customer_agreement());
        assert_eq!(
            account.display_name.as_deref(),
            Some("Premier Business Account")
        );
    }
}
