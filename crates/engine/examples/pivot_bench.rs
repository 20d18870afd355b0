//! Benchmark (not a test): the analysis pivot of be-engine against DuckDB on the same rated
//! Parquet files, in one run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-release cargo build --release -p be-engine --example pivot_bench
//! /work/target-release/release/examples/pivot_bench --rows 10000000 --dir /work/bench-engine/pivot \
//!     --python /tmp/duckvenv/bin/python --runs 7 [--layouts plain,statistics,sorted]
//! ```
//!
//! 1. A month of FOCUS rows (cached in `--dir`): the Azure simulator's generator streams an EA
//!    month (layout 2024-08-01, compact widths) of about `--rows` ActualCost and AmortizedCost
//!    rows through pipes into be-ingest (no CSV on disk), which writes one FOCUS Parquet file.
//! 2. For each layout (`be_engine::Layout`), the month rated by the engine in its own process
//!    (seconds, CPU seconds, peak resident memory, bytes of the parts): three families of the
//!    subscriptions, two plans, five rules (markup, a markdown on a service, a tiered upcharge per
//!    family, an SQL discount, a one-time fee). Cached in `--dir` with the figures.
//! 3. Three pivots, each grouped by family, sub-account name and service (and the currency)
//!    summing ProviderCost, BilledCost, EffectiveCost and Profit, with one filter: on the charge
//!    category (most rows), on one sub-account, on one service. be-engine through
//!    `Engine::pivot` (what the app's analysis calls), DuckDB (Python package) with the same SQL
//!    semantics; one warm-up run, then `--runs` runs each, the median reported. Both results are
//!    compared group by group: keys, row counts and every sum to the last digit.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "common/proc_stats.rs"]
mod proc_stats;

use anyhow::{Context, bail};
use be_azure_sim::generator::{DataSpec, Generator, Request, ScopeFilter, Widths, month_bounds};
use be_azure_sim::{Agreement, Layout as CsvLayout, Metric};
use be_domain::pricing::file::{ConditionFile, ConfigFile, parse_filter};
use be_domain::pricing::{Filter, PricingConfig};
use be_domain::{BillingPeriod, Currency, Dimension};
use be_engine::{Engine, Layout, PivotQuery, RateRequest, SourceFile};
use be_ingest::{ConvertOptions, Source, ingest_period};
use proc_stats::{cpu_seconds, load_average, peak_rss_kb};

const DUCKDB_SCRIPT: &str = include_str!("pivot_bench_duckdb.py");
const PERIOD: &str = "2025-06";
const SUMS: [&str; 4] = ["ProviderCost", "BilledCost", "EffectiveCost", "Profit"];

fn spec(rows: u64) -> DataSpec {
    DataSpec {
        agreement: Agreement::Ea,
        billing_account_id: "7645820".into(),
        billing_account_name: "Contoso Retail".into(),
        seed: 1,
        rows_per_month: rows,
        data_start: time::macros::date!(2024 - 01 - 01),
        currency: "USD".into(),
        layout: CsvLayout::Ea2024_08_01,
        widths: Widths::Compact,
    }
}

/// The FOCUS month: generated into pipes and ingested (cached).
fn focus_month(dir: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let out = dir.join(format!("focus-{rows}.parquet"));
    if out.exists() {
        return Ok(out);
    }
    let t = Instant::now();
    let (from, to) = month_bounds(time::macros::date!(2025 - 06 - 01));
    let mut sources = Vec::new();
    let mut writers = Vec::new();
    for metric in [Metric::AmortizedCost, Metric::ActualCost] {
        let (reader, writer) = std::io::pipe()?;
        let g = Generator::new(spec(rows));
        writers.push(std::thread::spawn(move || {
            let req = Request {
                metric,
                from,
                to,
                filter: ScopeFilter::All,
                until: time::macros::date!(2100 - 01 - 01),
            };
            g.write_csv(&req, std::io::BufWriter::with_capacity(1 << 20, writer))
        }));
        sources.push(Source::new(metric.as_str(), reader));
    }
    let actual = sources.pop().context("actual")?;
    let amortized = sources.pop().context("amortized")?;
    let rep = ingest_period(
        vec![amortized],
        vec![actual],
        &out,
        ConvertOptions::default(),
    )?;
    for w in writers {
        w.join()
            .map_err(|_| anyhow::anyhow!("generator panicked"))??;
    }
    eprintln!(
        "FOCUS month: {} rows, {:.1} MB in {:.1} s (generated and ingested)",
        rep.write.rows,
        rep.write.bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok(out)
}

/// Three families of the subscriptions, two plans, five rules.
fn config(rows: u64) -> anyhow::Result<PricingConfig> {
    let subs = Generator::new(spec(rows)).universe().subscription_ids();
    let family = |i: usize| -> Vec<serde_json::Value> {
        subs.iter()
            .skip(i)
            .step_by(3)
            .map(|s| serde_json::json!({ "sub_account_id": s, "from": "2025-01" }))
            .collect()
    };
    let file = serde_json::json!({
        "version": 1,
        "strategies": [{ "from": "2025-01", "credits": "hide", "commitments": "unshared",
                         "on_demand_basis": "contracted", "taxes": "keep" }],
        "families": [
            { "name": "Contoso", "members": family(0) },
            { "name": "Fabrikam", "members": family(1) },
            { "name": "Northwind", "members": family(2) }
        ],
        "plans": [
            { "name": "Standard",
              "assigned_to": [{ "family": "Contoso", "from": "2025-01" },
                              { "family": "Fabrikam", "from": "2025-01" }],
              "rules": [
                { "name": "Markup 10%", "kind": "markup", "percent": "10" },
                { "name": "Storage discount", "kind": "markdown", "percent": "5",
                  "when": [[{ "dimension": "ServiceCategory", "op": "equals", "value": "Storage" }]] },
                { "name": "Support fee", "kind": "upcharge", "scope": "family",
                  "tiers": { "mode": "graduated", "bands": [{ "from": "0", "percent": "10" },
                                                            { "from": "100000", "percent": "5" }] } }
              ] },
            { "name": "Gold",
              "assigned_to": [{ "family": "Northwind", "from": "2025-01" }],
              "rules": [
                { "name": "SQL discount", "kind": "markdown", "percent": "20",
                  "when": [[{ "dimension": "ServiceCategory", "op": "in", "values": ["Databases"] }]] },
                { "name": "Onboarding", "kind": "one_time_fee", "amount": "15.00", "period": PERIOD }
              ] }
        ]
    });
    let file: ConfigFile = serde_json::from_value(file)?;
    file.into_config(&PricingConfig::default(), period())
        .map_err(|e| anyhow::anyhow!("config: {e:?}"))
}

fn period() -> BillingPeriod {
    BillingPeriod::parse(PERIOD).expect("period")
}

fn layout_of(name: &str) -> anyhow::Result<Layout> {
    Ok(match name {
        "plain" => Layout::Plain,
        "statistics" => Layout::Statistics,
        "sorted" => Layout::Sorted,
        other => bail!("unknown layout {other}: plain, statistics, sorted"),
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Child mode: rate the month into `out` and print one JSON line.
fn run_rate(focus: &Path, out: &Path, layout: &str, rows: u64) -> anyhow::Result<()> {
    let engine = Engine::new(available_threads())?.with_layout(layout_of(layout)?);
    let req = RateRequest {
        period: period(),
        config: config(rows)?.for_period(period()),
        sources: vec![SourceFile {
            source_id: "5e1f0000-0000-4000-8000-000000000001".into(),
            path: focus.to_path_buf(),
        }],
        default_currency: Currency::parse("USD").expect("usd"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t = Instant::now();
    let m = rt.block_on(engine.rate(req, out.to_path_buf()))?;
    println!(
        "{}",
        serde_json::json!({
            "layout": layout, "seconds": t.elapsed().as_secs_f64(), "cpu_seconds": cpu_seconds(),
            "peak_rss_kb": peak_rss_kb(), "rows": m.rows, "new_lines": m.new_lines,
            "bytes": dir_bytes(out), "files": m.files.len(),
        })
    );
    Ok(())
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The rated month in `layout` (cached with its figures).
fn rated(
    dir: &Path,
    focus: &Path,
    rows: u64,
    layout: &str,
) -> anyhow::Result<(PathBuf, serde_json::Value)> {
    let run = dir
        .join(format!("rated-{layout}-{rows}"))
        .join(PERIOD)
        .join("run");
    let figures = dir.join(format!("rate-{layout}-{rows}.json"));
    if !run.join("manifest.json").exists() {
        let _ = std::fs::remove_dir_all(&run);
        let load = load_average();
        let out = Command::new(std::env::current_exe()?)
            .arg("--rate-only")
            .arg(focus)
            .arg(&run)
            .arg(layout)
            .arg(rows.to_string())
            .output()?;
        if !out.status.success() {
            bail!("rating failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut v: serde_json::Value =
            serde_json::from_slice(String::from_utf8_lossy(&out.stdout).trim().as_bytes())?;
        v["load"] = load.into();
        std::fs::write(&figures, v.to_string())?;
    }
    let v = serde_json::from_str(&std::fs::read_to_string(&figures)?)?;
    Ok((run, v))
}

struct Query {
    name: &'static str,
    condition: ConditionFile,
    sql: String,
}

fn equals(dimension: &str, value: &str) -> ConditionFile {
    ConditionFile {
        dimension: Some(dimension.into()),
        tag: None,
        op: "equals".into(),
        value: Some(value.into()),
        values: None,
    }
}

fn queries(sub: &str, service: &str) -> Vec<Query> {
    let q = |name, dim: &str, value: &str| Query {
        name,
        condition: equals(dim, value),
        sql: format!("{dim} = '{}'", value.replace('\'', "''")),
    };
    vec![
        q("charge category = Usage", "ChargeCategory", "Usage"),
        q("one sub-account", "SubAccountId", sub),
        q("one service", "ServiceName", service),
    ]
}

/// (family, sub-account name, service, currency) -> (rows, sums as text).
type Groups = BTreeMap<(Vec<Option<String>>, Option<String>), (i64, Vec<Option<String>>)>;

/// Decimal text without trailing zeros (DuckDB prints every place of the scale).
fn plain(s: &str) -> String {
    match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => s.to_string(),
    }
}

fn pivot_query(run: &Path, filter: Filter) -> PivotQuery {
    PivotQuery {
        runs: vec![run.to_path_buf()],
        group_by: vec![
            Dimension::Family,
            Dimension::Focus("SubAccountName".into()),
            Dimension::Focus("ServiceName".into()),
        ],
        filter,
        sums: SUMS.iter().map(|s| s.to_string()).collect(),
        by_period: false,
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// One query through the engine: warm-up, then `runs` timed runs; the median and the groups.
fn engine_pivot(
    rt: &tokio::runtime::Runtime,
    engine: &Engine,
    q: &PivotQuery,
    runs: usize,
) -> anyhow::Result<(f64, Vec<f64>, Groups)> {
    rt.block_on(engine.pivot(q.clone()))?;
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        rows = rt.block_on(engine.pivot(q.clone()))?;
        times.push(t.elapsed().as_secs_f64());
    }
    let groups = rows
        .into_iter()
        .map(|r| {
            let sums = SUMS
                .iter()
                .map(|s| r.sums.get(*s).map(|v| v.to_string()))
                .collect();
            ((r.keys, r.currency), (r.rows, sums))
        })
        .collect();
    let all = times.clone();
    Ok((median(&mut times), all, groups))
}

fn duck_groups(q: &serde_json::Value) -> Groups {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    q["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            let keys = g["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            let sums = g["sums"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| text(v).map(|s| plain(&s)))
                .collect();
            (
                (keys, text(&g["currency"])),
                (g["rows"].as_i64().unwrap_or(-1), sums),
            )
        })
        .collect()
}

struct Args {
    rows: u64,
    dir: PathBuf,
    python: String,
    runs: usize,
    layouts: Vec<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        rows: 10_000_000,
        dir: PathBuf::from("/work/bench-engine/pivot"),
        python: std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into()),
        runs: 7,
        layouts: vec!["plain".into(), "statistics".into(), "sorted".into()],
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut it = raw.iter();
    while let Some(x) = it.next() {
        let mut next = || it.next().with_context(|| format!("{x} needs a value"));
        match x.as_str() {
            "--rows" => a.rows = next()?.replace('_', "").parse()?,
            "--dir" => a.dir = PathBuf::from(next()?),
            "--python" => a.python = next()?.clone(),
            "--runs" => a.runs = next()?.parse()?,
            "--layouts" => a.layouts = next()?.split(',').map(str::to_string).collect(),
            other => bail!(
                "unknown argument {other}; usage: pivot_bench [--rows N] [--dir DIR] [--python PATH] [--runs N] [--layouts plain,statistics,sorted]"
            ),
        }
    }
    Ok(a)
}

/// The largest service by rows (the third query filters on it).
fn top_service(
    rt: &tokio::runtime::Runtime,
    engine: &Engine,
    run: &Path,
) -> anyhow::Result<String> {
    let mut q = pivot_query(run, Filter::default());
    q.group_by = vec![Dimension::Focus("ServiceName".into())];
    let rows = rt.block_on(engine.pivot(q))?;
    rows.into_iter()
        .filter(|r| r.keys[0].is_some())
        .max_by_key(|r| r.rows)
        .and_then(|r| r.keys[0].clone())
        .context("no service")
}

fn main() -> anyhow::Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("--rate-only") {
        let [_, focus, out, layout, rows] = raw.as_slice() else {
            bail!("--rate-only FOCUS OUT LAYOUT ROWS")
        };
        return run_rate(Path::new(focus), Path::new(out), layout, rows.parse()?);
    }
    let a = args()?;
    std::fs::create_dir_all(&a.dir)?;
    let focus = focus_month(&a.dir, a.rows)?;
    let script = a.dir.join("pivot_bench_duckdb.py");
    std::fs::File::create(&script)?.write_all(DUCKDB_SCRIPT.as_bytes())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let engine = Engine::new(available_threads())?;
    let sub = Generator::new(spec(a.rows))
        .universe()
        .subscription_ids()
        .into_iter()
        .next()
        .context("no subscription")?;
    let mut top: Option<String> = None;
    let mut report = Vec::new();
    for layout in &a.layouts {
        let (run, figures) = rated(&a.dir, &focus, a.rows, layout)?;
        eprintln!("rated ({layout}): {figures}");
        if top.is_none() {
            top = Some(top_service(&rt, &engine, &run)?);
        }
        let qs = queries(&sub, top.as_deref().unwrap_or_default());
        let load = load_average();
        let spec_json: Vec<serde_json::Value> = qs
            .iter()
            .map(|q| serde_json::json!({ "name": q.name, "where": q.sql }))
            .collect();
        let out = Command::new(&a.python)
            .arg(&script)
            .arg(&run)
            .arg(a.runs.to_string())
            .arg(serde_json::Value::from(spec_json).to_string())
            .output()
            .with_context(|| format!("running {} (needs `pip install duckdb`)", a.python))?;
        if !out.status.success() {
            bail!("duckdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let duck: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        for (i, q) in qs.iter().enumerate() {
            let filter = parse_filter(&[vec![q.condition.clone()]], &[], "filter")
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let pq = pivot_query(&run, filter);
            let (ours, ours_all, groups) = engine_pivot(&rt, &engine, &pq, a.runs)?;
            let dq = &duck["queries"][i];
            let theirs = dq["median"].as_f64().unwrap_or(f64::NAN);
            let same = groups == duck_groups(dq);
            eprintln!(
                "{layout} / {}: be-engine {:.1} ms (runs {:?}), DuckDB {:.1} ms (runs {}), {} groups, {}",
                q.name,
                ours * 1e3,
                ours_all
                    .iter()
                    .map(|t| (t * 1e4).round() / 10.0)
                    .collect::<Vec<_>>(),
                theirs * 1e3,
                dq["times"],
                groups.len(),
                if same { "identical" } else { "DIFFER" }
            );
            if !same {
                let d = duck_groups(dq);
                for (k, v) in groups.iter().filter(|(k, v)| d.get(*k) != Some(*v)).take(3) {
                    eprintln!("  be-engine {k:?} {v:?} / DuckDB {:?}", d.get(k));
                }
            }
            report.push((
                layout.clone(),
                q.name,
                load.clone(),
                ours,
                theirs,
                groups.len(),
                same,
            ));
        }
        report_rating(layout, &figures);
    }
    println!(
        "\nlayout | query | load avg | be-engine median ms | DuckDB median ms | ratio | groups | same"
    );
    for (layout, q, load, ours, theirs, n, same) in &report {
        println!(
            "{layout} | {q} | {load} | {:.1} | {:.1} | {:.2}x | {n} | {}",
            ours * 1e3,
            theirs * 1e3,
            theirs / ours,
            if *same { "identical" } else { "DIFFER" }
        );
    }
    if report.iter().any(|r| !r.6) {
        bail!("be-engine and DuckDB differ");
    }
    Ok(())
}

fn report_rating(layout: &str, f: &serde_json::Value) {
    let n = |k: &str| f[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "rating ({layout}): {} rows in {:.1} s, {:.1} CPU s, peak {:.0} MB, parts {:.1} MB (load {})",
        f["rows"],
        n("seconds"),
        n("cpu_seconds"),
        n("peak_rss_kb") / 1024.0,
        n("bytes") / 1e6,
        f["load"].as_str().unwrap_or("")
    );
}
