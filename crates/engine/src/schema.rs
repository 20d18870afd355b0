//! The columns the engine reads and the rated dataset's columns (engine.md section 3).
//!
//! A rated row carries: its lineage (`x_SourceId`, `x_SourceRowId`, `x_SplitPath`, or `x_RuleId`
//! for a new line), every FOCUS text column and `Tags`, the period and charge timestamps, the
//! family and plan, the allocation keys, the measures (`ProviderCost`, `ListCost`,
//! `ContractedCost`, `BilledCost`, `EffectiveCost`, `Profit`), the quantities, and one effect
//! column per strategy and rule (its change to the row's rated BilledCost; null where it did not
//! apply), plus the basis column of each upcharge or discount.

use be_domain::{FAMILY_DIMENSION, FOCUS_COLUMNS, FocusType, RuleId};
use datafusion::common::Column;
use datafusion::logical_expr::Expr;

/// A column by its exact name (no parsing of dots or case).
pub fn c(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

pub const SOURCE_ID: &str = "x_SourceId";
pub const ROW_ID: &str = be_ingest::SOURCE_ROW_ID;
pub const SPLIT_PATH: &str = "x_SplitPath";
pub const RULE_ID: &str = "x_RuleId";
pub const FAMILY: &str = FAMILY_DIMENSION;
pub const FAMILY_ID: &str = "x_FamilyId";
pub const PLAN_ID: &str = "x_PlanId";
pub const PLAN_NAME: &str = "x_PlanName";

pub const PROVIDER_COST: &str = "ProviderCost";
pub const BILLED_COST: &str = "BilledCost";
pub const EFFECTIVE_COST: &str = "EffectiveCost";
pub const LIST_COST: &str = "ListCost";
pub const CONTRACTED_COST: &str = "ContractedCost";
pub const PROFIT: &str = "Profit";

/// Money columns split by allocation (besides the effects), in output order.
pub const MONEY: [&str; 5] = [
    PROVIDER_COST,
    LIST_COST,
    CONTRACTED_COST,
    BILLED_COST,
    EFFECTIVE_COST,
];
pub const QUANTITIES: [&str; 2] = ["ConsumedQuantity", "PricingQuantity"];
pub const TIMESTAMPS: [&str; 4] = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
];

/// FOCUS text columns and `Tags`: carried from the source to the rated row unchanged.
pub fn text_columns() -> Vec<&'static str> {
    FOCUS_COLUMNS
        .iter()
        .filter(|(n, t)| *t == FocusType::Text || *n == "Tags")
        .map(|(n, _)| *n)
        .collect()
}

/// A stage of the pipeline that can change a row's rated BilledCost.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case", tag = "stage", content = "rule_id")]
pub enum StageKey {
    Credits,
    Commitments,
    Taxes,
    Rule(RuleId),
}

impl StageKey {
    pub const STRATEGIES: [StageKey; 3] =
        [StageKey::Credits, StageKey::Commitments, StageKey::Taxes];

    /// The effect column's name.
    pub fn column(self) -> String {
        match self {
            Self::Credits => "x_Effect_credits".into(),
            Self::Commitments => "x_Effect_commitments".into(),
            Self::Taxes => "x_Effect_taxes".into(),
            Self::Rule(id) => format!("x_Effect_{}", id.as_uuid().simple()),
        }
    }

    /// The stage a column name stands for.
    pub fn of_column(name: &str) -> Option<Self> {
        match name {
            "x_Effect_credits" => Some(Self::Credits),
            "x_Effect_commitments" => Some(Self::Commitments),
            "x_Effect_taxes" => Some(Self::Taxes),
            other => other
                .strip_prefix("x_Effect_")
                .and_then(|id| id.parse().ok())
                .map(Self::Rule),
        }
    }
}

/// The basis column of an upcharge or discount (the matching rows' rated BilledCost before it).
pub fn basis_column(rule: RuleId) -> String {
    format!("x_Basis_{}", rule.as_uuid().simple())
}
