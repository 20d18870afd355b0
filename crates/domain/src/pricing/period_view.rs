//! The slice of a configuration that rates one billing period: what the engine works from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    Allocation, AssignmentTarget, PricingConfig, Rule, RuleKind, StrategySet, SubAccountId,
};
use crate::{BillingPeriod, FamilyId, PlanId};

/// Everything that applies to one period: strategies, memberships, plan assignments, allocations,
/// and the plans in use with their enabled rules, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodConfig {
    pub period: BillingPeriod,
    pub strategy: StrategySet,
    /// Sub-account to family (ID, name), for the memberships valid in the period.
    pub families: BTreeMap<SubAccountId, (FamilyId, String)>,
    /// A sub-account's own plan (wins over its family's).
    pub sub_account_plans: BTreeMap<SubAccountId, PlanId>,
    pub family_plans: BTreeMap<FamilyId, PlanId>,
    pub allocations: Vec<Allocation>,
    pub plans: Vec<PlanForPeriod>,
}

/// A plan as it applies in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanForPeriod {
    pub id: PlanId,
    pub name: String,
    /// Enabled rules, in the plan's order.
    pub rules: Vec<Rule>,
    /// What the plan is assigned to in the period (fees make one line per entity).
    pub families: Vec<(FamilyId, String)>,
    pub sub_accounts: Vec<SubAccountId>,
}

impl PricingConfig {
    /// The configuration that rates `period`.
    pub fn for_period(&self, period: BillingPeriod) -> PeriodConfig {
        let families = self
            .families
            .iter()
            .flat_map(|f| {
                f.members
                    .iter()
                    .filter(|m| m.valid.covers(period))
                    .map(|m| (m.sub_account_id.clone(), (f.id, f.name.to_string())))
            })
            .collect();
        let mut sub_account_plans = BTreeMap::new();
        let mut family_plans = BTreeMap::new();
        let mut plans = Vec::new();
        for plan in &self.plans {
            let mut in_use = PlanForPeriod {
                id: plan.id,
                name: plan.name.to_string(),
                rules: plan
                    .rules
                    .iter()
                    .filter(|r| r.enabled && rule_applies_in(r, period))
                    .cloned()
                    .collect(),
                families: vec![],
                sub_accounts: vec![],
            };
            for a in plan.assigned_to.iter().filter(|a| a.valid.covers(period)) {
                match &a.target {
                    AssignmentTarget::Family(id) => {
                        family_plans.insert(*id, plan.id);
                        let name = self
                            .family(*id)
                            .map(|f| f.name.to_string())
                            .unwrap_or_default();
                        in_use.families.push((*id, name));
                    }
                    AssignmentTarget::SubAccount(sub) => {
                        sub_account_plans.insert(sub.clone(), plan.id);
                        in_use.sub_accounts.push(sub.clone());
                    }
                }
            }
            if !in_use.families.is_empty() || !in_use.sub_accounts.is_empty() {
                plans.push(in_use);
            }
        }
        PeriodConfig {
            period,
            strategy: self.strategy_for(period),
            families,
            sub_account_plans,
            family_plans,
            allocations: self.allocations.clone(),
            plans,
        }
    }
}

/// Fees apply only in their periods; every other rule in every period.
fn rule_applies_in(rule: &Rule, period: BillingPeriod) -> bool {
    match &rule.kind {
        RuleKind::OneTimeFee(f) | RuleKind::OneTimeDiscount(f) => f.period == period,
        RuleKind::RecurringFee(f) => f.valid.covers(period),
        _ => true,
    }
}

impl PeriodConfig {
    /// The plan of a row of `sub`: its own assignment, otherwise its family's.
    pub fn plan_of(&self, sub: &SubAccountId) -> Option<PlanId> {
        self.sub_account_plans.get(sub).copied().or_else(|| {
            self.families
                .get(sub)
                .and_then(|(family, _)| self.family_plans.get(family).copied())
        })
    }

    pub fn family_of(&self, sub: &SubAccountId) -> Option<&(FamilyId, String)> {
        self.families.get(sub)
    }
}
