//! The pricing configuration of an organization: strategies, families, allocation assignments,
//! plans and their rules (`../shared/docs/engine.md` fixes their meaning). A [`PricingConfig`] is
//! valid by construction when it comes out of [`PricingConfig::validated`] or the rules-as-code
//! file ([`file`]); the engine rates with the slice of it that applies to one billing period
//! ([`PricingConfig::for_period`]).

mod conditions;
pub mod diff;
pub mod file;
mod names;
mod period_view;
mod validate;

use serde::{Deserialize, Serialize};

pub use conditions::{Condition, ConditionSet, Filter, Operator, Pattern};
pub use names::{AllocationKey, Name, SubAccountId};
pub use period_view::{PeriodConfig, PlanForPeriod};

use crate::{
    AllocationId, Amount, BillingPeriod, Currency, FamilyId, FieldError, Percent, PlanId, RuleId,
};

/// The version of the stored document's shape (not the configuration's version).
pub const DOCUMENT_VERSION: u32 = 1;

/// An organization's whole pricing configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PricingConfig {
    /// Strategy sets, each effective from its period (the latest one not after a period applies).
    pub strategies: Vec<StrategySet>,
    pub families: Vec<Family>,
    /// Applied in this order; a later assignment may use an earlier one's key.
    pub allocations: Vec<Allocation>,
    pub plans: Vec<Plan>,
}

/// From when to when (both billing periods included) something holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub from: BillingPeriod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<BillingPeriod>,
}

impl Validity {
    pub fn from(from: BillingPeriod) -> Self {
        Self { from, to: None }
    }

    pub fn covers(&self, p: BillingPeriod) -> bool {
        self.from <= p && self.to.is_none_or(|t| p <= t)
    }

    pub fn overlaps(&self, other: &Validity) -> bool {
        let end = |v: &Validity| {
            v.to.unwrap_or_else(|| BillingPeriod::parse("9999-12").expect("max period"))
        };
        self.from <= end(other) && other.from <= end(self)
    }
}

/// Organization-wide treatments (engine.md 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategySet {
    pub from: BillingPeriod,
    pub credits: CreditsStrategy,
    pub commitments: CommitmentStrategy,
    pub on_demand_basis: OnDemandBasis,
    pub taxes: TaxStrategy,
}

impl StrategySet {
    /// No strategy: rated costs are the provider's.
    pub fn neutral(from: BillingPeriod) -> Self {
        Self {
            from,
            credits: CreditsStrategy::Show,
            commitments: CommitmentStrategy::Shared,
            on_demand_basis: OnDemandBasis::Contracted,
            taxes: TaxStrategy::Keep,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditsStrategy {
    Show,
    Hide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStrategy {
    Shared,
    Unshared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDemandBasis {
    Contracted,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxStrategy {
    Keep,
    Remove,
}

/// A named group of sub-accounts billed as one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub id: FamilyId,
    pub name: Name,
    pub members: Vec<Member>,
}

/// A sub-account's membership of a family, from a billing period (to an optional last one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub sub_account_id: SubAccountId,
    #[serde(flatten)]
    pub valid: Validity,
}

/// An allocation assignment: a key (a new dimension) and ordered entries; a row takes the first
/// entry it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub id: AllocationId,
    pub key: AllocationKey,
    pub entries: Vec<AllocationEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationEntry {
    pub when: Filter,
    /// One value (direct allocation) or several summing to exactly 100 % (split).
    pub values: Vec<Share>,
}

impl AllocationEntry {
    pub fn is_split(&self) -> bool {
        self.values.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub value: String,
    pub percent: Percent,
}

/// A named, ordered list of rules, assigned to families and/or sub-accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub name: Name,
    pub assigned_to: Vec<PlanAssignment>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAssignment {
    pub target: AssignmentTarget,
    #[serde(flatten)]
    pub valid: Validity,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentTarget {
    Family(FamilyId),
    SubAccount(SubAccountId),
}

/// One price change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: RuleId,
    pub name: Name,
    pub kind: RuleKind,
    /// Rows the rule applies to; empty: every row of the plan.
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub when: Filter,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    Markup { percent: Percent },
    Markdown { percent: Percent },
    Upcharge(Charge),
    Discount(Charge),
    OneTimeFee(Fee),
    OneTimeDiscount(Fee),
    RecurringFee(RecurringFee),
}

impl RuleKind {
    /// The name used in files and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Markup { .. } => "markup",
            Self::Markdown { .. } => "markdown",
            Self::Upcharge(_) => "upcharge",
            Self::Discount(_) => "discount",
            Self::OneTimeFee(_) => "one_time_fee",
            Self::OneTimeDiscount(_) => "one_time_discount",
            Self::RecurringFee(_) => "recurring_fee",
        }
    }

    /// Markup and markdown change rows; the others add new lines.
    pub fn changes_rows(&self) -> bool {
        matches!(self, Self::Markup { .. } | Self::Markdown { .. })
    }
}

/// An upcharge or discount: a charge per scope entity, on the sum of the matching rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub scope: Scope,
    pub rate: Rate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Amount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Family,
    SubAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    Percent(Percent),
    Tiers(Tiers),
}

/// Ranges of the basis `[from, next from)`, the last open-ended, each with its percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiers {
    pub mode: TierMode,
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMode {
    /// Each part of the basis at its band's rate.
    Graduated,
    /// The whole basis at the rate of the band it reaches.
    Volume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub from: Amount,
    pub percent: Percent,
}

/// A one-time fee or discount in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub amount: Amount,
    pub period: BillingPeriod,
    /// The currency of the line; default: the currency of the entity's rows in the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

/// A fee in every period from `from` to `to` (open-ended without `to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringFee {
    pub amount: Amount,
    #[serde(flatten)]
    pub valid: Validity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

impl PricingConfig {
    /// Check every cross-reference and rule of the whole configuration; every problem is reported,
    /// each with the path of the value at fault.
    pub fn validated(self) -> Result<Self, Vec<FieldError>> {
        let problems = validate::problems(&self);
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }

    pub fn family(&self, id: FamilyId) -> Option<&Family> {
        self.families.iter().find(|f| f.id == id)
    }

    pub fn family_named(&self, name: &str) -> Option<&Family> {
        self.families
            .iter()
            .find(|f| f.name.key() == Name::key_of(name))
    }

    pub fn plan(&self, id: PlanId) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    pub fn plan_named(&self, name: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.name.key() == Name::key_of(name))
    }

    /// The strategies that apply to a period (neutral before the first set).
    pub fn strategy_for(&self, p: BillingPeriod) -> StrategySet {
        self.strategies
            .iter()
            .filter(|s| s.from <= p)
            .max_by_key(|s| s.from)
            .copied()
            .unwrap_or_else(|| StrategySet::neutral(p))
    }

    /// The family a sub-account belongs to in a period.
    pub fn family_of(&self, sub: &SubAccountId, p: BillingPeriod) -> Option<&Family> {
        self.families.iter().find(|f| {
            f.members
                .iter()
                .any(|m| &m.sub_account_id == sub && m.valid.covers(p))
        })
    }

    /// Where a rule sits: its plan and position.
    pub fn rule(&self, id: RuleId) -> Option<(&Plan, usize, &Rule)> {
        self.plans.iter().find_map(|plan| {
            plan.rules
                .iter()
                .position(|r| r.id == id)
                .map(|i| (plan, i, &plan.rules[i]))
        })
    }
}

#[cfg(test)]
mod tests;
