//! Whole-configuration checks: uniqueness, cross-references, overlaps, ranges. Each problem names
//! the path of the value at fault (`plans[1].rules[0].tiers.bands[1].from`).

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;

use super::{
    Allocation, AllocationEntry, AssignmentTarget, Charge, Filter, Operator, Plan, PricingConfig,
    Rate, Rule, RuleKind, Validity,
};
use crate::{Amount, Dimension, FieldError, Percent};

type Problems = Vec<FieldError>;

pub(super) fn problems(c: &PricingConfig) -> Problems {
    let mut out = Problems::new();
    strategies(c, &mut out);
    families(c, &mut out);
    allocations(c, &mut out);
    plans(c, &mut out);
    out
}

fn err(path: String, code: &'static str, message: impl std::fmt::Display) -> FieldError {
    FieldError::new(path, code, message)
}

fn strategies(c: &PricingConfig, out: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (i, s) in c.strategies.iter().enumerate() {
        if !seen.insert(s.from) {
            out.push(err(
                format!("strategies[{i}].from"),
                "strategy_duplicate",
                format!("Two strategy sets start in {}; keep one.", s.from),
            ));
        }
    }
}

fn validity(v: &Validity, path: &str, out: &mut Problems) {
    if let Some(to) = v.to
        && to < v.from
    {
        out.push(err(
            format!("{path}.to"),
            "period_range_invalid",
            format!("The last period {to} is before the first {}.", v.from),
        ));
    }
}

fn unique_names<'a>(
    names: impl Iterator<Item = (String, &'a str)>,
    what: &str,
    code: &'static str,
    out: &mut Problems,
) {
    let mut seen = HashMap::new();
    for (path, name) in names {
        if let Some(first) = seen.insert(name.to_lowercase(), path.clone()) {
            out.push(err(path, code, format!("Another {what} is already named {name:?} ({first}); names are unique, ignoring case.")));
        }
    }
}

fn families(c: &PricingConfig, out: &mut Problems) {
    unique_names(
        c.families
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("families[{i}].name"), f.name.as_str())),
        "family",
        "family_name_taken",
        out,
    );
    let mut memberships: HashMap<&str, Vec<(&Validity, &str, String)>> = HashMap::new();
    for (i, f) in c.families.iter().enumerate() {
        for (j, m) in f.members.iter().enumerate() {
            let path = format!("families[{i}].members[{j}]");
            validity(&m.valid, &path, out);
            let entries = memberships.entry(m.sub_account_id.as_str()).or_default();
            if let Some((_, other, _)) = entries.iter().find(|(v, _, _)| v.overlaps(&m.valid)) {
                out.push(err(
                    format!("{path}.sub_account_id"),
                    "sub_account_in_two_families",
                    format!(
                        "Sub-account {} is already in family {other:?} for part of this time; a sub-account belongs to one family per billing period (end the other membership first).",
                        m.sub_account_id
                    ),
                ));
            }
            entries.push((&m.valid, f.name.as_str(), path));
        }
    }
}

fn allocations(c: &PricingConfig, out: &mut Problems) {
    let mut keys: Vec<&str> = Vec::new();
    for (i, a) in c.allocations.iter().enumerate() {
        let path = format!("allocations[{i}]");
        if keys.iter().any(|k| k.eq_ignore_ascii_case(a.key.as_str())) {
            out.push(err(
                format!("{path}.key"),
                "allocation_key_taken",
                format!("Another allocation already sets {}.", a.key),
            ));
        }
        allocation(a, &path, &keys, out);
        keys.push(a.key.as_str());
    }
}

fn allocation(a: &Allocation, path: &str, earlier_keys: &[&str], out: &mut Problems) {
    if a.entries.is_empty() {
        out.push(err(
            format!("{path}.entries"),
            "allocation_empty",
            "An allocation needs at least one entry.",
        ));
    }
    for (j, e) in a.entries.iter().enumerate() {
        let epath = format!("{path}.entries[{j}]");
        filter(
            &e.when,
            &format!("{epath}.when"),
            earlier_keys,
            Some(a.key.as_str()),
            out,
        );
        shares(e, &epath, out);
    }
}

fn shares(e: &AllocationEntry, path: &str, out: &mut Problems) {
    if e.values.is_empty() {
        out.push(err(
            format!("{path}.values"),
            "allocation_values_empty",
            "An entry gives at least one value.",
        ));
        return;
    }
    let mut seen = BTreeSet::new();
    for (k, s) in e.values.iter().enumerate() {
        let vpath = format!("{path}.values[{k}]");
        let v = s.value.trim();
        if v.is_empty() || v.chars().count() > 200 || v.chars().any(super::names::is_deceptive) {
            out.push(err(
                format!("{vpath}.value"),
                "allocation_value_invalid",
                "A value is 1 to 200 visible characters.",
            ));
        }
        if !seen.insert(v) {
            out.push(err(
                format!("{vpath}.value"),
                "allocation_value_repeated",
                format!("{v:?} appears twice in this entry."),
            ));
        }
        if s.percent.as_decimal() <= Decimal::ZERO || s.percent.as_decimal() > Decimal::ONE_HUNDRED
        {
            out.push(err(
                format!("{vpath}.percent"),
                "percent_out_of_range",
                format!(
                    "A share is more than 0 and at most 100 %; got {}.",
                    s.percent
                ),
            ));
        }
    }
    let sum: Decimal = e.values.iter().map(|s| s.percent.as_decimal()).sum();
    if sum != Decimal::ONE_HUNDRED {
        out.push(err(
            format!("{path}.values"),
            "allocation_split_sum",
            format!(
                "The shares of a split must sum to exactly 100; these sum to {}.",
                sum.normalize()
            ),
        ));
    }
}

/// `allocation_keys`: the keys a condition may name here; `own_key`: the assignment being defined
/// (it cannot read itself).
fn filter(
    f: &Filter,
    path: &str,
    allocation_keys: &[&str],
    own_key: Option<&str>,
    out: &mut Problems,
) {
    for (i, set) in f.0.iter().enumerate() {
        if set.0.is_empty() {
            out.push(err(
                format!("{path}[{i}]"),
                "condition_set_empty",
                "A condition set needs at least one condition.",
            ));
        }
        for (j, cond) in set.0.iter().enumerate() {
            let cpath = format!("{path}[{i}][{j}]");
            if let Dimension::Allocation(k) = &cond.dimension
                && (!allocation_keys.contains(&k.as_str()) || own_key == Some(k.as_str()))
            {
                out.push(err(
                    format!("{cpath}.dimension"),
                    "dimension_unknown",
                    format!("{k} is not set by an allocation before this point."),
                ));
            }
            if let Operator::In(vs) | Operator::NotIn(vs) = &cond.op
                && vs.is_empty()
            {
                out.push(err(
                    format!("{cpath}.values"),
                    "condition_values_empty",
                    "in and not_in need at least one value.",
                ));
            }
        }
    }
}

fn plans(c: &PricingConfig, out: &mut Problems) {
    unique_names(
        c.plans
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("plans[{i}].name"), p.name.as_str())),
        "plan",
        "plan_name_taken",
        out,
    );
    let keys: Vec<&str> = c.allocations.iter().map(|a| a.key.as_str()).collect();
    let mut assigned: HashMap<AssignmentTarget, Vec<(Validity, String)>> = HashMap::new();
    for (i, p) in c.plans.iter().enumerate() {
        let path = format!("plans[{i}]");
        assignments(c, p, &path, &mut assigned, out);
        unique_names(
            p.rules
                .iter()
                .enumerate()
                .map(|(j, r)| (format!("{path}.rules[{j}].name"), r.name.as_str())),
            "rule of this plan",
            "rule_name_taken",
            out,
        );
        for (j, r) in p.rules.iter().enumerate() {
            rule(r, &format!("{path}.rules[{j}]"), &keys, out);
        }
    }
}

fn assignments(
    c: &PricingConfig,
    p: &Plan,
    path: &str,
    seen: &mut HashMap<AssignmentTarget, Vec<(Validity, String)>>,
    out: &mut Problems,
) {
    for (j, a) in p.assigned_to.iter().enumerate() {
        let apath = format!("{path}.assigned_to[{j}]");
        validity(&a.valid, &apath, out);
        let target = match &a.target {
            AssignmentTarget::Family(id) => match c.family(*id) {
                Some(f) => format!("family {:?}", f.name.as_str()),
                None => {
                    out.push(err(
                        format!("{apath}.family"),
                        "family_not_found",
                        "The plan is assigned to a family that does not exist.",
                    ));
                    continue;
                }
            },
            AssignmentTarget::SubAccount(s) => format!("sub-account {s}"),
        };
        let entries = seen.entry(a.target.clone()).or_default();
        if let Some((_, other)) = entries.iter().find(|(v, _)| v.overlaps(&a.valid)) {
            out.push(err(
                apath.clone(),
                "plan_assignment_overlap",
                format!("{target} already has plan {other:?} for part of this time; one plan applies per billing period (end the other assignment first)."),
            ));
        }
        entries.push((a.valid, p.name.to_string()));
    }
}

fn percent(p: Percent, max: u32, path: String, out: &mut Problems) {
    let v = p.as_decimal();
    if v <= Decimal::ZERO || v > Decimal::from(max) {
        out.push(err(
            path,
            "percent_out_of_range",
            format!("This percentage is more than 0 and at most {max}; got {p}."),
        ));
    }
}

fn rule(r: &Rule, path: &str, keys: &[&str], out: &mut Problems) {
    filter(&r.when, &format!("{path}.when"), keys, None, out);
    match &r.kind {
        RuleKind::Markup { percent: p } => percent(*p, 1000, format!("{path}.percent"), out),
        RuleKind::Markdown { percent: p } => percent(*p, 100, format!("{path}.percent"), out),
        RuleKind::Upcharge(ch) => charge(ch, 1000, path, out),
        RuleKind::Discount(ch) => charge(ch, 100, path, out),
        RuleKind::OneTimeFee(f) | RuleKind::OneTimeDiscount(f) => {
            amount(f.amount, f.currency, &format!("{path}.amount"), out)
        }
        RuleKind::RecurringFee(f) => {
            amount(f.amount, f.currency, &format!("{path}.amount"), out);
            validity(&f.valid, path, out);
        }
    }
}

fn amount(a: Amount, currency: Option<crate::Currency>, path: &str, out: &mut Problems) {
    if a.is_negative() || a.is_zero() {
        out.push(err(
            path.to_string(),
            "amount_not_positive",
            format!(
                "The amount is more than 0 (a discount is written as a positive amount); got {a}."
            ),
        ));
    }
    if let Some(cur) = currency
        && let Err(e) = a.check_currency(cur, "amount")
    {
        out.push(e.under(path.rsplit_once('.').map(|x| x.0).unwrap_or_default()));
    }
}

fn charge(ch: &Charge, max_percent: u32, path: &str, out: &mut Problems) {
    match &ch.rate {
        Rate::Percent(p) => percent(*p, max_percent, format!("{path}.percent"), out),
        Rate::Tiers(t) => {
            if t.bands.is_empty() {
                out.push(err(
                    format!("{path}.tiers.bands"),
                    "tiers_empty",
                    "Tiers need at least one band.",
                ));
            }
            for (k, b) in t.bands.iter().enumerate() {
                let bpath = format!("{path}.tiers.bands[{k}]");
                if b.percent.as_decimal() < Decimal::ZERO
                    || b.percent.as_decimal() > Decimal::from(max_percent)
                {
                    out.push(err(
                        format!("{bpath}.percent"),
                        "percent_out_of_range",
                        format!(
                            "A band's percentage is between 0 and {max_percent}; got {}.",
                            b.percent
                        ),
                    ));
                }
                match k {
                    0 if !b.from.is_zero() => out.push(err(format!("{bpath}.from"), "tiers_start", format!("The first band starts at 0; this one starts at {}.", b.from))),
                    k if k > 0 && b.from <= t.bands[k - 1].from => out.push(err(
                        format!("{bpath}.from"),
                        "tiers_order",
                        format!("Bands go up: this one starts at {}, not above the previous band's {} (bands overlap or are out of order).", b.from, t.bands[k - 1].from),
                    )),
                    _ => {}
                }
            }
        }
    }
    for (name, v) in [("minimum", ch.minimum), ("maximum", ch.maximum)] {
        if let Some(a) = v
            && a.is_negative()
        {
            out.push(err(
                format!("{path}.{name}"),
                "amount_negative",
                format!("The {name} is 0 or more; got {a}."),
            ));
        }
    }
    if let (Some(min), Some(max)) = (ch.minimum, ch.maximum)
        && min > max
    {
        out.push(err(
            format!("{path}.minimum"),
            "minimum_above_maximum",
            format!("The minimum {min} is above the maximum {max}."),
        ));
    }
}
