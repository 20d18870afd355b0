//! Text columns as wide as real exports ([`Widths::Real`]): resource groups, resource names,
//! subscription names, tags and AdditionalInfo shaped after the shared real EA samples
//! (finops-toolkit's `EA_AmortizedCost_Small.csv`: tags on 96 % of rows averaging 155 characters,
//! AdditionalInfo on 57 % averaging 301, resource IDs averaging 160). Every value is a pure
//! function of (seed, resource index), like the rest of the generator.

use std::fmt::Write as _;

use crate::rng::{below, chance, guid, h};

/// How wide the generated text columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Widths {
    /// Short names, three tags, AdditionalInfo on virtual machines only: small files for tests
    /// and the demo.
    #[default]
    Compact,
    /// Calibrated to the shared real samples (see the module documentation and BENCHMARKS.md).
    Real,
}

const TEAMS: &[&str] = &[
    "analyticsengine",
    "checkout",
    "payments",
    "identity",
    "telemetry",
    "datalake",
    "frontdoor",
    "recommendations",
];
const REGIONS: &[&str] = &[
    "EASTUS",
    "EASTUS2",
    "WESTEUROPE",
    "NORTHEUROPE",
    "WESTUS2",
    "UKSOUTH",
];
const IMAGES: &[&str] = &[
    "Canonical",
    "Windows Server BYOL",
    "RedHat",
    "Windows Server",
];

/// An independent draw `k` from the hash `x` (`below` reads the high bits, so shifts would not do).
fn d(x: u64, k: u64) -> u64 {
    crate::rng::mix(x ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn pick<'a>(x: u64, from: &[&'a str]) -> &'a str {
    from[below(x, from.len() as u64) as usize]
}

/// A resource group name (about 24 characters on average).
pub(crate) fn rg_name(seed: u64, sub_seed: u64, rg: u64, app: &str, env: &str) -> String {
    let x = h(&[seed, 70, sub_seed, rg]);
    let team = pick(x, TEAMS);
    match below(d(x, 8), 10) {
        0..=1 => format!(
            "MC_{}_{}-cluster-{}_{}",
            team.to_uppercase(),
            app,
            rg + 1,
            pick(d(x, 16), REGIONS)
        ),
        2..=6 => format!("rg-{app}-{env}-{}", pick(d(x, 16), REGIONS).to_lowercase()),
        7 => format!("databricks-rg-{team}-{:013x}", d(x, 12)),
        _ => format!("{team}-{env}"),
    }
}

/// A resource name (about 25 characters on average).
pub(crate) fn resource_name(seed: u64, i: u64, prefix: &str, app: &str) -> String {
    let x = h(&[seed, 71, i]);
    match below(x, 10) {
        0 => format!("aks-{app}pool-{:08}-vmss", below(d(x, 8), 100_000_000)),
        1 if prefix.starts_with("disk") || prefix == "vm" => {
            format!("{prefix}{app}{i}_OsDisk_1_{:016x}{:016x}", x, h(&[x]))
        }
        _ => format!("{prefix}-{app}-{}-{i:05}", pick(d(x, 16), TEAMS)),
    }
}

/// A subscription name (about 24 characters).
pub(crate) fn subscription_name(app: &str, env: &str, n: usize) -> String {
    let env = match env {
        "prod" => "Production",
        "dev" => "Development",
        other => other,
    };
    format!("Contoso {} {} {n:03}", capitalize(app), capitalize(env))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The tags of a resource, as `"key": "value"` pairs (EA, no braces) or a JSON object (MCA);
/// empty for about 4 % of resources.
pub(crate) fn tags(
    seed: u64,
    i: u64,
    mca: bool,
    name: &str,
    env: &str,
    app: &str,
    cost_center: &str,
) -> String {
    let x = h(&[seed, 72, i]);
    if chance(x, 40) {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| pairs.push((k.to_string(), v));
    match below(d(x, 10), 20) {
        0..=1 => {
            // a Kubernetes node pool (the longest real tag sets)
            add("aks-managed-createOperationID", guid(x, 1).to_string());
            add("aks-managed-creationSource", format!("vmssclient-{name}"));
            add(
                "aks-managed-kubeletIdentityClientID",
                guid(x, 2).to_string(),
            );
            add(
                "aks-managed-orchestrator",
                format!(
                    "Kubernetes:1.{}.{}",
                    20 + below(d(x, 20), 9),
                    below(d(x, 24), 12)
                ),
            );
            add("aks-managed-poolName", format!("{app}pool"));
            add(
                "aks-managed-resourceNameSuffix",
                format!("{:08}", below(d(x, 28), 100_000_000)),
            );
        }
        2..=4 => {
            add("k8s-azure-created-by", "kubernetes-azure-dd".into());
            add(
                "kubernetes.io-created-for-pv-name",
                format!("pvc-{}", guid(x, 3)),
            );
            add(
                "kubernetes.io-created-for-pvc-name",
                format!("{app}-data-{}", below(d(x, 20), 40)),
            );
            add(
                "kubernetes.io-created-for-pvc-namespace",
                format!("{app}-{env}"),
            );
        }
        5..=7 => {
            add("hidden-DevTestLabs-LabUId", guid(x, 4).to_string());
            add(
                "costanalysis-parent",
                format!(
                    "/subscriptions/{}/resourcegroups/devtestlab/providers/microsoft.devtestlab/labs/{app}-dtl",
                    guid(x, 5)
                ),
            );
        }
        8..=11 => {
            add("application", app.to_string());
            add("owner", format!("{app}-team@contoso.com"));
            add("department", pick(d(x, 20), TEAMS).to_string());
        }
        _ => {}
    }
    add("CostCenter", cost_center.to_string());
    add("env", env.to_string());
    add("org", "contoso".to_string());
    let mut s = String::new();
    if mca {
        s.push('{');
    }
    for (n, (k, v)) in pairs.iter().enumerate() {
        if n > 0 {
            s.push(',');
        }
        if mca {
            let _ = write!(s, "\"{k}\":\"{v}\"");
        } else {
            let _ = write!(s, "\"{k}\": \"{v}\"");
        }
    }
    if mca {
        s.push('}');
    }
    s
}

/// What a resource is, for its AdditionalInfo.
pub(crate) struct InfoInput<'a> {
    pub seed: u64,
    pub resource: u64,
    pub virtual_machine: bool,
    pub vm_size: &'a str,
    pub name: &'a str,
    /// (order, reservation) of the reservation covering the row, if any.
    pub reservation: Option<(uuid::Uuid, uuid::Uuid)>,
    pub meter_id: &'a str,
}

/// The AdditionalInfo JSON of a usage row: on every virtual machine and on about half of the
/// other resources; empty otherwise.
pub(crate) fn additional_info(r: &InfoInput<'_>) -> String {
    let x = h(&[r.seed, 73, r.resource]);
    let mut s = String::new();
    if r.virtual_machine {
        let _ = write!(
            s,
            "{{\"UsageType\":\"ComputeHR\",\"ImageType\":\"{}\",\"ServiceType\":\"Standard_{}\",\"VMName\":\"{}_{}\",\"VMProperties\":\"Microsoft.AKS.Compute.AKS.Linux.Billing\",\"VCPUs\":{},\"ConsumedQuantity\":1.0",
            pick(x, IMAGES),
            r.vm_size,
            r.name,
            below(d(x, 8), 8),
            [2, 4, 8][below(d(x, 12), 3) as usize]
        );
        if let Some((order, id)) = r.reservation {
            let _ = write!(
                s,
                ",\"ReservationOrderId\":\"{order}\",\"ReservationId\":\"{id}\",\"ConsumptionMeter\":\"{}\",\"RINormalizationRatio\":{}",
                r.meter_id,
                ["1.0", "2.0", "0.5"][below(d(x, 16), 3) as usize]
            );
        }
        s.push('}');
        return s;
    }
    match below(d(x, 4), 20) {
        0..=3 => {
            let _ = write!(
                s,
                "{{\"AccountName\":\"bai{:021}\",\"PoolName\":\"{}_{}\",\"ConfigType\":\"VirtualMachine\",\"NodeType\":\"Dedicated\",\"PoolAllocationMode\":\"BatchService\",\"UsageType\":\"virtualmachinescalesets\",\"ClusterType\":\"DSI\",\"AmlWorkspaceId\":\"{}\",\"AMLResourceType\":\"Provisioner.Batch\",\"SourceEventId\":\"{}\",\"SourceResourceProvider\":\"Batch\",\"HostSubscriptionId\":\"{}\",\"EmittingService\":\"Machine Learning Service - Non DSVM\",\"Processor_Version\":\"BillingProcessorV2\"}}",
                below(x, 1_000_000_000_000_000_000),
                r.name,
                guid(x, 6),
                guid(x, 7),
                guid(x, 8),
                guid(x, 9)
            );
        }
        4..=5 => {
            let _ = write!(
                s,
                "{{\"PipelineType\":\"v2\",\"DataTransferDirection\":\"DataTrOut\",\"VmName\":\"{}_{}\",\"ContainerId\":\"{}\",\"NodeId\":\"{}\"}}",
                r.name,
                below(d(x, 8), 8),
                guid(x, 10),
                guid(x, 11)
            );
        }
        6 => {
            let _ = write!(
                s,
                "{{\"AHB\":\"{}\",\"vCores\":{},\"ConsumptionMeter\":\"{}\"}}",
                if chance(d(x, 8), 500) {
                    "True"
                } else {
                    "False"
                },
                [2, 4, 8][below(d(x, 12), 3) as usize],
                r.meter_id
            );
        }
        7 => s.push_str(
            "{\"ServiceType\":\"SQLThreatDetection\",\"ResourceCategory\":\"SQLThreatDetection\"}",
        ),
        8 => s.push_str("{\"PlatformType\":\"V2-Agg\"}"),
        _ => {}
    }
    s
}
