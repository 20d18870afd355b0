//! Rules as code: the configuration as a file people keep in version control
//! (`../shared/data/engine/example-config.json` is the reference). Names, not IDs; an import keeps
//! the IDs of everything whose name it finds, so importing the same file twice changes nothing.
//!
//! Reading is strict: unknown fields are refused (a typo must not be ignored), and every problem
//! is reported with its path (`plans[1].rules[0].percent`).

use serde::{Deserialize, Serialize};

use super::{
    Allocation, AllocationEntry, AllocationKey, AssignmentTarget, Band, Charge, CommitmentStrategy,
    Condition, ConditionSet, CreditsStrategy, Family, Fee, Filter, Member, Name, OnDemandBasis,
    Operator, Pattern, Plan, PlanAssignment, PricingConfig, Rate, RecurringFee, Rule, RuleKind,
    Scope, Share, StrategySet, SubAccountId, TaxStrategy, TierMode, Tiers, Validity,
};
use crate::{Amount, BillingPeriod, Currency, Dimension, FieldError, Percent, RuleId};

/// The file format's version this code writes and reads.
pub const FILE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub version: u32,
    #[serde(default)]
    pub strategies: Vec<StrategyFile>,
    #[serde(default)]
    pub families: Vec<FamilyFile>,
    #[serde(default)]
    pub allocations: Vec<AllocationFile>,
    #[serde(default)]
    pub plans: Vec<PlanFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyFile {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_basis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyFile {
    pub name: String,
    #[serde(default)]
    pub members: Vec<MemberFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFile {
    pub sub_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationFile {
    pub key: String,
    #[serde(default)]
    pub entries: Vec<EntryFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryFile {
    #[serde(default)]
    pub when: Vec<Vec<ConditionFile>>,
    #[serde(default)]
    pub values: Vec<ShareFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareFile {
    pub value: String,
    pub percent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub name: String,
    #[serde(default)]
    pub assigned_to: Vec<AssignmentFile>,
    #[serde(default)]
    pub rules: Vec<RuleFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub name: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<TiersFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Vec<ConditionFile>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiersFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    pub bands: Vec<BandFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandFile {
    pub from: String,
    pub percent: String,
}

/// Collects problems while reading, each under its path.
struct Reader {
    problems: Vec<FieldError>,
    /// Periods not given default to this one (the current period).
    default_from: BillingPeriod,
}

impl Reader {
    fn take<T>(&mut self, path: &str, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems.push(FieldError {
                    field: path.to_string().into(),
                    ..e
                });
                None
            }
        }
    }

    fn missing(&mut self, path: &str, what: &str) {
        self.problems.push(FieldError::new(
            path.to_string(),
            "field_missing",
            format!("{what} is required here."),
        ));
    }

    fn period(&mut self, path: &str, raw: &Option<String>) -> Option<BillingPeriod> {
        match raw {
            Some(s) => self.take(path, BillingPeriod::parse(s)),
            None => Some(self.default_from),
        }
    }

    fn validity(
        &mut self,
        path: &str,
        from: &Option<String>,
        to: &Option<String>,
    ) -> Option<Validity> {
        let from = self.period(&format!("{path}.from"), from)?;
        let to = match to {
            Some(t) => Some(self.take(&format!("{path}.to"), BillingPeriod::parse(t))?),
            None => None,
        };
        Some(Validity { from, to })
    }

    fn choice<T: Copy>(
        &mut self,
        path: &str,
        raw: &Option<String>,
        default: T,
        options: &[(&str, T)],
    ) -> Option<T> {
        let Some(raw) = raw else { return Some(default) };
        let found = options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(raw.trim()))
            .map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            self.problems.push(FieldError::new(
                path.to_string(),
                "choice_invalid",
                format!("{raw:?} is not one of {}.", names.join(", ")),
            ));
        }
        found
    }
}

impl ConfigFile {
    /// Read the file into a configuration. `current` gives the IDs to keep (matched by name) and
    /// `default_from` the period used where a file gives none. Every problem is reported.
    pub fn into_config(
        self,
        current: &PricingConfig,
        default_from: BillingPeriod,
    ) -> Result<PricingConfig, Vec<FieldError>> {
        let mut r = Reader::new(default_from);
        if self.version != FILE_VERSION {
            r.problems.push(FieldError::new(
                "version",
                "file_version_unsupported",
                format!(
                    "This file is version {}; version {FILE_VERSION} is supported.",
                    self.version
                ),
            ));
        }
        let strategies = self
            .strategies
            .iter()
            .enumerate()
            .filter_map(|(i, s)| strategy(&mut r, &format!("strategies[{i}]"), s))
            .collect();
        let families: Vec<Family> = self
            .families
            .iter()
            .enumerate()
            .filter_map(|(i, f)| family(&mut r, &format!("families[{i}]"), f, current))
            .collect();
        let mut keys: Vec<String> = vec![];
        let mut allocations = vec![];
        for (i, a) in self.allocations.iter().enumerate() {
            if let Some(a) = allocation(&mut r, &format!("allocations[{i}]"), a, current, &keys) {
                keys.push(a.key.as_str().to_string());
                allocations.push(a);
            }
        }
        let plans = self
            .plans
            .iter()
            .enumerate()
            .filter_map(|(i, p)| plan(&mut r, &format!("plans[{i}]"), p, current, &families, &keys))
            .collect();
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        PricingConfig {
            strategies,
            families,
            allocations,
            plans,
        }
        .validated()
    }

    /// The file of a configuration (IDs left out; families named).
    pub fn from_config(c: &PricingConfig) -> Self {
        ConfigFile {
            version: FILE_VERSION,
            strategies: c.strategies.iter().map(strategy_file).collect(),
            families: c
                .families
                .iter()
                .map(|f| FamilyFile {
                    name: f.name.to_string(),
                    members: f
                        .members
                        .iter()
                        .map(|m| MemberFile {
                            sub_account_id: m.sub_account_id.to_string(),
                            from: Some(m.valid.from.to_string()),
                            to: m.valid.to.map(|t| t.to_string()),
                        })
                        .collect(),
                })
                .collect(),
            allocations: c.allocations.iter().map(allocation_file).collect(),
            plans: c.plans.iter().map(|p| plan_file(c, p)).collect(),
        }
    }
}

impl Reader {
    fn new(default_from: BillingPeriod) -> Self {
        Reader {
            problems: vec![],
            default_from,
        }
    }

    fn done<T>(self, v: Option<T>) -> Result<T, Vec<FieldError>> {
        match v {
            Some(v) if self.problems.is_empty() => Ok(v),
            _ => Err(self.problems),
        }
    }
}

impl RuleFile {
    /// One rule, as the API and the console send it (the file's shape). `keys`: the allocation keys
    /// its conditions may name.
    pub fn into_rule(
        &self,
        keys: &[&str],
        default_from: BillingPeriod,
    ) -> Result<Rule, Vec<FieldError>> {
        let mut r = Reader::new(default_from);
        let rule = rule(&mut r, "", self, keys);
        r.done(rule)
            .map_err(|errs| errs.into_iter().map(strip_root).collect())
    }

    pub fn from_rule(rule: &Rule) -> Self {
        rule_file(rule)
    }
}

impl AllocationFile {
    /// One allocation assignment; `earlier`: the keys of the assignments before it.
    pub fn into_allocation(
        &self,
        current: &PricingConfig,
        earlier: &[String],
        default_from: BillingPeriod,
    ) -> Result<Allocation, Vec<FieldError>> {
        let mut r = Reader::new(default_from);
        let a = allocation(&mut r, "", self, current, earlier);
        r.done(a)
            .map_err(|errs| errs.into_iter().map(strip_root).collect())
    }

    pub fn from_allocation(a: &Allocation) -> Self {
        allocation_file(a)
    }
}

impl StrategyFile {
    pub fn into_strategy(&self) -> Result<StrategySet, Vec<FieldError>> {
        let mut r = Reader::new(BillingPeriod::parse("2000-01").expect("a period"));
        let s = strategy(&mut r, "", self);
        r.done(s)
            .map_err(|errs| errs.into_iter().map(strip_root).collect())
    }

    pub fn from_strategy(s: &StrategySet) -> Self {
        strategy_file(s)
    }
}

/// A filter as the file writes it (`when`: sets of conditions), read on its own; `keys`: the
/// allocation keys it may name. Used by analysis queries, which filter like rules do.
pub fn parse_filter(
    sets: &[Vec<ConditionFile>],
    keys: &[&str],
    field: &str,
) -> Result<Filter, Vec<FieldError>> {
    let mut r = Reader::new(BillingPeriod::parse("2000-01").expect("a period"));
    let f = filter(&mut r, field, sets, keys);
    r.done(f)
}

/// The file's shape of a filter.
pub fn filter_to_file(f: &Filter) -> Vec<Vec<ConditionFile>> {
    filter_file(f)
}

/// Paths of a part read on its own start with `.`: drop it (`.percent` is `percent`).
fn strip_root(mut e: FieldError) -> FieldError {
    if let Some(rest) = e.field.strip_prefix('.') {
        e.field = rest.to_string().into();
    }
    e
}

fn strategy(r: &mut Reader, path: &str, s: &StrategyFile) -> Option<StrategySet> {
    let from = r.take(&format!("{path}.from"), BillingPeriod::parse(&s.from));
    let credits = r.choice(
        &format!("{path}.credits"),
        &s.credits,
        CreditsStrategy::Show,
        &[
            ("show", CreditsStrategy::Show),
            ("hide", CreditsStrategy::Hide),
        ],
    );
    let commitments = r.choice(
        &format!("{path}.commitments"),
        &s.commitments,
        CommitmentStrategy::Shared,
        &[
            ("shared", CommitmentStrategy::Shared),
            ("unshared", CommitmentStrategy::Unshared),
        ],
    );
    let basis = r.choice(
        &format!("{path}.on_demand_basis"),
        &s.on_demand_basis,
        OnDemandBasis::Contracted,
        &[
            ("contracted", OnDemandBasis::Contracted),
            ("list", OnDemandBasis::List),
        ],
    );
    let taxes = r.choice(
        &format!("{path}.taxes"),
        &s.taxes,
        TaxStrategy::Keep,
        &[("keep", TaxStrategy::Keep), ("remove", TaxStrategy::Remove)],
    );
    Some(StrategySet {
        from: from?,
        credits: credits?,
        commitments: commitments?,
        on_demand_basis: basis?,
        taxes: taxes?,
    })
}

fn strategy_file(s: &StrategySet) -> StrategyFile {
    let credits = match s.credits {
        CreditsStrategy::Show => "show",
        CreditsStrategy::Hide => "hide",
    };
    let commitments = match s.commitments {
        CommitmentStrategy::Shared => "shared",
        CommitmentStrategy::Unshared => "unshared",
    };
    let basis = match s.on_demand_basis {
        OnDemandBasis::Contracted => "contracted",
        OnDemandBasis::List => "list",
    };
    let taxes = match s.taxes {
        TaxStrategy::Keep => "keep",
        TaxStrategy::Remove => "remove",
    };
    StrategyFile {
        from: s.from.to_string(),
        credits: Some(credits.into()),
        commitments: Some(commitments.into()),
        on_demand_basis: Some(basis.into()),
        taxes: Some(taxes.into()),
    }
}

fn family(r: &mut Reader, path: &str, f: &FamilyFile, current: &PricingConfig) -> Option<Family> {
    let name = r.take(&format!("{path}.name"), Name::parse(&f.name, "name"));
    let mut members = vec![];
    for (j, m) in f.members.iter().enumerate() {
        let mpath = format!("{path}.members[{j}]");
        let sub = r.take(
            &format!("{mpath}.sub_account_id"),
            SubAccountId::parse(&m.sub_account_id),
        );
        let valid = r.validity(&mpath, &m.from, &m.to);
        if let (Some(sub_account_id), Some(valid)) = (sub, valid) {
            members.push(Member {
                sub_account_id,
                valid,
            });
        }
    }
    let name = name?;
    let id = current
        .family_named(name.as_str())
        .map(|x| x.id)
        .unwrap_or_default();
    Some(Family { id, name, members })
}

fn allocation(
    r: &mut Reader,
    path: &str,
    a: &AllocationFile,
    current: &PricingConfig,
    earlier: &[String],
) -> Option<Allocation> {
    let key = r.take(&format!("{path}.key"), AllocationKey::parse(&a.key))?;
    let keys: Vec<&str> = earlier.iter().map(String::as_str).collect();
    let mut entries = vec![];
    for (j, e) in a.entries.iter().enumerate() {
        let epath = format!("{path}.entries[{j}]");
        let when = filter(r, &format!("{epath}.when"), &e.when, &keys);
        let mut values = vec![];
        for (k, s) in e.values.iter().enumerate() {
            if let Some(percent) = r.take(
                &format!("{epath}.values[{k}].percent"),
                Percent::parse(&s.percent, "percent"),
            ) {
                values.push(Share {
                    value: s.value.trim().to_string(),
                    percent,
                });
            }
        }
        if let Some(when) = when {
            entries.push(AllocationEntry { when, values });
        }
    }
    let id = current
        .allocations
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key.as_str()))
        .map(|x| x.id)
        .unwrap_or_default();
    Some(Allocation { id, key, entries })
}

fn allocation_file(a: &Allocation) -> AllocationFile {
    AllocationFile {
        key: a.key.to_string(),
        entries: a
            .entries
            .iter()
            .map(|e| EntryFile {
                when: filter_file(&e.when),
                values: e
                    .values
                    .iter()
                    .map(|s| ShareFile {
                        value: s.value.clone(),
                        percent: s.percent.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn filter(
    r: &mut Reader,
    path: &str,
    sets: &[Vec<ConditionFile>],
    keys: &[&str],
) -> Option<Filter> {
    let mut out = vec![];
    let mut ok = true;
    for (i, set) in sets.iter().enumerate() {
        let mut conds = vec![];
        for (j, c) in set.iter().enumerate() {
            match condition(r, &format!("{path}[{i}][{j}]"), c, keys) {
                Some(c) => conds.push(c),
                None => ok = false,
            }
        }
        out.push(ConditionSet(conds));
    }
    ok.then_some(Filter(out))
}

fn condition(r: &mut Reader, path: &str, c: &ConditionFile, keys: &[&str]) -> Option<Condition> {
    let dimension = match (&c.dimension, &c.tag) {
        (Some(d), None) => r.take(&format!("{path}.dimension"), Dimension::parse(d, keys))?,
        (None, Some(t)) => r.take(&format!("{path}.tag"), Dimension::tag(t))?,
        _ => {
            r.problems.push(FieldError::new(
                path.to_string(),
                "condition_dimension",
                "A condition names either a dimension or a tag.",
            ));
            return None;
        }
    };
    let value = |r: &mut Reader| match &c.value {
        Some(v) => Some(v.clone()),
        None => {
            r.missing(&format!("{path}.value"), "A value");
            None
        }
    };
    let values = |r: &mut Reader| match &c.values {
        Some(v) => Some(v.clone()),
        None => {
            r.missing(&format!("{path}.values"), "A list of values");
            None
        }
    };
    let op = match c.op.trim().to_ascii_lowercase().as_str() {
        "equals" => Operator::Equals(value(r)?),
        "not_equals" => Operator::NotEquals(value(r)?),
        "in" => Operator::In(values(r)?),
        "not_in" => Operator::NotIn(values(r)?),
        "starts_with" => Operator::StartsWith(value(r)?),
        "contains" => Operator::Contains(value(r)?),
        "matches" => {
            let raw = value(r)?;
            Operator::Matches(r.take(&format!("{path}.value"), Pattern::parse(&raw, "value"))?)
        }
        "exists" => Operator::Exists,
        "not_exists" => Operator::NotExists,
        other => {
            r.problems.push(FieldError::new(
                format!("{path}.op"),
                "operator_unknown",
                format!("{other:?} is not an operator: equals, not_equals, in, not_in, starts_with, contains, matches, exists, not_exists."),
            ));
            return None;
        }
    };
    Some(Condition { dimension, op })
}

fn filter_file(f: &Filter) -> Vec<Vec<ConditionFile>> {
    f.0.iter()
        .map(|set| set.0.iter().map(condition_file).collect())
        .collect()
}

fn condition_file(c: &Condition) -> ConditionFile {
    let (dimension, tag) = match &c.dimension {
        Dimension::Tag(k) => (None, Some(k.clone())),
        d => (Some(d.label()), None),
    };
    let (value, values) = match &c.op {
        Operator::Equals(v)
        | Operator::NotEquals(v)
        | Operator::StartsWith(v)
        | Operator::Contains(v) => (Some(v.clone()), None),
        Operator::Matches(p) => (Some(p.as_str().to_string()), None),
        Operator::In(vs) | Operator::NotIn(vs) => (None, Some(vs.clone())),
        Operator::Exists | Operator::NotExists => (None, None),
    };
    ConditionFile {
        dimension,
        tag,
        op: c.op.code().to_string(),
        value,
        values,
    }
}

fn plan(
    r: &mut Reader,
    path: &str,
    p: &PlanFile,
    current: &PricingConfig,
    families: &[Family],
    keys: &[String],
) -> Option<Plan> {
    let name = r.take(&format!("{path}.name"), Name::parse(&p.name, "name"));
    let existing = name.as_ref().and_then(|n| current.plan_named(n.as_str()));
    let mut assigned_to = vec![];
    for (j, a) in p.assigned_to.iter().enumerate() {
        if let Some(a) = assignment(r, &format!("{path}.assigned_to[{j}]"), a, families) {
            assigned_to.push(a);
        }
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut rules = vec![];
    for (j, f) in p.rules.iter().enumerate() {
        if let Some(mut rule) = rule(r, &format!("{path}.rules[{j}]"), f, &keys) {
            if let Some(old) =
                existing.and_then(|e| e.rules.iter().find(|x| x.name.key() == rule.name.key()))
            {
                rule.id = old.id;
            }
            rules.push(rule);
        }
    }
    Some(Plan {
        id: existing.map(|e| e.id).unwrap_or_default(),
        name: name?,
        assigned_to,
        rules,
    })
}

fn assignment(
    r: &mut Reader,
    path: &str,
    a: &AssignmentFile,
    families: &[Family],
) -> Option<PlanAssignment> {
    let valid = r.validity(path, &a.from, &a.to);
    let target = match (&a.family, &a.sub_account_id) {
        (Some(name), None) => match families.iter().find(|f| f.name.key() == Name::key_of(name)) {
            Some(f) => AssignmentTarget::Family(f.id),
            None => {
                r.problems.push(FieldError::new(
                    format!("{path}.family"),
                    "family_not_found",
                    format!("There is no family named {name:?} in this file."),
                ));
                return None;
            }
        },
        (None, Some(sub)) => AssignmentTarget::SubAccount(
            r.take(&format!("{path}.sub_account_id"), SubAccountId::parse(sub))?,
        ),
        _ => {
            r.problems.push(FieldError::new(
                path.to_string(),
                "assignment_target",
                "An assignment names either a family or a sub_account_id.",
            ));
            return None;
        }
    };
    Some(PlanAssignment {
        target,
        valid: valid?,
    })
}

fn required<'a>(r: &mut Reader, path: &str, v: &'a Option<String>, what: &str) -> Option<&'a str> {
    match v {
        Some(s) => Some(s.as_str()),
        None => {
            r.missing(path, what);
            None
        }
    }
}

fn rule(r: &mut Reader, path: &str, f: &RuleFile, keys: &[&str]) -> Option<Rule> {
    let name = r.take(&format!("{path}.name"), Name::parse(&f.name, "name"));
    let when = filter(r, &format!("{path}.when"), &f.when, keys);
    let kind = rule_kind(r, path, f);
    Some(Rule {
        id: RuleId::new(),
        name: name?,
        kind: kind?,
        when: when?,
        enabled: f.enabled.unwrap_or(true),
    })
}

fn percent_field(r: &mut Reader, path: &str, f: &RuleFile) -> Option<Percent> {
    let raw = required(r, &format!("{path}.percent"), &f.percent, "A percent")?;
    r.take(&format!("{path}.percent"), Percent::parse(raw, "percent"))
}

fn amount_field(r: &mut Reader, path: &str, raw: &Option<String>, what: &str) -> Option<Amount> {
    let raw = required(r, path, raw, what)?;
    r.take(path, Amount::parse(raw, "amount"))
}

fn currency_field(r: &mut Reader, path: &str, raw: &Option<String>) -> Option<Option<Currency>> {
    match raw {
        Some(c) => r
            .take(&format!("{path}.currency"), Currency::parse(c))
            .map(Some),
        None => Some(None),
    }
}

fn rule_kind(r: &mut Reader, path: &str, f: &RuleFile) -> Option<RuleKind> {
    let fee = |r: &mut Reader| -> Option<Fee> {
        let amount = amount_field(r, &format!("{path}.amount"), &f.amount, "An amount");
        let period = required(r, &format!("{path}.period"), &f.period, "A billing period")
            .and_then(|p| r.take(&format!("{path}.period"), BillingPeriod::parse(p)));
        let currency = currency_field(r, path, &f.currency);
        Some(Fee {
            amount: amount?,
            period: period?,
            currency: currency?,
        })
    };
    Some(match f.kind.trim().to_ascii_lowercase().as_str() {
        "markup" => RuleKind::Markup {
            percent: percent_field(r, path, f)?,
        },
        "markdown" => RuleKind::Markdown {
            percent: percent_field(r, path, f)?,
        },
        "upcharge" => RuleKind::Upcharge(charge(r, path, f)?),
        "discount" => RuleKind::Discount(charge(r, path, f)?),
        "one_time_fee" => RuleKind::OneTimeFee(fee(r)?),
        "one_time_discount" => RuleKind::OneTimeDiscount(fee(r)?),
        "recurring_fee" => {
            let amount = amount_field(r, &format!("{path}.amount"), &f.amount, "An amount");
            let from = required(
                r,
                &format!("{path}.from"),
                &f.from,
                "The first billing period",
            )
            .map(|s| Some(s.to_string()));
            let valid = r.validity(path, &from?, &f.to);
            let currency = currency_field(r, path, &f.currency);
            RuleKind::RecurringFee(RecurringFee {
                amount: amount?,
                valid: valid?,
                currency: currency?,
            })
        }
        other => {
            r.problems.push(FieldError::new(
                format!("{path}.kind"),
                "rule_kind_unknown",
                format!("{other:?} is not a rule kind: markup, markdown, upcharge, discount, one_time_fee, one_time_discount, recurring_fee."),
            ));
            return None;
        }
    })
}

fn charge(r: &mut Reader, path: &str, f: &RuleFile) -> Option<Charge> {
    let scope = r.choice(
        &format!("{path}.scope"),
        &f.scope,
        Scope::Family,
        &[
            ("family", Scope::Family),
            ("sub_account", Scope::SubAccount),
        ],
    );
    let rate = match (&f.percent, &f.tiers) {
        (Some(_), None) => Rate::Percent(percent_field(r, path, f)?),
        (None, Some(t)) => Rate::Tiers(tiers(r, &format!("{path}.tiers"), t)?),
        _ => {
            r.problems.push(FieldError::new(
                path.to_string(),
                "charge_rate",
                "An upcharge or discount has either a percent or tiers.",
            ));
            return None;
        }
    };
    let minimum = f
        .minimum
        .as_ref()
        .map(|_| amount_field(r, &format!("{path}.minimum"), &f.minimum, "A minimum"));
    let maximum = f
        .maximum
        .as_ref()
        .map(|_| amount_field(r, &format!("{path}.maximum"), &f.maximum, "A maximum"));
    let minimum = match minimum {
        Some(v) => Some(v?),
        None => None,
    };
    let maximum = match maximum {
        Some(v) => Some(v?),
        None => None,
    };
    Some(Charge {
        scope: scope?,
        rate,
        minimum,
        maximum,
    })
}

fn tiers(r: &mut Reader, path: &str, t: &TiersFile) -> Option<Tiers> {
    let mode = r.choice(
        &format!("{path}.mode"),
        &t.mode,
        TierMode::Graduated,
        &[
            ("graduated", TierMode::Graduated),
            ("volume", TierMode::Volume),
        ],
    );
    let mut bands = vec![];
    for (k, b) in t.bands.iter().enumerate() {
        let from = r.take(
            &format!("{path}.bands[{k}].from"),
            Amount::parse(&b.from, "from"),
        );
        let percent = r.take(
            &format!("{path}.bands[{k}].percent"),
            Percent::parse(&b.percent, "percent"),
        );
        if let (Some(from), Some(percent)) = (from, percent) {
            bands.push(Band { from, percent });
        }
    }
    Some(Tiers { mode: mode?, bands })
}

fn plan_file(c: &PricingConfig, p: &Plan) -> PlanFile {
    PlanFile {
        name: p.name.to_string(),
        assigned_to: p
            .assigned_to
            .iter()
            .map(|a| {
                let (family, sub_account_id) = match &a.target {
                    AssignmentTarget::Family(id) => {
                        (c.family(*id).map(|f| f.name.to_string()), None)
                    }
                    AssignmentTarget::SubAccount(s) => (None, Some(s.to_string())),
                };
                AssignmentFile {
                    family,
                    sub_account_id,
                    from: Some(a.valid.from.to_string()),
                    to: a.valid.to.map(|t| t.to_string()),
                }
            })
            .collect(),
        rules: p.rules.iter().map(rule_file).collect(),
    }
}

fn rule_file(rule: &Rule) -> RuleFile {
    let mut f = RuleFile {
        name: rule.name.to_string(),
        kind: rule.kind.code().to_string(),
        when: filter_file(&rule.when),
        enabled: (!rule.enabled).then_some(false),
        ..RuleFile::default()
    };
    match &rule.kind {
        RuleKind::Markup { percent } | RuleKind::Markdown { percent } => {
            f.percent = Some(percent.to_string())
        }
        RuleKind::Upcharge(ch) | RuleKind::Discount(ch) => {
            f.scope = Some(match ch.scope {
                Scope::Family => "family".into(),
                Scope::SubAccount => "sub_account".into(),
            });
            match &ch.rate {
                Rate::Percent(p) => f.percent = Some(p.to_string()),
                Rate::Tiers(t) => {
                    f.tiers = Some(TiersFile {
                        mode: Some(match t.mode {
                            TierMode::Graduated => "graduated".into(),
                            TierMode::Volume => "volume".into(),
                        }),
                        bands: t
                            .bands
                            .iter()
                            .map(|b| BandFile {
                                from: b.from.to_string(),
                                percent: b.percent.to_string(),
                            })
                            .collect(),
                    })
                }
            }
            f.minimum = ch.minimum.map(|a| a.to_string());
            f.maximum = ch.maximum.map(|a| a.to_string());
        }
        RuleKind::OneTimeFee(fee) | RuleKind::OneTimeDiscount(fee) => {
            f.amount = Some(fee.amount.to_string());
            f.period = Some(fee.period.to_string());
            f.currency = fee.currency.map(|c| c.to_string());
        }
        RuleKind::RecurringFee(fee) => {
            f.amount = Some(fee.amount.to_string());
            f.from = Some(fee.valid.from.to_string());
            f.to = fee.valid.to.map(|t| t.to_string());
            f.currency = fee.currency.map(|c| c.to_string());
        }
    }
    f
}
