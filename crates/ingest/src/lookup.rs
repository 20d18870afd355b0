//! Microsoft's open-data lookup tables (finops-toolkit `src/open-data`, MIT; see `data/ATTRIBUTION.md`),
//! embedded in the binary.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::decimal::Dec;

const PRICING_UNITS: &str = include_str!("../data/PricingUnits.csv");
const REGIONS: &str = include_str!("../data/Regions.csv");
const RESOURCE_TYPES: &str = include_str!("../data/ResourceTypes.csv");
const SERVICES: &str = include_str!("../data/Services.csv");

/// A row of PricingUnits.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingUnit {
    pub block_size: Dec,
    pub distinct_units: String,
}

/// A row of Services.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub service_name: String,
    pub service_category: String,
    pub service_subcategory: String,
    pub publisher_name: String,
    pub service_model: String,
}

/// A row of Regions.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub id: String,
    pub name: String,
}

/// The four tables, parsed once.
#[derive(Debug)]
pub struct Lookups {
    units_exact: HashMap<String, PricingUnit>,
    units_lower: HashMap<String, PricingUnit>,
    regions: HashMap<String, Region>,
    resource_types: HashMap<String, String>,
    services: HashMap<(String, String), Service>,
    services_by_type: HashMap<String, Service>,
    /// Every ServiceName of Services.csv: its ServiceCategory and `Other (<category>)`.
    service_names: HashMap<String, (String, String)>,
}

fn rows(text: &'static str) -> impl Iterator<Item = csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .filter_map(|r| r.ok())
}

impl Lookups {
    /// The embedded tables (parsed on first use).
    pub fn get() -> &'static Lookups {
        static L: OnceLock<Lookups> = OnceLock::new();
        L.get_or_init(Lookups::load)
    }

    fn load() -> Lookups {
        let mut units_exact = HashMap::new();
        let mut units_lower = HashMap::new();
        for r in rows(PRICING_UNITS) {
            let (Some(uom), Some(block), Some(units)) = (r.get(0), r.get(2), r.get(3)) else {
                continue;
            };
            let Ok(block_size) = Dec::parse(block) else {
                continue;
            };
            let u = PricingUnit {
                block_size,
                distinct_units: units.to_string(),
            };
            units_lower
                .entry(uom.trim().to_ascii_lowercase())
                .or_insert_with(|| u.clone());
            units_exact.insert(uom.to_string(), u);
        }
        let mut regions = HashMap::new();
        for r in rows(REGIONS) {
            let (Some(orig), Some(id), Some(name)) = (r.get(0), r.get(1), r.get(2)) else {
                continue;
            };
            regions.insert(
                orig.to_ascii_lowercase(),
                Region {
                    id: id.to_string(),
                    name: name.to_string(),
                },
            );
        }
        let mut resource_types = HashMap::new();
        for r in rows(RESOURCE_TYPES) {
            let (Some(t), Some(name)) = (r.get(0), r.get(1)) else {
                continue;
            };
            resource_types.insert(t.to_ascii_lowercase(), name.to_string());
        }
        let mut services = HashMap::new();
        let mut services_by_type = HashMap::new();
        let mut service_names = HashMap::new();
        for r in rows(SERVICES) {
            let f = |i: usize| r.get(i).unwrap_or("").to_string();
            let s = Service {
                service_name: f(2),
                service_category: f(3),
                service_subcategory: f(4),
                publisher_name: f(5),
                service_model: f(8),
            };
            service_names
                .entry(s.service_name.clone())
                .or_insert_with(|| {
                    let category = s.service_category.clone();
                    let other = format!("Other ({category})");
                    (category, other)
                });
            let cs = f(0).to_ascii_lowercase();
            let rt = f(1).to_ascii_lowercase();
            services_by_type
                .entry(rt.clone())
                .or_insert_with(|| s.clone());
            services.insert((cs, rt), s);
        }
        Lookups {
            units_exact,
            units_lower,
            regions,
            resource_types,
            services,
            services_by_type,
            service_names,
        }
    }

    /// The ServiceCategory of a ServiceName of Services.csv (exact name), and the `Other`
    /// subcategory of that category: a service missing from the table but named like one in it
    /// (its MeterCategory) takes that category, so a ServiceName has one ServiceCategory in a
    /// file (FOCUS ServiceName-C-005-C) whatever the rows around it.
    pub fn category_of_service_name(&self, name: &str) -> Option<(&str, &str)> {
        self.service_names
            .get(name)
            .map(|(c, o)| (c.as_str(), o.as_str()))
    }

    /// PricingUnits.csv by UnitOfMeasure (exact, then ignoring case and surrounding spaces).
    pub fn pricing_unit(&self, unit_of_measure: &str) -> Option<&PricingUnit> {
        self.units_exact.get(unit_of_measure).or_else(|| {
            self.units_lower
                .get(&unit_of_measure.trim().to_ascii_lowercase())
        })
    }

    /// Regions.csv by the original location value (any case).
    pub fn region(&self, location: &str) -> Option<&Region> {
        self.regions.get(&location.to_ascii_lowercase())
    }

    /// ResourceTypes.csv: the singular display name of an ARM resource type (any case).
    pub fn resource_type_name(&self, arm_type: &str) -> Option<&str> {
        self.resource_types
            .get(&arm_type.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Services.csv by ConsumedService and ARM resource type (any case); then by resource type alone.
    pub fn service(&self, consumed_service: &str, arm_type: &str) -> Option<&Service> {
        let cs = consumed_service.to_ascii_lowercase();
        let rt = arm_type.to_ascii_lowercase();
        self.services
            .get(&(cs, rt.clone()))
            .or_else(|| self.services_by_type.get(&rt).filter(|_| !rt.is_empty()))
    }
}

/// The ARM resource type of a resource ID, lower-cased: `/subscriptions/s/resourceGroups/g/providers/
/// Microsoft.Sql/servers/a/databases/b` gives `microsoft.sql/servers/databases`. `None` when the ID has
/// no `/providers/` segment.
pub fn arm_resource_type(resource_id: &str) -> Option<String> {
    let mut t = String::new();
    arm_resource_type_into(resource_id, &mut t).then_some(t)
}

/// [`arm_resource_type`] written into `t` (cleared first; left empty when there is none), without
/// allocating once `t` has grown.
pub fn arm_resource_type_into(resource_id: &str, t: &mut String) -> bool {
    const P: &[u8] = b"/providers/";
    t.clear();
    let b = resource_id.as_bytes();
    let Some(at) = memchr::memrchr_iter(b'/', b)
        .find(|&i| b.len() - i >= P.len() && b[i..i + P.len()].eq_ignore_ascii_case(P))
    else {
        return false;
    };
    let rest = resource_id[at + P.len()..].trim_end_matches('/');
    let mut parts = rest.split('/');
    let Some(namespace) = parts.next().filter(|s| !s.is_empty()) else {
        return false;
    };
    push_lower(t, namespace);
    // type, name, type, name, ...: keep the types
    for (i, s) in parts.enumerate() {
        if i % 2 == 0 {
            t.push('/');
            push_lower(t, s);
        }
    }
    if !t.contains('/') {
        t.clear();
        return false;
    }
    true
}

fn push_lower(t: &mut String, s: &str) {
    let start = t.len();
    t.push_str(s);
    t[start..].make_ascii_lowercase();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_and_answer() {
        let l = Lookups::get();
        let u = l.pricing_unit("10K").expect("10K");
        assert_eq!(
            (u.block_size, u.distinct_units.as_str()),
            (
                Dec {
                    mantissa: 10000,
                    scale: 0
                },
                "Units"
            )
        );
        assert_eq!(
            l.pricing_unit("1 Hour").map(|u| u.distinct_units.as_str()),
            Some("Hours")
        );
        assert_eq!(
            l.region("EastUS2")
                .map(|r| (r.id.as_str(), r.name.as_str())),
            Some(("eastus2", "East US 2"))
        );
        assert_eq!(
            l.resource_type_name("Microsoft.Compute/virtualMachines"),
            Some("Virtual machine")
        );
        let s = l
            .service("Microsoft.Compute", "microsoft.compute/virtualmachines")
            .expect("vm service");
        assert_eq!(
            (s.service_name.as_str(), s.service_category.as_str()),
            ("Virtual Machines", "Compute")
        );
    }

    #[test]
    fn resource_types_from_ids() {
        assert_eq!(
            arm_resource_type(
                "/subscriptions/x/resourceGroups/g/providers/Microsoft.Sql/servers/a/databases/b"
            )
            .as_deref(),
            Some("microsoft.sql/servers/databases")
        );
        assert_eq!(
            arm_resource_type("/providers/Microsoft.Capacity/reservationOrders/o/reservations/")
                .as_deref(),
            Some("microsoft.capacity/reservationorders/reservations")
        );
        assert_eq!(arm_resource_type("/subscriptions/x/resourceGroups/g"), None);
        assert_eq!(arm_resource_type(""), None);
        assert_eq!(
            arm_resource_type("/SUBSCRIPTIONS/X/PROVIDERS/A/PROVIDERS/Microsoft.KeyVault/VAULTS/v")
                .as_deref(),
            Some("microsoft.keyvault/vaults")
        );
        assert_eq!(
            arm_resource_type("/providers/ns//x/").as_deref(),
            Some("ns/")
        );
        assert_eq!(arm_resource_type("/providers/ns"), None);
    }
}
