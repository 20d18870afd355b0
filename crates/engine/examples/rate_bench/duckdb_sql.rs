//! The DuckDB side of the benchmark: the same rating as SQL, written from the same `PeriodConfig`
//! stage by stage as `crates/engine/src/pipeline.rs` builds it (one CTE per `set`).
//!
//! Exactness: money columns are turned once into HUGEINT units of 10^-24 (`be_u`, exact), every
//! product is `be_hdiv(x × num, den)` (integer division rounded half-even, as `be_mul_ratio`),
//! sums and differences are integer, and the output columns go back to DECIMAL(38,24) (`be_d`,
//! exact). DuckDB's own DECIMAL product would need scale 30 in 38 digits, and its ROUND rounds half
//! away from zero. Splits join an ordinal table (the engine unnests an array; a row matched by no
//! entry keeps one row with a null ordinal in both).

use be_domain::pricing::{
    Charge, CommitmentStrategy, Condition, CreditsStrategy, Filter, OnDemandBasis, Operator,
    PeriodConfig, Rate, RuleKind, Scope, TaxStrategy, TierMode,
};
use be_domain::{Dimension, FAMILY_DIMENSION, FOCUS_COLUMNS, FocusType, Percent};
use be_engine::StageKey;

const MACROS: &str = r#"
CREATE MACRO be_f12(x) AS (x - trunc(x)) * 1000000000000;
CREATE MACRO be_u(x) AS
  CAST(trunc(x) AS HUGEINT) * CAST('1000000000000000000000000' AS HUGEINT)
  + CAST(trunc(be_f12(x)) AS HUGEINT) * CAST(1000000000000 AS HUGEINT)
  + CAST((be_f12(x) - trunc(be_f12(x))) * 1000000000000 AS HUGEINT);
CREATE MACRO be_d(u) AS CAST(
  CAST(u // CAST('1000000000000000000000000' AS HUGEINT) AS DECIMAL(38,24))
  + CAST(CAST((u % CAST('1000000000000000000000000' AS HUGEINT)) // CAST(1000000000000 AS HUGEINT) AS DECIMAL(18,0)) * CAST('0.000000000001' AS DECIMAL(13,12)) AS DECIMAL(38,24))
  + CAST(CAST(u % CAST(1000000000000 AS HUGEINT) AS DECIMAL(18,0)) * CAST('0.000000000000000000000001' AS DECIMAL(25,24)) AS DECIMAL(38,24))
  AS DECIMAL(38,24));
CREATE MACRO be_hdiv(p, d) AS
  (p // d) + CASE WHEN 2 * abs(p % d) > d OR (2 * abs(p % d) = d AND (p // d) % 2 <> 0) THEN sign(p) ELSE 0 END;
CREATE MACRO be_tag(t, k, needle) AS
  CASE WHEN contains(t, needle) THEN nullif(json_extract_string(t, '$."' || k || '"'), '') END;
"#;

const MONEY_IN: [&str; 7] = [
    "ProviderCost",
    "ListCost",
    "ContractedCost",
    "BilledCost",
    "EffectiveCost",
    "ConsumedQuantity",
    "PricingQuantity",
];
const TIMESTAMPS: [&str; 4] = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
];

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn id(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `(num, den)` of a percent over 100 × 10^4, as `lines.rs` computes charges.
fn numerator(p: Percent) -> i128 {
    let (n, d) = p.ratio();
    n * (1_000_000 / d)
}

fn mulr(x: &str, p: Percent, negate: bool) -> String {
    let (n, d) = p.ratio();
    let n = if negate { -n } else { n };
    format!("be_hdiv(({x}) * CAST({n} AS HUGEINT), CAST({d} AS HUGEINT))")
}

/// The stages as a chain of CTEs; `cols` is the current column list.
struct Chain {
    ctes: Vec<String>,
    cols: Vec<String>,
}

impl Chain {
    fn last(&self) -> String {
        format!("s{}", self.ctes.len() - 1)
    }

    /// One level: replace or add each `(name, expr)` (all computed from the previous level).
    fn set(&mut self, changes: &[(String, String)]) {
        let mut replace = vec![];
        let mut add = vec![];
        for (name, e) in changes {
            if self.cols.contains(name) {
                replace.push(format!("{e} AS {}", id(name)));
            } else {
                add.push(format!("{e} AS {}", id(name)));
                self.cols.push(name.clone());
            }
        }
        let star = if replace.is_empty() {
            "*".to_string()
        } else {
            format!("* REPLACE ({})", replace.join(", "))
        };
        let extra: String = add.iter().map(|a| format!(", {a}")).collect();
        let sql = format!("SELECT {star}{extra} FROM {}", self.last());
        self.ctes.push(sql);
    }

    fn set1(&mut self, name: &str, e: String) {
        self.set(&[(name.to_string(), e)]);
    }

    fn raw(&mut self, sql: String, cols: Vec<String>) {
        self.ctes.push(sql);
        self.cols = cols;
    }

    fn drop(&mut self, names: &[&str]) {
        let ex = names.iter().map(|n| id(n)).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT * EXCLUDE ({ex}) FROM {}", self.last());
        self.ctes.push(sql);
        self.cols.retain(|c| !names.contains(&c.as_str()));
    }
}

fn tag(k: &str) -> String {
    let needle = serde_json::to_string(k).unwrap_or_default();
    format!("be_tag(\"Tags\", {}, {})", q(k), q(&needle))
}

fn dimension(d: &Dimension) -> String {
    match d {
        Dimension::Focus(n) | Dimension::Extension(n) | Dimension::Allocation(n) => id(n),
        Dimension::Family => id(FAMILY_DIMENSION),
        Dimension::Plan => id("x_PlanName"),
        // As the engine: each tag read once per row into a hidden column (`Pipeline::read_tags`);
        // BENCH_TAGS_PER_CONDITION=1 reads the JSON in every condition, as the engine did before.
        Dimension::Tag(k) if tags_per_condition() => tag(k),
        Dimension::Tag(k) => id(&format!("__tag_{k}")),
    }
}

fn tags_per_condition() -> bool {
    std::env::var_os("BENCH_TAGS_PER_CONDITION").is_some()
}

/// The hidden tag columns (see [`dimension`]).
fn read_tags(chain: &mut Chain, cfg: &PeriodConfig) {
    if tags_per_condition() {
        return;
    }
    let mut keys: Vec<String> = cfg
        .plans
        .iter()
        .flat_map(|p| p.rules.iter().map(|r| &r.when))
        .chain(
            cfg.allocations
                .iter()
                .flat_map(|a| a.entries.iter().map(|e| &e.when)),
        )
        .flat_map(|f| f.dimensions())
        .filter_map(|d| match d {
            Dimension::Tag(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        chain.set1(&format!("__tag_{k}"), tag(&k));
    }
}

fn present(v: &str) -> String {
    format!("(({v}) <> '') IS TRUE")
}

fn condition(c: &Condition) -> String {
    let v = dimension(&c.dimension);
    let list = |xs: &[String]| {
        xs.iter()
            .filter(|x| !x.is_empty())
            .map(|x| q(x))
            .collect::<Vec<_>>()
    };
    match &c.op {
        Operator::Equals(x) if x.is_empty() => "false".into(),
        Operator::Equals(x) => format!("({v} = {}) IS TRUE", q(x)),
        Operator::NotEquals(x) if x.is_empty() => "true".into(),
        Operator::NotEquals(x) => format!("({v} = {}) IS NOT TRUE", q(x)),
        Operator::In(xs) if list(xs).is_empty() => "false".into(),
        Operator::In(xs) => format!("({v} IN ({})) IS TRUE", list(xs).join(", ")),
        Operator::NotIn(xs) if list(xs).is_empty() => "true".into(),
        Operator::NotIn(xs) => format!("({v} IN ({})) IS NOT TRUE", list(xs).join(", ")),
        Operator::StartsWith(x) => {
            format!("{} AND starts_with({v}, {}) IS TRUE", present(&v), q(x))
        }
        Operator::Contains(x) => format!("{} AND contains({v}, {}) IS TRUE", present(&v), q(x)),
        Operator::Matches(p) => format!(
            "{} AND regexp_matches({v}, {}) IS TRUE",
            present(&v),
            q(p.as_str())
        ),
        Operator::Exists => present(&v),
        Operator::NotExists => format!("NOT {}", present(&v)),
    }
}

fn filter(f: &Filter) -> String {
    if f.is_empty() {
        return "true".into();
    }
    let sets: Vec<String> =
        f.0.iter()
            .map(|set| {
                let cs: Vec<String> = set.0.iter().map(condition).collect();
                if cs.is_empty() {
                    "true".into()
                } else {
                    format!("({})", cs.join(" AND "))
                }
            })
            .collect();
    format!("({})", sets.join(" OR "))
}

/// The input: one source file projected onto the rating input, money in units.
fn input(chain: &mut Chain, parquet: &str, source_id: &str, present: &[String], ext: &[String]) {
    let mut sel = vec![
        format!("{} AS \"x_SourceId\"", q(source_id)),
        "\"x_SourceRowId\"".to_string(),
        "CAST(NULL AS VARCHAR) AS \"x_SplitPath\"".to_string(),
    ];
    let mut cols: Vec<String> = vec![
        "x_SourceId".into(),
        "x_SourceRowId".into(),
        "x_SplitPath".into(),
    ];
    let has = |n: &str| present.iter().any(|p| p == n);
    for n in text_columns().iter().chain(ext.iter()) {
        sel.push(if has(n) {
            id(n)
        } else {
            format!("CAST(NULL AS VARCHAR) AS {}", id(n))
        });
        cols.push(n.clone());
    }
    for n in TIMESTAMPS {
        sel.push(id(n));
        cols.push(n.into());
    }
    for n in MONEY_IN {
        let src = if n == "ProviderCost" { "BilledCost" } else { n };
        sel.push(if has(src) {
            format!("be_u({}) AS {}", id(src), id(n))
        } else {
            format!("CAST(NULL AS HUGEINT) AS {}", id(n))
        });
        cols.push(n.into());
    }
    chain.raw(
        format!(
            "SELECT {} FROM read_parquet({})",
            sel.join(", "),
            q(parquet)
        ),
        cols,
    );
}

pub fn text_columns() -> Vec<String> {
    FOCUS_COLUMNS
        .iter()
        .filter(|(n, t)| *t == FocusType::Text || *n == "Tags")
        .map(|(n, _)| n.to_string())
        .collect()
}

fn strategies(chain: &mut Chain, cfg: &PeriodConfig) {
    let s = cfg.strategy;
    let unshared = s.commitments == CommitmentStrategy::Unshared;
    let t = |b: bool, e: &str| if b { e.to_string() } else { "false".into() };
    let credit = t(
        s.credits == CreditsStrategy::Hide,
        "(\"ChargeCategory\" = 'Credit') IS TRUE",
    );
    let tax = t(
        s.taxes == TaxStrategy::Remove,
        "(\"ChargeCategory\" = 'Tax') IS TRUE",
    );
    let used = t(
        unshared,
        "(\"ChargeCategory\" = 'Usage' AND \"CommitmentDiscountStatus\" = 'Used') IS TRUE",
    );
    let purchase = "(\"ChargeCategory\" = 'Purchase' AND \"CommitmentDiscountId\" <> '') IS TRUE";
    let unused =
        "(\"ChargeCategory\" = 'Usage' AND \"CommitmentDiscountStatus\" = 'Unused') IS TRUE";
    let zeroed = t(unshared, &format!("({purchase} OR {unused})"));
    let basis = match s.on_demand_basis {
        OnDemandBasis::Contracted => "coalesce(\"ContractedCost\", \"EffectiveCost\")",
        OnDemandBasis::List => "coalesce(\"ListCost\", \"EffectiveCost\")",
    };
    let neg = "(CAST(0 AS HUGEINT) - \"BilledCost\")";
    let null = "CAST(NULL AS HUGEINT)";
    chain.set(&[
        (StageKey::Credits.column(), format!("CASE WHEN {credit} THEN {neg} ELSE {null} END")),
        (
            StageKey::Commitments.column(),
            format!("CASE WHEN {used} THEN {basis} - \"BilledCost\" WHEN {zeroed} THEN {neg} ELSE {null} END"),
        ),
        (StageKey::Taxes.column(), format!("CASE WHEN {tax} THEN {neg} ELSE {null} END")),
    ]);
    let to_zero = format!("({credit} OR {tax} OR {zeroed})");
    for col in ["BilledCost", "EffectiveCost"] {
        chain.set1(
            col,
            format!(
                "CASE WHEN {to_zero} THEN CAST(0 AS HUGEINT) WHEN {used} THEN {basis} ELSE {} END",
                id(col)
            ),
        );
    }
}

fn families(chain: &mut Chain, cfg: &PeriodConfig) {
    let mut subs: Vec<_> = cfg
        .families
        .keys()
        .chain(cfg.sub_account_plans.keys())
        .collect();
    subs.sort();
    subs.dedup();
    let opt = |v: Option<String>| v.map(|s| q(&s)).unwrap_or_else(|| "NULL".into());
    let rows: Vec<String> = subs
        .iter()
        .map(|s| {
            let fam = cfg.family_of(s);
            let plan = cfg.plan_of(s);
            let plan_name = plan
                .and_then(|p| cfg.plans.iter().find(|x| x.id == p))
                .map(|p| p.name.clone());
            format!(
                "({}, {}, {}, {}, {})",
                q(&s.to_string()),
                opt(fam.map(|f| f.1.clone())),
                opt(fam.map(|f| f.0.to_string())),
                opt(plan.map(|p| p.to_string())),
                opt(plan_name)
            )
        })
        .collect();
    let table = if rows.is_empty() {
        "(SELECT CAST(NULL AS VARCHAR) AS __sub, CAST(NULL AS VARCHAR) AS __family, CAST(NULL AS VARCHAR) AS __family_id, CAST(NULL AS VARCHAR) AS __plan_id, CAST(NULL AS VARCHAR) AS __plan_name WHERE false)".to_string()
    } else {
        format!(
            "(VALUES {}) AS m(__sub, __family, __family_id, __plan_id, __plan_name)",
            rows.join(", ")
        )
    };
    let mut cols = chain.cols.clone();
    cols.extend(["BillingFamilyName", "x_FamilyId", "x_PlanId", "x_PlanName"].map(String::from));
    let sql = format!(
        "SELECT r.*, m.__family AS \"BillingFamilyName\", m.__family_id AS \"x_FamilyId\", m.__plan_id AS \"x_PlanId\", m.__plan_name AS \"x_PlanName\" FROM {} r LEFT JOIN {table} ON r.\"SubAccountId\" = m.__sub",
        chain.last()
    );
    chain.raw(sql, cols);
}

fn effects(chain: &Chain) -> Vec<String> {
    chain
        .cols
        .iter()
        .filter(|c| c.starts_with("x_Effect_"))
        .cloned()
        .collect()
}

fn allocation(chain: &mut Chain, cfg: &PeriodConfig, i: usize) {
    let a = &cfg.allocations[i];
    let key = a.key.as_str().to_string();
    let matched: Vec<String> = a.entries.iter().map(|e| filter(&e.when)).collect();
    if !a.entries.iter().any(|e| e.is_split()) {
        let branches: String = a
            .entries
            .iter()
            .zip(&matched)
            .map(|(e, m)| format!(" WHEN {m} THEN {}", q(&e.values[0].value)))
            .collect();
        chain.set1(
            &key,
            format!("CASE{branches} ELSE CAST(NULL AS VARCHAR) END"),
        );
        return;
    }
    let (entry, ord) = (format!("__alloc_{i}"), format!("__ord_{i}"));
    let branches: String = matched
        .iter()
        .enumerate()
        .map(|(j, m)| format!(" WHEN {m} THEN {j}"))
        .collect();
    chain.set1(
        &entry,
        format!("CASE{branches} ELSE CAST(NULL AS INTEGER) END"),
    );
    let ords: Vec<String> = a
        .entries
        .iter()
        .enumerate()
        .flat_map(|(j, e)| (0..e.values.len()).map(move |o| format!("({j}, {o})")))
        .collect();
    let mut cols = chain.cols.clone();
    cols.push(ord.clone());
    let sql = format!(
        "SELECT r.*, o.__o AS {} FROM {} r LEFT JOIN (VALUES {}) AS o(__e, __o) ON r.{} = o.__e",
        id(&ord),
        chain.last(),
        ords.join(", "),
        id(&entry)
    );
    chain.raw(sql, cols);
    let at = |j: usize, o: usize| format!("({} = {j} AND {} = {o}) IS TRUE", id(&entry), id(&ord));
    let values: String = a
        .entries
        .iter()
        .enumerate()
        .flat_map(|(j, e)| {
            e.values
                .iter()
                .enumerate()
                .map(move |(o, s)| (j, o, s.value.clone()))
        })
        .map(|(j, o, v)| format!(" WHEN {} THEN {}", at(j, o), q(&v)))
        .collect();
    chain.set1(&key, format!("CASE{values} ELSE CAST(NULL AS VARCHAR) END"));
    let mut shared: Vec<String> = [
        "ProviderCost",
        "ListCost",
        "ContractedCost",
        "EffectiveCost",
        "ConsumedQuantity",
        "PricingQuantity",
    ]
    .map(String::from)
    .to_vec();
    shared.extend(effects(chain));
    let changes: Vec<(String, String)> = shared
        .iter()
        .map(|col| {
            let branches: String = a
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_split())
                .flat_map(|(j, e)| {
                    let ratios: Vec<Percent> = e.values.iter().map(|s| s.percent).collect();
                    (0..ratios.len()).map(move |o| (j, o, ratios.clone()))
                })
                .map(|(j, o, ratios)| {
                    format!(" WHEN {} THEN {}", at(j, o), share(&id(col), &ratios, o))
                })
                .collect();
            (col.clone(), format!("CASE{branches} ELSE {} END", id(col)))
        })
        .collect();
    chain.set(&changes);
    rebuild_billed(chain);
    let segments: String = a
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_split())
        .flat_map(|(j, e)| (0..e.values.len()).map(move |o| (j, o)))
        .map(|(j, o)| format!(" WHEN {} THEN {}", at(j, o), q(&format!("{key}:{j}:{o}"))))
        .collect();
    let joined =
        format!("concat_ws(',', \"x_SplitPath\", CASE{segments} ELSE CAST(NULL AS VARCHAR) END)");
    chain.set1(
        "x_SplitPath",
        format!("CASE WHEN ({joined} = '') IS TRUE THEN CAST(NULL AS VARCHAR) ELSE {joined} END"),
    );
    chain.drop(&[&entry, &ord]);
}

fn share(v: &str, ratios: &[Percent], o: usize) -> String {
    if o + 1 < ratios.len() {
        return mulr(v, ratios[o], false);
    }
    let others: Vec<String> = ratios[..o].iter().map(|p| mulr(v, *p, false)).collect();
    format!("({v} - ({}))", others.join(" + "))
}

fn rebuild_billed(chain: &mut Chain) {
    let sum: String = effects(chain)
        .iter()
        .map(|e| format!(" + coalesce({}, CAST(0 AS HUGEINT))", id(e)))
        .collect();
    chain.set1("BilledCost", format!("(\"ProviderCost\"{sum})"));
}

fn rules(chain: &mut Chain, cfg: &PeriodConfig) -> Vec<String> {
    let mut bases = vec![];
    for plan in &cfg.plans {
        for rule in &plan.rules {
            let applies = format!(
                "((\"x_PlanId\" = {}) IS TRUE AND {})",
                q(&plan.id.to_string()),
                filter(&rule.when)
            );
            let col = StageKey::Rule(rule.id).column();
            let null = "CAST(NULL AS HUGEINT)".to_string();
            match &rule.kind {
                RuleKind::Markup { percent } | RuleKind::Markdown { percent } => {
                    let down = matches!(rule.kind, RuleKind::Markdown { .. });
                    let effect = mulr("\"BilledCost\"", *percent, down);
                    chain.set1(
                        &col,
                        format!("CASE WHEN {applies} THEN {effect} ELSE {null} END"),
                    );
                    chain.set1(
                        "BilledCost",
                        format!(
                            "\"BilledCost\" + coalesce({}, CAST(0 AS HUGEINT))",
                            id(&col)
                        ),
                    );
                    let eff = mulr("\"EffectiveCost\"", *percent, down);
                    chain.set1("EffectiveCost", format!("CASE WHEN {applies} THEN \"EffectiveCost\" + {eff} ELSE \"EffectiveCost\" END"));
                }
                RuleKind::Upcharge(_) | RuleKind::Discount(_) => {
                    let basis = be_engine::schema::basis_column(rule.id);
                    chain.set1(
                        &basis,
                        format!("CASE WHEN {applies} THEN \"BilledCost\" ELSE {null} END"),
                    );
                    chain.set1(&col, null);
                    bases.push(basis);
                }
                _ => chain.set1(&col, null),
            }
        }
    }
    bases
}

/// The rated rows' columns in the engine's order, money back to DECIMAL(38,24).
fn output(chain: &Chain, cfg: &PeriodConfig, ext: &[String], bases: &[String]) -> String {
    let mut sel: Vec<String> = ["x_SourceId", "x_SourceRowId", "x_SplitPath"]
        .iter()
        .map(|n| id(n))
        .collect();
    sel.push("CAST(NULL AS VARCHAR) AS \"x_RuleId\"".into());
    sel.extend(text_columns().iter().chain(ext).map(|n| id(n)));
    sel.extend(TIMESTAMPS.iter().map(|n| id(n)));
    sel.extend(
        ["BillingFamilyName", "x_FamilyId", "x_PlanId", "x_PlanName"]
            .iter()
            .map(|n| id(n)),
    );
    sel.extend(cfg.allocations.iter().map(|a| id(a.key.as_str())));
    let dec = |n: &str| format!("be_d({}) AS {}", id(n), id(n));
    sel.extend(
        [
            "ProviderCost",
            "ListCost",
            "ContractedCost",
            "BilledCost",
            "EffectiveCost",
        ]
        .map(dec),
    );
    sel.push("be_d(\"BilledCost\" - \"ProviderCost\") AS \"Profit\"".into());
    sel.extend(["ConsumedQuantity", "PricingQuantity"].map(dec));
    sel.extend(effects(chain).iter().map(|n| dec(n)));
    sel.extend(bases.iter().map(|n| dec(n)));
    format!("SELECT {} FROM {}", sel.join(", "), chain.last())
}

/// The charge of an upcharge or discount on a basis (units), as `lines.rs::charge`.
fn charge_sql(ch: &Charge, b: &str) -> String {
    let bp = format!("greatest({b}, CAST(0 AS HUGEINT))");
    let h = |v: i128| format!("CAST('{v}' AS HUGEINT)");
    let raw = match &ch.rate {
        Rate::Percent(p) => format!("{bp} * {}", h(numerator(*p))),
        Rate::Tiers(t) => match t.mode {
            TierMode::Volume => {
                let mut e = format!(
                    "{bp} * {}",
                    h(t.bands.first().map(|b| numerator(b.percent)).unwrap_or(0))
                );
                for band in &t.bands {
                    e = format!(
                        "CASE WHEN {} <= {bp} THEN {bp} * {} ELSE {e} END",
                        h(band.from.to_scaled()),
                        h(numerator(band.percent))
                    );
                }
                e
            }
            TierMode::Graduated => {
                let parts: Vec<String> = t
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(i, band)| {
                        let top = match t.bands.get(i + 1) {
                            Some(n) => format!("least({bp}, {})", h(n.from.to_scaled())),
                            None => bp.clone(),
                        };
                        format!(
                            "greatest({top} - {}, CAST(0 AS HUGEINT)) * {}",
                            h(band.from.to_scaled()),
                            h(numerator(band.percent))
                        )
                    })
                    .collect();
                format!("({})", parts.join(" + "))
            }
        },
    };
    let mut amount = format!("be_hdiv({raw}, CAST(1000000 AS HUGEINT))");
    if let Some(min) = ch.minimum {
        amount = format!("greatest({amount}, {})", h(min.to_scaled()));
    }
    if let Some(max) = ch.maximum {
        amount = format!("least({amount}, {})", h(max.to_scaled()));
    }
    amount
}

/// New lines: per upcharge/discount entity from the written rows' basis sums, and the fees.
fn lines(cfg: &PeriodConfig, rows: &str) -> String {
    let mut parts = vec![];
    for plan in &cfg.plans {
        for rule in &plan.rules {
            let rid = q(&rule.id.to_string());
            match &rule.kind {
                RuleKind::Upcharge(ch) | RuleKind::Discount(ch) => {
                    let sign = if matches!(rule.kind, RuleKind::Discount(_)) {
                        "-"
                    } else {
                        ""
                    };
                    let basis = id(&be_engine::schema::basis_column(rule.id));
                    let sub = match ch.scope {
                        Scope::Family => {
                            "CASE WHEN \"x_FamilyId\" IS NOT NULL THEN NULL ELSE \"SubAccountId\" END"
                        }
                        Scope::SubAccount => "\"SubAccountId\"",
                    };
                    parts.push(format!(
                        "SELECT {rid} AS rule_id, fam, sub, cur, {sign}({}) AS amount FROM (SELECT \"x_FamilyId\" AS fam, {sub} AS sub, \"BillingCurrency\" AS cur, be_u(sum({basis})) AS b FROM read_parquet({}) WHERE {basis} IS NOT NULL GROUP BY ALL)",
                        charge_sql(ch, "b"),
                        q(rows)
                    ));
                }
                RuleKind::OneTimeFee(f) | RuleKind::OneTimeDiscount(f) => {
                    let sign = if matches!(rule.kind, RuleKind::OneTimeDiscount(_)) {
                        -1
                    } else {
                        1
                    };
                    parts.extend(fee_lines(plan, &rid, sign * f.amount.to_scaled()));
                }
                RuleKind::RecurringFee(f) => {
                    parts.extend(fee_lines(plan, &rid, f.amount.to_scaled()))
                }
                _ => {}
            }
        }
    }
    parts.join("\nUNION ALL ")
}

fn fee_lines(plan: &be_domain::pricing::PlanForPeriod, rid: &str, amount: i128) -> Vec<String> {
    let n = plan.families.len() + plan.sub_accounts.len();
    (0..n)
        .map(|_| format!("SELECT {rid} AS rule_id, NULL AS fam, NULL AS sub, 'USD' AS cur, CAST('{amount}' AS HUGEINT) AS amount"))
        .collect()
}

/// The whole script: macros; `COPY` of the rated rows; the new lines; one row of totals (last).
pub fn script(
    cfg: &PeriodConfig,
    parquet: &str,
    source_id: &str,
    present: &[String],
    out_dir: &str,
) -> String {
    let ext: Vec<String> = {
        let mut v: Vec<String> = cfg
            .plans
            .iter()
            .flat_map(|p| p.rules.iter().flat_map(|r| r.when.dimensions()))
            .chain(
                cfg.allocations
                    .iter()
                    .flat_map(|a| a.entries.iter().flat_map(|e| e.when.dimensions())),
            )
            .filter_map(|d| match d {
                Dimension::Extension(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut chain = Chain {
        ctes: vec![],
        cols: vec![],
    };
    input(&mut chain, parquet, source_id, present, &ext);
    read_tags(&mut chain, cfg);
    strategies(&mut chain, cfg);
    families(&mut chain, cfg);
    for i in 0..cfg.allocations.len() {
        allocation(&mut chain, cfg, i);
    }
    let bases = rules(&mut chain, cfg);
    let select = output(&chain, cfg, &ext, &bases);
    let with: Vec<String> = chain
        .ctes
        .iter()
        .enumerate()
        .map(|(i, s)| format!("s{i} AS ({s})"))
        .collect();
    let rows = format!("{out_dir}/rows.parquet");
    let lines_file = format!("{out_dir}/lines.parquet");
    let lines_sql = lines(cfg, &rows);
    format!(
        "{MACROS}
COPY (WITH {}\n{select}) TO {} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 131072);
CREATE TEMP TABLE be_lines AS {lines_sql};
COPY (SELECT rule_id, fam, sub, cur, be_d(amount) AS amount FROM be_lines) TO {} (FORMAT parquet);
SELECT (SELECT count(*) FROM read_parquet({r}))::VARCHAR AS rows,
       (SELECT count(*) FROM be_lines)::VARCHAR AS new_lines,
       (SELECT CAST(be_d(be_u(sum(\"BilledCost\")) + (SELECT coalesce(sum(amount), 0) FROM be_lines)) AS VARCHAR) FROM read_parquet({r})) AS billed,
       (SELECT CAST(be_d(be_u(sum(\"EffectiveCost\")) + (SELECT coalesce(sum(amount), 0) FROM be_lines)) AS VARCHAR) FROM read_parquet({r})) AS effective;
",
        with.join(",\n"),
        q(&rows),
        q(&lines_file),
        r = q(&rows)
    )
}
