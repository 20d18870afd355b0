//! Exact sums of rated rows per family, sub-account, currency, plan and (for new lines) rule: the
//! one aggregation behind totals, new lines and what-if. Sums widen to `Decimal256(76, 24)`, so a
//! period of any size sums without rounding or overflow.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal256Type, Int64Type};
use datafusion::functions_aggregate::expr_fn::{count, max, sum};
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::money::{Exact, SCALE, SUM_PRECISION};
use crate::schema::{self, c};

/// One group of rated rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub family: Option<String>,
    pub family_id: Option<String>,
    /// The source (connection or import source) of the rows; none for new lines.
    pub source_id: Option<String>,
    pub billing_account_id: Option<String>,
    pub sub_account_id: Option<String>,
    pub sub_account_name: Option<String>,
    pub currency: Option<String>,
    pub plan_id: Option<String>,
    pub plan_name: Option<String>,
    /// Set on new lines: the rule that made them.
    pub rule_id: Option<String>,
    pub rows: i64,
    /// Sums by column; a column whose every value was null is absent (an effect that never applied,
    /// a basis no row matched).
    pub sums: BTreeMap<String, Exact>,
}

impl Group {
    pub fn sum(&self, column: &str) -> Exact {
        self.sums.get(column).copied().unwrap_or(Exact::ZERO)
    }
}

const KEYS: [&str; 8] = [
    schema::FAMILY,
    schema::FAMILY_ID,
    schema::SOURCE_ID,
    "SubAccountId",
    "BillingCurrency",
    schema::PLAN_ID,
    schema::PLAN_NAME,
    schema::RULE_ID,
];

fn wide_sum(column: &str) -> Expr {
    sum(cast(
        c(column),
        DataType::Decimal256(SUM_PRECISION, SCALE as i8),
    ))
    .alias(column)
}

/// Sum `columns` of `df` per group.
pub async fn aggregate(df: DataFrame, columns: &[String]) -> Result<Vec<Group>> {
    let mut aggs = vec![
        max(c("SubAccountName")).alias("__name"),
        max(c("BillingAccountId")).alias("__billing_account"),
        count(lit(1)).alias("__rows"),
    ];
    aggs.extend(columns.iter().map(|col| wide_sum(col)));
    let batches = df
        .aggregate(KEYS.iter().map(|k| c(k)).collect(), aggs)
        .map_err(EngineError::query("summing rated rows"))?
        .collect()
        .await
        .map_err(EngineError::query("summing rated rows"))?;
    let mut out = Vec::new();
    for b in &batches {
        read_groups(b, columns, &mut out);
    }
    out.sort_by(|a, b| {
        (
            &a.family,
            &a.sub_account_id,
            &a.currency,
            &a.plan_name,
            &a.rule_id,
            &a.source_id,
        )
            .cmp(&(
                &b.family,
                &b.sub_account_id,
                &b.currency,
                &b.plan_name,
                &b.rule_id,
                &b.source_id,
            ))
    });
    Ok(out)
}

fn text(b: &RecordBatch, name: &str, row: usize) -> Option<String> {
    let a = b.column_by_name(name)?;
    let a = a.as_string_opt::<i32>()?;
    (!a.is_null(row)).then(|| a.value(row).to_string())
}

fn read_groups(b: &RecordBatch, columns: &[String], out: &mut Vec<Group>) {
    for row in 0..b.num_rows() {
        let rows = b
            .column_by_name("__rows")
            .and_then(|a| a.as_primitive_opt::<Int64Type>())
            .map(|a| a.value(row))
            .unwrap_or(0);
        let sums = columns
            .iter()
            .filter_map(|col| {
                let a = b
                    .column_by_name(col)?
                    .as_primitive_opt::<Decimal256Type>()?;
                (!a.is_null(row)).then(|| (col.clone(), Exact::from_wide(a.value(row))))
            })
            .collect();
        out.push(Group {
            family: text(b, schema::FAMILY, row),
            family_id: text(b, schema::FAMILY_ID, row),
            source_id: text(b, schema::SOURCE_ID, row),
            billing_account_id: text(b, "__billing_account", row),
            sub_account_id: text(b, "SubAccountId", row),
            sub_account_name: text(b, "__name", row),
            currency: text(b, "BillingCurrency", row),
            plan_id: text(b, schema::PLAN_ID, row),
            plan_name: text(b, schema::PLAN_NAME, row),
            rule_id: text(b, schema::RULE_ID, row),
            rows,
            sums,
        });
    }
}

/// One row of a grouping by arbitrary columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PivotRow {
    /// The grouping columns' values, in order (null: none, e.g. "unallocated").
    pub keys: Vec<Option<String>>,
    pub currency: Option<String>,
    pub rows: i64,
    pub sums: BTreeMap<String, Exact>,
}

/// Sum `columns` of `df` grouped by `by` and the currency (never summed across currencies).
pub async fn group_by(df: DataFrame, by: &[String], columns: &[String]) -> Result<Vec<PivotRow>> {
    let schema = df.schema().clone();
    if let Some(missing) = by
        .iter()
        .find(|c| !schema.has_column_with_unqualified_name(c))
    {
        return Err(EngineError::InvalidQuery(format!(
            "{missing} is not a column of the rated data."
        )));
    }
    let mut keys: Vec<Expr> = by.iter().map(|k| c(k)).collect();
    keys.push(c("BillingCurrency"));
    let mut aggs = vec![count(lit(1)).alias("__rows")];
    aggs.extend(columns.iter().map(|col| wide_sum(col)));
    let batches = df
        .aggregate(keys, aggs)
        .map_err(EngineError::query("grouping rated rows"))?
        .collect()
        .await
        .map_err(EngineError::query("grouping rated rows"))?;
    let mut out = Vec::new();
    for b in &batches {
        for row in 0..b.num_rows() {
            out.push(PivotRow {
                keys: by.iter().map(|k| text(b, k, row)).collect(),
                currency: text(b, "BillingCurrency", row),
                rows: b
                    .column_by_name("__rows")
                    .and_then(|a| a.as_primitive_opt::<Int64Type>())
                    .map(|a| a.value(row))
                    .unwrap_or(0),
                sums: columns
                    .iter()
                    .filter_map(|col| {
                        let a = b
                            .column_by_name(col)?
                            .as_primitive_opt::<Decimal256Type>()?;
                        (!a.is_null(row)).then(|| (col.clone(), Exact::from_wide(a.value(row))))
                    })
                    .collect(),
            });
        }
    }
    out.sort_by(|a, b| (&a.keys, &a.currency).cmp(&(&b.keys, &b.currency)));
    Ok(out)
}
