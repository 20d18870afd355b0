//! The demo's Azure: the built-in simulator with a fixed world, so a demo restarted on the same
//! data directory finds the same tenant, apps, secrets and billing accounts again.

use anyhow::Context;
use be_azure_sim::{Agreement, AzureSim, NewApp, NewBillingAccount, NewSecret, NewTenant, NewUser, RunningSim, SimConfig};
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
    let sim = AzureSim::start(SimConfig::on_port(port)).await.context("cannot start the Azure simulator")?;
    let s = sim.sim();
    s.create_tenant(NewTenant { id: Some(TENANT_ID), display_name: Some("Contoso".into()), domains: vec![TENANT_DOMAIN.into()] })?;
    for (client, sp, secret, name) in [
        (CONNECTED_APP, CONNECTED_SP, CONNECTED_SECRET, "billing-engine-demo"),
        (TRY_APP, TRY_SP, TRY_SECRET, "billing-engine-try"),
    ] {
        s.create_app(
            TENANT_DOMAIN,
            NewApp {
                display_name: Some(name.into()),
                client_id: Some(client),
                service_principal_object_id: Some(sp),
                secret: Some(NewSecret { value: Some(secret.into()), expires_in_days: Some(365), ..Default::default() }),
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
    for (name, display, seed) in [(CONNECTED_ENROLLMENT, "Contoso Enrollment", 7), (TRY_ENROLLMENT, "Contoso Labs Enrollment", 9)] {
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
