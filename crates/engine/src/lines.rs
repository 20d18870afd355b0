//! New lines (engine.md 2.4): upcharges and discounts per scope entity from the sums of their basis
//! columns, one-time and recurring fees per entity the plan is assigned to. Computed exactly in
//! Rust from a handful of sums; the rows themselves never pass through here.
//!
//! Choices engine.md leaves open (ARCHITECTURE.md records them):
//! - A negative basis charges nothing (a credit does not earn a negative support fee); the minimum
//!   still applies to an entity with matching rows.
//! - With scope `family`, matching rows of a sub-account in no family (its plan assigned to it
//!   directly) make a line for that sub-account.
//! - One line per entity and currency: currencies are never summed together.
//! - A fee's currency: its own, else the currency of the entity's rows in the period, else the
//!   organization's default (also when the rows are in several currencies and none is the default).

use std::collections::BTreeMap;

use be_domain::pricing::{Charge, PeriodConfig, Rate, RuleKind, Scope, TierMode};
use be_domain::{Currency, RuleId};
use datafusion::arrow::datatypes::i256;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::money::Exact;
use crate::schema;
use crate::summary::Group;

/// A line a rule adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLine {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub plan_id: String,
    pub plan_name: String,
    pub family: Option<String>,
    pub family_id: Option<String>,
    pub sub_account_id: Option<String>,
    pub sub_account_name: Option<String>,
    pub currency: String,
    /// FOCUS ChargeFrequency: `One-Time`, `Recurring` or `Usage-Based`.
    pub frequency: String,
    /// The charge (negative for discounts), stored money.
    pub amount: i128,
    /// The basis it was computed from (upcharges and discounts).
    pub basis: Option<Exact>,
}

/// Entity key: (family ID or `None`, sub-account or `None`, currency).
type EntityKey = (Option<String>, Option<String>, String);

struct Entity {
    family: Option<String>,
    sub_name: Option<String>,
    basis: Exact,
}

/// Every new line of the period, in plan and rule order, then by entity.
pub fn new_lines(
    cfg: &PeriodConfig,
    groups: &[Group],
    default_currency: Currency,
) -> Result<Vec<NewLine>> {
    let mut out = Vec::new();
    for plan in &cfg.plans {
        for rule in &plan.rules {
            let base = |family: Option<String>,
                        family_id: Option<String>,
                        sub: Option<String>,
                        sub_name: Option<String>,
                        currency: String| NewLine {
                rule_id: rule.id,
                rule_name: rule.name.to_string(),
                plan_id: plan.id.to_string(),
                plan_name: plan.name.clone(),
                family,
                family_id,
                sub_account_id: sub,
                sub_account_name: sub_name,
                currency,
                frequency: "Usage-Based".into(),
                amount: 0,
                basis: None,
            };
            match &rule.kind {
                RuleKind::Upcharge(ch) | RuleKind::Discount(ch) => {
                    let sign = if matches!(rule.kind, RuleKind::Discount(_)) {
                        -1
                    } else {
                        1
                    };
                    for ((family_id, sub, currency), e) in
                        entities(groups, &schema::basis_column(rule.id), ch.scope)
                    {
                        let amount = charge(ch, e.basis)? * sign;
                        out.push(NewLine {
                            amount,
                            basis: Some(e.basis),
                            ..base(e.family, family_id, sub, e.sub_name, currency)
                        });
                    }
                }
                RuleKind::OneTimeFee(f) | RuleKind::OneTimeDiscount(f) => {
                    let sign = if matches!(rule.kind, RuleKind::OneTimeDiscount(_)) {
                        -1
                    } else {
                        1
                    };
                    for e in fee_entities(cfg, plan, groups, default_currency) {
                        let currency = f.currency.map(|c| c.to_string()).unwrap_or(e.currency);
                        out.push(NewLine {
                            amount: f.amount.to_scaled() * sign,
                            frequency: "One-Time".into(),
                            ..base(e.family, e.family_id, e.sub, e.sub_name, currency)
                        });
                    }
                }
                RuleKind::RecurringFee(f) => {
                    for e in fee_entities(cfg, plan, groups, default_currency) {
                        let currency = f.currency.map(|c| c.to_string()).unwrap_or(e.currency);
                        out.push(NewLine {
                            amount: f.amount.to_scaled(),
                            frequency: "Recurring".into(),
                            ..base(e.family, e.family_id, e.sub, e.sub_name, currency)
                        });
                    }
                }
                RuleKind::Markup { .. } | RuleKind::Markdown { .. } => {}
            }
        }
    }
    Ok(out)
}

/// The scope entities with matching rows, and their basis.
fn entities(groups: &[Group], basis_column: &str, scope: Scope) -> BTreeMap<EntityKey, Entity> {
    let mut out: BTreeMap<EntityKey, Entity> = BTreeMap::new();
    for g in groups.iter().filter(|g| g.rule_id.is_none()) {
        let Some(basis) = g.sums.get(basis_column) else {
            continue;
        };
        let currency = g.currency.clone().unwrap_or_default();
        let by_family = scope == Scope::Family && g.family_id.is_some();
        let key = if by_family {
            (g.family_id.clone(), None, currency)
        } else {
            (g.family_id.clone(), g.sub_account_id.clone(), currency)
        };
        let e = out.entry(key).or_insert(Entity {
            family: g.family.clone(),
            sub_name: if by_family {
                None
            } else {
                g.sub_account_name.clone()
            },
            basis: Exact::ZERO,
        });
        e.basis += *basis;
    }
    out
}

/// The charge on a basis: percent or tiers on the basis (0 when it is negative), then clamped.
fn charge(ch: &Charge, basis: Exact) -> Result<i128> {
    let basis = if basis.is_negative() {
        Exact::ZERO
    } else {
        basis
    };
    let b = basis.scaled().ok_or_else(|| EngineError::Overflow {
        what: format!("the basis {basis}"),
    })?;
    // Numerator over 100 × 10^4: every percent has at most 4 decimal places.
    const DEN: i128 = 1_000_000;
    let numerator = |p: be_domain::Percent| {
        let (n, d) = p.ratio();
        n * (DEN / d)
    };
    let wide = |v: i128| i256::from_i128(v);
    let raw = match &ch.rate {
        Rate::Percent(p) => wide(b).wrapping_mul(wide(numerator(*p))),
        Rate::Tiers(t) => match t.mode {
            TierMode::Volume => {
                let band = t
                    .bands
                    .iter()
                    .rev()
                    .find(|band| band.from.to_scaled() <= b)
                    .or(t.bands.first());
                band.map(|band| wide(b).wrapping_mul(wide(numerator(band.percent))))
                    .unwrap_or(i256::ZERO)
            }
            TierMode::Graduated => t
                .bands
                .iter()
                .enumerate()
                .fold(i256::ZERO, |acc, (i, band)| {
                    let from = band.from.to_scaled();
                    let to = t
                        .bands
                        .get(i + 1)
                        .map(|n| n.from.to_scaled())
                        .unwrap_or(i128::MAX);
                    let part = b.min(to) - from;
                    if part <= 0 {
                        acc
                    } else {
                        acc.wrapping_add(wide(part).wrapping_mul(wide(numerator(band.percent))))
                    }
                }),
        },
    };
    let mut amount =
        crate::money::narrow(crate::money::div_half_even(raw, wide(DEN))).ok_or_else(|| {
            EngineError::Overflow {
                what: "a charge".into(),
            }
        })?;
    if let Some(min) = ch.minimum {
        amount = amount.max(min.to_scaled());
    }
    if let Some(max) = ch.maximum {
        amount = amount.min(max.to_scaled());
    }
    Ok(amount)
}

/// An entity a plan is assigned to, and the currency of its rows.
struct FeeEntity {
    family: Option<String>,
    family_id: Option<String>,
    sub: Option<String>,
    sub_name: Option<String>,
    currency: String,
}

/// Every entity a plan is assigned to in the period.
fn fee_entities(
    cfg: &PeriodConfig,
    plan: &be_domain::pricing::PlanForPeriod,
    groups: &[Group],
    default_currency: Currency,
) -> Vec<FeeEntity> {
    let currency_of = |rows: Vec<&Group>| {
        let mut cs: Vec<String> = rows.iter().filter_map(|g| g.currency.clone()).collect();
        cs.sort();
        cs.dedup();
        match cs.as_slice() {
            [one] => one.clone(),
            _ => default_currency.to_string(),
        }
    };
    let rows = groups.iter().filter(|g| g.rule_id.is_none());
    let mut out = Vec::new();
    for (id, name) in &plan.families {
        let id = id.to_string();
        let currency = currency_of(
            rows.clone()
                .filter(|g| g.family_id.as_deref() == Some(id.as_str()))
                .collect(),
        );
        out.push(FeeEntity {
            family: Some(name.clone()),
            family_id: Some(id),
            sub: None,
            sub_name: None,
            currency,
        });
    }
    for sub in &plan.sub_accounts {
        let mine: Vec<&Group> = rows
            .clone()
            .filter(|g| g.sub_account_id.as_deref() == Some(sub.as_str()))
            .collect();
        let name = mine.iter().find_map(|g| g.sub_account_name.clone());
        let family = cfg.family_of(sub);
        out.push(FeeEntity {
            family: family.map(|f| f.1.clone()),
            family_id: family.map(|f| f.0.to_string()),
            sub: Some(sub.to_string()),
            sub_name: name,
            currency: currency_of(mine),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use be_domain::pricing::{Band, Tiers};
    use be_domain::{Amount, Percent};

    fn money(s: &str) -> Exact {
        Exact::parse(s).expect("money")
    }

    fn tiers(mode: TierMode) -> Charge {
        let band = |from: &str, p: &str| Band {
            from: Amount::parse(from, "from").expect("a"),
            percent: Percent::parse(p, "p").expect("p"),
        };
        Charge {
            scope: Scope::Family,
            rate: Rate::Tiers(Tiers {
                mode,
                bands: vec![band("0", "10"), band("100", "5")],
            }),
            minimum: None,
            maximum: None,
        }
    }

    #[test]
    fn graduated_and_volume_tiers_of_the_worked_example() {
        let fmt = |v: i128| crate::money::format(v);
        assert_eq!(
            fmt(charge(&tiers(TierMode::Graduated), money("239.25")).expect("charge")),
            "16.9625"
        );
        assert_eq!(
            fmt(charge(&tiers(TierMode::Volume), money("239.25")).expect("charge")),
            "11.9625"
        );
        assert_eq!(
            fmt(charge(&tiers(TierMode::Graduated), money("558.25")).expect("charge")),
            "32.9125"
        );
        assert_eq!(
            fmt(charge(&tiers(TierMode::Graduated), money("50")).expect("charge")),
            "5"
        );
    }

    #[test]
    fn minimum_and_maximum_clamp_and_a_negative_basis_charges_nothing() {
        let mut ch = tiers(TierMode::Graduated);
        ch.minimum = Some(Amount::parse("29", "m").expect("a"));
        ch.maximum = Some(Amount::parse("30", "m").expect("a"));
        assert_eq!(
            crate::money::format(charge(&ch, money("-500")).expect("c")),
            "29"
        );
        assert_eq!(
            crate::money::format(charge(&ch, money("100000")).expect("c")),
            "30"
        );
    }
}
