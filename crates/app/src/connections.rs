//! Connecting an account to an Azure billing account: the wizard's use cases (product.md
//! section 1), the checks with a cause and a fix for every failure, the role grant call, secret
//! storage and rotation, and the connection's life (validate, pause, resume, delete).

use be_azure::{AzureError, ClientCredentials, CostMetric, CostReportRequest, ErrorKind};
use be_domain::{
    Account, AccountId, AgreementType, BillingAccountId, ClientId, ClientSecretValue, ConnectionId,
    ConnectionState, FieldError, Product, Provider, TenantId, parse_secret_expiry,
};
use be_domain::{JobKind, JobState};
use be_store::{Conflict, ConnectionRecord, JobRecord, Registration, StoreError};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Caller, Result};

/// The EnrollmentReader billing role (EA).
pub const ENROLLMENT_READER_ROLE: &str = "24f8edb6-1668-4659-b5e2-40bb5f3a7d7e";
/// The "Billing account reader" billing role (MCA).
pub const BILLING_ACCOUNT_READER_ROLE: &str = "50000000-aaaa-bbbb-cccc-100000000002";
/// The api-version Microsoft's EA guide prescribes for the role assignment.
pub const ROLE_ASSIGNMENT_API_VERSION: &str = "2019-10-01-preview";
/// Days before a secret's expiry when it is flagged.
pub const SECRET_WARNING_DAYS: i64 = 30;

/// Wizard steps, in order (stored as the furthest reached).
pub const STEPS: &[&str] = &["login", "ids", "secret", "grant", "connect"];

fn not_found() -> AppError {
    AppError::NotFound {
        code: "connection_not_found",
        message: "There is no such connection.".into(),
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Not run, because an earlier check failed.
    Skipped,
}

/// One validation check, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// `token`, `billing_account`, `agreement_type`, `cost_data`.
    pub name: String,
    pub title: String,
    pub outcome: CheckOutcome,
    /// What happened.
    pub message: String,
    /// What to do about it (failures only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remedy: Option<String>,
    /// Stable code of the failure.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<String>,
    /// Azure's request ID, for a support ticket.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub azure_request_id: Option<String>,
}

const CHECKS: &[(&str, &str)] = &[
    (
        "token",
        "Sign in to Microsoft Entra ID with the app's credentials",
    ),
    ("billing_account", "Read the billing account"),
    ("agreement_type", "Agreement type matches"),
    ("cost_data", "Read cost data"),
];

/// The result of validating a connection.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub state: ConnectionState,
    pub checks: Vec<Check>,
    /// When data will appear (connected only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The EA role assignment call, ready to paste.
#[derive(Debug, Clone, Serialize)]
pub struct EaCall {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    pub curl: String,
    pub az_rest: String,
}

/// How to grant the app read access to the billing account.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub agreement_type: AgreementType,
    pub role_name: &'static str,
    pub role_definition_id: &'static str,
    /// The service principal's object ID, from the token's `oid` claim.
    pub principal_object_id: String,
    /// The tenant's GUID, from the token's `tid` claim.
    pub principal_tenant_id: String,
    pub billing_account_id: String,
    /// EA: the call an enterprise administrator runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ea_call: Option<EaCall>,
    /// MCA: the portal steps.
    pub steps: Vec<String>,
}

/// The IDs step's inputs, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDetails {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub agreement_type: Option<String>,
    pub billing_account_id: Option<String>,
    /// Confirms that changing the tenant, agreement type or billing account of a connection with
    /// stored data removes that data (it is backfilled again from the new billing account).
    #[serde(default)]
    pub replace_data: bool,
}

/// One account on the Administration page.
#[derive(Debug, Clone)]
pub struct AdminRow {
    pub account: Account,
    pub products: Vec<Product>,
    pub connection: Option<ConnectionRecord>,
}

/// A user-facing diagnosis of an Azure failure.
struct Diagnosis {
    code: &'static str,
    message: String,
    remedy: String,
    retryable: bool,
}

fn host_of(url: &url::Url) -> String {
    url.host_str().unwrap_or("Azure").to_string()
}

impl App {
    fn diagnose_token(&self, e: &AzureError, c: &ConnectionRecord) -> Diagnosis {
        let tenant = c.tenant_id.as_ref().map(|t| t.as_str()).unwrap_or("?");
        let client = c.client_id.as_ref().map(|t| t.as_str()).unwrap_or("?");
        let d = |code, message: String, remedy: &str| Diagnosis {
            code,
            message,
            remedy: remedy.to_string(),
            retryable: false,
        };
        match e.kind {
            ErrorKind::TenantNotFound => d(
                "azure_tenant_not_found",
                format!("Microsoft Entra ID has no directory (tenant) \"{tenant}\"."),
                "Copy the Directory (tenant) ID from the app registration's Overview page in the Azure portal and enter it again.",
            ),
            ErrorKind::TenantInvalid | ErrorKind::TenantRequired => d(
                "azure_tenant_invalid",
                format!("Microsoft Entra ID does not accept \"{tenant}\" as a tenant."),
                "Enter the Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
            ),
            ErrorKind::AppNotFound => d(
                "azure_app_not_found",
                format!(
                    "Microsoft Entra ID found no application with client ID {client} in tenant {tenant}."
                ),
                "Check the Application (client) ID on the app registration's Overview page, and that the app is registered in this same tenant.",
            ),
            ErrorKind::InvalidSecret | ErrorKind::SecretMissing => d(
                "azure_secret_invalid",
                "Microsoft Entra ID refused the client secret.".into(),
                "Paste the secret's Value, not its Secret ID. If you no longer have the value, create a new client secret under Certificates & secrets and enter it here.",
            ),
            ErrorKind::SecretExpired => d(
                "azure_secret_expired",
                "The client secret has expired.".into(),
                "Create a new client secret in the app registration under Certificates & secrets, then replace the secret here.",
            ),
            ErrorKind::AppDisabled => d(
                "azure_app_disabled",
                "The application is disabled in its tenant.".into(),
                "In Microsoft Entra ID → Enterprise applications → the app → Properties, set \"Enabled for users to sign in\" to Yes.",
            ),
            ErrorKind::NoServicePrincipal => d(
                "azure_no_service_principal",
                "The application has no service principal (enterprise application) in this tenant."
                    .into(),
                "Register the app in this tenant (single tenant), or have an administrator consent to it so its enterprise application exists.",
            ),
            ErrorKind::BlockedByPolicy => d(
                "azure_blocked_by_policy",
                "A Conditional Access policy of your tenant blocked the sign-in.".into(),
                "Ask your Entra ID administrator to allow this app's sign-in (workload identity Conditional Access).",
            ),
            _ => self.diagnose_transport(
                e,
                "azure_token_refused",
                "Microsoft Entra ID refused the sign-in",
            ),
        }
    }

    /// Throttling, outages, unreachable hosts and anything unclassified.
    fn diagnose_transport(
        &self,
        e: &AzureError,
        fallback_code: &'static str,
        what: &str,
    ) -> Diagnosis {
        match e.kind {
            ErrorKind::Throttled => {
                let wait = e.retry_after.map(|d| format!("Wait {} seconds", d.as_secs())).unwrap_or_else(|| "Wait a minute".into());
                Diagnosis {
                    code: "azure_throttled",
                    message: "Azure is limiting the number of requests (HTTP 429).".into(),
                    remedy: format!("{wait} and validate again."),
                    retryable: true,
                }
            }
            ErrorKind::ServiceUnavailable => Diagnosis {
                code: "azure_unavailable",
                message: format!("Azure answered with a server error{}.", e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()),
                remedy: "This is on Azure's side. Validate again in a few minutes; if it persists, check https://status.azure.com.".into(),
                retryable: true,
            },
            ErrorKind::Unreachable => Diagnosis {
                code: "azure_unreachable",
                message: format!(
                    "Billing Engine could not reach Azure ({} / {}).",
                    host_of(&self.settings.azure.login),
                    host_of(&self.settings.azure.management)
                ),
                remedy: "Check this server's outbound network access (firewall, proxy, DNS) to those hosts, then validate again.".into(),
                retryable: true,
            },
            _ => Diagnosis {
                code: fallback_code,
                message: format!("{what}: {}", if e.message.is_empty() { format!("{:?}", e.kind) } else { e.message.clone() }),
                remedy: "Check the values entered in the previous steps; if they are right, contact support with the Azure request ID.".into(),
                retryable: false,
            },
        }
    }

    fn role_missing(&self, c: &ConnectionRecord) -> Diagnosis {
        let id = c
            .billing_account_id
            .as_ref()
            .map(|b| b.as_str())
            .unwrap_or("?");
        match c.agreement_type {
            Some(AgreementType::MicrosoftCustomerAgreement) => Diagnosis {
                code: "azure_role_missing",
                message: format!("The app has no access to billing account {id}: the Billing account reader role is not granted."),
                remedy: "In Cost Management + Billing → the billing account → Access control (IAM), add the role \"Billing account reader\" for this app (see the grant step), then validate again.".into(),
                retryable: false,
            },
            _ => Diagnosis {
                code: "azure_role_missing",
                message: format!("The app has no access to enrollment {id}: the EnrollmentReader role is not granted."),
                remedy: "Have an enterprise administrator of the enrollment run the role assignment call shown in the grant step, then validate again.".into(),
                retryable: false,
            },
        }
    }

    fn credentials(&self, c: &ConnectionRecord, secret: SecretString) -> Result<ClientCredentials> {
        let missing = |field: &'static str, what: &str| {
            AppError::Invalid(FieldError::new(
                field,
                "connection_incomplete",
                format!("Enter the {what} first."),
            ))
        };
        Ok(ClientCredentials {
            tenant: c
                .tenant_id
                .as_ref()
                .ok_or_else(|| missing("tenant_id", "Directory (tenant) ID"))?
                .as_str()
                .to_string(),
            client_id: c
                .client_id
                .as_ref()
                .ok_or_else(|| missing("client_id", "Application (client) ID"))?
                .as_str()
                .to_string(),
            client_secret: secret,
        })
    }

    fn stored_secret(&self, c: &ConnectionRecord) -> Result<SecretString> {
        let sealed = c.secret_ciphertext.as_ref().ok_or_else(|| {
            AppError::Invalid(FieldError::new(
                "client_secret",
                "connection_incomplete",
                "Enter the client secret first.",
            ))
        })?;
        self.keys.open(sealed, c.id.as_uuid().as_bytes())
    }

    async fn load(&self, caller: &Caller, id: &str) -> Result<ConnectionRecord> {
        let id: ConnectionId = id.parse().map_err(|_| not_found())?;
        self.store
            .get_connection(caller.organization_id, id)
            .await?
            .ok_or_else(not_found)
    }

    async fn save(&self, c: &mut ConnectionRecord) -> Result<()> {
        c.updated_at = self.clock.now();
        // Its secret or IDs may change: the next sync asks for a new token.
        self.forget_sync_token(c.id);
        if self.store.update_connection(c).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    fn advance(c: &mut ConnectionRecord, step: &str) {
        let at = |s: &str| STEPS.iter().position(|x| *x == s).unwrap_or(0);
        if at(step) > at(&c.step) {
            c.step = step.to_string();
        }
    }

    /// Accounts that can still be connected to Azure: no Azure connection or registration for any product.
    pub async fn connectable_accounts(&self, caller: &Caller) -> Result<Vec<Account>> {
        caller.require(be_domain::Permission::Read)?;
        let registered: Vec<AccountId> = self
            .store
            .list_registrations(caller.organization_id)
            .await?
            .into_iter()
            .filter(|r| r.provider == Provider::Azure)
            .map(|r| r.account_id)
            .collect();
        let connected: Vec<AccountId> = self
            .store
            .list_connections(caller.organization_id)
            .await?
            .into_iter()
            .map(|c| c.account_id)
            .collect();
        Ok(self
            .store
            .list_accounts(caller.organization_id)
            .await?
            .into_iter()
            .filter(|a| !registered.contains(&a.id) && !connected.contains(&a.id))
            .collect())
    }

    /// The Administration page: every account with its registered products and its connection.
    pub async fn administration(&self, caller: &Caller) -> Result<Vec<AdminRow>> {
        caller.require(be_domain::Permission::Read)?;
        let registrations = self
            .store
            .list_registrations(caller.organization_id)
            .await?;
        let connections = self.store.list_connections(caller.organization_id).await?;
        Ok(self
            .store
            .list_accounts(caller.organization_id)
            .await?
            .into_iter()
            .map(|account| {
                let mut products: Vec<Product> = registrations
                    .iter()
                    .filter(|r| r.account_id == account.id)
                    .map(|r| r.product)
                    .collect();
                products.sort();
                products.dedup();
                let connection = connections
                    .iter()
                    .find(|c| c.account_id == account.id)
                    .cloned();
                AdminRow {
                    account,
                    products,
                    connection,
                }
            })
            .collect())
    }

    /// Record an account's registration for a product (Cost Intelligence registrations are only recorded).
    pub async fn register_product(
        &self,
        caller: &Caller,
        account_id: &str,
        product: &str,
    ) -> Result<()> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let account = self.get_account(caller, account_id).await?;
        let product = Product::parse(product)?;
        if product == Product::BillingEngine {
            return Err(AppError::Invalid(FieldError::new(
                "product",
                "product_needs_connection",
                "An account is registered for Billing Engine by connecting it to Azure.",
            )));
        }
        let connection = self
            .store
            .list_connections(caller.organization_id)
            .await?
            .into_iter()
            .find(|c| c.account_id == account.id);
        if connection.is_some() {
            return Err(account_connected(&account));
        }
        let r = Registration {
            account_id: account.id,
            product,
            provider: Provider::Azure,
        };
        self.store
            .add_registration(caller.organization_id, &r, self.clock.now())
            .await?;
        Ok(())
    }

    /// Steps 2 and 3: the account, the provider (Azure) and the product (Billing Engine) are
    /// chosen; a draft connection starts at the "log in to Azure" step.
    pub async fn start_connection(
        &self,
        caller: &Caller,
        account_id: &str,
        provider: &str,
        product: &str,
    ) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let provider = Provider::parse(provider)?;
        let product = Product::parse(product)?;
        if product != Product::BillingEngine {
            return Err(AppError::Invalid(FieldError::new(
                "product",
                "product_not_connectable",
                "Only Billing Engine connections are set up here; Cost Intelligence registrations are only recorded.",
            )));
        }
        let account = self.get_account(caller, account_id).await?;
        if !self
            .connectable_accounts(caller)
            .await?
            .iter()
            .any(|a| a.id == account.id)
        {
            return Err(account_connected(&account));
        }
        let now = self.clock.now();
        let c = ConnectionRecord {
            id: ConnectionId::new(),
            organization_id: caller.organization_id,
            account_id: account.id,
            provider,
            product,
            state: ConnectionState::Draft,
            step: STEPS[0].into(),
            tenant_id: None,
            tenant_guid: None,
            client_id: None,
            agreement_type: None,
            billing_account_id: None,
            billing_account_name: None,
            principal_object_id: None,
            secret_ciphertext: None,
            secret_expires_on: None,
            secret_set_at: None,
            checks: None,
            last_validated_at: None,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_connection(&c).await {
            Ok(()) => {
                tracing::info!(org = %caller.organization_id, connection = %c.id, account = %account.id, "connection draft started");
                self.audit(
                    caller,
                    be_domain::AuditKind::Connection,
                    be_domain::AuditAction::Create,
                    c.id,
                    None,
                    Some(audit_json(&c)),
                )
                .await;
                Ok(c)
            }
            Err(StoreError::Conflict(Conflict::AccountConnected)) => {
                Err(account_connected(&account))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_connection(&self, caller: &Caller, id: &str) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::Read)?;
        self.load(caller, id).await
    }

    pub async fn list_connections(&self, caller: &Caller) -> Result<Vec<ConnectionRecord>> {
        caller.require(be_domain::Permission::Read)?;
        Ok(self.store.list_connections(caller.organization_id).await?)
    }

    /// Step 4 done: the user has read the app registration instructions.
    pub async fn connection_step_seen(
        &self,
        caller: &Caller,
        id: &str,
        step: &str,
    ) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let mut c = self.load(caller, id).await?;
        Self::advance(&mut c, step);
        self.save(&mut c).await?;
        Ok(c)
    }

    /// Step 5: client ID, tenant ID, agreement type, billing account ID. Every given field is
    /// checked; all mistakes are reported together and nothing is saved unless all are right.
    pub async fn set_connection_details(
        &self,
        caller: &Caller,
        id: &str,
        input: &ConnectionDetails,
    ) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let mut c = self.load(caller, id).await?;
        let before = c.clone();
        let audit_before = audit_json(&c);
        let mut errors = vec![];
        let tenant = input.tenant_id.as_deref().map(TenantId::parse);
        let client = input.client_id.as_deref().map(ClientId::parse);
        let agreement = input.agreement_type.as_deref().map(AgreementType::parse);
        let agreement_now = match &agreement {
            Some(Ok(a)) => Some(*a),
            Some(Err(_)) => None,
            None => c.agreement_type,
        };
        let billing = match (input.billing_account_id.as_deref(), agreement_now) {
            (Some(raw), Some(a)) => Some(BillingAccountId::parse(a, raw)),
            (Some(_), None) if agreement.is_none() => Some(Err(FieldError::new(
                "agreement_type",
                "agreement_type_empty",
                "Choose the agreement type (EA or MCA) so the billing account ID can be checked.",
            ))),
            _ => None,
        };
        if let Some(Err(e)) = &tenant {
            errors.push(e.clone());
        }
        if let Some(Err(e)) = &client {
            errors.push(e.clone());
        }
        if let Some(Err(e)) = &agreement {
            errors.push(e.clone());
        }
        if let Some(Err(e)) = &billing {
            errors.push(e.clone());
        }
        match errors.len() {
            0 => {}
            1 => return Err(AppError::Invalid(errors.remove(0))),
            _ => return Err(AppError::InvalidFields(errors)),
        }
        let changed_identity = matches!(&tenant, Some(Ok(t)) if Some(t) != c.tenant_id.as_ref())
            || matches!(&client, Some(Ok(x)) if Some(x) != c.client_id.as_ref());
        if let Some(Ok(t)) = tenant {
            c.tenant_id = Some(t);
        }
        if let Some(Ok(x)) = client {
            c.client_id = Some(x);
        }
        if let Some(Ok(a)) = agreement {
            if c.agreement_type != Some(a) && billing.is_none() {
                // The old billing account ID belongs to the other agreement type.
                c.billing_account_id = None;
            }
            c.agreement_type = Some(a);
        }
        if let Some(Ok(b)) = billing {
            c.billing_account_id = Some(b);
        }
        self.refuse_billing_account_held(&c).await?;
        let replaced = self
            .check_source_change(&before, &c, input.replace_data)
            .await?;
        if changed_identity {
            // Another app or tenant: the principal must be read again from a new token.
            c.principal_object_id = None;
            c.tenant_guid = None;
        }
        if c.tenant_id.is_some()
            && c.client_id.is_some()
            && c.agreement_type.is_some()
            && c.billing_account_id.is_some()
        {
            Self::advance(&mut c, "secret");
        } else {
            Self::advance(&mut c, "ids");
        }
        if c.state != ConnectionState::Draft && c.state != ConnectionState::Paused {
            // Changed details must be validated again.
            c.state = ConnectionState::Failed;
            c.checks = None;
        }
        self.save(&mut c).await?;
        if replaced {
            self.forget_periods(&c).await?;
        }
        let after = audit_json(&c);
        if after != audit_before {
            self.audit(
                caller,
                be_domain::AuditKind::Connection,
                be_domain::AuditAction::Update,
                c.id,
                Some(audit_before),
                Some(after),
            )
            .await;
        }
        Ok(c)
    }

    /// Whether `after` reads another billing account than `before` (tenant, agreement type or
    /// billing account changed) while `before` has stored data: refused unless `confirmed`
    /// (then `Ok(true)`: the caller removes the data once the new IDs are saved).
    async fn check_source_change(
        &self,
        before: &ConnectionRecord,
        after: &ConnectionRecord,
        confirmed: bool,
    ) -> Result<bool> {
        if !source_changed(before, after) {
            return Ok(false);
        }
        let stored = self
            .store
            .list_periods(before.organization_id, before.id)
            .await?;
        let (Some(first), Some(last)) = (stored.first(), stored.last()) else {
            return Ok(false);
        };
        if confirmed {
            return Ok(true);
        }
        let from = format!(
            "{} {}",
            before.agreement_type.map(|a| a.code()).unwrap_or("?"),
            before
                .billing_account_id
                .as_ref()
                .map(|b| b.as_str())
                .unwrap_or("?")
        );
        Err(AppError::Conflict {
            code: "connection_has_data",
            field: Some("billing_account_id"),
            message: format!(
                "This connection holds {} month(s) of cost data ({} to {}) from {from}. Changing the tenant, agreement type or billing account would mix another billing account's months with them. To replace them, confirm the change (API: \"replace_data\": true; console: tick \"Remove the stored data\"; CLI: --replace-data): the stored months are removed now and the new billing account's months are backfilled after validation. To keep them, connect the other billing account on another account instead.",
                stored.len(),
                first.period,
                last.period
            ),
        })
    }

    /// Remove a connection's stored periods (records and files); their ratings are redone.
    pub(crate) async fn forget_periods(&self, c: &ConnectionRecord) -> Result<()> {
        let keys = self.store.delete_periods(c.organization_id, c.id).await?;
        self.remove_connection_data(c.id).await;
        let periods = keys
            .iter()
            .map(|k| be_domain::BillingPeriod::parse(k).map_err(AppError::from))
            .collect::<Result<Vec<_>>>()?;
        tracing::info!(connection = %c.id, periods = periods.len(), "stored periods removed: the billing account changed");
        self.data_changed(c.organization_id, &periods).await
    }

    /// Step 6: the client secret (sealed at rest) and its optional expiry date. On a connection
    /// that already has a secret, this is a rotation: the new secret must obtain a token before it
    /// replaces the old one.
    pub async fn set_connection_secret(
        &self,
        caller: &Caller,
        id: &str,
        secret: &str,
        expires_on: &str,
    ) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let mut c = self.load(caller, id).await?;
        let today = self.clock.now().date();
        let mut errors = vec![];
        let value = ClientSecretValue::parse(secret)
            .map_err(|e| errors.push(e))
            .ok();
        let expiry = parse_secret_expiry(expires_on, today)
            .map_err(|e| errors.push(e))
            .ok();
        match errors.len() {
            0 => {}
            1 => return Err(AppError::Invalid(errors.remove(0))),
            _ => return Err(AppError::InvalidFields(errors)),
        }
        let (Some(value), Some(expiry)) = (value, expiry) else {
            return Err(AppError::internal(std::io::Error::other("unreachable")));
        };
        let rotating = c.secret_ciphertext.is_some() && c.state != ConnectionState::Draft;
        if rotating {
            let creds = self.credentials(&c, SecretString::from(value.expose().to_string()))?;
            if let Err(e) = self.azure.token(&creds).await {
                let d = self.diagnose_token(&e, &c);
                tracing::info!(connection = %c.id, code = d.code, azure_request_id = e.request_id.as_deref().unwrap_or("-"), "new secret refused; the old one is kept");
                return Err(AppError::Upstream {
                    code: d.code,
                    message: format!(
                        "The new secret was not saved: {} {} The previous secret is still in use.",
                        d.message, d.remedy
                    ),
                    retryable: d.retryable,
                });
            }
        }
        c.secret_ciphertext = Some(self.keys.seal(value.expose(), c.id.as_uuid().as_bytes())?);
        c.secret_expires_on = expiry;
        c.secret_set_at = Some(self.clock.now());
        Self::advance(&mut c, "grant");
        self.save(&mut c).await?;
        tracing::info!(org = %caller.organization_id, connection = %c.id, rotated = rotating, "client secret stored");
        // Never the value: only that it was set or rotated, and its expiry.
        let after = serde_json::json!({"connection": c.id, "rotated": rotating,
            "expires_on": c.secret_expires_on.map(|d| d.to_string())});
        let action = if rotating {
            be_domain::AuditAction::Update
        } else {
            be_domain::AuditAction::Create
        };
        self.audit(
            caller,
            be_domain::AuditKind::Secret,
            action,
            c.id,
            None,
            Some(after),
        )
        .await;
        Ok(c)
    }

    /// A warning when the secret expires within 30 days (or has expired).
    pub fn secret_warning(&self, c: &ConnectionRecord) -> Option<String> {
        let expires = c.secret_expires_on?;
        let days = (expires - self.clock.now().date()).whole_days();
        if days < 0 {
            Some(format!(
                "The client secret expired on {expires}. Create a new one in Certificates & secrets and replace it here."
            ))
        } else if days <= SECRET_WARNING_DAYS {
            Some(format!(
                "The client secret expires on {expires} ({days} day{} left). Create a new one in Certificates & secrets and replace it here before then.",
                if days == 1 { "" } else { "s" }
            ))
        } else {
            None
        }
    }

    /// Step 7: the role grant, with the service principal's object ID read from the `oid` claim of
    /// a token obtained with the user's credentials.
    pub async fn role_grant(&self, caller: &Caller, id: &str) -> Result<RoleGrant> {
        caller.require(be_domain::Permission::Read)?;
        let mut c = self.load(caller, id).await?;
        let secret = self.stored_secret(&c)?;
        let creds = self.credentials(&c, secret)?;
        let agreement = c.agreement_type.ok_or_else(|| {
            AppError::Invalid(FieldError::new(
                "agreement_type",
                "connection_incomplete",
                "Choose the agreement type first.",
            ))
        })?;
        let billing = c.billing_account_id.clone().ok_or_else(|| {
            AppError::Invalid(FieldError::new(
                "billing_account_id",
                "connection_incomplete",
                "Enter the billing account ID first.",
            ))
        })?;
        let token = self.azure.token(&creds).await.map_err(|e| {
            let d = self.diagnose_token(&e, &c);
            AppError::Upstream {
                code: d.code,
                message: format!("{} {}", d.message, d.remedy),
                retryable: d.retryable,
            }
        })?;
        let oid = token.claims.oid.clone().ok_or_else(|| AppError::Upstream {
            code: "azure_token_unexpected",
            message: "The token from Microsoft Entra ID names no service principal (no oid claim)."
                .into(),
            retryable: false,
        })?;
        let tid = token.claims.tid.clone().or_else(|| {
            c.tenant_id
                .as_ref()
                .filter(|t| t.is_guid())
                .map(|t| t.as_str().to_string())
        });
        let tid = match tid {
            Some(t) => t,
            None => self
                .azure
                .tenant_guid(creds.tenant.as_str())
                .await
                .map_err(|e| {
                    let d = self.diagnose_token(&e, &c);
                    AppError::Upstream {
                        code: d.code,
                        message: format!("{} {}", d.message, d.remedy),
                        retryable: d.retryable,
                    }
                })?,
        };
        c.principal_object_id = Some(oid.clone());
        c.tenant_guid = Some(tid.clone());
        Self::advance(&mut c, "grant");
        self.save(&mut c).await?;
        Ok(self.grant_for(&c, agreement, &billing, &oid, &tid))
    }

    fn grant_for(
        &self,
        c: &ConnectionRecord,
        agreement: AgreementType,
        billing: &BillingAccountId,
        oid: &str,
        tid: &str,
    ) -> RoleGrant {
        let management = self
            .settings
            .azure
            .management
            .as_str()
            .trim_end_matches('/');
        match agreement {
            AgreementType::EnterpriseAgreement => {
                // The assignment's own name is a GUID we choose: the connection's ID, so the call is stable.
                let url = format!(
                    "{management}/providers/Microsoft.Billing/billingAccounts/{billing}/billingRoleAssignments/{}?api-version={ROLE_ASSIGNMENT_API_VERSION}",
                    c.id
                );
                let body = serde_json::json!({
                    "properties": {
                        "principalId": oid,
                        "principalTenantId": tid,
                        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{billing}/billingRoleDefinitions/{ENROLLMENT_READER_ROLE}")
                    }
                });
                let body_text = serde_json::to_string(&body).unwrap_or_default();
                let curl = format!(
                    "curl -sS -X PUT '{url}' \\\n  -H \"Authorization: Bearer $ADMIN_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{body_text}'"
                );
                let az_rest = format!("az rest --method put --url '{url}' --body '{body_text}'");
                RoleGrant {
                    agreement_type: agreement,
                    role_name: "EnrollmentReader",
                    role_definition_id: ENROLLMENT_READER_ROLE,
                    principal_object_id: oid.to_string(),
                    principal_tenant_id: tid.to_string(),
                    billing_account_id: billing.to_string(),
                    ea_call: Some(EaCall {
                        method: "PUT",
                        url,
                        headers: vec![
                            ("Authorization".into(), "Bearer <token of an enterprise administrator of this enrollment>".into()),
                            ("Content-Type".into(), "application/json".into()),
                        ],
                        body,
                        curl,
                        az_rest,
                    }),
                    steps: vec![
                        format!("Sign in as an enterprise administrator (enrollment writer) of enrollment {billing}: only that role may grant EnrollmentReader, and only through this API (the portal does not show the role)."),
                        "Either run the az rest command (after az login), or set ADMIN_TOKEN to an access token for https://management.azure.com (az account get-access-token --resource https://management.azure.com/ --query accessToken -o tsv) and run the curl command.".into(),
                        "A 200 answer means the app now holds EnrollmentReader. Then continue to Connect.".into(),
                    ],
                }
            }
            AgreementType::MicrosoftCustomerAgreement => RoleGrant {
                agreement_type: agreement,
                role_name: "Billing account reader",
                role_definition_id: BILLING_ACCOUNT_READER_ROLE,
                principal_object_id: oid.to_string(),
                principal_tenant_id: tid.to_string(),
                billing_account_id: billing.to_string(),
                ea_call: None,
                steps: vec![
                    "Sign in to the Azure portal as a billing account owner or contributor.".into(),
                    format!(
                        "Open Cost Management + Billing → Billing scopes → the billing account {billing}."
                    ),
                    "Choose Access control (IAM) → Add.".into(),
                    format!(
                        "Role: \"Billing account reader\" (role ID {BILLING_ACCOUNT_READER_ROLE})."
                    ),
                    format!(
                        "User, group, or app: search for the app by its client ID and pick the enterprise application whose object ID is {oid}."
                    ),
                    "Save, then continue to Connect.".into(),
                ],
            },
        }
    }

    /// Step 8: run the checks in order (token, billing account readable, agreement type, cost data).
    /// All passing makes the connection connected and queues its first sync.
    pub async fn validate_connection(&self, caller: &Caller, id: &str) -> Result<Validation> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let mut c = self.load(caller, id).await?;
        let secret = self.stored_secret(&c)?;
        let creds = self.credentials(&c, secret)?;
        let (Some(agreement), Some(billing)) = (c.agreement_type, c.billing_account_id.clone())
        else {
            return Err(AppError::Invalid(FieldError::new(
                "billing_account_id",
                "connection_incomplete",
                "Enter the agreement type and billing account ID first.",
            )));
        };
        self.refuse_billing_account_held(&c).await?;
        c.state = ConnectionState::Validating;
        self.save(&mut c).await?;

        let mut checks: Vec<Check> = CHECKS
            .iter()
            .map(|(name, title)| Check {
                name: name.to_string(),
                title: title.to_string(),
                outcome: CheckOutcome::Skipped,
                message: "Not run: an earlier check failed.".into(),
                remedy: None,
                code: None,
                azure_request_id: None,
            })
            .collect();
        let fail = |checks: &mut Vec<Check>, i: usize, d: Diagnosis, request_id: Option<String>| {
            checks[i].outcome = CheckOutcome::Failed;
            checks[i].message = d.message;
            checks[i].remedy = Some(d.remedy);
            checks[i].code = Some(d.code.to_string());
            checks[i].azure_request_id = request_id;
        };
        let pass = |checks: &mut Vec<Check>, i: usize, message: String| {
            checks[i].outcome = CheckOutcome::Passed;
            checks[i].message = message;
        };

        'run: {
            let token = match self.azure.token(&creds).await {
                Ok(t) => t,
                Err(e) => {
                    let d = self.diagnose_token(&e, &c);
                    fail(&mut checks, 0, d, e.request_id.clone());
                    break 'run;
                }
            };
            if let Some(oid) = &token.claims.oid {
                c.principal_object_id = Some(oid.clone());
            }
            if let Some(tid) = &token.claims.tid {
                c.tenant_guid = Some(tid.clone());
            }
            pass(
                &mut checks,
                0,
                format!(
                    "Signed in as the app's service principal (object ID {}).",
                    c.principal_object_id.as_deref().unwrap_or("?")
                ),
            );

            let account = match self.azure.billing_account(&token, billing.as_str()).await {
                Ok(a) => a,
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::NoBillingClaims
                            | ErrorKind::AccessDenied
                            | ErrorKind::NotFound
                            | ErrorKind::TokenRejected
                    ) =>
                {
                    // Tell "no role at all" from "wrong billing account" by what the app can see.
                    let d = match self.azure.billing_accounts(&token).await {
                        Ok(visible)
                            if !visible.is_empty()
                                && !visible
                                    .iter()
                                    .any(|a| a.name.eq_ignore_ascii_case(billing.as_str())) =>
                        {
                            let names: Vec<(String, Option<String>)> = visible
                                .iter()
                                .map(|a| (a.name.clone(), a.display_name.clone()))
                                .collect();
                            not_visible(&c, billing.as_str(), &names)
                        }
                        Ok(_) => self.role_missing(&c),
                        Err(e2)
                            if matches!(
                                e2.kind,
                                ErrorKind::Throttled
                                    | ErrorKind::ServiceUnavailable
                                    | ErrorKind::Unreachable
                            ) =>
                        {
                            self.diagnose_transport(
                                &e2,
                                "azure_billing_account_unreadable",
                                "The billing account could not be read",
                            )
                        }
                        Err(_) => self.role_missing(&c),
                    };
                    fail(&mut checks, 1, d, e.request_id.clone());
                    break 'run;
                }
                Err(e) => {
                    let d = self.diagnose_transport(
                        &e,
                        "azure_billing_account_unreadable",
                        "The billing account could not be read",
                    );
                    fail(&mut checks, 1, d, e.request_id.clone());
                    break 'run;
                }
            };
            c.billing_account_name = account.display_name.clone();
            pass(
                &mut checks,
                1,
                format!(
                    "Billing account {} is readable{}.",
                    account.name,
                    account
                        .display_name
                        .as_deref()
                        .map(|d| format!(" (\"{d}\")"))
                        .unwrap_or_default()
                ),
            );

            let expected = agreement.azure_name();
            match account.agreement_type.as_deref() {
                Some(actual) if actual == expected => {
                    pass(
                        &mut checks,
                        2,
                        format!(
                            "The billing account is an {}, as chosen.",
                            agreement.label()
                        ),
                    );
                }
                actual => {
                    let actual_label = match actual {
                        Some("EnterpriseAgreement") => "an Enterprise Agreement (EA)".to_string(),
                        Some("MicrosoftCustomerAgreement") => {
                            "a Microsoft Customer Agreement (MCA)".to_string()
                        }
                        Some(other) => format!("of agreement type \"{other}\""),
                        None => "of an unknown agreement type".to_string(),
                    };
                    let other = match agreement {
                        AgreementType::EnterpriseAgreement => "MCA",
                        AgreementType::MicrosoftCustomerAgreement => "EA",
                    };
                    fail(
                        &mut checks,
                        2,
                        Diagnosis {
                            code: "azure_agreement_mismatch",
                            message: format!(
                                "Billing account {billing} is {actual_label}, but {} was chosen.",
                                agreement.label()
                            ),
                            remedy: format!(
                                "Choose {other} as the agreement type in the IDs step (with the matching billing account ID), then validate again."
                            ),
                            retryable: false,
                        },
                        None,
                    );
                    break 'run;
                }
            }

            let yesterday = self
                .clock
                .now()
                .date()
                .previous_day()
                .unwrap_or(self.clock.now().date());
            let probe = CostReportRequest::TimePeriod {
                metric: CostMetric::ActualCost,
                start: yesterday,
                end: yesterday,
            };
            let scope = be_azure::AzureClient::billing_account_scope(billing.as_str());
            match self.azure.create_cost_report(&token, &scope, &probe).await {
                Ok(_) => pass(
                    &mut checks,
                    3,
                    "Cost data can be read (a one-day Cost Details report was accepted).".into(),
                ),
                Err(e)
                    if matches!(e.kind, ErrorKind::NoBillingClaims | ErrorKind::AccessDenied) =>
                {
                    let d = self.role_missing(&c);
                    fail(&mut checks, 3, d, e.request_id.clone());
                }
                Err(e) => {
                    let d = self.diagnose_transport(
                        &e,
                        "azure_cost_data_unreadable",
                        "Cost data could not be read",
                    );
                    fail(&mut checks, 3, d, e.request_id.clone());
                }
            }
        }

        let all_passed = checks.iter().all(|ch| ch.outcome == CheckOutcome::Passed);
        if all_passed && let Err(e) = self.refuse_billing_account_held(&c).await {
            // Another connection got there during the checks.
            c.state = ConnectionState::Failed;
            self.save(&mut c).await?;
            return Err(e);
        }
        c.state = if all_passed {
            ConnectionState::Connected
        } else {
            ConnectionState::Failed
        };
        c.checks = serde_json::to_string(&checks).ok();
        c.last_validated_at = Some(self.clock.now());
        Self::advance(&mut c, "connect");
        self.save(&mut c).await?;
        let next = if all_passed {
            let job = self.queue_sync(&c).await?;
            tracing::info!(connection = %c.id, job = %job.id, "connected; first sync queued");
            Some("Connected. The first sync is queued: it backfills the last 13 months, oldest first, and the current month's data appears as soon as its period is pulled (usually within minutes). New data is checked every 4 hours.".into())
        } else {
            let failed = checks
                .iter()
                .find(|ch| ch.outcome == CheckOutcome::Failed)
                .and_then(|ch| ch.code.clone())
                .unwrap_or_default();
            tracing::info!(connection = %c.id, code = %failed, "validation failed");
            None
        };
        Ok(Validation {
            state: c.state,
            checks,
            next,
        })
    }

    async fn queue_sync(&self, c: &ConnectionRecord) -> Result<JobRecord> {
        self.queue_sync_by(c, self.clock.now()).await
    }

    /// The connection's jobs, newest first (the last 50).
    pub async fn connection_jobs(&self, caller: &Caller, id: &str) -> Result<Vec<JobRecord>> {
        caller.require(be_domain::Permission::Read)?;
        let c = self.load(caller, id).await?;
        Ok(self
            .store
            .list_connection_jobs(caller.organization_id, c.id, 50)
            .await?)
    }

    /// The connection's sync in progress: the running one, else the queued one.
    pub async fn active_sync(&self, caller: &Caller, id: &str) -> Result<Option<JobRecord>> {
        caller.require(be_domain::Permission::Read)?;
        let jobs = self.connection_jobs(caller, id).await?;
        let of = |state| {
            jobs.iter()
                .find(|j| j.kind == JobKind::Sync && j.state == state)
                .cloned()
        };
        Ok(of(JobState::Running).or_else(|| of(JobState::Queued)))
    }

    /// The organization's jobs (syncs and ratings), newest first.
    pub async fn organization_jobs(&self, caller: &Caller, limit: i64) -> Result<Vec<JobRecord>> {
        caller.require(be_domain::Permission::Read)?;
        Ok(self.store.list_jobs(caller.organization_id, limit).await?)
    }

    /// The checks of the last validation.
    pub fn last_checks(c: &ConnectionRecord) -> Vec<Check> {
        c.checks
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub async fn pause_connection(&self, caller: &Caller, id: &str) -> Result<ConnectionRecord> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let mut c = self.load(caller, id).await?;
        if c.state != ConnectionState::Connected {
            return Err(AppError::Conflict {
                code: "connection_not_connected",
                field: None,
                message: format!(
                    "Only a connected connection can be paused; this one is {}.",
                    c.state
                ),
            });
        }
        let before = audit_json(&c);
        c.state = ConnectionState::Paused;
        self.save(&mut c).await?;
        self.audit(
            caller,
            be_domain::AuditKind::Connection,
            be_domain::AuditAction::Update,
            c.id,
            Some(before),
            Some(audit_json(&c)),
        )
        .await;
        Ok(c)
    }

    /// Resume a paused connection: it is validated again, and syncs resume if it passes.
    pub async fn resume_connection(&self, caller: &Caller, id: &str) -> Result<Validation> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let c = self.load(caller, id).await?;
        if c.state != ConnectionState::Paused {
            return Err(AppError::Conflict {
                code: "connection_not_paused",
                field: None,
                message: format!(
                    "Only a paused connection can be resumed; this one is {}.",
                    c.state
                ),
            });
        }
        self.validate_connection(caller, id).await
    }

    /// Delete a connection and its data. `confirm` must repeat the account's name.
    pub async fn delete_connection(&self, caller: &Caller, id: &str, confirm: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let c = self.load(caller, id).await?;
        let account = self.get_account(caller, &c.account_id.to_string()).await?;
        if confirm.trim() != account.name.as_str() {
            return Err(AppError::Invalid(FieldError::new(
                "confirm",
                "confirmation_mismatch",
                format!(
                    "Type the account name \"{}\" exactly to confirm the deletion.",
                    account.name
                ),
            )));
        }
        // Its queued or running sync is cancelled in the same transaction; a period the sync
        // writes after this is removed by the sync itself (it checks before recording).
        let periods = self
            .connection_periods(caller.organization_id, c.id)
            .await?;
        if !self
            .store
            .delete_connection(caller.organization_id, c.id, self.clock.now())
            .await?
        {
            return Err(not_found());
        }
        self.remove_connection_data(c.id).await;
        tracing::info!(org = %caller.organization_id, connection = %c.id, "connection deleted with its data");
        self.audit(
            caller,
            be_domain::AuditKind::Connection,
            be_domain::AuditAction::Delete,
            c.id,
            Some(audit_json(&c)),
            None,
        )
        .await;
        // Its periods are rated again without its rows.
        self.data_changed(caller.organization_id, &periods).await?;
        Ok(())
    }
}

impl App {
    /// One billing account per organization: `c`'s billing account must not be held by another
    /// connection of the organization (a second one would count every cost twice in the
    /// organization's totals). A connection holds its billing account once it is connected,
    /// validating or paused, or while it has stored data; drafts and failed tries without data do
    /// not. The error names the account that holds it.
    async fn refuse_billing_account_held(&self, c: &ConnectionRecord) -> Result<()> {
        let (Some(agreement), Some(billing)) = (c.agreement_type, c.billing_account_id.as_ref())
        else {
            return Ok(());
        };
        let org = c.organization_id;
        let mut holder = None;
        for o in self.store.list_connections(org).await? {
            let same = o.id != c.id
                && o.agreement_type == Some(agreement)
                && o.billing_account_id
                    .as_ref()
                    .is_some_and(|b| b.as_str().eq_ignore_ascii_case(billing.as_str()));
            if !same {
                continue;
            }
            let active = matches!(
                o.state,
                ConnectionState::Connected | ConnectionState::Validating | ConnectionState::Paused
            );
            if active || !self.store.list_periods(org, o.id).await?.is_empty() {
                holder = Some(o);
                break;
            }
        }
        let Some(holder) = holder else {
            return Ok(());
        };
        let account = self
            .store
            .get_account(c.organization_id, holder.account_id)
            .await?
            .map(|a| a.name.to_string())
            .unwrap_or_else(|| holder.account_id.to_string());
        Err(AppError::Conflict {
            code: "billing_account_already_connected",
            field: Some("billing_account_id"),
            message: format!(
                "Billing account {billing} is already connected to account \"{account}\" in this organization (connection {}); connecting it twice would count its costs twice. Use that account, or delete its connection first.",
                holder.id
            ),
        })
    }

    /// The periods a connection has stored.
    pub(crate) async fn connection_periods(
        &self,
        org: be_domain::OrganizationId,
        id: ConnectionId,
    ) -> Result<Vec<be_domain::BillingPeriod>> {
        let stored = self.store.list_periods(org, id).await?;
        stored
            .iter()
            .map(|p| be_domain::BillingPeriod::parse(&p.period).map_err(AppError::from))
            .collect()
    }

    /// Remove a connection's stored cost data (its Parquet periods).
    pub(crate) async fn remove_connection_data(&self, id: ConnectionId) {
        let dir = self.layout().connection_dir(id);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => tracing::info!(connection = %id, "connection data removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::error!(connection = %id, error = %e, dir = %dir.display(), "could not remove the connection's data")
            }
        }
    }
}

/// Whether `after` reads cost data from another place than `before`.
pub(crate) fn source_changed(before: &ConnectionRecord, after: &ConnectionRecord) -> bool {
    before.tenant_id != after.tenant_id
        || before.agreement_type != after.agreement_type
        || before.billing_account_id != after.billing_account_id
}

fn account_connected(account: &Account) -> AppError {
    AppError::Conflict {
        code: "account_already_connected",
        field: Some("account_id"),
        message: format!(
            "Account \"{}\" is already connected to Azure (for Billing Engine or Cost Intelligence). Choose another account, or open its connection.",
            account.name
        ),
    }
}

/// A connection as the audit trail records it: its identifiers and state, never its secret.
fn audit_json(c: &ConnectionRecord) -> serde_json::Value {
    serde_json::json!({
        "account_id": c.account_id,
        "product": c.product,
        "state": c.state.to_string(),
        "tenant_id": c.tenant_id.as_ref().map(|t| t.to_string()),
        "client_id": c.client_id,
        "agreement_type": c.agreement_type,
        "billing_account_id": c.billing_account_id.as_ref().map(|b| b.to_string()),
    })
}

/// The billing account the app could not read is not among those it can read (`visible`, with
/// their display names): either the ID is wrong or the role on it is not granted, and Azure's answer
/// cannot tell which (azure-protocol.md 2.4). An ID a typo away from a visible one is most likely
/// that one; otherwise both causes are given, each with its fix.
fn not_visible(
    c: &ConnectionRecord,
    billing: &str,
    visible: &[(String, Option<String>)],
) -> Diagnosis {
    let label = |(name, display): &(String, Option<String>)| match display {
        Some(d) => format!("{name} ({d})"),
        None => name.clone(),
    };
    let listed: Vec<String> = visible.iter().map(label).collect();
    let role = match c.agreement_type {
        Some(AgreementType::MicrosoftCustomerAgreement) => "Billing account reader",
        _ => "EnrollmentReader",
    };
    let near: Vec<String> = visible
        .iter()
        .filter(|(name, _)| typo_distance(&name.to_lowercase(), &billing.to_lowercase()) <= 2)
        .map(label)
        .collect();
    if !near.is_empty() {
        return Diagnosis {
            code: "azure_billing_account_not_found",
            message: format!(
                "The app cannot read billing account {billing}; it can read {}, which differs by a character or two.",
                near.join(", ")
            ),
            remedy: format!(
                "Check the billing account ID: it is probably {}. Correct it in the IDs step, then validate again. If {billing} is right, grant the app the {role} role on it (the grant step).",
                near.join(" or ")
            ),
            retryable: false,
        };
    }
    Diagnosis {
        code: "azure_role_missing_or_wrong_billing_account",
        message: format!(
            "The app cannot read billing account {billing}. It can read {}, so its sign-in works. Either {billing} is not the right ID, or it is right and the {role} role on it is not granted yet (Azure answers both the same way).",
            listed.join(", ")
        ),
        remedy: format!(
            "If {billing} is your billing account, grant the app the {role} role on it (the grant step: it may have been skipped), then validate again. Otherwise correct the ID in the IDs step (the app can read: {}).",
            listed.join(", ")
        ),
        retryable: false,
    }
}

/// Levenshtein distance, stopping early past 2 (only "one or two characters off" matters).
fn typo_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
