//! Conditions (engine.md 2.2) as DataFusion expressions. Every expression is a plain boolean, never
//! null: a missing value (null or empty text) matches only `not_equals`, `not_in` and `not_exists`.

use be_domain::pricing::{Condition, Filter, Operator};
use be_domain::{Dimension, FAMILY_DIMENSION};
use datafusion::functions::expr_fn::{contains, regexp_like, starts_with};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator as Op, lit};

use crate::schema::c;
use crate::udf;

/// Where a condition on a tag reads the tag's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tags {
    /// From the row's `Tags` JSON, each time a condition needs it.
    Json,
    /// From the column [`tag_column`] that the rating plan filled once per row (the plan has
    /// dozens of conditions on the same few tags; parsing the JSON for each was most of its work).
    Columns,
}

/// The hidden column holding tag `key`'s value during rating (not in the rated output).
pub fn tag_column(key: &str) -> String {
    format!("__tag_{key}")
}

/// The column (or expression) holding a dimension's value for a row.
pub fn dimension_expr(d: &Dimension) -> Expr {
    dimension_in(d, Tags::Json)
}

fn dimension_in(d: &Dimension, tags: Tags) -> Expr {
    match d {
        Dimension::Focus(name) | Dimension::Extension(name) | Dimension::Allocation(name) => {
            c(name)
        }
        Dimension::Family => c(FAMILY_DIMENSION),
        Dimension::Plan => c(crate::schema::PLAN_NAME),
        Dimension::Tag(key) if tags == Tags::Columns => c(&tag_column(key)),
        Dimension::Tag(key) => udf::tag(c("Tags"), key),
    }
}

/// True when `e` is neither null nor empty.
fn present(e: Expr) -> Expr {
    e.not_eq(lit("")).is_true()
}

fn condition(cond: &Condition, tags: Tags) -> Expr {
    let v = dimension_in(&cond.dimension, tags);
    let non_empty = |xs: &[String]| {
        xs.iter()
            .filter(|x| !x.is_empty())
            .map(|x| lit(x.clone()))
            .collect::<Vec<_>>()
    };
    match &cond.op {
        Operator::Equals(x) if x.is_empty() => lit(false),
        Operator::Equals(x) => v.eq(lit(x.clone())).is_true(),
        Operator::NotEquals(x) if x.is_empty() => lit(true),
        Operator::NotEquals(x) => v.eq(lit(x.clone())).is_not_true(),
        Operator::In(xs) => {
            let xs = non_empty(xs);
            if xs.is_empty() {
                lit(false)
            } else {
                v.in_list(xs, false).is_true()
            }
        }
        Operator::NotIn(xs) => {
            let xs = non_empty(xs);
            if xs.is_empty() {
                lit(true)
            } else {
                v.in_list(xs, false).is_not_true()
            }
        }
        Operator::StartsWith(x) => present(v.clone()).and(starts_with(v, lit(x.clone())).is_true()),
        Operator::Contains(x) => present(v.clone()).and(contains(v, lit(x.clone())).is_true()),
        Operator::Matches(p) => {
            present(v.clone()).and(regexp_like(v, lit(p.as_str().to_string()), None).is_true())
        }
        Operator::Exists => present(v),
        Operator::NotExists => !present(v),
    }
}

/// The filter as one boolean expression; an empty filter is `true`.
pub fn filter_expr(f: &Filter) -> Expr {
    filter_in(f, Tags::Json)
}

/// [`filter_expr`], reading tags from `tags`.
pub fn filter_in(f: &Filter, tags: Tags) -> Expr {
    if f.is_empty() {
        return lit(true);
    }
    f.0.iter()
        .map(|set| {
            set.0
                .iter()
                .map(|cond| condition(cond, tags))
                .reduce(Expr::and)
                .unwrap_or_else(|| lit(true))
        })
        .reduce(Expr::or)
        .unwrap_or_else(|| lit(true))
}

/// The filter as a row filter (`WHERE`): the same rows as [`filter_expr`], written so that
/// DataFusion can prune Parquet row groups and pages with it. A `WHERE` keeps the rows where its
/// predicate is true, so under AND and OR (and nowhere else) `x IS TRUE` keeps what `x` keeps;
/// the pruning predicate understands `x = 'v'` and `x IN (...)`, not `(x = 'v') IS TRUE`.
pub fn row_filter(f: &Filter) -> Expr {
    positive(filter_expr(f))
}

fn positive(e: Expr) -> Expr {
    match e {
        Expr::IsTrue(inner) => *inner,
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if matches!(op, Op::And | Op::Or) => {
            Expr::BinaryExpr(BinaryExpr::new(
                Box::new(positive(*left)),
                op,
                Box::new(positive(*right)),
            ))
        }
        other => other,
    }
}
