//! Benchmark (not a test): be-ingest against DuckDB on the same generated EA files, in one run.
//!
//! ```text
//! cargo run --release -p be-ingest --example bench -- --rows 1000000 [--dir target/bench] [--python PATH] [--runs 1]
//! ```
//!
//! 1. Generates, with the Azure simulator's generator, one month of an EA enrollment in layout
//!    2024-08-01 with text columns as wide as real exports (`Widths::Real`): an ActualCost file of
//!    about `--rows` rows and the matching AmortizedCost file (cached in `--dir` for the next run).
//! 2. Runs, each in its own process so peak memory is its own (VmHWM / ru_maxrss):
//!    - be-ingest: parse both files, Microsoft's merge rule, FOCUS 1.2 mapping with the open-data
//!      lookups, exact source totals, Parquet (snappy) written atomically;
//!    - DuckDB (Python package): the same merge and mapping in SQL (same lookups as joins, decimals
//!      as DECIMAL(38,24), dates parsed), `COPY ... TO` Parquet (snappy).
//! 3. Prints, for both: rows per second (source rows read), MB of CSV per second, CPU use (CPU
//!    seconds / seconds), peak memory, the load average when the run started, and as the floor the
//!    time of a warm `cat` of both files.
//!
//! Both engines use every core: DuckDB by default; be-ingest parses and maps chunks on one thread
//! per core and encodes the Parquet columns on one thread per core. `--convert-only` runs
//! be-ingest alone (`BENCH_THREADS`, `BENCH_CHUNK_BYTES` try other settings; `BENCH_TRACE_RSS=1`
//! prints the resident memory every second).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use be_azure_sim::generator::{DataSpec, Generator, Request, ScopeFilter, Widths, month_bounds};
use be_azure_sim::{Agreement, Layout, Metric};
use be_ingest::{ConvertOptions, Source, ingest_period};

const DUCKDB_SQL: &str = include_str!("bench_duckdb.py");

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) this process used so far (`/proc/self/stat`, clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The floor: reading both files from the page cache (`cat FILE > /dev/null`, the second of two runs).
fn warm_cat_seconds(files: &[&Path]) -> anyhow::Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..2 {
        let t = Instant::now();
        for f in files {
            let st = Command::new("sh")
                .arg("-c")
                .arg("cat \"$1\" > /dev/null")
                .arg("sh")
                .arg(f)
                .status()?;
            if !st.success() {
                bail!("cat {} failed", f.display());
            }
        }
        best = t.elapsed().as_secs_f64();
    }
    Ok(best)
}

fn generate(dir: &Path, rows: u64) -> anyhow::Result<(PathBuf, PathBuf)> {
    let g = Generator::new(DataSpec {
        agreement: Agreement::Ea,
        billing_account_id: "7645820".into(),
        billing_account_name: "Contoso Retail".into(),
        seed: 1,
        rows_per_month: rows,
        data_start: time::macros::date!(2024 - 01 - 01),
        currency: "USD".into(),
        layout: Layout::Ea2024_08_01,
        widths: Widths::Real,
    });
    let (from, to) = month_bounds(time::macros::date!(2025 - 06 - 01));
    let mut out = Vec::new();
    for metric in [Metric::AmortizedCost, Metric::ActualCost] {
        let path = dir.join(format!("ea-real-{rows}-{}.csv", metric.as_str()));
        if !path.exists() {
            let t = Instant::now();
            let tmp = path.with_extension("csv.tmp");
            let f = std::fs::File::create(&tmp)?;
            let (n, bytes) = g.write_csv(
                &Request {
                    metric,
                    from,
                    to,
                    filter: ScopeFilter::All,
                    until: time::macros::date!(2100 - 01 - 01),
                },
                std::io::BufWriter::with_capacity(1 << 20, f),
            )?;
            std::fs::rename(&tmp, &path)?;
            eprintln!(
                "generated {} ({n} rows, {:.1} MB) in {:.1} s",
                path.display(),
                bytes as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
        }
        out.push(path);
    }
    Ok((out[0].clone(), out[1].clone()))
}

/// Child mode: convert and print one JSON line.
fn run_ours(amortized: &Path, actual: &Path, out: &Path) -> anyhow::Result<()> {
    let t = Instant::now();
    if std::env::var_os("BENCH_TRACE_RSS").is_some() {
        // BENCH_TRACE_RSS=1: sample resident memory every second (does it grow with the rows read?)
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let rss = std::fs::read_to_string("/proc/self/status")
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find(|l| l.starts_with("VmRSS:"))
                            .map(str::to_string)
                            .map(|r| {
                                format!(
                                    "{r} | {}",
                                    s.lines()
                                        .filter(|l| l.starts_with("RssAnon")
                                            || l.starts_with("RssFile"))
                                        .collect::<Vec<_>>()
                                        .join(" ")
                                )
                            })
                    })
                    .unwrap_or_default();
                eprintln!("{:>6.1}s {rss}", t.elapsed().as_secs_f64());
            }
        });
    }
    // BENCH_THREADS / BENCH_CHUNK_BYTES: try other settings (the defaults are what the product uses)
    let mut opts = ConvertOptions::default();
    if let Some(n) = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.threads = n;
    }
    if let Some(n) = std::env::var("BENCH_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.chunk_bytes = n;
    }
    let rep = ingest_period(
        vec![Source::path(amortized)?],
        vec![Source::path(actual)?],
        out,
        opts,
    )?;
    let secs = t.elapsed().as_secs_f64();
    let src = rep.reconciliation.source.actual_rows + rep.reconciliation.source.amortized_rows;
    println!(
        "{{\"engine\":\"be-ingest\",\"seconds\":{secs:.3},\"cpu_seconds\":{:.2},\"source_rows\":{src},\"focus_rows\":{},\"bytes\":{},\"peak_rss_kb\":{},\"reconciled\":{},\"billed\":\"{}\",\"effective\":\"{}\"}}",
        cpu_seconds(),
        rep.write.rows,
        rep.write.bytes,
        peak_rss_kb(),
        rep.reconciliation.reconciled,
        rep.write.focus.billed_cost,
        rep.write.focus.effective_cost
    );
    Ok(())
}

fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let at = line.find(&pat)? + pat.len();
    let rest = &line[at..];
    let rest = rest.trim_start_matches('"');
    let end = rest.find(['"', ',', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--convert-only") {
        let [_, a, b, o] = args.as_slice() else {
            bail!("--convert-only AMORTIZED ACTUAL OUT")
        };
        return run_ours(Path::new(a), Path::new(b), Path::new(o));
    }
    let mut rows: u64 = 1_000_000;
    let mut dir = PathBuf::from("target/bench");
    let mut python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut runs = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rows" => rows = it.next().context("--rows N")?.replace('_', "").parse()?,
            "--dir" => dir = PathBuf::from(it.next().context("--dir DIR")?),
            "--python" => python = it.next().context("--python PATH")?.clone(),
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            other => bail!(
                "unknown argument {other}; usage: bench --rows N [--dir DIR] [--python PATH] [--runs N]"
            ),
        }
    }
    std::fs::create_dir_all(&dir)?;
    let (amortized, actual) = generate(&dir, rows)?;
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let script = dir.join("bench_duckdb.py");
    std::fs::File::create(&script)?.write_all(DUCKDB_SQL.as_bytes())?;
    let exe = std::env::current_exe()?;
    let csv_bytes = std::fs::metadata(&amortized)?.len() + std::fs::metadata(&actual)?.len();

    let floor = warm_cat_seconds(&[&amortized, &actual])?;
    eprintln!("warm `cat` of both files: {floor:.2} s");
    let mut results: Vec<(String, String, String)> = Vec::new();
    for run in 0..runs {
        for engine in ["be-ingest", "duckdb"] {
            let out = dir.join(format!("focus-{engine}-{rows}.parquet"));
            let _ = std::fs::remove_file(&out);
            let load = load_average();
            let output = if engine == "be-ingest" {
                Command::new(&exe)
                    .arg("--convert-only")
                    .arg(&amortized)
                    .arg(&actual)
                    .arg(&out)
                    .output()?
            } else {
                Command::new(&python)
                    .arg(&script)
                    .arg(&amortized)
                    .arg(&actual)
                    .arg(&out)
                    .arg(&data)
                    .output()
                    .with_context(|| format!("running {python} (needs `pip install duckdb`)"))?
            };
            if !output.status.success() {
                bail!(
                    "{engine} failed: {}\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            let line = String::from_utf8_lossy(&output.stdout)
                .lines()
                .last()
                .unwrap_or_default()
                .to_string();
            eprintln!("run {} (load average {load}): {line}", run + 1);
            results.push((engine.to_string(), load, line));
        }
    }

    println!(
        "\nEA, layout 2024-08-01, widths of real exports, one month: {} + {} ({:.0} MB of CSV)",
        amortized.display(),
        actual.display(),
        csv_bytes as f64 / 1e6
    );
    println!(
        "floor: warm `cat` of both files {floor:.2} s ({:.0} MB/s)",
        csv_bytes as f64 / 1e6 / floor
    );
    println!(
        "{:<10} {:>16} {:>12} {:>8} {:>12} {:>9} {:>10} {:>9} {:>10}",
        "engine",
        "load avg",
        "source rows",
        "seconds",
        "rows/second",
        "CSV MB/s",
        "CPU cores",
        "peak MB",
        "parquet MB"
    );
    for (engine, load, l) in &results {
        let num = |k: &str| {
            json_field(l, k)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        let (secs, src, rss, bytes, cpu) = (
            num("seconds"),
            num("source_rows"),
            num("peak_rss_kb"),
            num("bytes"),
            num("cpu_seconds"),
        );
        println!(
            "{engine:<10} {load:>16} {src:>12} {secs:>8.2} {:>12.0} {:>9.0} {:>10.2} {:>9.0} {:>10.1}",
            src / secs,
            csv_bytes as f64 / 1e6 / secs,
            cpu / secs,
            rss / 1024.0,
            bytes / 1e6
        );
    }
    let totals: Vec<(Option<&str>, Option<&str>)> = results
        .iter()
        .map(|(_, _, l)| (json_field(l, "billed"), json_field(l, "effective")))
        .collect();
    let same = totals.windows(2).all(|w| w[0] == w[1]);
    println!(
        "SUM(BilledCost), SUM(EffectiveCost) of every output: {:?} ({})",
        totals.first(),
        if same { "identical in both" } else { "DIFFER" }
    );
    Ok(())
}
