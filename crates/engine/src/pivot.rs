//! Grouping rated data of one or more periods (the analysis pivot): any dimension (FOCUS columns,
//! the family, the plan, allocation keys, tags by key), a filter with the rules' condition model,
//! exact sums of the measures and of each stage's effect. Never across currencies: the currency is
//! always part of the grouping. Only the columns a query uses are read.

use std::path::PathBuf;

use be_domain::Dimension;
use be_domain::pricing::Filter;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};

use crate::error::{EngineError, Result};
use crate::filter::{dimension_expr, row_filter};
use crate::schema::{self, c};
use crate::summary::{PivotRow, group_by};
use crate::udf::money_type;

/// A grouping over rated periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotQuery {
    /// Each period's rated folder (its current run).
    pub runs: Vec<PathBuf>,
    pub group_by: Vec<Dimension>,
    pub filter: Filter,
    /// Money and quantity columns, and effect columns, to sum.
    pub sums: Vec<String>,
    /// Group by billing period first (the key is `YYYY-MM`, from each run's folder).
    pub by_period: bool,
}

/// The period of a run folder (`rated/{org}/{YYYY-MM}/{run}`).
fn period_of(dir: &std::path::Path) -> Option<String> {
    dir.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
}

/// The grouping key of the period, when grouping by period.
const PERIOD_KEY: &str = "__period";

/// The column a dimension is read from (`None` for tags, read from `Tags`).
pub(crate) fn column_of(d: &Dimension) -> Option<String> {
    match d {
        Dimension::Focus(n) | Dimension::Extension(n) | Dimension::Allocation(n) => Some(n.clone()),
        Dimension::Family => Some(schema::FAMILY.into()),
        Dimension::Plan => Some(schema::PLAN_NAME.into()),
        Dimension::Tag(_) => None,
    }
}

/// The grouping column's name in the result: the dimension's label.
fn alias(d: &Dimension) -> String {
    format!("__dim_{}", d.label())
}

/// One run's rows, projected onto what the query reads (a column the run lacks is null).
async fn project(
    ctx: &SessionContext,
    dir: &std::path::Path,
    needed_text: &[String],
    sums: &[String],
    by_period: bool,
) -> Result<DataFrame> {
    let df = ctx
        .read_parquet(
            dir.to_string_lossy().to_string(),
            ParquetReadOptions::default(),
        )
        .await
        .map_err(|e| EngineError::RatedUnreadable {
            period: dir.display().to_string(),
            reason: e.to_string(),
        })?;
    let has = |n: &str| df.schema().has_column_with_unqualified_name(n);
    let mut exprs: Vec<Expr> = needed_text
        .iter()
        .map(|n| {
            if has(n) {
                cast(c(n), DataType::Utf8).alias(n)
            } else {
                lit(ScalarValue::Utf8(None)).alias(n)
            }
        })
        .collect();
    exprs.extend(sums.iter().map(|n| {
        if has(n) {
            cast(c(n), money_type()).alias(n)
        } else {
            lit(ScalarValue::Decimal128(None, 38, 24)).alias(n)
        }
    }));
    if by_period {
        exprs.push(lit(ScalarValue::Utf8(period_of(dir))).alias(PERIOD_KEY));
    }
    df.select(exprs)
        .map_err(EngineError::query("reading rated data"))
}

pub(crate) async fn pivot(ctx: &SessionContext, q: &PivotQuery) -> Result<Vec<PivotRow>> {
    let mut text: Vec<String> = vec!["BillingCurrency".into()];
    let mut add = |n: String| {
        if !text.contains(&n) {
            text.push(n);
        }
    };
    for d in q.group_by.iter().chain(q.filter.dimensions()) {
        add(column_of(d).unwrap_or_else(|| "Tags".into()));
    }
    let mut all: Option<DataFrame> = None;
    for dir in &q.runs {
        let df = project(ctx, dir, &text, &q.sums, q.by_period).await?;
        all = Some(match all {
            None => df,
            Some(prev) => prev
                .union(df)
                .map_err(EngineError::query("combining periods"))?,
        });
    }
    let Some(mut df) = all else { return Ok(vec![]) };
    if !q.filter.is_empty() {
        df = df
            .filter(row_filter(&q.filter))
            .map_err(EngineError::query("filtering"))?;
    }
    let mut keys: Vec<String> = if q.by_period {
        vec![PERIOD_KEY.to_string()]
    } else {
        vec![]
    };
    for d in &q.group_by {
        let name = alias(d);
        // An empty value is no value: it groups with the missing ones.
        df = df
            .with_column(&name, nullif(dimension_expr(d), lit("")))
            .map_err(EngineError::query("grouping"))?;
        keys.push(name);
    }
    group_by(df, &keys, &q.sums).await
}
