//! The simulator handle: state, clock, signing key, and the administrative operations (the same
//! operations the `/_sim` HTTP API exposes).

use crate::clock::SimClock;
use crate::error::{Result, SimError};
use crate::faults::{Fault, FaultSpec};
use crate::generator::{Agreement, DataSpec, Generator, Layout};
use crate::model::*;
use crate::roles;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// Tunables of the simulated services.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Settings {
    /// `expires_in` of access tokens (Entra ID answers 3599).
    pub token_lifetime_secs: i64,
    /// `Retry-After` of Cost Details 202 answers (Azure says 60; the default keeps tests fast).
    pub report_retry_after_secs: u64,
    /// Simulated time (on the simulator clock) a report takes before the poll answers 200.
    pub report_processing_secs: i64,
    /// How long report blobs stay downloadable (`validTill`, signed URL expiry).
    pub report_valid_secs: i64,
    /// Each poll of a report that is not ready yet moves the simulator clock forward this much:
    /// the wait a client honouring Azure's real `Retry-After` would have had. With a realistic
    /// `report_processing_secs` (minutes), a test runs a backfill that outlives several tokens in
    /// milliseconds. 0 (default): the clock is left alone.
    pub report_poll_advances_secs: i64,
}

/// What the simulator counted ([`Sim::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Access tokens issued to apps (client credentials).
    pub app_tokens_issued: u64,
    /// ARM requests answered 401 `ExpiredAuthenticationToken`.
    pub expired_token_answers: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_lifetime_secs: 3599,
            report_retry_after_secs: 1,
            report_processing_secs: 0,
            report_valid_secs: 24 * 3600,
            report_poll_advances_secs: 0,
        }
    }
}

pub(crate) struct Inner {
    pub state: Mutex<State>,
    pub clock: SimClock,
    pub key: Vec<u8>,
    pub settings: Settings,
    pub base_url: OnceLock<String>,
    pub stats: Mutex<SimStats>,
}

/// A handle on the simulator's state (cheap to clone).
#[derive(Clone)]
pub struct Sim {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("base_url", &self.inner.base_url.get())
            .finish()
    }
}

/// Create a tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewTenant {
    /// Tenant GUID (random if absent).
    pub id: Option<Uuid>,
    pub display_name: Option<String>,
    /// Verified domains, e.g. `contoso.onmicrosoft.com`, `contoso.com`. If empty,
    /// `{display name or "tenant-xxxx"}.onmicrosoft.com` is made up.
    pub domains: Vec<String>,
}

/// Create an app registration (and its service principal).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewApp {
    pub display_name: Option<String>,
    pub client_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub service_principal_object_id: Option<Uuid>,
    pub disabled: bool,
    /// Default true; false simulates AADSTS7000229.
    pub has_service_principal: Option<bool>,
    /// A first secret to add (optional).
    pub secret: Option<NewSecret>,
}

/// Add a client secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewSecret {
    /// The value (random 40 characters if absent).
    pub value: Option<String>,
    pub display_name: Option<String>,
    /// Absolute expiry (RFC 3339) ...
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// ... or days from now on the simulator clock (default 180; negative = already expired).
    pub expires_in_days: Option<i64>,
}

/// Change an app.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AppUpdate {
    pub disabled: Option<bool>,
    pub has_service_principal: Option<bool>,
}

/// Create a user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewUser {
    /// e.g. `admin@contoso.onmicrosoft.com` (made up from the tenant's first domain if absent).
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub object_id: Option<Uuid>,
    /// For the resource-owner password grant (random if absent).
    pub password: Option<String>,
}

/// Create an EA enrollment or an MCA billing account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewBillingAccount {
    pub agreement: Agreement,
    /// Enrollment number (EA) or `guid:guid_YYYY-MM-DD` (MCA); made up if absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The tenant (GUID or domain) the account belongs to.
    pub tenant: String,
    /// Object ids of users who administer it (EA Enterprise Administrator / MCA Billing account owner).
    #[serde(default)]
    pub administrators: Vec<Uuid>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Approximate rows per month (default 2000; 0 = no data).
    #[serde(default)]
    pub rows_per_month: Option<u64>,
    /// Rows per report blob (default 1,000,000).
    #[serde(default)]
    pub rows_per_blob: Option<u64>,
    /// First day of data (default: 14 months before today on the simulator clock).
    #[serde(default)]
    pub data_start: Option<Date>,
    #[serde(default)]
    pub layout: Option<Layout>,
    /// Billing currency (default USD).
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub empty_answer: Option<EmptyAnswer>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
}

impl NewBillingAccount {
    pub fn new(agreement: Agreement, tenant: impl Into<String>) -> Self {
        NewBillingAccount {
            agreement,
            name: None,
            display_name: None,
            tenant: tenant.into(),
            administrators: Vec::new(),
            seed: None,
            rows_per_month: None,
            rows_per_blob: None,
            data_start: None,
            layout: None,
            currency: None,
            empty_answer: None,
            rate_limit_per_minute: None,
        }
    }
}

/// An access token as the token endpoint answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuedToken {
    pub token_type: String,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    pub access_token: String,
}

/// What [`Sim::seed_demo`] created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoSeed {
    pub tenant: Tenant,
    pub app: App,
    pub client_secret: String,
    pub ea_admin: User,
    pub mca_owner: User,
    pub ea_enrollment: String,
    pub mca_billing_account: String,
}

pub(crate) fn random_secret() -> String {
    // 40 characters like Entra ID's (e.g. `abc8Q~...`), from two random UUIDs.
    let a = Uuid::new_v4().simple().to_string();
    let b = Uuid::new_v4().simple().to_string();
    format!("{}8Q~{}{}", &a[..3], &a[3..20], &b[..20])
}

fn dns_ok(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Sim {
    pub(crate) fn new(clock: SimClock, key: Vec<u8>, settings: Settings) -> Self {
        Sim {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                clock,
                key,
                settings,
                base_url: OnceLock::new(),
                stats: Mutex::new(SimStats::default()),
            }),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock every expiry reads.
    pub fn clock(&self) -> &SimClock {
        &self.inner.clock
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Tokens issued and expired-token answers so far.
    pub fn stats(&self) -> SimStats {
        *self.inner.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut SimStats)) {
        f(&mut self.inner.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    pub(crate) fn base_url(&self) -> String {
        self.inner
            .base_url
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1".into())
    }

    pub fn create_tenant(&self, t: NewTenant) -> Result<Tenant> {
        let id = t.id.unwrap_or_else(Uuid::new_v4);
        let display_name = t
            .display_name
            .unwrap_or_else(|| format!("Tenant {}", &id.to_string()[..8]));
        let mut domains: Vec<String> = t
            .domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .collect();
        if domains.is_empty() {
            let label: String = display_name
                .to_ascii_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            let label = if label.is_empty() {
                format!("tenant{}", &id.simple().to_string()[..6])
            } else {
                label
            };
            domains.push(format!("{label}.onmicrosoft.com"));
        }
        if let Some(bad) = domains.iter().find(|d| !dns_ok(d)) {
            return Err(SimError::invalid(
                "domains",
                format!("'{bad}' is not a domain name"),
            ));
        }
        let mut st = self.state();
        if st.tenants.iter().any(|x| x.id == id) {
            return Err(SimError::Conflict(format!("tenant {id} exists")));
        }
        if let Some(d) = domains
            .iter()
            .find(|d| st.tenants.iter().any(|x| x.domains.contains(d)))
        {
            return Err(SimError::Conflict(format!(
                "domain {d} is verified in another tenant"
            )));
        }
        let tenant = Tenant {
            id,
            display_name,
            domains,
        };
        st.tenants.push(tenant.clone());
        Ok(tenant)
    }

    fn tenant_id(st: &State, r: &str) -> Result<Uuid> {
        st.tenant_by_ref(r)
            .map(|t| t.id)
            .ok_or_else(|| SimError::not_found("tenant", r))
    }

    fn make_secret(&self, s: NewSecret) -> Secret {
        let expires_at = s
            .expires_at
            .unwrap_or_else(|| self.now() + Duration::days(s.expires_in_days.unwrap_or(180)));
        Secret {
            key_id: Uuid::new_v4(),
            value: s.value.unwrap_or_else(random_secret),
            display_name: s.display_name.unwrap_or_else(|| "billing-engine".into()),
            expires_at,
        }
    }

    pub fn create_app(&self, tenant: &str, a: NewApp) -> Result<App> {
        let secret = a.secret.clone().map(|s| self.make_secret(s));
        let mut st = self.state();
        let tenant_id = Self::tenant_id(&st, tenant)?;
        let client_id = a.client_id.unwrap_or_else(Uuid::new_v4);
        if st.apps.iter().any(|x| x.client_id == client_id) {
            return Err(SimError::Conflict(format!(
                "an app with client id {client_id} exists"
            )));
        }
        let app = App {
            tenant_id,
            display_name: a.display_name.unwrap_or_else(|| "billing-engine".into()),
            client_id,
            object_id: a.object_id.unwrap_or_else(Uuid::new_v4),
            service_principal_object_id: a.service_principal_object_id.unwrap_or_else(Uuid::new_v4),
            disabled: a.disabled,
            has_service_principal: a.has_service_principal.unwrap_or(true),
            secrets: secret.into_iter().collect(),
        };
        if app.object_id == app.service_principal_object_id {
            return Err(SimError::invalid(
                "service_principal_object_id",
                "must differ from the application object id",
            ));
        }
        st.apps.push(app.clone());
        Ok(app)
    }

    pub fn add_secret(&self, tenant: &str, client_id: Uuid, s: NewSecret) -> Result<Secret> {
        let secret = self.make_secret(s);
        let mut st = self.state();
        let tenant_id = Self::tenant_id(&st, tenant)?;
        let app = st
            .apps
            .iter_mut()
            .find(|a| a.tenant_id == tenant_id && a.client_id == client_id)
            .ok_or_else(|| SimError::not_found("app", client_id.to_string()))?;
        app.secrets.push(secret.clone());
        Ok(secret)
    }

    pub fn update_app(&self, tenant: &str, client_id: Uuid, u: AppUpdate) -> Result<App> {
        let mut st = self.state();
        let tenant_id = Self::tenant_id(&st, tenant)?;
        let app = st
            .apps
            .iter_mut()
            .find(|a| a.tenant_id == tenant_id && a.client_id == client_id)
            .ok_or_else(|| SimError::not_found("app", client_id.to_string()))?;
        if let Some(d) = u.disabled {
            app.disabled = d;
        }
        if let Some(h) = u.has_service_principal {
            app.has_service_principal = h;
        }
        Ok(app.clone())
    }

    pub fn app(&self, client_id: Uuid) -> Option<App> {
        self.state()
            .apps
            .iter()
            .find(|a| a.client_id == client_id)
            .cloned()
    }

    pub fn create_user(&self, tenant: &str, u: NewUser) -> Result<User> {
        let mut st = self.state();
        let t = st
            .tenant_by_ref(tenant)
            .cloned()
            .ok_or_else(|| SimError::not_found("tenant", tenant))?;
        let object_id = u.object_id.unwrap_or_else(Uuid::new_v4);
        let n = st.users.iter().filter(|x| x.tenant_id == t.id).count() + 1;
        let upn = u
            .user_principal_name
            .unwrap_or_else(|| {
                format!(
                    "admin{n}@{}",
                    t.domains
                        .first()
                        .map(String::as_str)
                        .unwrap_or("example.com")
                )
            })
            .to_ascii_lowercase();
        if st
            .users
            .iter()
            .any(|x| x.user_principal_name == upn || x.object_id == object_id)
        {
            return Err(SimError::Conflict(format!("user {upn} exists")));
        }
        let user = User {
            tenant_id: t.id,
            object_id,
            display_name: u
                .display_name
                .unwrap_or_else(|| upn.split('@').next().unwrap_or("admin").to_string()),
            user_principal_name: upn,
            password: u.password.unwrap_or_else(random_secret),
        };
        st.users.push(user.clone());
        Ok(user)
    }

    pub fn create_billing_account(&self, b: NewBillingAccount) -> Result<BillingAccountInfo> {
        let now = self.now();
        let seed = b.seed.unwrap_or(1);
        let name = match (&b.name, b.agreement) {
            (Some(n), _) => n.clone(),
            (None, Agreement::Ea) => (1_000_000
                + crate::rng::below(crate::rng::mix(Uuid::new_v4().as_u128() as u64), 8_999_999))
            .to_string(),
            (None, Agreement::Mca) => {
                format!("{}:{}_{}", Uuid::new_v4(), Uuid::new_v4(), now.date())
            }
        };
        let valid = match b.agreement {
            Agreement::Ea => !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()),
            Agreement::Mca => crate::arm::is_mca_account_name(&name),
        };
        if !valid {
            return Err(SimError::invalid(
                "name",
                format!(
                    "'{name}' is not a valid {:?} billing account name",
                    b.agreement
                ),
            ));
        }
        let layout = b.layout.unwrap_or(match b.agreement {
            Agreement::Ea => Layout::Ea2024_08_01,
            Agreement::Mca => Layout::Mca2023_12_01Preview,
        });
        if layout.is_mca() != (b.agreement == Agreement::Mca) {
            return Err(SimError::invalid(
                "layout",
                "the layout does not belong to the agreement",
            ));
        }
        let data_start = b.data_start.unwrap_or_else(|| {
            let d = now.date();
            let (y, m) = if u8::from(d.month()) > 2 {
                (d.year() - 1, u8::from(d.month()) - 2)
            } else {
                (d.year() - 2, u8::from(d.month()) + 10)
            };
            Date::from_calendar_date(
                y,
                time::Month::try_from(m).unwrap_or(time::Month::January),
                1,
            )
            .unwrap_or(d)
        });
        let data = DataOptions {
            seed,
            rows_per_month: b.rows_per_month.unwrap_or(2000),
            rows_per_blob: b.rows_per_blob.unwrap_or(1_000_000).max(1),
            data_start,
            layout,
            currency: b
                .currency
                .unwrap_or_else(|| "USD".into())
                .to_ascii_uppercase(),
            empty_answer: b.empty_answer.unwrap_or_default(),
            rate_limit_per_minute: b.rate_limit_per_minute,
        };
        let mut st = self.state();
        let tenant = st
            .tenant_by_ref(&b.tenant)
            .cloned()
            .ok_or_else(|| SimError::not_found("tenant", &b.tenant))?;
        if st.accounts.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(SimError::Conflict(format!("billing account {name} exists")));
        }
        let display_name = b.display_name.unwrap_or_else(|| {
            format!(
                "{} {}",
                tenant.display_name,
                if b.agreement == Agreement::Ea {
                    "Enrollment"
                } else {
                    "Billing Account"
                }
            )
        });
        let generator = Generator::new(DataSpec {
            agreement: b.agreement,
            billing_account_id: name.clone(),
            billing_account_name: display_name.clone(),
            seed,
            rows_per_month: data.rows_per_month,
            data_start,
            currency: data.currency.clone(),
            layout,
            widths: Default::default(),
        });
        let mut assignments = Vec::new();
        for oid in &b.administrators {
            let user = st
                .users
                .iter()
                .find(|u| u.object_id == *oid)
                .cloned()
                .ok_or_else(|| SimError::not_found("user", oid.to_string()))?;
            assignments.push(admin_assignment(b.agreement, &user, now));
        }
        let acct = BillingAccount {
            name: name.clone(),
            agreement: b.agreement,
            display_name,
            tenant_id: tenant.id,
            created_at: now,
            data,
            assignments,
            generator,
            calls: Default::default(),
        };
        let info = acct.info();
        st.accounts.insert(name, acct);
        Ok(info)
    }

    /// Make a user an administrator of a billing account.
    pub fn add_administrator(&self, account: &str, user_oid: Uuid) -> Result<RoleAssignment> {
        let now = self.now();
        let mut st = self.state();
        let user = st
            .users
            .iter()
            .find(|u| u.object_id == user_oid)
            .cloned()
            .ok_or_else(|| SimError::not_found("user", user_oid.to_string()))?;
        let acct = st
            .accounts
            .get_mut(account)
            .ok_or_else(|| SimError::not_found("billing account", account))?;
        let a = admin_assignment(acct.agreement, &user, now);
        acct.assignments.push(a.clone());
        Ok(a)
    }

    pub fn billing_account(&self, name: &str) -> Result<BillingAccountInfo> {
        self.state()
            .accounts
            .get(name)
            .map(BillingAccount::info)
            .ok_or_else(|| SimError::not_found("billing account", name))
    }

    pub fn add_fault(&self, spec: FaultSpec) -> Fault {
        let mut st = self.state();
        st.next_fault += 1;
        let f = Fault {
            id: st.next_fault,
            spec,
        };
        st.faults.push(f.clone());
        f
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.state().faults.clone()
    }

    pub fn remove_fault(&self, id: u64) -> Result<()> {
        let mut st = self.state();
        let before = st.faults.len();
        st.faults.retain(|f| f.id != id);
        if st.faults.len() == before {
            Err(SimError::not_found("fault", id.to_string()))
        } else {
            Ok(())
        }
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Sign arbitrary claims with the simulator's key (e.g. a token for a wrong audience).
    pub fn mint_token(&self, claims: Map<String, Value>) -> String {
        crate::jwt::sign(&self.inner.key, &claims)
    }

    pub(crate) fn base_claims(&self, tid: Uuid, oid: Uuid, appid: &str) -> Map<String, Value> {
        let now = self.now().unix_timestamp();
        let exp = now + self.inner.settings.token_lifetime_secs;
        let iss = format!("https://sts.windows.net/{tid}/");
        let mut c = Map::new();
        c.insert("aud".into(), json!("https://management.azure.com/"));
        c.insert("iss".into(), json!(iss));
        c.insert("iat".into(), json!(now));
        c.insert("nbf".into(), json!(now));
        c.insert("exp".into(), json!(exp));
        c.insert("aio".into(), json!(Uuid::new_v4().simple().to_string()));
        c.insert("appid".into(), json!(appid));
        c.insert("idp".into(), json!(iss));
        c.insert("oid".into(), json!(oid.to_string()));
        c.insert("rh".into(), json!("0.AAAA-sim."));
        c.insert("sub".into(), json!(oid.to_string()));
        c.insert("tid".into(), json!(tid.to_string()));
        c.insert("uti".into(), json!(Uuid::new_v4().simple().to_string()));
        c.insert("ver".into(), json!("1.0"));
        c
    }

    pub(crate) fn issue(&self, claims: Map<String, Value>) -> IssuedToken {
        let life = self.inner.settings.token_lifetime_secs;
        IssuedToken {
            token_type: "Bearer".into(),
            expires_in: life,
            ext_expires_in: life,
            access_token: self.mint_token(claims),
        }
    }

    pub(crate) fn app_claims(&self, app: &App) -> Map<String, Value> {
        let mut c = self.base_claims(
            app.tenant_id,
            app.service_principal_object_id,
            &app.client_id.to_string(),
        );
        c.insert("appidacr".into(), json!("1"));
        c.insert("idtyp".into(), json!("app"));
        c
    }

    pub(crate) fn user_claims(&self, u: &User) -> Map<String, Value> {
        // Azure CLI's public client id, as if the admin had run `az account get-access-token`.
        let mut c = self.base_claims(
            u.tenant_id,
            u.object_id,
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        );
        c.insert("appidacr".into(), json!("0"));
        c.insert("idtyp".into(), json!("user"));
        c.insert("scp".into(), json!("user_impersonation"));
        c.insert("upn".into(), json!(u.user_principal_name));
        c.insert("unique_name".into(), json!(u.user_principal_name));
        c.insert("name".into(), json!(u.display_name));
        c
    }

    /// An ARM token for a user (an administrator), as `az account get-access-token` would give.
    pub fn user_token(&self, user_oid: Uuid) -> Result<IssuedToken> {
        let u = self
            .state()
            .users
            .iter()
            .find(|u| u.object_id == user_oid)
            .cloned()
            .ok_or_else(|| SimError::not_found("user", user_oid.to_string()))?;
        Ok(self.issue(self.user_claims(&u)))
    }

    /// An ARM token for an app's service principal, skipping the secret check.
    pub fn app_token(&self, client_id: Uuid) -> Result<IssuedToken> {
        let app = self
            .app(client_id)
            .ok_or_else(|| SimError::not_found("app", client_id.to_string()))?;
        Ok(self.issue(self.app_claims(&app)))
    }

    /// A ready-made world: tenant `contoso.onmicrosoft.com` (+ `contoso.com`), an app with a secret,
    /// an EA enrollment administrator, an MCA billing account owner, an EA enrollment and an MCA
    /// billing account with data. The app has no billing role yet.
    pub fn seed_demo(&self) -> Result<DemoSeed> {
        let tenant = self.create_tenant(NewTenant {
            id: Some(uuid::uuid!("72f988bf-0000-4000-8000-00000000c0de")),
            display_name: Some("Contoso".into()),
            domains: vec!["contoso.onmicrosoft.com".into(), "contoso.com".into()],
        })?;
        let app = self.create_app(
            "contoso.onmicrosoft.com",
            NewApp {
                display_name: Some("billing-engine".into()),
                secret: Some(NewSecret::default()),
                ..Default::default()
            },
        )?;
        let client_secret = app
            .secrets
            .first()
            .map(|s| s.value.clone())
            .unwrap_or_default();
        let ea_admin = self.create_user(
            "contoso.onmicrosoft.com",
            NewUser {
                user_principal_name: Some("ea-admin@contoso.com".into()),
                display_name: Some("EA Admin".into()),
                password: Some("Passw0rd!".into()),
                ..Default::default()
            },
        )?;
        let mca_owner = self.create_user(
            "contoso.onmicrosoft.com",
            NewUser {
                user_principal_name: Some("billing-owner@contoso.com".into()),
                display_name: Some("Billing Owner".into()),
                password: Some("Passw0rd!".into()),
                ..Default::default()
            },
        )?;
        let ea = self.create_billing_account(NewBillingAccount {
            name: Some("8608480".into()),
            display_name: Some("Contoso Enrollment".into()),
            administrators: vec![ea_admin.object_id],
            seed: Some(7),
            ..NewBillingAccount::new(Agreement::Ea, "contoso.onmicrosoft.com")
        })?;
        let mca = self.create_billing_account(NewBillingAccount {
            name: Some(format!(
                "{}:{}_2019-05-31",
                Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_00c0),
                Uuid::from_u128(0x2000_0000_0000_4000_8000_0000_0000_00c0)
            )),
            display_name: Some("Contoso MCA".into()),
            administrators: vec![mca_owner.object_id],
            seed: Some(8),
            currency: Some("EUR".into()),
            ..NewBillingAccount::new(Agreement::Mca, "contoso.onmicrosoft.com")
        })?;
        Ok(DemoSeed {
            tenant,
            app,
            client_secret,
            ea_admin,
            mca_owner,
            ea_enrollment: ea.name,
            mca_billing_account: mca.name,
        })
    }
}

fn admin_assignment(agreement: Agreement, user: &User, now: OffsetDateTime) -> RoleAssignment {
    RoleAssignment {
        name: Uuid::new_v4().to_string(),
        principal_id: user.object_id,
        principal_tenant_id: user.tenant_id,
        role_definition: roles::admin_role(agreement),
        created_on: now,
        created_by_principal_id: None,
        created_by_principal_tenant_id: None,
        created_by_user_email: Some("provisioning@microsoft.com".into()),
        principal_type: "User".into(),
        user_email: Some(user.user_principal_name.clone()),
    }
}
