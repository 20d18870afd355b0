//! The analysis pivot against a plain reference: random rated periods (random rows rated with a
//! random configuration, as in `property.rs`) and random queries (up to three groupings among
//! FOCUS columns, a tag, the family, the plan and allocation keys; filters with every operator;
//! any measures and effect columns; one or two periods, by period or not). The reference reads
//! the rated rows back from the Parquet parts and sums each group row by row; the engine's groups,
//! row counts and sums must be identical to the last digit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use be_domain::Dimension;
use be_domain::pricing::{Condition, ConditionSet, Filter, Operator};
use be_engine::{Engine, Manifest, PivotQuery, RateRequest};
use proptest::prelude::*;

use crate::common::*;
use crate::property::{Rng, config, filter, rows, write_csv};

/// A rated row as text, by column.
type RatedRow = BTreeMap<String, Option<String>>;
/// (keys, currency) -> (rows, sums by column as decimal text).
type Groups = BTreeMap<(Vec<Option<String>>, Option<String>), (i64, BTreeMap<String, String>)>;

/// One rated period: its run folder (`.../{YYYY-MM}/run`), manifest and rows read back.
struct RatedPeriod {
    key: String,
    dir: PathBuf,
    manifest: Manifest,
    rows: Vec<RatedRow>,
}

fn rate(r: &mut Rng, root: &std::path::Path, key: &str) -> RatedPeriod {
    let data = rows(r);
    let cfg = config(r).for_period(period("2026-10"));
    let input = root.join(format!("input-{key}"));
    let csv = root.join(format!("{key}.csv"));
    write_csv(&data, &csv);
    let sources = import(&csv, &input, SOURCE);
    let req = RateRequest {
        period: period("2026-10"),
        config: cfg,
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        default_currency: usd(),
    };
    // The run folder's parent names the period, as in the data directory.
    let dir = root.join("rated").join(key).join("run");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let manifest = rt
        .block_on(Engine::new(2).expect("engine").rate(req, dir.clone()))
        .unwrap_or_else(|e| panic!("rating failed: {e}"));
    let rows = rated_rows(&dir, &manifest.files);
    RatedPeriod {
        key: key.to_string(),
        dir,
        manifest,
        rows,
    }
}

/// A dimension's value on a rated row (an empty text is no value, as the engine groups it).
fn value(row: &RatedRow, d: &Dimension) -> Option<String> {
    let text = |c: &str| row.get(c).cloned().flatten();
    let v = match d {
        Dimension::Focus(c) | Dimension::Extension(c) | Dimension::Allocation(c) => text(c),
        Dimension::Family => text("BillingFamilyName"),
        Dimension::Plan => text("x_PlanName"),
        Dimension::Tag(k) => text("Tags").and_then(|t| {
            let v: serde_json::Value = serde_json::from_str(&t).ok()?;
            v.get(k.as_str())?.as_str().map(str::to_string)
        }),
    };
    v.filter(|s| !s.is_empty())
}

/// Group sums over the rated rows, row by row.
fn reference(periods: &[&RatedPeriod], q: &PivotQuery) -> Groups {
    let mut out: BTreeMap<_, (i64, BTreeMap<String, i128>)> = BTreeMap::new();
    for p in periods {
        for row in &p.rows {
            let values: Vec<(&Dimension, Option<String>)> =
                q.filter.dimensions().map(|d| (d, value(row, d))).collect();
            let value_of = |d: &Dimension| {
                values
                    .iter()
                    .find(|(x, _)| *x == d)
                    .and_then(|(_, v)| v.as_deref())
            };
            if !q.filter.matches(value_of) {
                continue;
            }
            let mut keys: Vec<Option<String>> = vec![];
            if q.by_period {
                keys.push(Some(p.key.clone()));
            }
            keys.extend(q.group_by.iter().map(|d| value(row, d)));
            let currency = row.get("BillingCurrency").cloned().flatten();
            let slot = out.entry((keys, currency)).or_default();
            slot.0 += 1;
            for col in &q.sums {
                let v = row.get(col).cloned().flatten();
                if let Some(v) = v {
                    let v = be_engine::money::parse(&v).expect("money");
                    *slot.1.entry(col.clone()).or_default() += v;
                }
            }
        }
    }
    out.into_iter()
        .map(|(k, (n, sums))| {
            let sums = sums
                .into_iter()
                .map(|(c, v)| (c, be_engine::money::format(v)))
                .collect();
            (k, (n, sums))
        })
        .collect()
}

fn random_query(r: &mut Rng, periods: &[&RatedPeriod]) -> PivotQuery {
    let keys: Vec<String> = periods
        .iter()
        .flat_map(|p| p.manifest.allocation_keys.iter().cloned())
        .collect();
    let mut pool = vec![
        Dimension::Focus("ServiceName".into()),
        Dimension::Focus("RegionId".into()),
        Dimension::Focus("SubAccountId".into()),
        Dimension::Focus("ChargeCategory".into()),
        Dimension::Tag("team".into()),
        Dimension::Family,
        Dimension::Plan,
    ];
    pool.extend(keys.iter().map(|k| Dimension::Allocation(k.clone())));
    let mut group_by = Vec::new();
    for _ in 0..r.below(4) {
        let d = r.pick(&pool).clone();
        if !group_by.contains(&d) {
            group_by.push(d);
        }
    }
    let mut f = filter(r, &keys, true);
    if r.chance(40) {
        // The common filter of analysis: some sub-accounts.
        let subs = vec!["s1".to_string(), ["s2", "s4"][r.below(2)].to_string()];
        let by_sub = Condition {
            dimension: Dimension::Focus("SubAccountId".into()),
            op: Operator::In(subs),
        };
        f = match f.is_empty() {
            true => Filter(vec![ConditionSet(vec![by_sub])]),
            false => Filter(
                f.0.into_iter()
                    .map(|mut s| {
                        s.0.push(by_sub.clone());
                        s
                    })
                    .collect(),
            ),
        };
    }
    let mut columns: Vec<String> = [
        "ProviderCost",
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "Profit",
        "ConsumedQuantity",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in periods {
        for s in &p.manifest.stages {
            if !columns.contains(&s.column) {
                columns.push(s.column.clone());
            }
        }
    }
    let sums: Vec<String> = columns.into_iter().filter(|_| r.chance(60)).collect();
    PivotQuery {
        runs: periods.iter().map(|p| p.dir.clone()).collect(),
        group_by,
        filter: f,
        sums,
        by_period: r.chance(50),
    }
}

fn engine_groups(rt: &tokio::runtime::Runtime, q: &PivotQuery) -> Result<Groups, TestCaseError> {
    let rows = rt
        .block_on(Engine::new(2).expect("engine").pivot(q.clone()))
        .map_err(|e| TestCaseError::fail(format!("pivot failed: {e}")))?;
    let n = rows.len();
    let groups: Groups = rows
        .into_iter()
        .map(|r| {
            let sums = r
                .sums
                .iter()
                .map(|(c, v)| (c.clone(), v.to_string()))
                .collect();
            ((r.keys, r.currency), (r.rows, sums))
        })
        .collect();
    prop_assert_eq!(groups.len(), n, "one row per group");
    Ok(groups)
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let mut r = Rng(seed);
    let root = tempfile::tempdir().expect("tmp");
    let sep = rate(&mut r, root.path(), "2026-09");
    let oct = rate(&mut r, root.path(), "2026-10");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    for i in 0..4 {
        let periods: Vec<&RatedPeriod> = match r.below(3) {
            0 => vec![&sep],
            1 => vec![&oct],
            _ => vec![&sep, &oct],
        };
        let q = random_query(&mut r, &periods);
        let want = reference(&periods, &q);
        let got = engine_groups(&rt, &q)?;
        prop_assert_eq!(got, want, "seed {} query {}: {:?}", seed, i, q);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_pivot_matches_group_sums_over_the_rated_rows(seed in any::<u64>()) {
        check(seed)?;
    }
}

#[test]
fn the_pivot_matches_on_fixed_seeds() {
    for seed in [1, 2, 3, 42, 7_777] {
        check(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}
