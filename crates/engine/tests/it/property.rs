//! The DataFusion engine against a plain row-by-row reference of engine.md, written here from the
//! page and not from the engine's code: random FOCUS rows (imported from a CSV, so the import is
//! in the loop) and random configurations (every rule kind, tiers, splits, filters on tags and
//! allocation keys, two currencies). Identical rated rows, effects and new lines to the last digit,
//! and the lineage invariant on every row.

use std::collections::BTreeMap;

use be_domain::pricing::{
    Allocation, AllocationEntry, AllocationKey, AssignmentTarget, Band, Charge, CommitmentStrategy,
    Condition, ConditionSet, CreditsStrategy, Family, Fee, Filter, Member, Name, OnDemandBasis,
    Operator, Pattern, PeriodConfig, Plan, PlanAssignment, PricingConfig, Rate, RecurringFee, Rule,
    RuleKind, Scope, Share, StrategySet, SubAccountId, TaxStrategy, TierMode, Tiers, Validity,
};
use be_domain::{AllocationId, Amount, Dimension, FamilyId, Percent, PlanId, RuleId};
use be_engine::{Engine, RateRequest};
use proptest::prelude::*;

use crate::common::*;

/// A rated row by (source row, split path).
type RowsByKey<'a> = BTreeMap<(i64, Option<String>), &'a BTreeMap<String, Option<String>>>;
/// A new line: rule, family, sub-account, currency, amount.
type LineKey = (String, Option<String>, Option<String>, String, i128);

/// splitmix64: a small deterministic generator driven by the case's seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// Money in millionths, scaled to 24 places.
    fn money(&mut self, lo: i64, hi: i64) -> i128 {
        let span = (hi - lo) as u64;
        i128::from(lo + (self.next() % span) as i64) * 1_000_000_000_000_000_000
    }
}

const SUBS: [&str; 6] = ["s1", "s2", "s3", "s4", "s5", "s6"];
const SERVICES: [&str; 4] = ["Virtual Machines", "Storage", "SQL Database", ""];
const REGIONS: [&str; 3] = ["westeurope", "eastus", ""];
const TEAMS: [&str; 3] = ["a", "b", ""];

#[derive(Debug, Clone)]
pub(crate) struct Row {
    sub: &'static str,
    service: &'static str,
    region: &'static str,
    team: &'static str,
    category: &'static str,
    status: &'static str,
    cd_id: &'static str,
    currency: &'static str,
    billed: i128,
    effective: i128,
    list: i128,
    contracted: i128,
    quantity: Option<i128>,
}

pub(crate) fn rows(r: &mut Rng) -> Vec<Row> {
    let n = 1 + r.below(40);
    (0..n)
        .map(|_| {
            let category = *r.pick(&[
                "Usage",
                "Usage",
                "Usage",
                "Purchase",
                "Credit",
                "Tax",
                "Adjustment",
            ]);
            let status = if category == "Usage" {
                *r.pick(&["", "", "Used", "Unused"])
            } else {
                ""
            };
            Row {
                sub: SUBS[r.below(SUBS.len())],
                service: SERVICES[r.below(SERVICES.len())],
                region: REGIONS[r.below(REGIONS.len())],
                team: TEAMS[r.below(TEAMS.len())],
                category,
                status,
                cd_id: if !status.is_empty() || (category == "Purchase" && r.chance(50)) {
                    "ri-1"
                } else {
                    ""
                },
                currency: if r.chance(80) { "USD" } else { "EUR" },
                billed: r.money(-50_000_000, 900_000_000),
                effective: r.money(-50_000_000, 900_000_000),
                list: r.money(0, 990_000_000),
                contracted: r.money(0, 990_000_000),
                quantity: r.chance(70).then(|| r.money(0, 500_000_000)),
            }
        })
        .collect()
}

fn fmt6(v: i128) -> String {
    be_engine::money::format(v)
}

pub(crate) fn write_csv(rows: &[Row], path: &std::path::Path) {
    let mut w = csv::Writer::from_path(path).expect("csv");
    w.write_record([
        "BillingAccountId",
        "BillingCurrency",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargeCategory",
        "SubAccountId",
        "SubAccountName",
        "ServiceName",
        "RegionId",
        "CommitmentDiscountId",
        "CommitmentDiscountStatus",
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
        "ConsumedQuantity",
        "Tags",
    ])
    .expect("header");
    for r in rows {
        let tags = if r.team.is_empty() {
            "{}".to_string()
        } else {
            format!("{{\"team\":\"{}\",\"env\":\"x\"}}", r.team)
        };
        let q = r.quantity.map(fmt6).unwrap_or_default();
        w.write_record([
            "ba-1",
            r.currency,
            "2026-10-01T00:00:00Z",
            "2026-11-01T00:00:00Z",
            r.category,
            r.sub,
            &format!("Name {}", r.sub),
            r.service,
            r.region,
            r.cd_id,
            r.status,
            &fmt6(r.billed),
            &fmt6(r.effective),
            &fmt6(r.list),
            &fmt6(r.contracted),
            &q,
            &tags,
        ])
        .expect("row");
    }
    w.flush().expect("flush");
}

fn name(s: &str) -> Name {
    Name::parse(s, "name").expect("name")
}

fn pct(bp: u32) -> Percent {
    // bp in ten-thousandths of a percent.
    Percent::parse(&format!("{}.{:04}", bp / 10_000, bp % 10_000), "p").expect("percent")
}

fn condition(r: &mut Rng, keys: &[String]) -> Condition {
    let mut dims = vec![
        Dimension::Focus("ServiceName".into()),
        Dimension::Focus("RegionId".into()),
        Dimension::Tag("team".into()),
        Dimension::Family,
    ];
    dims.extend(keys.iter().map(|k| Dimension::Allocation(k.clone())));
    let dimension = r.pick(&dims).clone();
    let pool: Vec<&str> = match &dimension {
        Dimension::Focus(c) if c == "ServiceName" => SERVICES.to_vec(),
        Dimension::Focus(_) => REGIONS.to_vec(),
        Dimension::Tag(_) => TEAMS.to_vec(),
        Dimension::Family => vec!["F1", "F2"],
        _ => vec!["v0", "v1", "v2"],
    };
    let one = |r: &mut Rng| r.pick(&pool).to_string();
    let op = match r.below(9) {
        0 => Operator::Equals(one(r)),
        1 => Operator::NotEquals(one(r)),
        2 => Operator::In(vec![one(r), one(r)]),
        3 => Operator::NotIn(vec![one(r)]),
        4 => Operator::StartsWith(one(r).chars().take(3).collect()),
        5 => Operator::Contains(one(r).chars().skip(1).take(2).collect()),
        6 => Operator::Matches(
            Pattern::parse(["^V", "a$", "(?i)sql", "e.*t", "[0-9]"][r.below(5)], "v").expect("re"),
        ),
        7 => Operator::Exists,
        _ => Operator::NotExists,
    };
    Condition { dimension, op }
}

pub(crate) fn filter(r: &mut Rng, keys: &[String], allow_empty: bool) -> Filter {
    if allow_empty && r.chance(35) {
        return Filter::all();
    }
    Filter(
        (0..1 + r.below(2))
            .map(|_| ConditionSet((0..1 + r.below(2)).map(|_| condition(r, keys)).collect()))
            .collect(),
    )
}

/// Percents (in ten-thousandths) of `n` shares summing to exactly 100.
fn split(r: &mut Rng, n: usize) -> Vec<u32> {
    let mut left = 1_000_000u32;
    let mut out = Vec::new();
    for i in 0..n {
        let v = if i + 1 == n {
            left
        } else {
            1 + (r.next() % u64::from(left - (n - i - 1) as u32)) as u32
        };
        out.push(v);
        left -= v;
    }
    out
}

fn amount(r: &mut Rng) -> Amount {
    Amount::parse(&format!("{}.{:02}", r.below(300), r.below(100)), "a").expect("amount")
}

fn charge(r: &mut Rng) -> Charge {
    let rate = if r.chance(50) {
        Rate::Percent(pct(1 + (r.next() % 300_000) as u32))
    } else {
        let mode = if r.chance(50) {
            TierMode::Graduated
        } else {
            TierMode::Volume
        };
        let mut from = 0i64;
        let bands = (0..1 + r.below(3))
            .map(|i| {
                if i > 0 {
                    from += 1 + r.below(2000) as i64;
                }
                Band {
                    from: Amount::parse(&from.to_string(), "f").expect("from"),
                    percent: pct((r.next() % 200_000) as u32),
                }
            })
            .collect();
        Rate::Tiers(Tiers { mode, bands })
    };
    let minimum = r.chance(30).then(|| amount(r));
    let maximum = r
        .chance(30)
        .then(|| Amount::parse(&format!("{}", 300 + r.below(2000)), "m").expect("max"));
    Charge {
        scope: if r.chance(50) {
            Scope::Family
        } else {
            Scope::SubAccount
        },
        rate,
        minimum,
        maximum,
    }
}

fn rule(r: &mut Rng, i: usize, keys: &[String]) -> Rule {
    let p = period("2026-10");
    let kind = match r.below(7) {
        0 => RuleKind::Markup {
            percent: pct(1 + (r.next() % 500_000) as u32),
        },
        1 => RuleKind::Markdown {
            percent: pct(1 + (r.next() % 500_000) as u32),
        },
        2 => RuleKind::Upcharge(charge(r)),
        3 => RuleKind::Discount(charge(r)),
        4 => RuleKind::OneTimeFee(Fee {
            amount: amount(r),
            period: if r.chance(70) { p } else { period("2026-09") },
            currency: None,
        }),
        5 => RuleKind::OneTimeDiscount(Fee {
            amount: amount(r),
            period: p,
            currency: r.chance(30).then(usd),
        }),
        _ => RuleKind::RecurringFee(RecurringFee {
            amount: amount(r),
            valid: Validity {
                from: period("2026-01"),
                to: None,
            },
            currency: None,
        }),
    };
    Rule {
        id: RuleId::new(),
        name: name(&format!("rule {i}")),
        kind,
        when: filter(r, keys, true),
        enabled: r.chance(90),
    }
}

pub(crate) fn config(r: &mut Rng) -> PricingConfig {
    let from = period("2026-01");
    let strategies = if r.chance(70) {
        vec![StrategySet {
            from,
            credits: if r.chance(50) {
                CreditsStrategy::Hide
            } else {
                CreditsStrategy::Show
            },
            commitments: if r.chance(50) {
                CommitmentStrategy::Unshared
            } else {
                CommitmentStrategy::Shared
            },
            on_demand_basis: if r.chance(50) {
                OnDemandBasis::List
            } else {
                OnDemandBasis::Contracted
            },
            taxes: if r.chance(50) {
                TaxStrategy::Remove
            } else {
                TaxStrategy::Keep
            },
        }]
    } else {
        vec![]
    };
    let mut families: Vec<Family> = ["F1", "F2"]
        .iter()
        .map(|n| Family {
            id: FamilyId::new(),
            name: name(n),
            members: vec![],
        })
        .collect();
    for s in SUBS {
        let which = r.below(3);
        if which < 2 {
            families[which].members.push(Member {
                sub_account_id: SubAccountId::parse(s).expect("sub"),
                valid: Validity::from(from),
            });
        }
    }
    let mut keys: Vec<String> = vec![];
    let mut allocations = vec![];
    for k in 0..r.below(3) {
        let key = format!("K{k}");
        let entries = (0..1 + r.below(3))
            .map(|_| {
                let n = if r.chance(50) { 1 } else { 2 + r.below(2) };
                let values = split(r, n)
                    .into_iter()
                    .enumerate()
                    .map(|(i, bp)| Share {
                        value: format!("v{i}"),
                        percent: pct(bp),
                    })
                    .collect();
                AllocationEntry {
                    when: filter(r, &keys, false),
                    values,
                }
            })
            .collect();
        allocations.push(Allocation {
            id: AllocationId::new(),
            key: AllocationKey::parse(&key).expect("key"),
            entries,
        });
        keys.push(key);
    }
    let assign = |target| PlanAssignment {
        target,
        valid: Validity::from(from),
    };
    let mut p1 = Plan {
        id: PlanId::new(),
        name: name("P1"),
        assigned_to: vec![assign(AssignmentTarget::Family(families[0].id))],
        rules: vec![],
    };
    let mut p2 = Plan {
        id: PlanId::new(),
        name: name("P2"),
        assigned_to: vec![],
        rules: vec![],
    };
    if r.chance(60) {
        p2.assigned_to
            .push(assign(AssignmentTarget::Family(families[1].id)));
    }
    let own = *r.pick(&SUBS);
    p2.assigned_to.push(assign(AssignmentTarget::SubAccount(
        SubAccountId::parse(own).expect("sub"),
    )));
    let mut i = 0;
    for plan in [&mut p1, &mut p2] {
        for _ in 0..1 + r.below(4) {
            plan.rules.push(rule(r, i, &keys));
            i += 1;
        }
    }
    PricingConfig {
        strategies,
        families,
        allocations,
        plans: vec![p1, p2],
    }
    .validated()
    .expect("the generator makes valid configurations")
}

// ---------------------------------------------------------------------------------------------
// The reference: engine.md, row by row.

fn half_even_div(n: i128, d: i128) -> i128 {
    let (q, rem) = (n / d, n % d);
    let twice = 2 * rem.abs();
    let up = twice > d || (twice == d && q % 2 != 0);
    if !up {
        q
    } else if n < 0 {
        q - 1
    } else {
        q + 1
    }
}

fn times(x: i128, p: Percent, negate: bool) -> i128 {
    let (num, den) = p.ratio();
    half_even_div(x * if negate { -num } else { num }, den)
}

#[derive(Debug, Clone, PartialEq)]
struct Rated {
    key: (i64, Option<String>),
    family: Option<String>,
    plan: Option<String>,
    keys: BTreeMap<String, Option<String>>,
    provider: i128,
    billed: i128,
    effective: i128,
    list: i128,
    quantity: Option<i128>,
    effects: BTreeMap<String, Option<i128>>,
}

struct Line {
    rule: String,
    family: Option<String>,
    sub: Option<String>,
    currency: String,
    amount: i128,
}

fn value_of<'a>(row: &'a Row, rated: &'a Rated, d: &Dimension) -> Option<&'a str> {
    let v: Option<&str> = match d {
        Dimension::Focus(c) if c == "ServiceName" => Some(row.service),
        Dimension::Focus(c) if c == "RegionId" => Some(row.region),
        Dimension::Focus(c) if c == "SubAccountId" => Some(row.sub),
        Dimension::Tag(_) => Some(row.team),
        Dimension::Family => rated.family.as_deref(),
        Dimension::Allocation(k) => rated.keys.get(k).and_then(|v| v.as_deref()),
        other => panic!("the generator does not use {other:?}"),
    };
    v.filter(|s| !s.is_empty())
}

fn reference(rows: &[Row], cfg: &PeriodConfig) -> (Vec<Rated>, Vec<Line>) {
    let s = cfg.strategy;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let sub = SubAccountId::parse(row.sub).expect("sub");
        let mut effects: BTreeMap<String, Option<i128>> =
            ["x_Effect_credits", "x_Effect_commitments", "x_Effect_taxes"]
                .iter()
                .map(|c| (c.to_string(), None))
                .collect();
        let (mut billed, mut effective) = (row.billed, row.effective);
        let unshared = s.commitments == CommitmentStrategy::Unshared;
        let basis = match s.on_demand_basis {
            OnDemandBasis::Contracted => row.contracted,
            OnDemandBasis::List => row.list,
        };
        if s.credits == CreditsStrategy::Hide && row.category == "Credit" {
            effects.insert("x_Effect_credits".into(), Some(-row.billed));
            (billed, effective) = (0, 0);
        } else if s.taxes == TaxStrategy::Remove && row.category == "Tax" {
            effects.insert("x_Effect_taxes".into(), Some(-row.billed));
            (billed, effective) = (0, 0);
        } else if unshared && row.category == "Usage" && row.status == "Used" {
            effects.insert("x_Effect_commitments".into(), Some(basis - row.billed));
            (billed, effective) = (basis, basis);
        } else if unshared
            && ((row.category == "Purchase" && !row.cd_id.is_empty())
                || (row.category == "Usage" && row.status == "Unused"))
        {
            effects.insert("x_Effect_commitments".into(), Some(-row.billed));
            (billed, effective) = (0, 0);
        }
        out.push(Rated {
            key: (i as i64, None),
            family: cfg.family_of(&sub).map(|f| f.1.clone()),
            plan: cfg.plan_of(&sub).map(|p| p.to_string()),
            keys: BTreeMap::new(),
            provider: row.billed,
            billed,
            effective,
            list: row.list,
            quantity: row.quantity,
            effects,
        });
    }
    for a in &cfg.allocations {
        let mut next = Vec::new();
        for rated in out {
            let row = &rows[rated.key.0 as usize];
            let entry = a
                .entries
                .iter()
                .position(|e| e.when.matches(|d| value_of(row, &rated, d)));
            let Some(j) = entry else {
                let mut r = rated;
                r.keys.insert(a.key.to_string(), None);
                next.push(r);
                continue;
            };
            let e = &a.entries[j];
            if e.values.len() == 1 {
                let mut r = rated;
                r.keys
                    .insert(a.key.to_string(), Some(e.values[0].value.clone()));
                next.push(r);
                continue;
            }
            let n = e.values.len();
            let share = |x: i128, o: usize| -> i128 {
                if o + 1 < n {
                    times(x, e.values[o].percent, false)
                } else {
                    x - (0..n - 1)
                        .map(|k| times(x, e.values[k].percent, false))
                        .sum::<i128>()
                }
            };
            for (o, sv) in e.values.iter().enumerate() {
                let mut r = rated.clone();
                r.keys.insert(a.key.to_string(), Some(sv.value.clone()));
                r.provider = share(rated.provider, o);
                r.effective = share(rated.effective, o);
                r.list = share(rated.list, o);
                r.quantity = rated.quantity.map(|q| share(q, o));
                for v in r.effects.values_mut() {
                    *v = v.map(|x| share(x, o));
                }
                r.billed = r.provider + r.effects.values().flatten().sum::<i128>();
                let seg = format!("{}:{j}:{o}", a.key);
                r.key.1 = Some(match &rated.key.1 {
                    Some(p) => format!("{p},{seg}"),
                    None => seg,
                });
                next.push(r);
            }
        }
        out = next;
    }
    let mut lines = Vec::new();
    for plan in &cfg.plans {
        for rule in &plan.rules {
            let col = format!("x_Effect_{}", rule.id.as_uuid().simple());
            let mut bases: BTreeMap<(Option<String>, Option<String>, String), i128> =
                BTreeMap::new();
            for rated in &mut out {
                let row = &rows[rated.key.0 as usize];
                let applies = rated.plan.as_deref() == Some(plan.id.to_string().as_str())
                    && rule.when.matches(|d| value_of(row, rated, d));
                let mut effect = None;
                match &rule.kind {
                    RuleKind::Markup { percent } | RuleKind::Markdown { percent } if applies => {
                        let down = matches!(rule.kind, RuleKind::Markdown { .. });
                        let e = times(rated.billed, *percent, down);
                        rated.billed += e;
                        rated.effective += times(rated.effective, *percent, down);
                        effect = Some(e);
                    }
                    RuleKind::Upcharge(ch) | RuleKind::Discount(ch) if applies => {
                        let by_family = ch.scope == Scope::Family && rated.family.is_some();
                        let key = (
                            rated.family.clone(),
                            if by_family {
                                None
                            } else {
                                Some(row.sub.to_string())
                            },
                            row.currency.to_string(),
                        );
                        *bases.entry(key).or_default() += rated.billed;
                    }
                    _ => {}
                }
                rated.effects.insert(col.clone(), effect);
            }
            match &rule.kind {
                RuleKind::Upcharge(ch) | RuleKind::Discount(ch) => {
                    let sign = if matches!(rule.kind, RuleKind::Discount(_)) {
                        -1
                    } else {
                        1
                    };
                    for ((family, sub, currency), basis) in bases {
                        lines.push(Line {
                            rule: rule.name.to_string(),
                            family,
                            sub,
                            currency,
                            amount: sign * reference_charge(ch, basis),
                        });
                    }
                }
                RuleKind::OneTimeFee(f) | RuleKind::OneTimeDiscount(f) => {
                    let sign = if matches!(rule.kind, RuleKind::OneTimeDiscount(_)) {
                        -1
                    } else {
                        1
                    };
                    fee_lines(
                        rows,
                        cfg,
                        plan,
                        rule,
                        f.amount.to_scaled() * sign,
                        f.currency,
                        &mut lines,
                    );
                }
                RuleKind::RecurringFee(f) => fee_lines(
                    rows,
                    cfg,
                    plan,
                    rule,
                    f.amount.to_scaled(),
                    f.currency,
                    &mut lines,
                ),
                _ => {}
            }
        }
    }
    (out, lines)
}

fn reference_charge(ch: &Charge, basis: i128) -> i128 {
    let b = basis.max(0);
    let part = |x: i128, p: Percent| {
        let (num, den) = p.ratio();
        x * num * (1_000_000 / den)
    };
    let raw = match &ch.rate {
        Rate::Percent(p) => part(b, *p),
        Rate::Tiers(t) => match t.mode {
            TierMode::Volume => t
                .bands
                .iter()
                .rev()
                .find(|band| band.from.to_scaled() <= b)
                .map(|band| part(b, band.percent))
                .unwrap_or(0),
            TierMode::Graduated => (0..t.bands.len())
                .map(|i| {
                    let lo = t.bands[i].from.to_scaled();
                    let hi = t
                        .bands
                        .get(i + 1)
                        .map(|n| n.from.to_scaled())
                        .unwrap_or(i128::MAX);
                    part((b.min(hi) - lo).max(0), t.bands[i].percent)
                })
                .sum(),
        },
    };
    let mut v = half_even_div(raw, 1_000_000);
    if let Some(m) = ch.minimum {
        v = v.max(m.to_scaled());
    }
    if let Some(m) = ch.maximum {
        v = v.min(m.to_scaled());
    }
    v
}

fn fee_lines(
    rows: &[Row],
    cfg: &PeriodConfig,
    plan: &be_domain::pricing::PlanForPeriod,
    rule: &Rule,
    amount: i128,
    currency: Option<be_domain::Currency>,
    out: &mut Vec<Line>,
) {
    let currency_of = |pick: &dyn Fn(&Row) -> bool| {
        let mut cs: Vec<&str> = rows
            .iter()
            .filter(|r| pick(r))
            .map(|r| r.currency)
            .collect();
        cs.sort();
        cs.dedup();
        let rows_currency = if cs.len() == 1 {
            cs[0].to_string()
        } else {
            "USD".to_string()
        };
        currency.map(|c| c.to_string()).unwrap_or(rows_currency)
    };
    for (id, fname) in &plan.families {
        let c = currency_of(&|r: &Row| {
            cfg.family_of(&SubAccountId::parse(r.sub).expect("sub"))
                .map(|f| f.0)
                == Some(*id)
        });
        out.push(Line {
            rule: rule.name.to_string(),
            family: Some(fname.clone()),
            sub: None,
            currency: c,
            amount,
        });
    }
    for sub in &plan.sub_accounts {
        let c = currency_of(&|r: &Row| r.sub == sub.as_str());
        out.push(Line {
            rule: rule.name.to_string(),
            family: cfg.family_of(sub).map(|f| f.1.clone()),
            sub: Some(sub.to_string()),
            currency: c,
            amount,
        });
    }
}

// ---------------------------------------------------------------------------------------------

fn parse_money(v: &Option<String>) -> Option<i128> {
    v.as_deref()
        .map(|s| be_engine::money::parse(s).unwrap_or_else(|| panic!("{s}")))
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let mut r = Rng(seed);
    let rows = rows(&mut r);
    let config = config(&mut r);
    let cfg = config.for_period(period("2026-10"));
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("rows.csv");
    write_csv(&rows, &csv);
    let sources = import(&csv, dir.path(), SOURCE);
    let req = RateRequest {
        period: period("2026-10"),
        config: cfg.clone(),
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        default_currency: usd(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let out = dir.path().join("rated");
    let m = rt
        .block_on(Engine::new(2).expect("engine").rate(req, out.clone()))
        .map_err(|e| TestCaseError::fail(format!("rating failed: {e}")))?;
    let got = rated_rows(&out, &m.files);
    let (expected, lines) = reference(&rows, &cfg);

    let (got_rows, got_lines): (Vec<_>, Vec<_>) =
        got.into_iter().partition(|g| g["x_RuleId"].is_none());
    prop_assert_eq!(got_rows.len(), expected.len(), "rated row count");
    let by_key: RowsByKey = got_rows
        .iter()
        .map(|g| {
            (
                (
                    g["x_SourceRowId"]
                        .as_deref()
                        .expect("row id")
                        .parse::<i64>()
                        .expect("int"),
                    g["x_SplitPath"].clone(),
                ),
                g,
            )
        })
        .collect();
    for e in &expected {
        let g = by_key
            .get(&e.key)
            .ok_or_else(|| TestCaseError::fail(format!("no rated row {:?}", e.key)))?;
        let ctx = format!("row {:?}", e.key);
        prop_assert_eq!(
            parse_money(&g["ProviderCost"]),
            Some(e.provider),
            "{} ProviderCost",
            ctx
        );
        prop_assert_eq!(
            parse_money(&g["BilledCost"]),
            Some(e.billed),
            "{} BilledCost",
            ctx
        );
        prop_assert_eq!(
            parse_money(&g["EffectiveCost"]),
            Some(e.effective),
            "{} EffectiveCost",
            ctx
        );
        prop_assert_eq!(
            parse_money(&g["ListCost"]),
            Some(e.list),
            "{} ListCost",
            ctx
        );
        prop_assert_eq!(
            parse_money(&g["ConsumedQuantity"]),
            e.quantity,
            "{} ConsumedQuantity",
            ctx
        );
        prop_assert_eq!(&g["BillingFamilyName"], &e.family, "{} family", ctx);
        prop_assert_eq!(&g["x_PlanId"], &e.plan, "{} plan", ctx);
        for (k, v) in &e.keys {
            prop_assert_eq!(&g[k], v, "{} allocation {}", ctx, k);
        }
        for (col, v) in &e.effects {
            prop_assert_eq!(parse_money(&g[col]), *v, "{} effect {}", ctx, col);
        }
        let sum: i128 = m
            .stages
            .iter()
            .filter_map(|s| parse_money(&g[&s.column]))
            .sum();
        prop_assert_eq!(
            parse_money(&g["ProviderCost"]).expect("provider") + sum,
            parse_money(&g["BilledCost"]).expect("billed"),
            "{} lineage",
            ctx
        );
    }
    let mut want: Vec<LineKey> = lines
        .into_iter()
        .map(|l| (l.rule, l.family, l.sub, l.currency, l.amount))
        .collect();
    let mut have: Vec<LineKey> = got_lines
        .iter()
        .map(|g| {
            (
                g["ChargeDescription"].clone().expect("name"),
                g["BillingFamilyName"].clone(),
                g["SubAccountId"].clone(),
                g["BillingCurrency"].clone().expect("currency"),
                parse_money(&g["BilledCost"]).expect("amount"),
            )
        })
        .collect();
    want.sort();
    have.sort();
    prop_assert_eq!(have, want, "new lines");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_matches_the_reference(seed in any::<u64>()) {
        check(seed)?;
    }
}

#[test]
fn fixed_seeds_cover_every_rule_kind() {
    // A regression anchor: these seeds are checked on every run, whatever proptest draws.
    for seed in [1, 2, 3, 42, 7_777, 123_456_789] {
        check(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}
