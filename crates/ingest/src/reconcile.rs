//! Reconciliation: the FOCUS cost columns against the source files' cost column, to the last digit.

use crate::convert::SourceTotals;
use crate::decimal::ExactSum;

/// Exact sums of the FOCUS cost columns of one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FocusTotals {
    pub rows: u64,
    pub billed_cost: ExactSum,
    pub effective_cost: ExactSum,
    pub list_cost: ExactSum,
    pub contracted_cost: ExactSum,
}

/// The result of comparing a period's source totals with its FOCUS totals. Serializable, to be
/// stored with the sync run and shown.
///
/// Two identities hold for a consistent pair of Cost Details files under Microsoft's merge rule:
/// - **invoice**: `SUM(BilledCost)` equals the ActualCost file's total (commitment usage and unused
///   commitment rows bill 0; the purchases come from the ActualCost file);
/// - **amortized**: `SUM(EffectiveCost)` equals the AmortizedCost file's total.
///
/// Rows: the FOCUS row count equals every AmortizedCost row plus the kept ActualCost rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reconciliation {
    pub source: SourceTotals,
    pub focus: FocusTotals,
    /// `SUM(BilledCost) - actual_cost`: zero when the invoice identity holds.
    pub billed_difference: ExactSum,
    /// `SUM(EffectiveCost) - amortized_cost`: zero when the amortized identity holds.
    pub effective_difference: ExactSum,
    /// Rows the merge rule says the FOCUS data must have.
    pub expected_rows: u64,
    /// Both identities hold exactly and the row count matches.
    pub reconciled: bool,
}

/// Compare source and FOCUS totals.
pub fn reconcile(source: &SourceTotals, focus: &FocusTotals) -> Reconciliation {
    let billed_difference = focus.billed_cost.minus(&source.actual_cost);
    let effective_difference = focus.effective_cost.minus(&source.amortized_cost);
    let expected_rows = source.amortized_rows + source.actual_rows_kept;
    Reconciliation {
        source: source.clone(),
        focus: focus.clone(),
        billed_difference,
        effective_difference,
        expected_rows,
        reconciled: billed_difference.is_zero()
            && effective_difference.is_zero()
            && expected_rows == focus.rows,
    }
}

impl Reconciliation {
    /// One line for logs and the sync history.
    pub fn summary(&self) -> String {
        if self.reconciled {
            format!(
                "reconciled: {} rows; billed {} = actual cost; effective {} = amortized cost",
                self.focus.rows, self.focus.billed_cost, self.focus.effective_cost
            )
        } else {
            format!(
                "NOT reconciled: {} rows (expected {}); billed {} vs actual cost {} (difference {}); effective {} vs amortized cost {} (difference {})",
                self.focus.rows,
                self.expected_rows,
                self.focus.billed_cost,
                self.source.actual_cost,
                self.billed_difference,
                self.focus.effective_cost,
                self.source.amortized_cost,
                self.effective_difference
            )
        }
    }
}
