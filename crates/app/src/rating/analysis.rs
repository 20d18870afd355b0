//! Analysis: a pivot over the rated data of a range of periods. Groups by any dimension (nested,
//! with subtotals), filters with the rules' condition model, measures and one column per stage,
//! sorted, top N with "others", a total per currency. Sums are exact and never cross currencies.
//! The pivot's results are cached by the runs they read (`pivot_cache.rs`), so a new rating
//! invalidates them.

use std::collections::{BTreeMap, BTreeSet};

use be_domain::pricing::Filter;
use be_domain::pricing::file::{ConditionFile, parse_filter};
use be_domain::{BillingPeriod, Dimension, Exact, FieldError, RatingRunId};
use serde::{Deserialize, Serialize};

use super::port::{GroupedRow, StageInfo};
use crate::{App, AppError, Caller, Result};

/// The measures a pivot can show.
pub const MEASURES: [&str; 8] = [
    "ProviderCost",
    "ListCost",
    "BilledCost",
    "EffectiveCost",
    "Profit",
    "Margin",
    "ConsumedQuantity",
    "PricingQuantity",
];
const DEFAULT_MEASURES: [&str; 5] = [
    "ProviderCost",
    "BilledCost",
    "EffectiveCost",
    "Profit",
    "Margin",
];

/// One analysis, as the API, the console and saved views write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Condition sets (OR) of conditions (AND), as rules write them.
    #[serde(default)]
    pub filter: Vec<Vec<ConditionFile>>,
    /// Default: ProviderCost, BilledCost, EffectiveCost, Profit, Margin.
    #[serde(default)]
    pub measures: Vec<String>,
    #[serde(default)]
    pub show_rules: bool,
    /// A measure, a stage label or a grouping dimension; default: BilledCost.
    #[serde(default)]
    pub sort: Option<String>,
    /// Ascending instead of descending.
    #[serde(default)]
    pub ascending: bool,
    /// Keep the N largest groups of the first level; the others are summed into one row.
    #[serde(default)]
    pub top: Option<usize>,
    /// An asset group's ID (its filter applies too), or "default" for the organization's default.
    #[serde(default)]
    pub asset_group: Option<String>,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalysisRow {
    /// 1 for the first grouping level; a subtotal of level k has k keys.
    pub level: usize,
    pub keys: Vec<Option<String>>,
    pub currency: Option<String>,
    /// Aligned with the table's `columns`.
    pub values: Vec<Exact>,
    pub margin: Option<String>,
    pub rows: i64,
    /// A subtotal of a group with deeper levels below it.
    pub subtotal: bool,
    /// The groups beyond the top N.
    pub others: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalysisTable {
    pub query: AnalysisQuery,
    pub periods: Vec<BillingPeriod>,
    /// Periods of the range without a rating (no data, or rating still running).
    pub unrated: Vec<BillingPeriod>,
    pub group_by: Vec<String>,
    /// The value columns: measures (Margin aside, it is `margin`), then stage labels.
    pub columns: Vec<String>,
    pub stages: Vec<StageInfo>,
    pub rows: Vec<AnalysisRow>,
    /// One per currency.
    pub totals: Vec<AnalysisRow>,
}

fn invalid(field: &'static str, code: &'static str, message: impl std::fmt::Display) -> AppError {
    AppError::Invalid(FieldError::new(field, code, message))
}

impl AnalysisQuery {
    /// The periods and measures parse (checked when a view is saved).
    pub(crate) fn validate_shape(self) -> Result<()> {
        self.periods()?;
        self.measures()?;
        Ok(())
    }

    fn measures(&self) -> Result<Vec<String>> {
        let wanted: Vec<String> = if self.measures.is_empty() {
            DEFAULT_MEASURES.iter().map(|s| s.to_string()).collect()
        } else {
            self.measures.clone()
        };
        for m in &wanted {
            if !MEASURES.iter().any(|x| x.eq_ignore_ascii_case(m)) {
                return Err(invalid(
                    "measures",
                    "measure_unknown",
                    format!("{m:?} is not a measure: {}.", MEASURES.join(", ")),
                ));
            }
        }
        Ok(MEASURES
            .iter()
            .filter(|x| wanted.iter().any(|w| w.eq_ignore_ascii_case(x)))
            .map(|s| s.to_string())
            .collect())
    }

    fn periods(&self) -> Result<Vec<BillingPeriod>> {
        // Each side's mistake is named by its own field.
        let at = |field: &'static str| {
            move |mut e: FieldError| {
                e.field = field.into();
                AppError::Invalid(e)
            }
        };
        let (from, to) = (
            BillingPeriod::parse(&self.from).map_err(at("from"))?,
            BillingPeriod::parse(&self.to).map_err(at("to"))?,
        );
        if to < from {
            return Err(invalid(
                "to",
                "period_range_invalid",
                format!("The range ends ({to}) before it starts ({from})."),
            ));
        }
        if from.months_until(to) >= 60 {
            return Err(invalid(
                "to",
                "period_range_too_long",
                "An analysis covers at most 60 months.",
            ));
        }
        Ok(BillingPeriod::range(from, to).collect())
    }
}

impl App {
    /// The rated lines behind one row of an analysis: the query's filter and asset group, and
    /// each grouping level's value (`None`: no value) and the currency, over the range's periods.
    pub async fn analysis_lines(
        &self,
        caller: &Caller,
        query: &AnalysisQuery,
        keys: &[Option<String>],
        currency: Option<&str>,
        limit: usize,
    ) -> Result<Vec<super::port::RatedLine>> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        let mut cell: Vec<ConditionFile> = query
            .group_by
            .iter()
            .zip(keys)
            .map(|(dim, key)| {
                let (dimension, tag) = match dim.strip_prefix("tag:") {
                    Some(k) => (None, Some(k.to_string())),
                    None => (Some(dim.clone()), None),
                };
                ConditionFile {
                    dimension,
                    tag,
                    op: if key.is_some() {
                        "equals"
                    } else {
                        "not_exists"
                    }
                    .into(),
                    value: key.clone(),
                    values: None,
                }
            })
            .collect();
        cell.extend(currency.map(|c| ConditionFile {
            dimension: Some("BillingCurrency".into()),
            tag: None,
            op: "equals".into(),
            value: Some(c.to_string()),
            values: None,
        }));
        let mut q = query.clone();
        q.filter = if q.filter.is_empty() {
            vec![cell]
        } else {
            q.filter
                .iter()
                .map(|set| set.iter().chain(&cell).cloned().collect())
                .collect()
        };
        let org = caller.organization_id;
        let filter = self.analysis_filter(caller, &q).await?;
        let (runs, _) = self.analysis_runs(org, &q.periods()?).await?;
        let limit = limit.clamp(1, 1000);
        let mut out = Vec::new();
        for (p, run) in runs.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let query = super::port::LinesQuery {
                limit: limit - out.len(),
                filter: filter.clone(),
                ..Default::default()
            };
            let dir = self.layout().rated_run_dir(org, *p, *run);
            out.extend(self.engine()?.lines(dir, query).await?);
        }
        Ok(out)
    }

    /// The query's filter, under its asset group.
    async fn analysis_filter(&self, caller: &Caller, query: &AnalysisQuery) -> Result<Filter> {
        let keys = self.allocation_key_names(caller).await?;
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let filter =
            parse_filter(&query.filter, &key_refs, "filter").map_err(AppError::InvalidFields)?;
        Ok(match query.asset_group.as_deref() {
            None => super::saved::and(&self.family_limit(caller).await?, &filter),
            Some(chosen) => {
                let (_, group) = self
                    .asset_group_filter(caller, (chosen != "default").then_some(chosen))
                    .await?;
                super::saved::and(&group, &filter)
            }
        })
    }

    /// The current run of each rated period, and the periods without one.
    async fn analysis_runs(
        &self,
        org: be_domain::OrganizationId,
        periods: &[BillingPeriod],
    ) -> Result<(Vec<(BillingPeriod, RatingRunId)>, Vec<BillingPeriod>)> {
        let rated: BTreeMap<String, Option<RatingRunId>> = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .map(|p| (p.period, p.current_run))
            .collect();
        let mut runs = Vec::new();
        let mut unrated = Vec::new();
        for p in periods {
            match rated.get(&p.key()).copied().flatten() {
                Some(run) => runs.push((*p, run)),
                None => unrated.push(*p),
            }
        }
        Ok((runs, unrated))
    }

    /// Run an analysis over the rated periods of a range.
    pub async fn analysis(&self, caller: &Caller, query: &AnalysisQuery) -> Result<AnalysisTable> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        let org = caller.organization_id;
        let periods = query.periods()?;
        let measures = query.measures()?;
        let keys = self.allocation_key_names(caller).await?;
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let group_by = query
            .group_by
            .iter()
            .map(|d| {
                Dimension::parse(d, &key_refs).map_err(|e| AppError::Invalid(e.under("group_by")))
            })
            .collect::<Result<Vec<_>>>()?;
        let filter = self.analysis_filter(caller, query).await?;
        let (runs, unrated) = self.analysis_runs(org, &periods).await?;
        let dirs: Vec<std::path::PathBuf> = runs
            .iter()
            .map(|(p, run)| self.layout().rated_run_dir(org, *p, *run))
            .collect();
        // Nothing rated in the range: an empty table, even on a server without an engine.
        let engine = match dirs.is_empty() {
            true => None,
            false => Some(self.engine()?),
        };
        let mut stages: Vec<StageInfo> = Vec::new();
        if let Some(engine) = engine.as_ref().filter(|_| query.show_rules) {
            for dir in &dirs {
                for s in engine.summary(dir.clone()).await?.stages {
                    if !stages.iter().any(|x| x.column == s.column) {
                        stages.push(s);
                    }
                }
            }
        }
        let mut sums: Vec<String> = measures
            .iter()
            .filter(|m| *m != "Margin")
            .cloned()
            .collect();
        if measures.iter().any(|m| m == "Margin") {
            for m in ["Profit", "BilledCost"] {
                if !sums.iter().any(|s| s == m) {
                    sums.push(m.to_string());
                }
            }
        }
        sums.extend(stages.iter().map(|s| s.column.clone()));
        let leaves = match &engine {
            None => vec![],
            Some(_) => {
                self.cached_pivot(super::port::PivotInput {
                    runs: dirs,
                    group_by: group_by.clone(),
                    filter: filter.clone(),
                    sums,
                    by_period: false,
                })
                .await?
            }
        };
        let mut columns: Vec<String> = measures
            .iter()
            .filter(|m| *m != "Margin")
            .cloned()
            .collect();
        let show_margin = measures.iter().any(|m| m == "Margin");
        columns.extend(stages.iter().map(|s| s.label.clone()));
        let value_keys: Vec<String> = measures
            .iter()
            .filter(|m| *m != "Margin")
            .cloned()
            .chain(stages.iter().map(|s| s.column.clone()))
            .collect();
        let table = build(
            query,
            &group_by,
            &leaves,
            &value_keys,
            &columns,
            show_margin,
        )?;
        let out = AnalysisTable {
            query: query.clone(),
            periods: runs.iter().map(|(p, _)| *p).collect(),
            unrated,
            group_by: group_by.iter().map(|d| d.label()).collect(),
            columns,
            stages,
            rows: table.0,
            totals: table.1,
        };
        Ok(out)
    }
}

/// A node of the grouping tree: its sums (by value key) and row count.
#[derive(Default, Clone)]
struct Acc {
    sums: BTreeMap<String, Exact>,
    rows: i64,
}

impl Acc {
    fn add(&mut self, sums: &BTreeMap<String, Exact>, rows: i64) {
        for (k, v) in sums {
            let slot = self.sums.entry(k.clone()).or_default();
            *slot = slot
                .checked_add(*v)
                .expect("sums of stored money fit 38 digits");
        }
        self.rows += rows;
    }

    fn row(
        &self,
        level: usize,
        keys: Vec<Option<String>>,
        currency: Option<String>,
        value_keys: &[String],
        margin: bool,
    ) -> AnalysisRow {
        let get = |k: &str| self.sums.get(k).copied().unwrap_or_default();
        AnalysisRow {
            level,
            keys,
            currency,
            values: value_keys.iter().map(|k| get(k)).collect(),
            margin: if margin {
                get("Profit").percent_of(get("BilledCost"))
            } else {
                None
            },
            rows: self.rows,
            subtotal: false,
            others: false,
        }
    }
}

type Path = (Vec<Option<String>>, Option<String>);

/// Subtotals at every level, sorting, top N at the first level, totals per currency.
fn build(
    q: &AnalysisQuery,
    dims: &[Dimension],
    leaves: &[GroupedRow],
    value_keys: &[String],
    labels: &[String],
    margin: bool,
) -> Result<(Vec<AnalysisRow>, Vec<AnalysisRow>)> {
    let depth = dims.len();
    // Accumulate every prefix (level 1..=depth) per currency.
    let mut nodes: BTreeMap<Path, Acc> = BTreeMap::new();
    let mut totals: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    for leaf in leaves {
        for level in 1..=depth {
            nodes
                .entry((leaf.keys[..level].to_vec(), leaf.currency.clone()))
                .or_default()
                .add(&leaf.sums, leaf.rows);
        }
        totals
            .entry(leaf.currency.clone())
            .or_default()
            .add(&leaf.sums, leaf.rows);
    }
    let sort_key = sort_column(q, dims, value_keys, labels)?;
    let value_of = |acc: &Acc| {
        sort_key
            .as_ref()
            .map(|k| acc.sums.get(k).copied().unwrap_or_default())
    };
    // Children of a prefix, sorted.
    let children =
        |prefix: &[Option<String>], currency: &Option<String>| -> Vec<(Vec<Option<String>>, Acc)> {
            let mut kids: Vec<(Vec<Option<String>>, Acc)> = nodes
                .iter()
                .filter(|((keys, c), _)| {
                    keys.len() == prefix.len() + 1 && keys.starts_with(prefix) && c == currency
                })
                .map(|((keys, _), acc)| (keys.clone(), acc.clone()))
                .collect();
            // By a value: largest first unless ascending; by name: alphabetical. Ties by name.
            kids.sort_by(|(ka, a), (kb, b)| {
                let by_value = match sort_key {
                    Some(_) if q.ascending => value_of(a).cmp(&value_of(b)),
                    Some(_) => value_of(b).cmp(&value_of(a)),
                    None => std::cmp::Ordering::Equal,
                };
                by_value.then_with(|| ka.cmp(kb))
            });
            kids
        };
    let mut rows = Vec::new();
    for currency in totals.keys() {
        let mut first = children(&[], currency);
        let mut others: Option<Acc> = None;
        if let Some(n) = q.top
            && first.len() > n
        {
            let rest = first.split_off(n);
            let mut acc = Acc::default();
            for (_, a) in rest {
                acc.add(&a.sums, a.rows);
            }
            others = Some(acc);
        }
        let mut stack: Vec<(Vec<Option<String>>, Acc)> = first.into_iter().rev().collect();
        while let Some((keys, acc)) = stack.pop() {
            let level = keys.len();
            let mut row = acc.row(level, keys.clone(), currency.clone(), value_keys, margin);
            row.subtotal = level < depth;
            rows.push(row);
            if level < depth {
                stack.extend(children(&keys, currency).into_iter().rev());
            }
        }
        if let Some(acc) = others {
            let mut row = acc.row(
                1,
                vec![None; 1.min(depth)],
                currency.clone(),
                value_keys,
                margin,
            );
            row.others = true;
            rows.push(row);
        }
    }
    let totals = totals
        .iter()
        .map(|(c, acc)| acc.row(0, vec![], c.clone(), value_keys, margin))
        .collect();
    Ok((rows, totals))
}

/// The value key to sort by (a measure, or a stage by its label), or `None` to sort by name.
fn sort_column(
    q: &AnalysisQuery,
    dims: &[Dimension],
    value_keys: &[String],
    labels: &[String],
) -> Result<Option<String>> {
    let Some(s) = q.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        let default = value_keys
            .iter()
            .find(|k| *k == "BilledCost")
            .or(value_keys.first());
        return Ok(default.cloned());
    };
    let by_value = value_keys
        .iter()
        .zip(labels)
        .find(|(k, l)| k.eq_ignore_ascii_case(s) || l.eq_ignore_ascii_case(s));
    if let Some((k, _)) = by_value {
        return Ok(Some(k.clone()));
    }
    if dims.iter().any(|d| d.label().eq_ignore_ascii_case(s)) {
        return Ok(None);
    }
    let known: BTreeSet<String> = labels
        .iter()
        .cloned()
        .chain(dims.iter().map(|d| d.label()))
        .collect();
    Err(invalid(
        "sort",
        "sort_unknown",
        format!(
            "Sort by a column of the table: {}.",
            known.into_iter().collect::<Vec<_>>().join(", ")
        ),
    ))
}

impl App {
    /// An analysis as a Parquet file (the same rows as the CSV; money exact).
    pub async fn analysis_parquet(
        &self,
        caller: &Caller,
        query: &AnalysisQuery,
    ) -> Result<Vec<u8>> {
        let table = self.analysis(caller, query).await?;
        let engine = self.engine()?;
        let columns = table.export_columns();
        Ok(
            tokio::task::spawn_blocking(move || engine.table_parquet(columns))
                .await
                .map_err(AppError::internal)??,
        )
    }
}

impl AnalysisTable {
    /// Every row (groups, subtotals, others, totals) as typed columns, like [`Self::to_csv`].
    fn export_columns(&self) -> Vec<(String, super::port::ExportValues)> {
        use super::port::ExportValues as V;
        let all: Vec<(&str, &AnalysisRow)> = self
            .rows
            .iter()
            .map(|r| {
                (
                    if r.others {
                        "others"
                    } else if r.subtotal {
                        "subtotal"
                    } else {
                        "group"
                    },
                    r,
                )
            })
            .chain(self.totals.iter().map(|r| ("total", r)))
            .collect();
        let mut cols = vec![(
            "row".to_string(),
            V::Text(all.iter().map(|(k, _)| Some(k.to_string())).collect()),
        )];
        for (i, g) in self.group_by.iter().enumerate() {
            let keys = all
                .iter()
                .map(|(_, r)| r.keys.get(i).cloned().flatten())
                .collect();
            cols.push((g.clone(), V::Text(keys)));
        }
        cols.push((
            "BillingCurrency".into(),
            V::Text(all.iter().map(|(_, r)| r.currency.clone()).collect()),
        ));
        for (j, c) in self.columns.iter().enumerate() {
            cols.push((
                c.clone(),
                V::Money(all.iter().map(|(_, r)| r.values[j]).collect()),
            ));
        }
        cols.push((
            "MarginPercent".into(),
            V::Text(all.iter().map(|(_, r)| r.margin.clone()).collect()),
        ));
        cols.push((
            "Rows".into(),
            V::Count(all.iter().map(|(_, r)| r.rows).collect()),
        ));
        cols
    }

    /// The table as CSV (exact decimals, every row: groups, subtotals, others, totals), for export.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["row".into()];
        header.extend(self.group_by.iter().cloned());
        header.push("BillingCurrency".into());
        header.extend(self.columns.iter().cloned());
        header.push("MarginPercent".into());
        header.push("Rows".into());
        w.write_record(&header).map_err(AppError::internal)?;
        let mut write = |kind: &str, r: &AnalysisRow| -> Result<()> {
            let mut rec: Vec<String> = vec![kind.to_string()];
            rec.extend(
                (0..self.group_by.len())
                    .map(|i| r.keys.get(i).cloned().flatten().unwrap_or_default()),
            );
            rec.push(r.currency.clone().unwrap_or_default());
            rec.extend(r.values.iter().map(|v| v.to_string()));
            rec.push(r.margin.clone().unwrap_or_default());
            rec.push(r.rows.to_string());
            w.write_record(&rec).map_err(AppError::internal)
        };
        for r in &self.rows {
            write(
                if r.others {
                    "others"
                } else if r.subtotal {
                    "subtotal"
                } else {
                    "group"
                },
                r,
            )?;
        }
        for r in &self.totals {
            write("total", r)?;
        }
        w.into_inner()
            .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
    }
}

#[cfg(test)]
mod tests {
    //! Property: for random leaves, groupings, sorts and top N, the table's groups add up. Each
    //! currency's first-level rows (others included) sum to its total, each subtotal to its
    //! children, and without top N each leaf row equals the plain sum of its leaves; no total
    //! mixes currencies.
    use super::*;

    /// A small deterministic generator (xorshift), so a failure is reproducible by its seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const VALUES: [&str; 3] = ["BilledCost", "ProviderCost", "Profit"];

    fn leaves(r: &mut Rng, depth: usize) -> Vec<GroupedRow> {
        let names = [None, Some("a"), Some("b"), Some("c"), Some("d")];
        let currencies = [Some("USD"), Some("EUR"), Some("JPY"), None];
        let mut out: BTreeMap<(Vec<Option<String>>, Option<String>), GroupedRow> = BTreeMap::new();
        for _ in 0..r.below(40) {
            let keys: Vec<Option<String>> = (0..depth)
                .map(|_| names[r.below(5) as usize].map(str::to_string))
                .collect();
            let currency = currencies[r.below(4) as usize].map(str::to_string);
            let sums: BTreeMap<String, Exact> = VALUES
                .iter()
                .map(|k| {
                    let v = r.below(2_000_000_000) as i128 - 500_000_000;
                    (k.to_string(), Exact::from_scaled(v * 1_000_000_000_000_000))
                })
                .collect();
            // The engine gives one row per distinct key and currency.
            out.insert(
                (keys.clone(), currency.clone()),
                GroupedRow {
                    keys,
                    currency,
                    rows: 1 + r.below(5) as i64,
                    sums,
                },
            );
        }
        out.into_values().collect()
    }

    fn add(a: &[Exact], b: &[Exact]) -> Vec<Exact> {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.checked_add(*y).expect("fits"))
            .collect()
    }

    #[test]
    fn groups_add_up_to_their_subtotals_and_totals_per_currency() {
        let value_keys: Vec<String> = VALUES.iter().map(|s| s.to_string()).collect();
        for seed in 1..=300u64 {
            let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let depth = 1 + r.below(3) as usize;
            let dims: Vec<Dimension> = ["ServiceName", "RegionName", "SubAccountName"][..depth]
                .iter()
                .map(|d| Dimension::Focus(d.to_string()))
                .collect();
            let leaves = leaves(&mut r, depth);
            let q = AnalysisQuery {
                from: "2026-10".into(),
                to: "2026-10".into(),
                group_by: dims.iter().map(|d| d.label()).collect(),
                filter: vec![],
                measures: vec![],
                show_rules: false,
                sort: [None, Some("ProviderCost"), Some("ServiceName")][r.below(3) as usize]
                    .map(str::to_string),
                ascending: r.below(2) == 0,
                top: [None, Some(1), Some(2)][r.below(3) as usize],
                asset_group: None,
            };
            let (rows, totals) =
                build(&q, &dims, &leaves, &value_keys, &value_keys, true).expect("built");
            // Totals: one per currency, each the plain sum of that currency's leaves.
            let mut expected: BTreeMap<Option<String>, Vec<Exact>> = BTreeMap::new();
            for l in &leaves {
                let v: Vec<Exact> = value_keys.iter().map(|k| l.sums[k]).collect();
                let slot = expected
                    .entry(l.currency.clone())
                    .or_insert(vec![Exact::ZERO; 3]);
                *slot = add(slot, &v);
            }
            let got: BTreeMap<Option<String>, Vec<Exact>> = totals
                .iter()
                .map(|t| (t.currency.clone(), t.values.clone()))
                .collect();
            assert_eq!(got, expected, "seed {seed}: totals per currency");
            // First-level rows (others included) add up to each currency's total.
            for (currency, total) in &expected {
                let mut sum = vec![Exact::ZERO; 3];
                for row in rows
                    .iter()
                    .filter(|x| x.level == 1 && &x.currency == currency)
                {
                    sum = add(&sum, &row.values);
                }
                assert_eq!(&sum, total, "seed {seed}: level 1 of {currency:?}");
            }
            // Each subtotal is the sum of its direct children; leaves match the reference.
            for (i, row) in rows.iter().enumerate() {
                if row.subtotal {
                    let mut sum = vec![Exact::ZERO; 3];
                    for child in rows[i + 1..]
                        .iter()
                        .take_while(|c| c.level > row.level && c.currency == row.currency)
                        .filter(|c| c.level == row.level + 1)
                    {
                        sum = add(&sum, &child.values);
                    }
                    assert_eq!(sum, row.values, "seed {seed}: subtotal {:?}", row.keys);
                }
                if q.top.is_none() && row.level == depth {
                    let reference = leaves
                        .iter()
                        .find(|l| l.keys == row.keys && l.currency == row.currency)
                        .expect("a leaf row comes from a leaf");
                    let v: Vec<Exact> = value_keys.iter().map(|k| reference.sums[k]).collect();
                    assert_eq!(v, row.values, "seed {seed}: leaf {:?}", row.keys);
                }
            }
        }
    }
}
