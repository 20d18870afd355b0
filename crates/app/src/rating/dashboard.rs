//! The dashboard: this month so far and last month, the trend over 13 months, the top families,
//! sub-accounts and services, cost by category, and each connection's freshness; all under an
//! asset group (the default one unless another or none is chosen).

use std::collections::BTreeMap;

use be_domain::{BillingPeriod, Dimension, Exact};
use serde::Serialize;
use time::OffsetDateTime;

use super::port::{GroupedRow, PivotInput};
use super::saved::SavedView;
use crate::{App, Caller, Result};

/// A month's figures in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    pub period: BillingPeriod,
    pub currency: Option<String>,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
    pub profit: Exact,
    pub margin: Option<String>,
}

/// A group in a top list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopRow {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub billed_cost: Exact,
    pub provider_cost: Exact,
    pub profit: Exact,
}

/// How fresh a connection's data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freshness {
    pub connection_id: String,
    pub account: String,
    pub state: be_domain::ConnectionState,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_pull: Option<OffsetDateTime>,
    pub periods: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub asset_group: Option<SavedView>,
    pub this_month: BillingPeriod,
    pub last_month: BillingPeriod,
    /// 13 months, oldest first, one entry per currency and month with data.
    pub trend: Vec<MonthFigures>,
    /// The month of the top lists: this month, or last month while this one has no rating yet.
    pub top_period: Option<BillingPeriod>,
    pub top_families: Vec<TopRow>,
    pub top_sub_accounts: Vec<TopRow>,
    pub top_services: Vec<TopRow>,
    pub by_category: Vec<TopRow>,
    pub freshness: Vec<Freshness>,
}

impl Dashboard {
    /// The figures of a month (one per currency).
    pub fn month(&self, p: BillingPeriod) -> Vec<&MonthFigures> {
        self.trend.iter().filter(|m| m.period == p).collect()
    }
}

const TOP: usize = 10;

fn sum(r: &GroupedRow, k: &str) -> Exact {
    r.sums.get(k).copied().unwrap_or_default()
}

/// The `TOP` largest groups by BilledCost of key `i`, per currency.
fn top(rows: &[GroupedRow], i: usize) -> Vec<TopRow> {
    let mut acc: BTreeMap<(Option<String>, Option<String>), [Exact; 3]> = BTreeMap::new();
    for r in rows {
        let slot = acc
            .entry((r.keys[i].clone(), r.currency.clone()))
            .or_default();
        for (j, k) in ["BilledCost", "ProviderCost", "Profit"].iter().enumerate() {
            slot[j] = slot[j].checked_add(sum(r, k)).expect("fits");
        }
    }
    let mut out: Vec<TopRow> = acc
        .into_iter()
        .map(|((name, currency), v)| TopRow {
            name,
            currency,
            billed_cost: v[0],
            provider_cost: v[1],
            profit: v[2],
        })
        .collect();
    out.sort_by(|a, b| {
        b.billed_cost
            .cmp(&a.billed_cost)
            .then_with(|| a.name.cmp(&b.name))
    });
    out.truncate(TOP);
    out
}

impl App {
    /// The dashboard under an asset group: `None` for the default one, `Some("")` for none.
    pub async fn dashboard(&self, caller: &Caller, asset_group: Option<&str>) -> Result<Dashboard> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        let org = caller.organization_id;
        let (group, filter) = self.asset_group_filter(caller, asset_group).await?;
        let this_month = self.current_period();
        let last_month = this_month.previous();
        let rated: BTreeMap<String, Option<be_domain::RatingRunId>> = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .map(|p| (p.period, p.current_run))
            .collect();
        let runs = |periods: &mut dyn Iterator<Item = BillingPeriod>| -> Vec<std::path::PathBuf> {
            periods
                .filter_map(|p| {
                    rated
                        .get(&p.key())
                        .copied()
                        .flatten()
                        .map(|run| self.layout().rated_run_dir(org, p, run))
                })
                .collect()
        };
        let sums: Vec<String> = ["ProviderCost", "BilledCost", "Profit"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let trend_runs = runs(&mut BillingPeriod::range(
            this_month.plus_months(-12),
            this_month,
        ));
        let top_period = [this_month, last_month]
            .into_iter()
            .find(|p| rated.get(&p.key()).copied().flatten().is_some());
        let month_runs = runs(&mut top_period.into_iter());
        let dims = vec![
            Dimension::Family,
            Dimension::Focus("SubAccountName".into()),
            Dimension::Focus("ServiceName".into()),
            Dimension::Focus("ServiceCategory".into()),
        ];
        // The two pivots and the freshness are independent: asked at once.
        let trend_query = PivotInput {
            runs: trend_runs,
            group_by: vec![],
            filter: filter.clone(),
            sums: sums.clone(),
            by_period: true,
        };
        let month_query = PivotInput {
            runs: month_runs,
            group_by: dims,
            filter,
            sums,
            by_period: false,
        };
        let (trend_rows, month_rows, freshness) = tokio::try_join!(
            self.trend_rows(trend_query),
            self.dashboard_pivot(month_query),
            self.freshness(caller),
        )?;
        let trend = trend_rows
            .iter()
            .filter_map(|r| {
                let period = BillingPeriod::parse(r.keys[0].as_deref()?).ok()?;
                let (billed, profit) = (sum(r, "BilledCost"), sum(r, "Profit"));
                Some(MonthFigures {
                    period,
                    currency: r.currency.clone(),
                    provider_cost: sum(r, "ProviderCost"),
                    billed_cost: billed,
                    profit,
                    margin: profit.percent_of(billed),
                })
            })
            .collect();
        Ok(Dashboard {
            asset_group: group,
            this_month,
            last_month,
            trend,
            top_period,
            top_families: top(&month_rows, 0),
            top_sub_accounts: top(&month_rows, 1),
            top_services: top(&month_rows, 2),
            by_category: top(&month_rows, 3),
            freshness,
        })
    }

    /// A pivot of the dashboard; none without runs (also on a server without an engine).
    async fn dashboard_pivot(&self, q: PivotInput) -> Result<Vec<GroupedRow>> {
        if q.runs.is_empty() {
            return Ok(vec![]);
        }
        self.cached_pivot(q).await
    }

    /// The trend's rows (by period and currency). Without a filter they are each run's totals,
    /// which its manifest holds: no Parquet is read, so the 13 months cost 13 small reads.
    async fn trend_rows(&self, q: PivotInput) -> Result<Vec<GroupedRow>> {
        if !q.filter.is_empty() || q.runs.is_empty() {
            return self.dashboard_pivot(q).await;
        }
        let engine = self.engine()?;
        let mut acc: BTreeMap<(Option<String>, Option<String>), GroupedRow> = BTreeMap::new();
        for dir in &q.runs {
            let period = crate::layout::period_of_run(dir);
            for g in engine.summary(dir.clone()).await?.groups {
                let row = acc
                    .entry((period.clone(), g.currency.clone()))
                    .or_insert_with(|| GroupedRow {
                        keys: vec![period.clone()],
                        currency: g.currency.clone(),
                        rows: 0,
                        sums: BTreeMap::new(),
                    });
                row.rows += g.rows;
                for col in &q.sums {
                    if let Some(v) = g.sums.get(col) {
                        let slot = row.sums.entry(col.clone()).or_default();
                        *slot = slot.checked_add(*v).expect("sums of stored money fit");
                    }
                }
            }
        }
        Ok(acc.into_values().collect())
    }

    async fn freshness(&self, caller: &Caller) -> Result<Vec<Freshness>> {
        let org = caller.organization_id;
        let names = self.source_names(org).await?;
        let mut out = Vec::new();
        for c in self.store.list_connections(org).await? {
            let periods = self.store.list_periods(org, c.id).await?;
            out.push(Freshness {
                connection_id: c.id.to_string(),
                account: names.get(&c.id.to_string()).cloned().unwrap_or_default(),
                state: c.state,
                last_pull: periods.iter().map(|p| p.pulled_at).max(),
                periods: periods.len(),
            });
        }
        Ok(out)
    }
}
