//! The benchmark's pricing: a rules-as-code file (the format of `../shared/data/engine/`) with
//! 25 families, two allocations (one with a three-way split), and 5 plans of 10 rules each (50
//! rules): markups and markdowns with every condition operator (tags, regular expressions,
//! allocation keys, the family), upcharges and discounts with graduated and volume tiers and
//! minimum/maximum, one-time and recurring fees.

use be_domain::BillingPeriod;
use be_domain::pricing::PricingConfig;
use be_domain::pricing::file::ConfigFile;
use serde_json::{Value, json};

pub const FAMILIES: usize = 25;
pub const PLANS: usize = 5;

fn cond(dimension: &str, op: &str, value: &str) -> Value {
    json!({ "dimension": dimension, "op": op, "value": value })
}

fn tag(key: &str, op: &str, value: Option<&str>) -> Value {
    match value {
        Some(v) => json!({ "tag": key, "op": op, "value": v }),
        None => json!({ "tag": key, "op": op }),
    }
}

fn any_of(dimension: &str, op: &str, values: &[&str]) -> Value {
    json!({ "dimension": dimension, "op": op, "values": values })
}

/// Ten rules of plan `k` (the parameters vary with `k`, the kinds do not).
fn rules(k: usize) -> Vec<Value> {
    let pct = |base: f64| format!("{}", base + k as f64 * 0.25);
    let fee = if k % 2 == 0 {
        json!({ "name": format!("Onboarding {k}"), "kind": "one_time_fee", "amount": "150.00", "period": "2025-06" })
    } else {
        json!({ "name": format!("Platform fee {k}"), "kind": "recurring_fee", "amount": "99.90", "from": "2025-01" })
    };
    vec![
        json!({ "name": "Markup", "kind": "markup", "percent": pct(8.0) }),
        json!({ "name": "Storage discount", "kind": "markdown", "percent": "5",
                "when": [[ any_of("ServiceName", "in", &["Storage Accounts", "Storage", "Azure Blob Storage"]) ]] }),
        json!({ "name": "East regions", "kind": "markup", "percent": pct(2.5),
                "when": [[ cond("RegionId", "starts_with", "east") ]] }),
        json!({ "name": "Dev environments", "kind": "markdown", "percent": "3.25",
                "when": [[ tag("env", "equals", Some("dev")) ], [ tag("env", "equals", Some("test")) ]] }),
        json!({ "name": "Web and API production", "kind": "markup", "percent": "1.5",
                "when": [[ cond("SubAccountName", "matches", "^(web|api)-prod-[0-9]{3}$") ]] }),
        json!({ "name": "Batch share", "kind": "markdown", "percent": pct(7.0),
                "when": [[ cond("CostCenter", "equals", "Batch"), tag("application", "exists", None) ]] }),
        json!({ "name": "Support", "kind": "upcharge", "scope": "family",
                "tiers": { "mode": "graduated", "bands": [
                    { "from": "0", "percent": "10" }, { "from": "10000", "percent": "5" },
                    { "from": "100000", "percent": "2.5" } ] } }),
        json!({ "name": "Volume rebate", "kind": "discount", "scope": "sub_account",
                "minimum": "1", "maximum": "5000",
                "tiers": { "mode": "volume", "bands": [
                    { "from": "0", "percent": "1" }, { "from": "1000", "percent": "2" },
                    { "from": "5000", "percent": "3.5" } ] },
                "when": [[ cond("ChargeCategory", "equals", "Usage"), cond("ServiceName", "not_equals", "Virtual Machines") ]] }),
        json!({ "name": "Managed services", "kind": "upcharge", "scope": "sub_account", "percent": "4",
                "minimum": "25", "maximum": "2500",
                "when": [[ cond("x_ResourceGroupName", "contains", "prod") ], [ cond("Environment", "equals", "Production") ]] }),
        fee,
    ]
}

/// The configuration file, over the sub-accounts of the generated month (sorted).
pub fn file(subs: &[String]) -> Value {
    let mut families: Vec<Vec<Value>> = vec![vec![]; FAMILIES];
    let mut loose = vec![];
    for (i, s) in subs.iter().enumerate() {
        if i % 10 == 9 {
            loose.push(s.clone());
        } else {
            families[i % FAMILIES].push(json!({ "sub_account_id": s, "from": "2025-01" }));
        }
    }
    let family_name = |f: usize| format!("Customer {:02}", f + 1);
    let plans: Vec<Value> = (0..PLANS)
        .map(|k| {
            let mut assigned: Vec<Value> = (0..FAMILIES)
                .filter(|f| f % PLANS == k)
                .map(|f| json!({ "family": family_name(f), "from": "2025-01" }))
                .collect();
            // Every third loose sub-account has a plan of its own (and one family member too).
            assigned.extend(
                loose
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % 3 == 0 && (i / 3) % PLANS == k)
                    .map(|(_, s)| json!({ "sub_account_id": s, "from": "2025-01" })),
            );
            if k == PLANS - 1 {
                assigned.push(json!({ "sub_account_id": subs[0], "from": "2025-01" }));
            }
            json!({ "name": format!("Plan {}", k + 1), "assigned_to": assigned, "rules": rules(k) })
        })
        .collect();
    json!({
        "version": 1,
        "strategies": [ { "from": "2025-01", "credits": "hide", "commitments": "unshared",
                          "on_demand_basis": "contracted", "taxes": "keep" } ],
        "families": families.into_iter().enumerate()
            .map(|(f, members)| json!({ "name": family_name(f), "members": members }))
            .collect::<Vec<_>>(),
        "allocations": [
            { "key": "CostCenter", "entries": [
                { "when": [[ cond("ServiceName", "equals", "Virtual Machines"), tag("env", "equals", Some("prod")) ]],
                  "values": [ { "value": "Web", "percent": "60" }, { "value": "Batch", "percent": "25.5" },
                              { "value": "Ops", "percent": "14.5" } ] },
                { "when": [[ json!({ "tag": "application", "op": "in", "values": ["data", "ml"] }) ]],
                  "values": [ { "value": "Data", "percent": "100" } ] },
                { "when": [[ cond("SubAccountName", "matches", "-(staging|test)-") ]],
                  "values": [ { "value": "Shared", "percent": "100" } ] }
            ] },
            { "key": "Environment", "entries": [
                { "when": [[ tag("env", "equals", Some("prod")) ]], "values": [ { "value": "Production", "percent": "100" } ] },
                { "when": [[ json!({ "tag": "env", "op": "in", "values": ["dev", "test", "staging"] }) ]],
                  "values": [ { "value": "Non-production", "percent": "100" } ] }
            ] }
        ],
        "plans": plans
    })
}

/// The configuration (validated, as an import would read it) and its slice for `period`.
pub fn config(subs: &[String], period: BillingPeriod) -> anyhow::Result<PricingConfig> {
    let file: ConfigFile = serde_json::from_value(file(subs))?;
    file.into_config(&PricingConfig::default(), period)
        .map_err(|e| anyhow::anyhow!("the benchmark's configuration is invalid: {e:?}"))
}
