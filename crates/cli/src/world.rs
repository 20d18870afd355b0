//! The demo's Azure: the built-in simulator with a fixed world, so a demo restarted on the same
//! data directory finds the same tenant, apps, secrets and billing accounts again.

use anyhow::Context;
use be_azure_sim::{
    Agreement, AzureSim, NewApp, NewBillingAccount, NewSecret, NewTenant, NewUser, RunningSim,
    SimConfig,
};
use uuid::{Uuid, uuid};

pub const TENANT_ID: Uuid = uuid!("72f988bf-0000-4000-8000-00000000c0de");
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// The app the demo connects itself.
pub const CONNECTED_APP: Uuid = uuid!("11111111-1111-4111-8111-111111111111");
const CONNECTED_SP: Uuid = uuid!("11111111-1111-4111-8111-5e7000000001");
pub const CONNECTED_SECRET: &str = "dm1Q~demo-connected-secret-value-000000";
/// The app left for a person to connect with the wizard.
pub const TRY_APP: Uuid = uuid!("22222222-2222-4222-8222-222222222222");
const TRY_SP: Uuid = uuid!("22222222-2222-4222-8222-5e7000000002");
pub const TRY_SECRET: &str = "tr2Q~try-the-wizard-secret-value-000000";
pub const EA_ADMIN: Uuid = uuid!("aaaaaaaa-0000-4000-8000-00000000ad01");
pub const EA_ADMIN_UPN: &str = "ea-admin@contoso.com";
pub const CONNECTED_ENROLLMENT: &str = "8608480";
pub const TRY_ENROLLMENT: &str = "8611537";

/// Start the simulator on `port` (0 picks one) with the demo world.
pub async fn start(port: u16) -> anyhow::Result<RunningSim> {
    let sim = AzureSim::start(SimConfig::on_port(port))
        .await
        .context("cannot start the Azure simulator")?;
    let s = sim.sim();
    s.create_tenant(NewTenant {
        id: Some(TENANT_ID),
        display_name: Some("Contoso".into()),
        domains: vec![TENANT_DOMAIN.into()],
    })?;
    for (client, sp, secret, name) in [
        (
            CONNECTED_APP,
            CONNECTED_SP,
            CONNECTED_SECRET,
            "billing-engine-demo",
        ),
        (TRY_APP, TRY_SP, TRY_SECRET, "billing-engine-try"),
    ] {
        s.create_app(
            TENANT_DOMAIN,
            NewApp {
                display_name: Some(name.into()),
                client_id: Some(client),
                service_principal_object_id: Some(sp),
                secret: Some(NewSecret {
                    value: Some(secret.into()),
                    expires_in_days: Some(365),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )?;
    }
    s.create_user(
        TENANT_DOMAIN,
        NewUser {
            user_principal_name: Some(EA_ADMIN_UPN.into()),
            display_name: Some("EA Admin".into()),
            object_id: Some(EA_ADMIN),
            password: Some("Passw0rd!".into()),
        },
    )?;
    for (name, display, seed) in [
        (CONNECTED_ENROLLMENT, "Contoso Enrollment", 7),
        (TRY_ENROLLMENT, "Contoso Labs Enrollment", 9),
    ] {
        s.create_billing_account(NewBillingAccount {
            name: Some(name.into()),
            display_name: Some(display.into()),
            administrators: vec![EA_ADMIN],
            seed: Some(seed),
            rows_per_month: Some(2_000),
            ..NewBillingAccount::new(Agreement::Ea, TENANT_DOMAIN)
        })?;
    }
    Ok(sim)
}

/// An ARM token for the enterprise administrator (what `az account get-access-token` gives them).
pub fn admin_token(sim: &RunningSim) -> anyhow::Result<String> {
    Ok(sim.sim().user_token(EA_ADMIN)?.access_token)
}

/// The demo's pricing, as a rules-as-code file: two customers (families) on the connected
/// enrollment's subscriptions, two plans with rules of several kinds, strategies and two
/// allocations, so a newcomer sees rated figures and profit on first sign-in.
pub fn demo_pricing(sim: &RunningSim, today: time::Date) -> anyhow::Result<String> {
    let subs = sim
        .sim()
        .billing_account(CONNECTED_ENROLLMENT)?
        .subscriptions;
    anyhow::ensure!(
        subs.len() >= 2,
        "the demo enrollment has too few subscriptions ({})",
        subs.len()
    );
    let half = subs.len() / 2;
    let now = be_domain::BillingPeriod::of(today);
    let from = now.plus_months(-12).to_string();
    let members = |ids: &[String]| {
        ids.iter()
            .map(|s| serde_json::json!({"sub_account_id": s, "from": from}))
            .collect::<Vec<_>>()
    };
    let file = serde_json::json!({
        "version": 1,
        "strategies": [{"from": from, "credits": "show", "commitments": "unshared", "on_demand_basis": "contracted", "taxes": "keep"}],
        "families": [
            {"name": "Northwind Traders", "members": members(&subs[..half])},
            {"name": "Tailspin Toys", "members": members(&subs[half..])}
        ],
        "allocations": [
            {"key": "Environment", "entries": [
                {"when": [[{"tag": "env", "op": "equals", "value": "prod"}]], "values": [{"value": "Production", "percent": "100"}]},
                {"when": [[{"tag": "env", "op": "exists"}]], "values": [{"value": "Non-production", "percent": "100"}]}
            ]},
            {"key": "Department", "entries": [
                {"when": [[{"dimension": "ServiceCategory", "op": "in", "values": ["Networking", "Security"]}]],
                 "values": [{"value": "Platform", "percent": "70"}, {"value": "Product", "percent": "30"}]},
                {"when": [[{"tag": "app", "op": "exists"}]], "values": [{"value": "Product", "percent": "100"}]}
            ]}
        ],
        "plans": [
            {"name": "Standard", "assigned_to": [{"family": "Northwind Traders", "from": from}], "rules": [
                {"name": "Markup 8%", "kind": "markup", "percent": "8"},
                {"name": "Production support", "kind": "markup", "percent": "3",
                 "when": [[{"dimension": "Environment", "op": "equals", "value": "Production"}]]},
                {"name": "Managed service fee", "kind": "upcharge", "scope": "family", "minimum": "250",
                 "tiers": {"mode": "graduated", "bands": [{"from": "0", "percent": "10"}, {"from": "5000", "percent": "6"}, {"from": "20000", "percent": "3"}]}}
            ]},
            {"name": "Premium", "assigned_to": [{"family": "Tailspin Toys", "from": from}], "rules": [
                {"name": "Markup 12%", "kind": "markup", "percent": "12"},
                {"name": "Storage discount", "kind": "markdown", "percent": "5",
                 "when": [[{"dimension": "ServiceCategory", "op": "equals", "value": "Storage"}]]},
                {"name": "Platform fee", "kind": "recurring_fee", "amount": "199.00", "from": from},
                {"name": "Onboarding", "kind": "one_time_fee", "amount": "500.00", "period": now.to_string()}
            ]}
        ]
    });
    Ok(serde_json::to_string_pretty(&file)?)
}
