//! The row-level rating plan (engine.md section 2), built as DataFusion expressions over the
//! period's rows: strategies, then allocations, then family and plan resolution, then each plan's
//! rules in order. New lines (upcharges, discounts, fees) are computed afterwards from the sums of
//! the basis columns this plan leaves ([`crate::lines`]).
//!
//! Invariant kept at every step: `BilledCost = ProviderCost + Σ effects` on every row, so the
//! rated BilledCost after a split is derived from its split parts, never split on its own.

use std::sync::Arc;

use be_domain::Percent;
use be_domain::pricing::{
    CommitmentStrategy, CreditsStrategy, OnDemandBasis, PeriodConfig, RuleKind, TaxStrategy,
};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{Column, JoinType, ScalarValue, UnnestOptions};
use datafusion::datasource::MemTable;
use datafusion::functions::expr_fn::{coalesce, concat_ws};
use datafusion::functions_nested::expr_fn::make_array;
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::{DataFrame, SessionContext};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::filter::{Tags, filter_in, tag_column};
use crate::schema::{self, StageKey, c};
use crate::udf::{self, money_type};

/// A money literal (scale 24).
pub fn money(v: i128) -> Expr {
    lit(ScalarValue::Decimal128(Some(v), 38, 24))
}

pub fn null_money() -> Expr {
    lit(ScalarValue::Decimal128(None, 38, 24))
}

fn m(e: Expr) -> Expr {
    cast(e, money_type())
}

/// `CASE WHEN c1 THEN v1 ... ELSE otherwise END`; just `otherwise` without branches.
pub fn case(branches: Vec<(Expr, Expr)>, otherwise: Expr) -> Result<Expr> {
    let mut it = branches.into_iter();
    let Some((c0, v0)) = it.next() else {
        return Ok(otherwise);
    };
    let mut b = when(c0, v0);
    for (cond, v) in it {
        b = b.when(cond, v);
    }
    b.otherwise(otherwise).map_err(err("building a condition"))
}

/// One stage's effect column, with what to call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub key: StageKey,
    pub column: String,
    /// `credits (hidden)`, `Standard / Markup 10%`.
    pub label: String,
    pub plan: Option<String>,
    pub rule: Option<String>,
    /// `strategy`, or the rule's kind (`markup`, `upcharge`, ...).
    pub kind: String,
    /// The basis column of an upcharge or discount.
    pub basis_column: Option<String>,
}

/// The plan under construction and what it has added so far.
pub struct Pipeline<'a> {
    pub df: DataFrame,
    cfg: &'a PeriodConfig,
    pub stages: Vec<Stage>,
    pub allocation_keys: Vec<String>,
}

fn err(context: &'static str) -> impl FnOnce(datafusion::error::DataFusionError) -> EngineError {
    EngineError::query(context)
}

impl<'a> Pipeline<'a> {
    pub fn new(df: DataFrame, cfg: &'a PeriodConfig) -> Self {
        Self {
            df,
            cfg,
            stages: vec![],
            allocation_keys: vec![],
        }
    }

    /// Every stage in order, the whole pipeline.
    pub fn build(mut self, ctx: &SessionContext) -> Result<Self> {
        self.read_tags()?;
        self.strategies()?;
        self.resolve_families(ctx)?;
        for i in 0..self.cfg.allocations.len() {
            self.allocation(i)?;
        }
        self.rules()?;
        self.finish()?;
        Ok(self)
    }

    fn set(&mut self, name: &str, e: Expr) -> Result<()> {
        self.df = self
            .df
            .clone()
            .with_column(name, e)
            .map_err(err("building the rating plan"))?;
        Ok(())
    }

    fn effect_columns(&self) -> Vec<String> {
        self.stages.iter().map(|s| s.column.clone()).collect()
    }

    /// Every tag a condition reads, from the row's `Tags` JSON into a hidden column, once.
    fn read_tags(&mut self) -> Result<()> {
        let rules = self
            .cfg
            .plans
            .iter()
            .flat_map(|p| p.rules.iter())
            .map(|r| &r.when);
        let entries = self
            .cfg
            .allocations
            .iter()
            .flat_map(|a| a.entries.iter())
            .map(|e| &e.when);
        let mut keys: Vec<&str> = rules
            .chain(entries)
            .flat_map(|f| f.dimensions())
            .filter_map(|d| match d {
                be_domain::Dimension::Tag(key) => Some(key.as_str()),
                _ => None,
            })
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            self.set(&tag_column(key), udf::tag(c("Tags"), key))?;
        }
        Ok(())
    }

    fn strategies(&mut self) -> Result<()> {
        let s = self.cfg.strategy;
        let cat = c("ChargeCategory");
        let status = c("CommitmentDiscountStatus");
        let unshared = s.commitments == CommitmentStrategy::Unshared;
        let credit = if s.credits == CreditsStrategy::Hide {
            cat.clone().eq(lit("Credit")).is_true()
        } else {
            lit(false)
        };
        let tax = if s.taxes == TaxStrategy::Remove {
            cat.clone().eq(lit("Tax")).is_true()
        } else {
            lit(false)
        };
        let used = if unshared {
            cat.clone()
                .eq(lit("Usage"))
                .and(status.clone().eq(lit("Used")))
                .is_true()
        } else {
            lit(false)
        };
        let purchase = cat
            .clone()
            .eq(lit("Purchase"))
            .and(c("CommitmentDiscountId").not_eq(lit("")))
            .is_true();
        let unused = cat.eq(lit("Usage")).and(status.eq(lit("Unused"))).is_true();
        let zeroed = if unshared {
            purchase.or(unused)
        } else {
            lit(false)
        };
        let basis = match s.on_demand_basis {
            OnDemandBasis::Contracted => {
                coalesce(vec![c(schema::CONTRACTED_COST), c(schema::EFFECTIVE_COST)])
            }
            OnDemandBasis::List => coalesce(vec![c(schema::LIST_COST), c(schema::EFFECTIVE_COST)]),
        };
        let billed = c(schema::BILLED_COST);
        let negated = m(money(0) - billed.clone());
        let effects = [
            (
                StageKey::Credits,
                "credits (hidden)",
                when(credit.clone(), negated.clone()).otherwise(null_money()),
            ),
            (
                StageKey::Commitments,
                "commitments (unshared)",
                when(used.clone(), m(basis.clone() - billed.clone()))
                    .when(zeroed.clone(), negated.clone())
                    .otherwise(null_money()),
            ),
            (
                StageKey::Taxes,
                "taxes (removed)",
                when(tax.clone(), negated).otherwise(null_money()),
            ),
        ];
        for (key, label, e) in effects {
            self.set(&key.column(), e.map_err(err("building the strategies"))?)?;
            self.stages.push(Stage {
                key,
                column: key.column(),
                label: label.into(),
                plan: None,
                rule: None,
                kind: "strategy".into(),
                basis_column: None,
            });
        }
        let to_zero = credit.or(tax).or(zeroed);
        for col in [schema::BILLED_COST, schema::EFFECTIVE_COST] {
            let e = when(to_zero.clone(), money(0))
                .when(used.clone(), m(basis.clone()))
                .otherwise(c(col))
                .map_err(err("building the strategies"))?;
            self.set(col, e)?;
        }
        Ok(())
    }

    /// Family and plan of every row, from its sub-account (a join with the period's memberships).
    fn resolve_families(&mut self, ctx: &SessionContext) -> Result<()> {
        let cfg = self.cfg;
        let mut subs: Vec<&be_domain::pricing::SubAccountId> = cfg
            .families
            .keys()
            .chain(cfg.sub_account_plans.keys())
            .collect();
        subs.sort();
        subs.dedup();
        let plan_name = |id| {
            cfg.plans
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.name.clone())
        };
        let col =
            |f: &dyn Fn(&be_domain::pricing::SubAccountId) -> Option<String>| -> Arc<StringArray> {
                Arc::new(subs.iter().map(|s| f(s)).collect::<StringArray>())
            };
        let table = Arc::new(Schema::new(vec![
            Field::new("__sub", DataType::Utf8, false),
            Field::new("__family", DataType::Utf8, true),
            Field::new("__family_id", DataType::Utf8, true),
            Field::new("__plan_id", DataType::Utf8, true),
            Field::new("__plan_name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            table.clone(),
            vec![
                col(&|s| Some(s.to_string())),
                col(&|s| cfg.family_of(s).map(|f| f.1.clone())),
                col(&|s| cfg.family_of(s).map(|f| f.0.to_string())),
                col(&|s| cfg.plan_of(s).map(|p| p.to_string())),
                col(&|s| cfg.plan_of(s).and_then(plan_name)),
            ],
        )
        .map_err(|e| EngineError::query("building the membership table")(e.into()))?;
        let memberships = MemTable::try_new(table, vec![vec![batch]])
            .map_err(err("building the membership table"))?;
        let right = ctx
            .read_table(Arc::new(memberships))
            .and_then(|t| t.alias("memberships"))
            .map_err(err("reading the membership table"))?;
        let on = Expr::Column(Column::new(Some("rows"), "SubAccountId"))
            .eq(Expr::Column(Column::new(Some("memberships"), "__sub")));
        let joined = self
            .df
            .clone()
            .alias("rows")
            .and_then(|rows| rows.join_on(right, JoinType::Left, [on]))
            .map_err(err("joining memberships"))?;
        let mut exprs: Vec<Expr> = self
            .df
            .schema()
            .fields()
            .iter()
            .map(|f| c(f.name()))
            .collect();
        exprs.push(c("__family").alias(schema::FAMILY));
        exprs.push(c("__family_id").alias(schema::FAMILY_ID));
        exprs.push(c("__plan_id").alias(schema::PLAN_ID));
        exprs.push(c("__plan_name").alias(schema::PLAN_NAME));
        self.df = joined.select(exprs).map_err(err("joining memberships"))?;
        Ok(())
    }

    /// Allocation assignment `i`: direct values by CASE; split rows by unnesting one ordinal per
    /// value, then every money and quantity column and every effect so far is shared out, the last
    /// value taking the remainder.
    fn allocation(&mut self, i: usize) -> Result<()> {
        let a = &self.cfg.allocations[i];
        let key = a.key.as_str().to_string();
        let matched = |j: usize| filter_in(&a.entries[j].when, Tags::Columns);
        let null_text = || lit(ScalarValue::Utf8(None));
        if !a.entries.iter().any(|e| e.is_split()) {
            let branches = a
                .entries
                .iter()
                .enumerate()
                .map(|(j, e)| (matched(j), lit(e.values[0].value.clone())))
                .collect();
            self.set(&key, case(branches, null_text())?)?;
            self.allocation_keys.push(key);
            return Ok(());
        }
        let entry_col = format!("__alloc_{i}");
        let ord_col = format!("__ord_{i}");
        let entries = (0..a.entries.len())
            .map(|j| (matched(j), lit(j as i32)))
            .collect();
        self.set(&entry_col, case(entries, lit(ScalarValue::Int32(None)))?)?;
        let ords = |n: usize| make_array((0..n as i64).map(lit).collect());
        let ord_branches: Vec<(Expr, Expr)> = a
            .entries
            .iter()
            .enumerate()
            .map(|(j, e)| (c(&entry_col).eq(lit(j as i32)), ords(e.values.len())))
            .collect();
        let mut ord_case = when(ord_branches[0].0.clone(), ord_branches[0].1.clone());
        for (cond, v) in ord_branches.into_iter().skip(1) {
            ord_case = ord_case.when(cond, v);
        }
        self.set(
            &ord_col,
            ord_case.end().map_err(err("building an allocation"))?,
        )?;
        self.df = self
            .df
            .clone()
            .unnest_columns_with_options(
                &[ord_col.as_str()],
                UnnestOptions::new().with_preserve_nulls(true),
            )
            .map_err(err("splitting rows"))?;
        let at = |j: usize, o: usize| {
            c(&entry_col)
                .eq(lit(j as i32))
                .and(c(&ord_col).eq(lit(o as i64)))
                .is_true()
        };
        // The key's value.
        let values = a
            .entries
            .iter()
            .enumerate()
            .flat_map(|(j, e)| {
                e.values
                    .iter()
                    .enumerate()
                    .map(move |(o, s)| (at(j, o), lit(s.value.clone())))
            })
            .collect();
        self.set(&key, case(values, null_text())?)?;
        // The shares: money, quantities, and every effect so far.
        let mut shared: Vec<String> = [
            schema::PROVIDER_COST,
            schema::LIST_COST,
            schema::CONTRACTED_COST,
            schema::EFFECTIVE_COST,
        ]
        .iter()
        .chain(schema::QUANTITIES.iter())
        .map(|s| s.to_string())
        .collect();
        shared.extend(self.effect_columns());
        let splits: Vec<(usize, Vec<(i128, i128)>)> = a
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_split())
            .map(|(j, e)| (j, e.values.iter().map(|s| s.percent.ratio()).collect()))
            .collect();
        for col in &shared {
            let branches = splits
                .iter()
                .flat_map(|(j, ratios)| {
                    (0..ratios.len()).map(move |o| (at(*j, o), share_expr(c(col), ratios, o)))
                })
                .collect();
            self.set(col, case(branches, c(col))?)?;
        }
        self.rebuild_billed()?;
        // Lineage: which share of which assignment a split row is (`CostCenter:0:1`).
        let key_name = key.as_str();
        let segments = splits
            .iter()
            .flat_map(|(j, ratios)| {
                (0..ratios.len()).map(move |o| (at(*j, o), lit(format!("{key_name}:{j}:{o}"))))
            })
            .collect();
        let segment = case(segments, null_text())?;
        let joined = concat_ws(lit(","), vec![c(schema::SPLIT_PATH), segment]);
        self.set(
            schema::SPLIT_PATH,
            case(
                vec![(joined.clone().eq(lit("")).is_true(), null_text())],
                joined,
            )?,
        )?;
        self.drop_columns(&[&entry_col, &ord_col])?;
        self.allocation_keys.push(key);
        Ok(())
    }

    fn drop_columns(&mut self, names: &[&str]) -> Result<()> {
        self.df = self
            .df
            .clone()
            .drop_columns(names)
            .map_err(err("building the rating plan"))?;
        Ok(())
    }

    /// `BilledCost = ProviderCost + Σ effects`.
    fn rebuild_billed(&mut self) -> Result<()> {
        let sum = self
            .effect_columns()
            .iter()
            .fold(c(schema::PROVIDER_COST), |acc, e| {
                m(acc + coalesce(vec![c(e), money(0)]))
            });
        self.set(schema::BILLED_COST, m(sum))
    }

    fn rules(&mut self) -> Result<()> {
        for plan in &self.cfg.plans {
            for rule in &plan.rules {
                let applies = c(schema::PLAN_ID)
                    .eq(lit(plan.id.to_string()))
                    .is_true()
                    .and(filter_in(&rule.when, Tags::Columns));
                let key = StageKey::Rule(rule.id);
                let mut stage = Stage {
                    key,
                    column: key.column(),
                    label: format!("{} / {}", plan.name, rule.name),
                    plan: Some(plan.name.clone()),
                    rule: Some(rule.name.to_string()),
                    kind: rule.kind.code().into(),
                    basis_column: None,
                };
                match &rule.kind {
                    RuleKind::Markup { percent } => {
                        self.percent_rule(&stage.column, applies, *percent, false)?
                    }
                    RuleKind::Markdown { percent } => {
                        self.percent_rule(&stage.column, applies, *percent, true)?
                    }
                    RuleKind::Upcharge(_) | RuleKind::Discount(_) => {
                        let basis = schema::basis_column(rule.id);
                        self.set(
                            &basis,
                            when(applies, c(schema::BILLED_COST))
                                .otherwise(null_money())
                                .map_err(err("building a rule"))?,
                        )?;
                        self.set(&stage.column, null_money())?;
                        stage.basis_column = Some(basis);
                    }
                    RuleKind::OneTimeFee(_)
                    | RuleKind::OneTimeDiscount(_)
                    | RuleKind::RecurringFee(_) => self.set(&stage.column, null_money())?,
                }
                self.stages.push(stage);
            }
        }
        Ok(())
    }

    /// A markup (or markdown): its effect on BilledCost, the same change on EffectiveCost.
    fn percent_rule(&mut self, column: &str, applies: Expr, p: Percent, down: bool) -> Result<()> {
        let (num, den) = p.ratio();
        let num = if down { -num } else { num };
        let effect = when(
            applies.clone(),
            udf::mul_ratio(c(schema::BILLED_COST), num, den),
        )
        .otherwise(null_money())
        .map_err(err("building a rule"))?;
        self.set(column, effect)?;
        self.set(
            schema::BILLED_COST,
            m(c(schema::BILLED_COST) + coalesce(vec![c(column), money(0)])),
        )?;
        let effective = when(
            applies,
            m(c(schema::EFFECTIVE_COST) + udf::mul_ratio(c(schema::EFFECTIVE_COST), num, den)),
        )
        .otherwise(c(schema::EFFECTIVE_COST))
        .map_err(err("building a rule"))?;
        self.set(schema::EFFECTIVE_COST, effective)
    }

    /// Profit, the rule-id column of new lines (null on rows), and the output order.
    fn finish(&mut self) -> Result<()> {
        self.set(
            schema::PROFIT,
            m(c(schema::BILLED_COST) - c(schema::PROVIDER_COST)),
        )?;
        self.set(schema::RULE_ID, lit(ScalarValue::Utf8(None)))?;
        let order = self.output_columns();
        self.df = self
            .df
            .clone()
            .select(order.iter().map(|n| c(n)).collect::<Vec<_>>())
            .map_err(err("ordering the rated columns"))?;
        Ok(())
    }

    /// The rated dataset's columns, in order.
    pub fn output_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = [
            schema::SOURCE_ID,
            schema::ROW_ID,
            schema::SPLIT_PATH,
            schema::RULE_ID,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let names: Vec<String> = self
            .df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let text = schema::text_columns();
        out.extend(text.iter().map(|s| s.to_string()));
        let extensions: Vec<String> = names
            .iter()
            .filter(|n| {
                n.starts_with("x_")
                    && !n.starts_with("x_Effect_")
                    && !n.starts_with("x_Basis_")
                    && !out.contains(n)
                    && !is_rating_column(n)
            })
            .cloned()
            .collect();
        out.extend(extensions);
        out.extend(schema::TIMESTAMPS.iter().map(|s| s.to_string()));
        out.extend(
            [
                schema::FAMILY,
                schema::FAMILY_ID,
                schema::PLAN_ID,
                schema::PLAN_NAME,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        out.extend(self.allocation_keys.iter().cloned());
        out.extend(schema::MONEY.iter().map(|s| s.to_string()));
        out.push(schema::PROFIT.to_string());
        out.extend(schema::QUANTITIES.iter().map(|s| s.to_string()));
        out.extend(self.effect_columns());
        out.extend(self.stages.iter().filter_map(|s| s.basis_column.clone()));
        out
    }
}

fn is_rating_column(n: &str) -> bool {
    [
        schema::SOURCE_ID,
        schema::ROW_ID,
        schema::SPLIT_PATH,
        schema::RULE_ID,
        schema::FAMILY_ID,
        schema::PLAN_ID,
        schema::PLAN_NAME,
    ]
    .contains(&n)
}

/// Share `o` of a value split by `ratios`: the ratio's part, rounded; the last takes the remainder.
fn share_expr(v: Expr, ratios: &[(i128, i128)], o: usize) -> Expr {
    if o + 1 < ratios.len() {
        let (num, den) = ratios[o];
        return udf::mul_ratio(v, num, den);
    }
    let others = ratios[..o].iter().fold(money(0), |acc, (num, den)| {
        m(acc + udf::mul_ratio(v.clone(), *num, *den))
    });
    m(v - others)
}
