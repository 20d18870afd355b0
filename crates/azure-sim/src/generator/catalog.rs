//! Meters, services and regions the generator draws from. Curated meters name real Azure services;
//! every (ConsumedService, ResourceType) pair is checked against finops-toolkit's Services.csv and
//! every UnitOfMeasure against PricingUnits.csv (see data/README.md), and a long tail of further
//! services is taken straight from Services.csv.

use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::OnceLock;

pub(crate) const SERVICES_CSV: &str = include_str!("../../data/Services.csv");
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const PRICING_UNITS_CSV: &str = include_str!("../../data/PricingUnits.csv");
pub(crate) const REGIONS_CSV: &str = include_str!("../../data/Regions.csv");

/// Split a CSV text into records (handles quotes, doubled quotes and a BOM).
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut in_q = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_q {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_q = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => in_q = true,
                ',' => rec.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    rec.push(std::mem::take(&mut field));
                    out.push(std::mem::take(&mut rec));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        out.push(rec);
    }
    out
}

/// How a meter's daily quantity behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QtyKind {
    /// Hours of one instance in a day: mostly 24.
    Hours,
    /// A monthly unit billed daily (1/Month, GB/Month): small fraction times a size.
    Monthly,
    /// A count of usage units with a wide spread.
    Units,
}

#[derive(Debug, Clone)]
pub(crate) struct Meter {
    pub consumed_service: String,
    pub resource_type: String,
    pub category: String,
    pub subcategory: String,
    pub name: String,
    pub unit: String,
    /// Pay-as-you-go price per unit in USD.
    pub payg: Decimal,
    pub family: String,
    pub reservable: bool,
    pub savings_plan: bool,
    pub qty: QtyKind,
    /// Marketplace publisher, if any.
    pub publisher: Option<String>,
    /// Resource-name prefix.
    pub prefix: String,
    /// Relative weight when assigning meters to resources.
    pub weight: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub id: String,
    pub name: String,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub meters: Vec<Meter>,
    pub regions: Vec<Region>,
    /// Cumulative weights for picking a meter.
    cumulative: Vec<u64>,
}

type Curated = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    QtyKind,
    Option<&'static str>,
    &'static str,
    u32,
);

// consumed service, resource type, category, subcategory, meter name, unit, payg, family,
// reservable, savings plan, quantity kind, marketplace publisher, name prefix, weight
const CURATED: &[Curated] = &[
    (
        "Microsoft.Compute",
        "microsoft.compute/virtualmachines",
        "Virtual Machines",
        "Dsv3 Series",
        "D2s v3",
        "1 Hour",
        "0.096",
        "Compute",
        true,
        true,
        QtyKind::Hours,
        None,
        "vm",
        12,
    ),
    (
        "Microsoft.Compute",
        "microsoft.compute/virtualmachines",
        "Virtual Machines",
        "Dsv3 Series",
        "D4s v3",
        "1 Hour",
        "0.192",
        "Compute",
        true,
        true,
        QtyKind::Hours,
        None,
        "vm",
        8,
    ),
    (
        "Microsoft.Compute",
        "microsoft.compute/virtualmachines",
        "Virtual Machines",
        "Esv5 Series",
        "E4s v5",
        "1 Hour",
        "0.252",
        "Compute",
        true,
        true,
        QtyKind::Hours,
        None,
        "vm",
        5,
    ),
    (
        "Microsoft.Compute",
        "microsoft.compute/virtualmachines",
        "Virtual Machines",
        "BS Series",
        "B2ms",
        "1 Hour",
        "0.0832",
        "Compute",
        false,
        true,
        QtyKind::Hours,
        None,
        "vm",
        6,
    ),
    (
        "Microsoft.Compute",
        "microsoft.compute/virtualmachinescalesets",
        "Virtual Machines",
        "Dv2/DSv2 Series",
        "D2 v2/DS2 v2",
        "1 Hour",
        "0.146",
        "Compute",
        false,
        true,
        QtyKind::Hours,
        None,
        "vmss",
        5,
    ),
    (
        "Microsoft.Compute",
        "microsoft.compute/disks",
        "Storage",
        "Premium SSD Managed Disks",
        "P10 LRS Disk",
        "1/Month",
        "19.71",
        "Storage",
        false,
        false,
        QtyKind::Monthly,
        None,
        "disk",
        10,
    ),
    (
        "Microsoft.Storage",
        "microsoft.storage/storageaccounts",
        "Storage",
        "General Block Blob v2",
        "Hot LRS Data Stored",
        "1 GB/Month",
        "0.0184",
        "Storage",
        false,
        false,
        QtyKind::Monthly,
        None,
        "st",
        10,
    ),
    (
        "Microsoft.Storage",
        "microsoft.storage/storageaccounts",
        "Storage",
        "General Block Blob v2",
        "Hot LRS Write Operations",
        "10K",
        "0.065",
        "Storage",
        false,
        false,
        QtyKind::Units,
        None,
        "st",
        6,
    ),
    (
        "Microsoft.Network",
        "microsoft.network/publicipaddresses",
        "Virtual Network",
        "IP Addresses",
        "Standard IPv4 Static Public IP",
        "1 Hour",
        "0.005",
        "Networking",
        false,
        false,
        QtyKind::Hours,
        None,
        "pip",
        6,
    ),
    (
        "Microsoft.Sql",
        "microsoft.sql/servers/databases",
        "SQL Database",
        "General Purpose - Compute Gen5",
        "vCore",
        "1 Hour",
        "0.5044",
        "Databases",
        true,
        false,
        QtyKind::Hours,
        None,
        "sqldb",
        4,
    ),
    (
        "Microsoft.DBforPostgreSQL",
        "microsoft.dbforpostgresql/flexibleservers",
        "Azure Database for PostgreSQL",
        "Flexible Server General Purpose Dsv4 Series Compute",
        "vCore",
        "1 Hour",
        "0.0896",
        "Databases",
        true,
        false,
        QtyKind::Hours,
        None,
        "psql",
        3,
    ),
    (
        "Microsoft.Web",
        "microsoft.web/serverfarms",
        "Azure App Service",
        "Premium v3 Plan",
        "P1 v3 App",
        "1 Hour",
        "0.169",
        "Compute",
        false,
        true,
        QtyKind::Hours,
        None,
        "plan",
        5,
    ),
    (
        "Microsoft.Web",
        "microsoft.web/sites",
        "Functions",
        "Premium",
        "Execution Time",
        "1 GB Second",
        "0.000016",
        "Compute",
        false,
        false,
        QtyKind::Units,
        None,
        "func",
        3,
    ),
    (
        "Microsoft.OperationalInsights",
        "microsoft.operationalinsights/workspaces",
        "Log Analytics",
        "",
        "Analytics Logs Data Ingestion",
        "1 GB",
        "2.30",
        "Management and Governance",
        false,
        false,
        QtyKind::Units,
        None,
        "log",
        3,
    ),
    (
        "Microsoft.KeyVault",
        "microsoft.keyvault/vaults",
        "Key Vault",
        "",
        "Operations",
        "10K",
        "0.03",
        "Security",
        false,
        false,
        QtyKind::Units,
        None,
        "kv",
        3,
    ),
    (
        "Microsoft.Cache",
        "microsoft.cache/redis",
        "Redis Cache",
        "Standard",
        "C1 Cache Instance",
        "1 Hour",
        "0.1",
        "Databases",
        true,
        false,
        QtyKind::Hours,
        None,
        "redis",
        2,
    ),
    (
        "Microsoft.DocumentDB",
        "microsoft.documentdb/databaseaccounts",
        "Azure Cosmos DB",
        "",
        "100 RU/s",
        "100 Hours",
        "0.8",
        "Databases",
        false,
        false,
        QtyKind::Units,
        None,
        "cosmos",
        2,
    ),
    (
        "Microsoft.CognitiveServices",
        "microsoft.cognitiveservices/accounts",
        "Cognitive Services",
        "Azure OpenAI",
        "gpt-4o-mini Input Tokens",
        "1M",
        "0.15",
        "AI + Machine Learning",
        false,
        false,
        QtyKind::Units,
        None,
        "oai",
        2,
    ),
    (
        "Microsoft.SaaS",
        "microsoft.saas/resources",
        "SaaS",
        "Datadog",
        "Datadog Pro - Hosts",
        "1/Day",
        "0.5",
        "Other",
        false,
        false,
        QtyKind::Units,
        Some("Datadog"),
        "datadog",
        2,
    ),
    (
        "Microsoft.SaaS",
        "microsoft.saas/resources",
        "SaaS",
        "Elastic Cloud",
        "Elastic Cloud Standard",
        "1/Day",
        "1.2",
        "Other",
        false,
        false,
        QtyKind::Units,
        Some("Elastic"),
        "elastic",
        1,
    ),
];

const REGION_IDS: &[&str] = &[
    "eastus",
    "westeurope",
    "northeurope",
    "westus2",
    "southeastasia",
    "uksouth",
    "centralus",
    "japaneast",
    "australiaeast",
    "germanywestcentral",
];

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or(Decimal::ZERO)
}

fn build() -> Catalog {
    let mut meters: Vec<Meter> = CURATED
        .iter()
        .map(|c| Meter {
            consumed_service: c.0.into(),
            resource_type: c.1.into(),
            category: c.2.into(),
            subcategory: c.3.into(),
            name: c.4.into(),
            unit: c.5.into(),
            payg: dec(c.6),
            family: c.7.into(),
            reservable: c.8,
            savings_plan: c.9,
            qty: c.10,
            publisher: c.11.map(str::to_string),
            prefix: c.12.into(),
            weight: c.13,
        })
        .collect();
    // Long tail: Microsoft services of Services.csv with a consumed service, one generic meter each.
    let rows = parse_csv(SERVICES_CSV);
    let mut seen = std::collections::BTreeSet::new();
    for r in rows.iter().skip(1) {
        if r.len() < 9 {
            continue;
        }
        let (cs, rt, name, cat) = (&r[0], &r[1], &r[2], &r[3]);
        // Commitments, marketplace and billing itself are not metered services.
        const NOT_METERED: &[&str] = &[
            "microsoft.capacity",
            "microsoft.billingbenefits",
            "microsoft.saas",
            "microsoft.costmanagement",
            "microsoft.billing",
            "microsoft.consumption",
            "microsoft.marketplace",
            "microsoft.marketplaceordering",
        ];
        if cs.is_empty()
            || !cs.starts_with("microsoft.")
            || r[5] != "Microsoft"
            || !rt.contains('/')
            || NOT_METERED.contains(&cs.as_str())
        {
            continue;
        }
        if meters
            .iter()
            .any(|m| m.resource_type.eq_ignore_ascii_case(rt))
            || !seen.insert(name.clone())
        {
            continue;
        }
        let idx = seen.len() as u64;
        // "Microsoft.Foo" capitalisation as Cost Management prints ConsumedService.
        let consumed = cs
            .split('.')
            .map(|p| {
                let mut c = p.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(".");
        let unit = if idx.is_multiple_of(2) {
            "1/Month"
        } else {
            "10K"
        };
        let cents = 5 + crate::rng::below(crate::rng::h(&[idx, 77]), 500);
        meters.push(Meter {
            consumed_service: consumed,
            resource_type: rt.clone(),
            category: name.clone(),
            subcategory: String::new(),
            name: if unit == "1/Month" {
                "Standard Instance".into()
            } else {
                "Standard Operations".into()
            },
            unit: unit.into(),
            payg: Decimal::new(cents as i64, 2),
            family: cat.clone(),
            reservable: false,
            savings_plan: false,
            qty: if unit == "1/Month" {
                QtyKind::Monthly
            } else {
                QtyKind::Units
            },
            publisher: None,
            prefix: rt
                .rsplit('/')
                .next()
                .unwrap_or("res")
                .chars()
                .take(8)
                .collect(),
            weight: 1,
        });
        if seen.len() >= 60 {
            break;
        }
    }
    let region_rows = parse_csv(REGIONS_CSV);
    let regions = REGION_IDS
        .iter()
        .filter_map(|id| {
            region_rows
                .iter()
                .find(|r| r.len() >= 3 && r[0] == *id)
                .map(|r| Region {
                    id: r[1].clone(),
                    name: r[2].clone(),
                })
        })
        .collect();
    let mut cumulative = Vec::with_capacity(meters.len());
    let mut acc = 0u64;
    for m in &meters {
        acc += u64::from(m.weight);
        cumulative.push(acc);
    }
    Catalog {
        meters,
        regions,
        cumulative,
    }
}

pub(crate) fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(build)
}

impl Catalog {
    pub(crate) fn pick_meter(&self, x: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let t = crate::rng::below(x, total);
        self.cumulative
            .partition_point(|c| *c <= t)
            .min(self.meters.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curated_meters_exist_in_open_data() {
        let services = parse_csv(SERVICES_CSV);
        let units = parse_csv(PRICING_UNITS_CSV);
        let c = catalog();
        assert!(c.meters.len() > 40, "long tail loaded: {}", c.meters.len());
        assert_eq!(c.regions.len(), REGION_IDS.len());
        for m in &c.meters {
            assert!(
                services.iter().any(|r| r.len() > 1
                    && r[0].eq_ignore_ascii_case(&m.consumed_service)
                    && r[1].eq_ignore_ascii_case(&m.resource_type)),
                "{} {} not in Services.csv",
                m.consumed_service,
                m.resource_type
            );
            assert!(
                units.iter().any(|r| r.len() > 1
                    && r[0] == m.unit
                    && r[1].contains("EA")
                    && r[1].contains("MCA")),
                "unit {} not in PricingUnits.csv for EA and MCA",
                m.unit
            );
            assert!(m.payg > Decimal::ZERO);
        }
    }

    #[test]
    fn csv_parser_handles_quotes() {
        let r = parse_csv("\u{feff}a,\"b,c\",\"d\"\"e\"\r\n1,2,3\n");
        assert_eq!(r, vec![vec!["a", "b,c", "d\"e"], vec!["1", "2", "3"]]);
    }
}
