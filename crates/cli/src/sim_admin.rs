//! `billing-engine azure-sim admin ...`: the simulator's administrative API from the command line
//! (create tenants, apps, secrets, administrators, billing accounts with a data size and seed, and
//! faults). Each command prints the simulator's JSON answer.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

#[derive(Args)]
pub struct AdminArgs {
    /// The simulator's base URL.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8090",
        env = "BILLING_ENGINE_SIM_URL"
    )]
    sim_url: String,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a tenant (directory) with its verified domains.
    Tenant {
        /// A verified domain, such as fabrikam.onmicrosoft.com (repeatable).
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// The tenant's GUID (random if absent).
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Register a single-tenant app with a client secret; prints its client ID and secret value.
    App {
        /// The tenant's GUID or domain.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: Option<String>,
        /// Days until the first secret expires (negative: already expired).
        #[arg(long)]
        secret_expires_in_days: Option<i64>,
    },
    /// Add a client secret to an app.
    Secret {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Enable or disable an app's sign-in.
    DisableApp {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        /// Enable it again instead.
        #[arg(long)]
        enable: bool,
    },
    /// Create a user (an enterprise administrator or billing account owner to be).
    User {
        #[arg(long)]
        tenant: String,
        /// The sign-in name, such as ea-admin@fabrikam.com.
        #[arg(long)]
        upn: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// An ARM token for a user (what `az account get-access-token` gives them).
    UserToken { object_id: String },
    /// Create an EA enrollment or MCA billing account with generated cost data.
    BillingAccount {
        #[arg(long, value_enum)]
        agreement: SimAgreement,
        /// The tenant that owns it.
        #[arg(long)]
        tenant: String,
        /// Enrollment number (EA) or guid:guid_YYYY-MM-DD (MCA); generated if absent.
        #[arg(long)]
        name: Option<String>,
        /// Object ID of an administrator (EA) or owner (MCA); repeatable.
        #[arg(long = "admin")]
        admins: Vec<String>,
        /// Cost rows per month.
        #[arg(long)]
        rows_per_month: Option<u64>,
        /// Seed of the deterministic generator.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Inject a fault.
    Fault {
        /// token, openid_configuration, billing_accounts, role_assignments, generate_cost_details_report,
        /// cost_details_operation_results, blob_download, any.
        #[arg(long)]
        endpoint: String,
        #[arg(long = "type", value_enum)]
        kind: FaultType,
        /// Only for this billing account.
        #[arg(long)]
        billing_account: Option<String>,
        /// How many requests it hits (until cleared if absent).
        #[arg(long)]
        count: Option<u32>,
        #[arg(long, default_value_t = 30)]
        retry_after_secs: u64,
        #[arg(long, default_value_t = 503)]
        status: u16,
        #[arg(long, default_value_t = 2000)]
        delay_ms: u64,
        #[arg(long, default_value_t = 1000)]
        after_bytes: u64,
    },
    /// Remove every fault.
    ClearFaults,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimAgreement {
    Ea,
    Mca,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FaultType {
    Throttle,
    ServerError,
    Slow,
    Truncate,
    Corrupt,
    DropConnection,
    ReportFailed,
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let base = format!("{}/_sim", args.sim_url.trim_end_matches('/'));
    let http = reqwest::Client::new();
    let (method, path, body): (reqwest::Method, String, Option<Value>) = match args.command {
        AdminCommand::Tenant { domains, id, name } => (
            reqwest::Method::POST,
            "/tenants".into(),
            Some(json!({"id": id, "display_name": name, "domains": domains})),
        ),
        AdminCommand::App {
            tenant,
            name,
            secret_expires_in_days,
        } => (
            reqwest::Method::POST,
            format!("/tenants/{tenant}/apps"),
            Some(
                json!({"display_name": name, "secret": {"expires_in_days": secret_expires_in_days}}),
            ),
        ),
        AdminCommand::Secret {
            tenant,
            client_id,
            expires_in_days,
        } => (
            reqwest::Method::POST,
            format!("/tenants/{tenant}/apps/{client_id}/secrets"),
            Some(json!({"expires_in_days": expires_in_days})),
        ),
        AdminCommand::DisableApp {
            tenant,
            client_id,
            enable,
        } => (
            reqwest::Method::PATCH,
            format!("/tenants/{tenant}/apps/{client_id}"),
            Some(json!({"disabled": !enable})),
        ),
        AdminCommand::User {
            tenant,
            upn,
            password,
        } => (
            reqwest::Method::POST,
            format!("/tenants/{tenant}/users"),
            Some(json!({"user_principal_name": upn, "password": password})),
        ),
        AdminCommand::UserToken { object_id } => (
            reqwest::Method::POST,
            format!("/users/{object_id}/token"),
            None,
        ),
        AdminCommand::BillingAccount {
            agreement,
            tenant,
            name,
            admins,
            rows_per_month,
            seed,
        } => (
            reqwest::Method::POST,
            "/billing-accounts".into(),
            Some(json!({
                "agreement": match agreement { SimAgreement::Ea => "EA", SimAgreement::Mca => "MCA" },
                "tenant": tenant, "name": name, "administrators": admins, "rows_per_month": rows_per_month, "seed": seed,
            })),
        ),
        AdminCommand::Fault {
            endpoint,
            kind,
            billing_account,
            count,
            retry_after_secs,
            status,
            delay_ms,
            after_bytes,
        } => {
            let kind = match kind {
                FaultType::Throttle => {
                    json!({"type": "throttle", "retry_after_secs": retry_after_secs})
                }
                FaultType::ServerError => json!({"type": "server_error", "status": status}),
                FaultType::Slow => json!({"type": "slow", "delay_ms": delay_ms}),
                FaultType::Truncate => json!({"type": "truncate", "after_bytes": after_bytes}),
                FaultType::Corrupt => json!({"type": "corrupt", "at_byte": after_bytes}),
                FaultType::DropConnection => {
                    json!({"type": "drop_connection", "after_bytes": after_bytes})
                }
                FaultType::ReportFailed => json!({"type": "report_failed"}),
            };
            let mut body =
                json!({"endpoint": endpoint, "billing_account": billing_account, "count": count});
            if let (Some(b), Some(k)) = (body.as_object_mut(), kind.as_object()) {
                b.extend(k.clone());
            }
            (reqwest::Method::POST, "/faults".into(), Some(body))
        }
        AdminCommand::ClearFaults => (reqwest::Method::DELETE, "/faults".into(), None),
    };
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(b) = body {
        // Absent options are left out rather than sent as null.
        let cleaned = strip_nulls(b);
        req = req.json(&cleaned);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach the simulator at {base}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    let pretty = serde_json::from_str::<Value>(&text)
        .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
        .unwrap_or(text);
    if !status.is_success() {
        bail!("the simulator answered HTTP {}: {pretty}", status.as_u16());
    }
    println!("{pretty}");
    Ok(())
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}
