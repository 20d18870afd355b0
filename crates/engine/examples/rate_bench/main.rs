//! Benchmark (not a test): be-engine's rating against DuckDB on the same FOCUS month, in one run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-release cargo build --release -p be-engine --example rate_bench
//! /work/target-release/release/examples/rate_bench --rows 10000000 --dir /work/bench-engine \
//!     --python /tmp/duckvenv/bin/python [--runs 1] [--threads N]
//! ```
//!
//! 1. Generates with the Azure simulator's generator one EA month (layout 2024-08-01, widths of
//!    real exports) of about `--rows` rows, converts it with be-ingest to one FOCUS 1.2 Parquet
//!    period (cached in `--dir`; the CSV files are deleted once converted).
//! 2. Builds a rules-as-code configuration of 50 rules ([`config`]) and its DuckDB SQL ([`duckdb_sql`]).
//! 3. Runs, each in its own process (peak memory is its own VmHWM):
//!    - be-engine: `Engine::rate` (reads the period, strategies, allocations with a split, families,
//!      50 rules, the rated rows written as Parquet, sums read back, new lines, manifest);
//!    - DuckDB (Python package): the same stages in SQL, `COPY ... TO` Parquet, new lines, totals;
//!    - be-engine again after a one-rule change (a markup's percent in one plan): what re-rating costs.
//! 4. Prints wall seconds, CPU seconds, rows per second, peak memory and the load average at the
//!    start of each run, and checks that both give the same rows, new lines and totals to the last
//!    digit (billed and effective cost after rules, new lines included).

mod config;
mod duckdb_sql;
#[path = "../common/proc_stats.rs"]
mod proc_stats;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use be_azure_sim::generator::{DataSpec, Generator, Request, ScopeFilter, Widths, month_bounds};
use be_azure_sim::{Agreement, Layout, Metric};
use be_domain::pricing::{PeriodConfig, RuleKind};
use be_domain::{BillingPeriod, Currency, Percent};
use be_engine::{Engine, Exact, RateRequest, SourceFile};
use be_ingest::{ConvertOptions, Source, ingest_period};
use proc_stats::{cpu_seconds, load_average, peak_rss_kb};

const DUCKDB_RUNNER: &str = include_str!("../rate_bench_duckdb.py");
const SOURCE_ID: &str = "5e1f0000-0000-4000-8000-00000000be01";

fn period() -> BillingPeriod {
    BillingPeriod::parse("2025-06").expect("a period")
}

fn generator(rows: u64) -> Generator {
    Generator::new(DataSpec {
        agreement: Agreement::Ea,
        billing_account_id: "7645820".into(),
        billing_account_name: "Contoso Retail".into(),
        seed: 1,
        rows_per_month: rows,
        data_start: time::macros::date!(2024 - 01 - 01),
        currency: "USD".into(),
        layout: Layout::Ea2024_08_01,
        widths: Widths::Real,
    })
}

/// The FOCUS Parquet of the month (generated and converted once, then reused).
fn focus_month(dir: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let focus = dir.join(format!("focus-{rows}.parquet"));
    if focus.exists() {
        return Ok(focus);
    }
    let g = generator(rows);
    let (from, to) = month_bounds(time::macros::date!(2025 - 06 - 01));
    let mut csv = vec![];
    for metric in [Metric::AmortizedCost, Metric::ActualCost] {
        let path = dir.join(format!("ea-real-{rows}-{}.csv", metric.as_str()));
        let t = Instant::now();
        let f = std::fs::File::create(&path)?;
        let req = Request {
            metric,
            from,
            to,
            filter: ScopeFilter::All,
            until: time::macros::date!(2100 - 01 - 01),
        };
        let (n, bytes) = g.write_csv(&req, std::io::BufWriter::with_capacity(1 << 20, f))?;
        eprintln!(
            "generated {} ({n} rows, {:.0} MB) in {:.1} s",
            path.display(),
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        csv.push(path);
    }
    let t = Instant::now();
    let rep = ingest_period(
        vec![Source::path(&csv[0])?],
        vec![Source::path(&csv[1])?],
        &focus,
        ConvertOptions::default(),
    )?;
    eprintln!(
        "converted to {} ({} FOCUS rows) in {:.1} s",
        focus.display(),
        rep.write.rows,
        t.elapsed().as_secs_f64()
    );
    for f in csv {
        std::fs::remove_file(f)?;
    }
    Ok(focus)
}

/// Child mode: rate `focus` with the configuration in `config` into `out`; print one JSON line.
fn run_engine(config: &Path, focus: &Path, out: &Path, threads: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let cfg: PeriodConfig = serde_json::from_slice(&std::fs::read(config)?)?;
    let req = RateRequest {
        period: cfg.period,
        config: cfg,
        sources: vec![SourceFile {
            source_id: SOURCE_ID.into(),
            path: focus.to_path_buf(),
        }],
        default_currency: Currency::parse("USD").map_err(|e| anyhow::anyhow!("{e:?}"))?,
    };
    let engine = Engine::new(threads)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let manifest = rt.block_on(engine.rate(req, out.to_path_buf()))?;
    let total = |col: &str| manifest.groups.iter().map(|g| g.sum(col)).sum::<Exact>();
    println!(
        "{{\"engine\":\"be-engine\",\"seconds\":{:.3},\"cpu_seconds\":{:.2},\"peak_rss_kb\":{},\"rows\":\"{}\",\"new_lines\":\"{}\",\"billed\":\"{}\",\"effective\":\"{}\"}}",
        t.elapsed().as_secs_f64(),
        cpu_seconds(),
        peak_rss_kb(),
        manifest.rows,
        manifest.new_lines,
        total("BilledCost"),
        total("EffectiveCost")
    );
    Ok(())
}

fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let at = line.find(&pat)? + pat.len();
    let rest = line[at..].trim_start_matches('"');
    let end = rest.find(['"', ',', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The Parquet file's column names.
fn columns(path: &Path) -> anyhow::Result<Vec<String>> {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let r = SerializedFileReader::new(std::fs::File::open(path)?)?;
    let schema = r.metadata().file_metadata().schema_descr();
    Ok(schema
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect())
}

/// The configuration with one rule changed: the percent of plan 3's third rule (a markup).
fn one_rule_changed(cfg: &PeriodConfig) -> anyhow::Result<PeriodConfig> {
    let mut c = cfg.clone();
    let rule = c
        .plans
        .get_mut(2)
        .and_then(|p| p.rules.get_mut(2))
        .context("plan 3 has a third rule")?;
    let RuleKind::Markup { percent } = &mut rule.kind else {
        bail!("plan 3's third rule is not a markup")
    };
    *percent = Percent::parse("4.75", "percent").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(c)
}

struct Args {
    rows: u64,
    dir: PathBuf,
    python: String,
    runs: usize,
    threads: usize,
    /// Only generate and convert the month (`--prepare-only`).
    prepare_only: bool,
}

fn parse_args(args: &[String]) -> anyhow::Result<Args> {
    let mut a = Args {
        rows: 1_000_000,
        dir: PathBuf::from("/work/bench-engine"),
        python: std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into()),
        runs: 1,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        prepare_only: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut next = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rows" => a.rows = next()?.replace('_', "").parse()?,
            "--dir" => a.dir = PathBuf::from(next()?),
            "--python" => a.python = next()?.clone(),
            "--runs" => a.runs = next()?.parse()?,
            "--threads" => a.threads = next()?.parse()?,
            "--prepare-only" => a.prepare_only = true,
            other => bail!(
                "unknown argument {other}; usage: rate_bench --rows N [--dir DIR] [--python PATH] [--runs N] [--threads N] [--prepare-only]"
            ),
        }
    }
    Ok(a)
}

/// One measured run in its own process: (what, load average at its start, its JSON line).
fn measure(what: &str, mut cmd: Command) -> anyhow::Result<(String, String, String)> {
    let load = load_average();
    let output = cmd.output().with_context(|| format!("starting {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    eprintln!("{what} (load average {load}): {line}");
    Ok((what.to_string(), load, line))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--rate-only") {
        let [_, c, f, o, t] = args.as_slice() else {
            bail!("--rate-only CONFIG FOCUS OUT THREADS")
        };
        return run_engine(Path::new(c), Path::new(f), Path::new(o), t.parse()?);
    }
    let a = parse_args(&args)?;
    std::fs::create_dir_all(&a.dir)?;
    let focus = focus_month(&a.dir, a.rows)?;
    if a.prepare_only {
        return Ok(());
    }
    let subs = {
        let mut s = generator(a.rows).universe().subscription_ids();
        s.sort();
        s
    };
    let cfg = config::config(&subs, period())?.for_period(period());
    let changed = one_rule_changed(&cfg)?;
    let rules: usize = cfg.plans.iter().map(|p| p.rules.len()).sum();
    let exe = std::env::current_exe()?;
    let runner = a.dir.join("rate_bench_duckdb.py");
    std::fs::write(&runner, DUCKDB_RUNNER)?;
    let present = columns(&focus)?;
    let mut results = vec![];
    for run in 0..a.runs {
        let out = |name: &str| a.dir.join(format!("rated-{}-{name}-{run}", a.rows));
        for (name, c) in [
            ("be-engine", &cfg),
            ("duckdb", &cfg),
            ("be-engine, one rule changed", &changed),
        ] {
            let dir = out(&name.replace([' ', ','], ""));
            let _ = std::fs::remove_dir_all(&dir);
            let cfg_path = a
                .dir
                .join(format!("config-{}.json", name.replace([' ', ','], "")));
            std::fs::write(&cfg_path, serde_json::to_vec(c)?)?;
            let cmd = if name == "duckdb" {
                std::fs::create_dir_all(&dir)?;
                let sql = duckdb_sql::script(
                    c,
                    &focus.to_string_lossy(),
                    SOURCE_ID,
                    &present,
                    &dir.to_string_lossy(),
                );
                let sql_path = a.dir.join(format!("rate-{}.sql", a.rows));
                std::fs::write(&sql_path, sql)?;
                let mut cmd = Command::new(&a.python);
                cmd.arg(&runner).arg(&sql_path).arg(a.threads.to_string());
                cmd
            } else {
                let mut cmd = Command::new(&exe);
                cmd.arg("--rate-only")
                    .arg(&cfg_path)
                    .arg(&focus)
                    .arg(&dir)
                    .arg(a.threads.to_string());
                cmd
            };
            results.push(measure(name, cmd)?);
        }
    }
    report(&a, &focus, rules, &results)
}

fn report(
    a: &Args,
    focus: &Path,
    rules: usize,
    results: &[(String, String, String)],
) -> anyhow::Result<()> {
    println!(
        "\n{} ({:.0} MB), {rules} rules, {} threads",
        focus.display(),
        std::fs::metadata(focus)?.len() as f64 / 1e6,
        a.threads
    );
    println!(
        "{:<28} {:>16} {:>11} {:>8} {:>8} {:>12} {:>9} {:>9}",
        "run", "load avg", "rated rows", "seconds", "CPU s", "rows/second", "CPU cores", "peak MB"
    );
    for (what, load, l) in results {
        let num = |k: &str| {
            json_field(l, k)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        let (secs, cpu, rows) = (num("seconds"), num("cpu_seconds"), num("rows"));
        println!(
            "{what:<28} {load:>16} {rows:>11} {secs:>8.2} {cpu:>8.2} {:>12.0} {:>9.2} {:>9.0}",
            rows / secs,
            cpu / secs,
            num("peak_rss_kb") / 1024.0
        );
    }
    let same_config: Vec<&(String, String, String)> = results
        .iter()
        .filter(|r| !r.0.contains("changed"))
        .collect();
    for key in ["rows", "new_lines", "billed", "effective"] {
        let values: Vec<Option<Exact>> = same_config
            .iter()
            .map(|r| json_field(&r.2, key).and_then(Exact::parse))
            .collect();
        let same = values.windows(2).all(|w| w[0] == w[1]) && values.iter().all(Option::is_some);
        println!(
            "{key:<10} be-engine {} / DuckDB {}: {}",
            json_field(&same_config[0].2, key).unwrap_or("?"),
            json_field(&same_config[1].2, key).unwrap_or("?"),
            if same { "identical" } else { "DIFFER" }
        );
    }
    Ok(())
}
