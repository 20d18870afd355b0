//! Every figure of `../shared/data/engine/example-expected.md`, to the last digit.

use std::collections::BTreeMap;

use be_domain::pricing::{Rate, RuleKind, TierMode};
use be_engine::{Exact, Manifest};

use crate::common::*;

fn ex(s: &str) -> Exact {
    Exact::parse(s).unwrap_or_else(|| panic!("{s}"))
}

/// (ProviderCost, BilledCost, EffectiveCost, Profit) per family name ("" for none).
fn by_family(m: &Manifest) -> BTreeMap<String, [Exact; 4]> {
    let mut out: BTreeMap<String, [Exact; 4]> = BTreeMap::new();
    for g in &m.groups {
        let t = out.entry(g.family.clone().unwrap_or_default()).or_default();
        for (i, col) in ["ProviderCost", "BilledCost", "EffectiveCost", "Profit"]
            .iter()
            .enumerate()
        {
            t[i] += g.sum(col);
        }
    }
    out
}

fn totals(m: &Manifest) -> [Exact; 4] {
    by_family(m).values().fold([Exact::ZERO; 4], |mut acc, t| {
        for i in 0..4 {
            acc[i] += t[i];
        }
        acc
    })
}

/// Each stage's total effect, by label.
fn by_stage(m: &Manifest) -> BTreeMap<String, Exact> {
    m.stages
        .iter()
        .map(|s| {
            (
                s.label.clone(),
                m.groups.iter().map(|g| g.sum(&s.column)).sum(),
            )
        })
        .collect()
}

/// The rated rows of source row `r` (0-based file position), keyed by CostCenter.
fn rows_of(
    rows: &[BTreeMap<String, Option<String>>],
    r: usize,
) -> BTreeMap<String, &BTreeMap<String, Option<String>>> {
    rows.iter()
        .filter(|row| row.get("x_SourceRowId").cloned().flatten() == Some(r.to_string()))
        .map(|row| {
            (
                row.get("CostCenter").cloned().flatten().unwrap_or_default(),
                row,
            )
        })
        .collect()
}

fn get<'a>(row: &'a BTreeMap<String, Option<String>>, col: &str) -> &'a str {
    row.get(col).and_then(|v| v.as_deref()).unwrap_or("null")
}

#[test]
fn scenario_a_as_configured() {
    let (dir, m) = rate_example(&example_config());
    assert_eq!(
        totals(&m),
        [ex("700"), ex("441.2125"), ex("441.2125"), ex("-258.7875")]
    );
    let fam = by_family(&m);
    assert_eq!(
        fam["Contoso"],
        [ex("510"), ex("256.2125"), ex("256.2125"), ex("-253.7875")]
    );
    assert_eq!(fam["Fabrikam"], [ex("180"), ex("175"), ex("175"), ex("-5")]);
    assert_eq!(fam[""], [ex("10"), ex("10"), ex("10"), ex("0")]);

    let stages = by_stage(&m);
    let expect = [
        ("credits (hidden)", "20"),
        ("commitments (unshared)", "-290"),
        ("Standard / Markup 10%", "22"),
        ("Standard / Storage discount", "-2.75"),
        ("Standard / Support fee", "16.9625"),
        ("Gold / SQL discount", "-40"),
        ("Gold / Onboarding", "15"),
    ];
    for (label, v) in expect {
        assert_eq!(stages.get(label).copied(), Some(ex(v)), "{label}");
    }
    assert_eq!(stages.get("taxes (removed)").copied(), Some(Exact::ZERO));
    let profit: Exact = stages.values().copied().sum();
    assert_eq!(profit, ex("-258.7875"), "the stages sum to the profit");

    let rows = rated_rows(&dir.path().join("rated"), &m.files);
    let r1 = rows_of(&rows, 0);
    assert_eq!(r1.len(), 2, "r1 is split in two");
    for (cc, provider, billed, markup) in [("Web", "60", "66", "6"), ("Batch", "40", "44", "4")] {
        let row = r1[cc];
        assert_eq!(
            (
                get(row, "ProviderCost"),
                get(row, "BilledCost"),
                get(row, "EffectiveCost")
            ),
            (provider, billed, billed),
            "r1 {cc}"
        );
        let markup_col = &m
            .stages
            .iter()
            .find(|s| s.label == "Standard / Markup 10%")
            .expect("markup")
            .column;
        assert_eq!(get(row, markup_col), markup);
        assert_eq!(get(row, "BillingFamilyName"), "Contoso");
    }
    let one = |r: usize| *rows_of(&rows, r).values().next().expect("row");
    let expect_rows = [
        (1, "50", "52.25", "52.25"),
        (2, "0", "77", "77"),
        (3, "360", "0", "0"),
        (4, "200", "160", "160"),
        (5, "-20", "0", "0"),
        (6, "10", "10", "10"),
        (7, "0", "0", "0"),
    ];
    for (r, provider, billed, effective) in expect_rows {
        let row = one(r);
        assert_eq!(
            (
                get(row, "ProviderCost"),
                get(row, "BilledCost"),
                get(row, "EffectiveCost")
            ),
            (provider, billed, effective),
            "r{}",
            r + 1
        );
    }
    assert_eq!(get(one(4), "CostCenter"), "Data");
    assert_eq!(get(one(4), "x_PlanName"), "Gold", "sub-C's own plan wins");
    assert_eq!(
        get(one(6), "BillingFamilyName"),
        "null",
        "sub-D is in no family"
    );
    let commitments = &m
        .stages
        .iter()
        .find(|s| s.label == "commitments (unshared)")
        .expect("stage")
        .column;
    assert_eq!(
        get(one(7), commitments),
        "0",
        "r8: commitments applied with no BilledCost change (EffectiveCost 6 -> 0)"
    );

    let new: Vec<_> = rows
        .iter()
        .filter(|r| r.get("x_RuleId").cloned().flatten().is_some())
        .collect();
    assert_eq!(new.len(), 2);
    let support = new
        .iter()
        .find(|r| get(r, "ChargeDescription") == "Support fee")
        .expect("support fee line");
    assert_eq!(
        (
            get(support, "BillingFamilyName"),
            get(support, "SubAccountId"),
            get(support, "BilledCost")
        ),
        ("Contoso", "null", "16.9625")
    );
    assert_eq!(get(support, "ChargeCategory"), "Adjustment");
    let onboarding = new
        .iter()
        .find(|r| get(r, "ChargeDescription") == "Onboarding")
        .expect("onboarding line");
    assert_eq!(
        (
            get(onboarding, "BillingFamilyName"),
            get(onboarding, "SubAccountId"),
            get(onboarding, "BilledCost")
        ),
        ("Fabrikam", "sub-C", "15")
    );

    // BilledCost by CostCenter: Web 66, Batch 44, Data 160, unallocated 171.2125.
    let mut by_cc: BTreeMap<String, Exact> = BTreeMap::new();
    for r in &rows {
        *by_cc.entry(get(r, "CostCenter").to_string()).or_default() += ex(get(r, "BilledCost"));
    }
    assert_eq!(
        by_cc,
        BTreeMap::from([
            ("Web".into(), ex("66")),
            ("Batch".into(), ex("44")),
            ("Data".into(), ex("160")),
            ("null".into(), ex("171.2125"))
        ])
    );
    lineage_holds(&m, &rows);
}

/// ProviderCost + Σ effects = BilledCost on every row.
pub fn lineage_holds(m: &Manifest, rows: &[BTreeMap<String, Option<String>>]) {
    for r in rows {
        let effects: Exact = m
            .stages
            .iter()
            .map(|s| {
                r.get(&s.column)
                    .cloned()
                    .flatten()
                    .map(|v| ex(&v))
                    .unwrap_or(Exact::ZERO)
            })
            .sum();
        assert_eq!(
            ex(get(r, "ProviderCost")) + effects,
            ex(get(r, "BilledCost")),
            "lineage of {r:?}"
        );
    }
}

#[test]
fn scenario_b_without_strategies() {
    let mut config = example_config();
    config.strategies.clear();
    let (dir, m) = rate_example(&config);
    assert_eq!(
        totals(&m),
        [ex("700"), ex("756.1625"), ex("393.1625"), ex("56.1625")]
    );
    let fam = by_family(&m);
    assert_eq!(
        (fam["Contoso"][1], fam["Contoso"][3]),
        (ex("591.1625"), ex("81.1625"))
    );
    assert_eq!(
        (fam["Fabrikam"][1], fam["Fabrikam"][3]),
        (ex("155"), ex("-25"))
    );
    assert_eq!((fam[""][1], fam[""][3]), (ex("10"), ex("0")));
    let rows = rated_rows(&dir.path().join("rated"), &m.files);
    let one = |r: usize| *rows_of(&rows, r).values().next().expect("row");
    for (r, billed, effective) in [
        (2, "0", "26.4"),
        (3, "396", "0"),
        (5, "-20", "-20"),
        (7, "0", "6.6"),
    ] {
        assert_eq!(
            (get(one(r), "BilledCost"), get(one(r), "EffectiveCost")),
            (billed, effective),
            "r{}",
            r + 1
        );
    }
    assert_eq!(by_stage(&m)["Standard / Support fee"], ex("32.9125"));
    lineage_holds(&m, &rows);
}

#[test]
fn scenario_a_with_volume_tiers() {
    let mut config = example_config();
    for plan in &mut config.plans {
        for rule in &mut plan.rules {
            if let RuleKind::Upcharge(ch) = &mut rule.kind
                && let Rate::Tiers(t) = &mut ch.rate
            {
                t.mode = TierMode::Volume;
            }
        }
    }
    let (_dir, m) = rate_example(&config);
    assert_eq!(by_stage(&m)["Standard / Support fee"], ex("11.9625"));
    assert_eq!(by_family(&m)["Contoso"][1], ex("251.2125"));
}
