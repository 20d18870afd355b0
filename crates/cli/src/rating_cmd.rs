//! Client commands for pricing and rating: FOCUS imports, rules as code, rating a period, totals,
//! explaining a line. They use the REST API like any other client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use reqwest::Method;
use serde_json::Value;

use crate::client::{Api, str_of};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a FOCUS 1.0-1.2 file (CSV, gzip CSV or Parquet); prints the periods and rows imported.
    Focus {
        file: PathBuf,
        /// The source's name (created when new), e.g. "AWS". Default: "FOCUS import".
        #[arg(long)]
        source: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PricingCommand {
    /// Print the configuration as a rules-as-code file (JSON, or YAML with --yaml).
    Export {
        #[arg(long)]
        yaml: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Replace the configuration with a rules-as-code file (.json, .yaml or .yml); idempotent.
    Import {
        file: PathBuf,
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// The configuration's versions, newest first.
    History {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AllocationsCommand {
    /// What an allocation assignment in FILE (JSON, the rules-as-code shape) would give, unsaved:
    /// the cost each value receives and the cost left unallocated.
    Preview {
        file: PathBuf,
        /// YYYY-MM; default: the current month so far.
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Create or replace the allocation assignment in FILE.
    Set { file: PathBuf },
    /// Delete an allocation assignment by key.
    Delete { key: String },
}

#[derive(Args)]
pub struct RateArgs {
    /// The billing period, YYYY-MM.
    period: String,
    /// Queue the rating and return at once.
    #[arg(long)]
    no_wait: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum By {
    Family,
    SubAccount,
    Rule,
}

#[derive(Args)]
pub struct TotalsArgs {
    /// The billing period, YYYY-MM.
    period: String,
    #[arg(long, value_enum, default_value = "family")]
    by: By,
    /// One column per strategy and rule (its effect on BilledCost).
    #[arg(long)]
    show_rules: bool,
    /// Print the API's JSON (exact decimals).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct WhatIfArgs {
    /// The billing period, YYYY-MM.
    period: String,
    /// A rule's new percent: RULE=PERCENT, RULE being its name (as in `pricing export`) or ID.
    #[arg(long = "rule-percent", value_name = "RULE=PERCENT")]
    rule_percent: Vec<String>,
    /// A sub-account into another family for the period: SUB=FAMILY (a name or ID, or "none").
    #[arg(long = "move", value_name = "SUB=FAMILY")]
    moves: Vec<String>,
    /// A whole configuration file to compare with (rules as code, JSON).
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AnalysisArgs {
    /// The first period, YYYY-MM (from the saved view with --view).
    #[arg(long, required_unless_present = "view")]
    from: Option<String>,
    /// The last period, YYYY-MM.
    #[arg(long, required_unless_present = "view")]
    to: Option<String>,
    /// Run a saved view (its name or ID); the other options but --asset-group are ignored.
    #[arg(long)]
    view: Option<String>,
    /// Save this analysis as a view with this name (shared in the organization).
    #[arg(long)]
    save: Option<String>,
    /// Apply an asset group (its name, or "default").
    #[arg(long)]
    asset_group: Option<String>,
    /// A dimension to group by (repeat for nested groups): a FOCUS column, BillingFamilyName, Plan,
    /// an allocation key, tag:KEY or an x_ column.
    #[arg(long = "group-by", value_name = "DIM")]
    group_by: Vec<String>,
    /// A condition (repeat: all must hold): DIM=VALUE, DIM!=VALUE, DIM=V1|V2 (in), DIM~REGEX,
    /// DIM^=PREFIX, DIM*=TEXT, DIM? (exists), DIM!? (does not exist).
    #[arg(long, value_name = "CONDITION")]
    filter: Vec<String>,
    /// A measure to show (repeat): ProviderCost, ListCost, BilledCost, EffectiveCost, Profit,
    /// Margin, ConsumedQuantity, PricingQuantity.
    #[arg(long = "measure", value_name = "MEASURE")]
    measures: Vec<String>,
    /// One column per strategy and rule.
    #[arg(long)]
    show_rules: bool,
    /// Sort by this column (default BilledCost, largest first).
    #[arg(long)]
    sort: Option<String>,
    #[arg(long)]
    ascending: bool,
    /// Keep the N largest groups; the rest become one "others" row.
    #[arg(long)]
    top: Option<usize>,
    /// Print the API's JSON.
    #[arg(long)]
    json: bool,
    /// Export the table: csv, or parquet (with --output).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Where to write the export (standard output without it).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// `DIM=VALUE` and its kin, as a condition of the rules' file shape.
fn condition(raw: &str) -> anyhow::Result<Value> {
    let dim = |d: &str| -> Value {
        match d.trim().strip_prefix("tag:") {
            Some(t) => serde_json::json!({"tag": t}),
            None => serde_json::json!({"dimension": d.trim()}),
        }
    };
    let with = |d: &str, op: &str, extra: Value| {
        let mut c = dim(d);
        c["op"] = Value::String(op.into());
        if let Value::Object(m) = extra {
            for (k, v) in m {
                c[k] = v;
            }
        }
        c
    };
    if let Some(d) = raw.strip_suffix("!?") {
        return Ok(with(d, "not_exists", Value::Null));
    }
    if let Some(d) = raw.strip_suffix('?') {
        return Ok(with(d, "exists", Value::Null));
    }
    for (sep, op) in [
        ("!=", "not_equals"),
        ("^=", "starts_with"),
        ("*=", "contains"),
        ("~", "matches"),
        ("=", "equals"),
    ] {
        if let Some((d, v)) = raw.split_once(sep) {
            if op == "equals" && v.contains('|') {
                return Ok(with(
                    d,
                    "in",
                    serde_json::json!({"values": v.split('|').collect::<Vec<_>>()}),
                ));
            }
            return Ok(with(d, op, serde_json::json!({"value": v})));
        }
    }
    bail!(
        "{raw:?} is not a condition: use DIM=VALUE, DIM!=VALUE, DIM=V1|V2, DIM~REGEX, DIM^=PREFIX, DIM*=TEXT, DIM? or DIM!?"
    )
}

/// The ID of a saved view or asset group by name (or an ID as is).
async fn view_id(api: &Api, path: &str, wanted: &str) -> anyhow::Result<String> {
    let (_, list) = api.call(Method::GET, path, None).await?;
    let items = || {
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| (str_of(v, "id").to_string(), str_of(v, "name").to_string()))
    };
    id_by_name(
        items(),
        wanted,
        if path == "/views" {
            "saved view"
        } else {
            "asset group"
        },
    )
}

pub async fn analysis(args: AnalysisArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let filter: Vec<Value> = args
        .filter
        .iter()
        .map(|f| condition(f))
        .collect::<anyhow::Result<_>>()?;
    let asset_group = match args.asset_group.as_deref() {
        Some("default") => Some("default".to_string()),
        Some(name) => Some(view_id(&api, "/asset-groups", name).await?),
        None => None,
    };
    let query = match &args.view {
        Some(v) => {
            let id = view_id(&api, "/views", v).await?;
            let (_, view) = api
                .call(Method::GET, &format!("/views/{}", q(&id)), None)
                .await?;
            let mut query = view["document"].clone();
            if asset_group.is_some() {
                query["asset_group"] = serde_json::json!(asset_group);
            }
            query
        }
        None => serde_json::json!({
            "from": args.from, "to": args.to, "group_by": args.group_by,
            "filter": if filter.is_empty() { Value::Array(vec![]) } else { Value::Array(vec![Value::Array(filter)]) },
            "measures": args.measures, "show_rules": args.show_rules, "sort": args.sort, "ascending": args.ascending, "top": args.top,
            "asset_group": asset_group,
        }),
    };
    if let Some(name) = &args.save {
        let (_, saved) = api
            .call(
                Method::POST,
                "/views",
                Some(serde_json::json!({"name": name, "query": query})),
            )
            .await?;
        eprintln!(
            "saved as view \"{}\" ({})",
            str_of(&saved, "name"),
            str_of(&saved, "id")
        );
    }
    let (from, to) = (
        str_of(&query, "from").to_string(),
        str_of(&query, "to").to_string(),
    );
    if let Some(format) = &args.format {
        anyhow::ensure!(
            format == "csv" || format == "parquet",
            "--format is csv or parquet (JSON: --json)"
        );
        anyhow::ensure!(
            format == "csv" || args.output.is_some(),
            "--format parquet needs --output FILE"
        );
        let resp = api
            .http()
            .post(format!("{}/api/v1/analysis?format={format}", api.base()))
            .bearer_auth(api.token())
            .json(&query)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", api.base()))?;
        if !resp.status().is_success() {
            return Err(crate::client::read(resp)
                .await
                .err()
                .unwrap_or_else(|| anyhow!("the server refused the request")));
        }
        let bytes = resp.bytes().await?;
        return match &args.output {
            Some(p) => {
                std::fs::write(p, &bytes)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("wrote {}", p.display());
                Ok(())
            }
            None => {
                print!("{}", String::from_utf8_lossy(&bytes));
                Ok(())
            }
        };
    }
    let (_, t) = api.call(Method::POST, "/analysis", Some(query)).await?;
    if args.json {
        return print_json(&t);
    }
    let dims: Vec<String> = t["group_by"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    let columns: Vec<String> = t["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    let mut table = Table::new();
    let mut header: Vec<String> = dims.clone();
    header.extend(columns.iter().cloned());
    header.push("MARGIN".into());
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    let mut add = |r: &Value, label: Option<&str>| {
        let c = str_of(r, "currency");
        let level = r["level"].as_u64().unwrap_or(0) as usize;
        let mut cells: Vec<String> = (0..dims.len())
            .map(|i| match (label, r["others"].as_bool()) {
                (Some(l), _) if i == 0 => l.to_string(),
                (_, Some(true)) if i == 0 => "(others)".to_string(),
                _ if i + 1 == level => r["keys"][i]
                    .as_str()
                    .map(|s| format!("{}{s}", "  ".repeat(i)))
                    .unwrap_or_else(|| format!("{}(none)", "  ".repeat(i))),
                _ => String::new(),
            })
            .collect();
        cells.extend(
            r["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| money(v.as_str().unwrap_or(""), c)),
        );
        cells.push(
            r["margin"]
                .as_str()
                .map(|m| format!("{m} %"))
                .unwrap_or_default(),
        );
        table.add_row(cells);
    };
    for r in t["rows"].as_array().into_iter().flatten() {
        add(r, None);
    }
    for r in t["totals"].as_array().into_iter().flatten() {
        add(r, Some("TOTAL"));
    }
    for i in 0..columns.len() {
        if let Some(col) = table.column_mut(dims.len() + i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let unrated: Vec<&str> = t["unrated"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "{from} to {to}{}",
        if unrated.is_empty() {
            String::new()
        } else {
            format!(" (not rated: {})", unrated.join(", "))
        }
    );
    println!("{table}");
    Ok(())
}

#[derive(Subcommand)]
pub enum AssetGroupsCommand {
    /// List the asset groups.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create an asset group from conditions (all must hold), as `analysis --filter` writes them.
    Create {
        name: String,
        #[arg(long, value_name = "CONDITION", required = true)]
        filter: Vec<String>,
        /// Make it the default on the dashboard and the analysis page.
        #[arg(long)]
        default: bool,
    },
    /// Delete an asset group (by name or ID).
    Delete { name: String },
}

pub async fn asset_groups(cmd: AssetGroupsCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        AssetGroupsCommand::List { json } => {
            let (_, list) = api.call(Method::GET, "/asset-groups", None).await?;
            if json {
                return print_json(&list);
            }
            for g in list["items"].as_array().into_iter().flatten() {
                println!(
                    "{}{}  {}",
                    str_of(g, "name"),
                    if g["is_default"].as_bool() == Some(true) {
                        " (default)"
                    } else {
                        ""
                    },
                    g["document"]["filter"]
                );
            }
        }
        AssetGroupsCommand::Create {
            name,
            filter,
            default,
        } => {
            let conditions: Vec<Value> = filter
                .iter()
                .map(|f| condition(f))
                .collect::<anyhow::Result<_>>()?;
            let body =
                serde_json::json!({"name": name, "filter": [conditions], "is_default": default});
            let (_, g) = api.call(Method::POST, "/asset-groups", Some(body)).await?;
            println!(
                "asset group \"{}\" created ({}){}",
                str_of(&g, "name"),
                str_of(&g, "id"),
                if default { ", the default" } else { "" }
            );
        }
        AssetGroupsCommand::Delete { name } => {
            let id = view_id(&api, "/asset-groups", &name).await?;
            api.call(Method::DELETE, &format!("/asset-groups/{}", q(&id)), None)
                .await?;
            println!("asset group deleted");
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct DashboardArgs {
    /// An asset group by name; "none" for all data; the default one without it.
    #[arg(long)]
    asset_group: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn dashboard(args: DashboardArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let param = match args.asset_group.as_deref() {
        None => String::new(),
        Some("none") => "?asset_group=".into(),
        Some(name) => format!(
            "?asset_group={}",
            q(&view_id(&api, "/asset-groups", name).await?)
        ),
    };
    let (_, d) = api
        .call(Method::GET, &format!("/dashboard{param}"), None)
        .await?;
    if args.json {
        return print_json(&d);
    }
    if let Some(g) = d["asset_group"].as_object() {
        println!(
            "asset group: {}",
            g.get("name").and_then(Value::as_str).unwrap_or("")
        );
    }
    for key in ["this_month", "last_month"] {
        let period = str_of(&d, key);
        for m in d["trend"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| str_of(m, "period") == period)
        {
            let c = str_of(m, "currency");
            println!(
                "{period} ({}): provider {}, billed {}, profit {} ({} %)",
                if key == "this_month" {
                    "this month so far"
                } else {
                    "last month"
                },
                money(str_of(m, "provider_cost"), c),
                money(str_of(m, "billed_cost"), c),
                money(str_of(m, "profit"), c),
                m["margin"].as_str().unwrap_or("-")
            );
        }
    }
    for (key, title) in [("top_families", "FAMILY"), ("top_services", "SERVICE")] {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header([title, "BILLED COST", "PROFIT"]);
        for r in d[key].as_array().into_iter().flatten() {
            let c = str_of(r, "currency");
            t.add_row([
                r["name"].as_str().unwrap_or("(none)").to_string(),
                money(str_of(r, "billed_cost"), c),
                money(str_of(r, "profit"), c),
            ]);
        }
        println!("{t}");
    }
    Ok(())
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A line ID such as 2026-10/3f2a1b4c/17 (see `billing-engine lines PERIOD`).
    line: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LinesArgs {
    period: String,
    #[arg(long)]
    family: Option<String>,
    #[arg(long)]
    sub_account: Option<String>,
    /// Only the lines rules added (fees, upcharges, discounts).
    #[arg(long)]
    new_lines: bool,
    #[arg(long, default_value = "50")]
    limit: usize,
    #[arg(long)]
    json: bool,
}

pub(crate) fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn import(cmd: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Focus { file, source, json } = cmd;
    let api = Api::from_env()?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "upload".into());
    let mut path = format!("/imports?filename={}", q(&name));
    if let Some(s) = &source {
        path.push_str(&format!("&source={}", q(s)));
    }
    let body = api.upload(&path, &file).await?;
    if json {
        return print_json(&body);
    }
    println!(
        "imported {} into source \"{}\" ({})",
        file.display(),
        str_of(&body, "source"),
        str_of(&body, "format")
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "PERIOD",
        "ROWS",
        "BILLED COST",
        "EFFECTIVE COST",
    ]);
    for p in body["periods"].as_array().into_iter().flatten() {
        t.add_row([
            str_of(p, "period").to_string(),
            p["rows"].to_string(),
            str_of(p, "billed_total").to_string(),
            str_of(p, "effective_total").to_string(),
        ]);
    }
    println!("{t}");
    let missing = body["missing_columns"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    if missing > 0 {
        println!("{missing} optional FOCUS columns are not in the file (stored as empty).");
    }
    for (key, label) in [
        ("ignored_columns", "ignored (neither FOCUS nor x_)"),
        ("extensions", "kept x_ columns"),
    ] {
        let cols: Vec<&str> = body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !cols.is_empty() {
            println!("{label}: {}", cols.join(", "));
        }
    }
    println!("the periods are being rated; `billing-engine rate PERIOD` waits for one");
    Ok(())
}

fn format_of(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yaml" | "yml") => "yaml",
        _ => "json",
    }
}

pub async fn pricing(cmd: PricingCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        PricingCommand::Export { yaml, output } => {
            let text = api
                .text(
                    Method::GET,
                    &format!(
                        "/pricing/export?format={}",
                        if yaml { "yaml" } else { "json" }
                    ),
                )
                .await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        PricingCommand::Import {
            file,
            dry_run,
            json,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let format = format_of(&file);
            let path = format!("/pricing/import?format={format}&dry_run={dry_run}");
            let body = api
                .send_text(
                    Method::POST,
                    &path,
                    text,
                    if format == "yaml" {
                        "application/yaml"
                    } else {
                        "application/json"
                    },
                )
                .await?;
            if json {
                return print_json(&body);
            }
            let changes: Vec<&str> = body["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match (changes.is_empty(), dry_run) {
                (true, _) => println!(
                    "no change: the configuration already is this file (version {})",
                    body["version"]
                ),
                (false, true) => println!(
                    "dry run: {} change(s) would be made; nothing was changed",
                    changes.len()
                ),
                (false, false) => println!(
                    "imported: {} change(s); configuration version {}",
                    changes.len(),
                    body["version"]
                ),
            }
            for c in changes {
                println!("  {c}");
            }
        }
        PricingCommand::History { json } => {
            let (_, body) = api.call(Method::GET, "/pricing/history", None).await?;
            if json {
                return print_json(&body);
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_header(["VERSION", "WHEN", "CHANGE"]);
            for v in body["items"].as_array().into_iter().flatten() {
                t.add_row([
                    v["version"].to_string(),
                    str_of(v, "created_at").to_string(),
                    str_of(v, "summary").to_string(),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}

fn allocation_file(file: &Path) -> anyhow::Result<(String, Value)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let key = v["key"]
        .as_str()
        .ok_or_else(|| anyhow!("{} has no \"key\"", file.display()))?
        .to_string();
    Ok((key, v))
}

pub async fn allocations(cmd: AllocationsCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        AllocationsCommand::Preview { file, period, json } => {
            let (key, body) = allocation_file(&file)?;
            let mut path = format!("/allocations/{}/preview", q(&key));
            if let Some(p) = &period {
                path.push_str(&format!("?period={}", q(p)));
            }
            let (_, preview) = api.call(Method::POST, &path, Some(body)).await?;
            if json {
                return print_json(&preview);
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                key.to_uppercase().as_str(),
                "ROWS",
                "PROVIDER COST",
                "BILLED COST",
            ]);
            for r in preview["rows"].as_array().into_iter().flatten() {
                let c = str_of(r, "currency");
                t.add_row([
                    r["value"].as_str().unwrap_or("(unallocated)").to_string(),
                    r["rows"].to_string(),
                    money(str_of(r, "provider_cost"), c),
                    money(str_of(r, "billed_cost"), c),
                ]);
            }
            println!("{key} on {} (not saved)", str_of(&preview, "period"));
            println!("{t}");
        }
        AllocationsCommand::Set { file } => {
            let (key, body) = allocation_file(&file)?;
            api.call(
                Method::PUT,
                &format!("/allocations/{}", q(&key)),
                Some(body),
            )
            .await?;
            println!("allocation {key} saved; the periods it changes are being rated");
        }
        AllocationsCommand::Delete { key } => {
            api.call(Method::DELETE, &format!("/allocations/{}", q(&key)), None)
                .await?;
            println!("allocation {key} deleted");
        }
    }
    Ok(())
}

/// Whether the period's latest run has ended and nothing waits.
fn settled(p: &Value, started_after: &str) -> bool {
    let run = if p["latest"].is_object() {
        &p["latest"]
    } else {
        &p["current"]
    };
    let finished = run["finished_at"].is_string() && str_of(run, "started_at") >= started_after;
    !p["pending"].as_bool().unwrap_or(true) && finished
}

pub async fn rate(args: RateArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let period = q(&args.period);
    let (_, queued) = api
        .call(Method::POST, &format!("/periods/{period}/rate"), None)
        .await?;
    if args.no_wait {
        return if args.json {
            print_json(&queued)
        } else {
            println!("rating of {} queued", args.period);
            Ok(())
        };
    }
    let since = time::OffsetDateTime::now_utc()
        .saturating_sub(time::Duration::seconds(5))
        .format(&time::format_description::well_known::Rfc3339)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30 * 60);
    let state = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (_, p) = api
            .call(Method::GET, &format!("/periods/{period}"), None)
            .await?;
        if settled(&p, &since) {
            break p;
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "the rating of {} has not finished after 30 minutes; see `billing-engine rate {} --no-wait` and the period's page",
                args.period,
                args.period
            );
        }
    };
    if args.json {
        return print_json(&state);
    }
    let latest = &state["latest"];
    if latest.is_object() && str_of(latest, "state") == "failed" {
        bail!(
            "the rating of {} failed: {} [{}]; the previous rating stays",
            args.period,
            str_of(latest, "error_message"),
            str_of(latest, "error_code")
        );
    }
    let run = &state["current"];
    println!(
        "rated {}: {} rows, {} new lines, BilledCost {} (provider {}), configuration version {}",
        args.period,
        run["rows_rated"],
        run["new_lines"],
        str_of(run, "billed_total"),
        str_of(run, "provider_total"),
        run["pricing_version"]
    );
    Ok(())
}

/// Money for people: grouped digits, two decimals (the exact value is in --json).
pub(crate) fn money(exact: &str, currency: &str) -> String {
    be_domain::Exact::parse(exact)
        .map(|e| e.display_in(be_domain::Currency::parse(currency).ok()))
        .unwrap_or_else(|| exact.to_string())
}

pub async fn totals(args: TotalsArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let by = match args.by {
        By::Family => "family",
        By::SubAccount => "sub-account",
        By::Rule => "rule",
    };
    let path = format!(
        "/periods/{}/totals?by={by}&show_rules={}",
        q(&args.period),
        args.show_rules
    );
    let (_, body) = api.call(Method::GET, &path, None).await?;
    if args.json {
        return print_json(&body);
    }
    let keys: Vec<&str> = match args.by {
        By::Family => vec!["family"],
        By::SubAccount => vec!["sub_account_id", "sub_account_name", "family"],
        By::Rule => vec!["stage", "kind", "plan"],
    };
    let mut values: Vec<String> = match args.by {
        By::Rule => vec!["Effect".into()],
        _ => [
            "ProviderCost",
            "ListCost",
            "BilledCost",
            "EffectiveCost",
            "Profit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    };
    if args.show_rules && !matches!(args.by, By::Rule) {
        values.extend(
            body["stages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| str_of(s, "label").to_string()),
        );
    }
    let mut t = Table::new();
    let mut header: Vec<String> = keys.iter().map(|k| k.to_uppercase()).collect();
    header.extend(values.iter().cloned());
    if !matches!(args.by, By::Rule) {
        header.push("MARGIN".into());
    }
    t.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    let mut add = |row: &Value, label: Option<&str>| {
        let currency = str_of(row, "currency");
        let mut cells: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                if i == 0 {
                    label
                        .map(str::to_string)
                        .unwrap_or_else(|| row[*k].as_str().unwrap_or("(none)").to_string())
                } else {
                    row[*k].as_str().unwrap_or("").to_string()
                }
            })
            .collect();
        cells.extend(values.iter().map(|v| money(str_of(row, v), currency)));
        if !matches!(args.by, By::Rule) {
            cells.push(
                row["margin_percent"]
                    .as_str()
                    .map(|m| format!("{m} %"))
                    .unwrap_or_default(),
            );
        }
        t.add_row(cells);
    };
    for row in body["rows"].as_array().into_iter().flatten() {
        add(row, None);
    }
    for row in body["totals"].as_array().into_iter().flatten() {
        add(row, Some("TOTAL"));
    }
    for (i, _) in values.iter().enumerate() {
        if let Some(col) = t.column_mut(keys.len() + i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    println!(
        "{} by {by} (rating of {}, configuration version {})",
        args.period,
        str_of(&body["rating_run"], "finished_at"),
        body["rating_run"]["pricing_version"]
    );
    println!("{t}");
    Ok(())
}

pub async fn lines(args: LinesArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let mut path = format!(
        "/periods/{}/lines?limit={}&new_lines={}",
        q(&args.period),
        args.limit,
        args.new_lines
    );
    if let Some(f) = &args.family {
        path.push_str(&format!("&family={}", q(f)));
    }
    if let Some(s) = &args.sub_account {
        path.push_str(&format!("&sub_account_id={}", q(s)));
    }
    let (_, body) = api.call(Method::GET, &path, None).await?;
    if args.json {
        return print_json(&body);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "LINE",
        "FAMILY",
        "SUB-ACCOUNT",
        "SERVICE / DESCRIPTION",
        "PROVIDER COST",
        "BILLED COST",
    ]);
    for l in body["items"].as_array().into_iter().flatten() {
        let what = l["service"]
            .as_str()
            .or(l["description"].as_str())
            .unwrap_or("");
        let c = str_of(l, "currency");
        t.add_row([
            str_of(l, "line_id"),
            str_of(l, "family"),
            str_of(l, "sub_account_id"),
            what,
            &money(str_of(l, "provider_cost"), c),
            &money(str_of(l, "billed_cost"), c),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// Find a rule's or a family's ID by name (or accept an ID).
fn id_by_name(
    items: impl Iterator<Item = (String, String)>,
    wanted: &str,
    what: &str,
) -> anyhow::Result<String> {
    let all: Vec<(String, String)> = items.collect();
    all.iter()
        .find(|(id, name)| id == wanted || name.eq_ignore_ascii_case(wanted))
        .map(|(id, _)| id.clone())
        .ok_or_else(|| {
            anyhow!(
                "there is no {what} named {wanted:?}; known: {}",
                all.iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

pub async fn what_if(args: WhatIfArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let (_, pricing) = api.call(Method::GET, "/pricing", None).await?;
    let rules = || {
        pricing["plans"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["rules"].as_array().into_iter().flatten())
            .map(|r| (str_of(r, "id").to_string(), str_of(r, "name").to_string()))
    };
    let families = || {
        pricing["families"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| (str_of(f, "id").to_string(), str_of(f, "name").to_string()))
    };
    let mut changes = Vec::new();
    for rp in &args.rule_percent {
        let (rule, pct) = rp
            .rsplit_once('=')
            .ok_or_else(|| anyhow!("--rule-percent takes RULE=PERCENT, got {rp:?}"))?;
        changes.push(serde_json::json!({"rule_percent": {"rule_id": id_by_name(rules(), rule.trim(), "rule")?, "percent": pct.trim()}}));
    }
    for m in &args.moves {
        let (sub, family) = m
            .split_once('=')
            .ok_or_else(|| anyhow!("--move takes SUB=FAMILY, got {m:?}"))?;
        let family = if family.trim().eq_ignore_ascii_case("none") {
            Value::Null
        } else {
            Value::String(id_by_name(families(), family.trim(), "family")?)
        };
        changes.push(serde_json::json!({"move_sub_account": {"sub_account_id": sub.trim(), "family_id": family}}));
    }
    if let Some(file) = &args.config {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        changes.push(serde_json::json!({"config": serde_json::from_str::<Value>(&text)?}));
    }
    if changes.is_empty() {
        bail!("say what to change: --rule-percent, --move or --config");
    }
    let (_, w) = api
        .call(
            Method::POST,
            &format!("/periods/{}/what-if", q(&args.period)),
            Some(serde_json::json!({"changes": changes})),
        )
        .await?;
    if args.json {
        return print_json(&w);
    }
    for (key, title) in [("by_family", "family"), ("by_rule", "rule")] {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header([
            title.to_uppercase().as_str(),
            "BEFORE",
            "AFTER",
            "DIFFERENCE",
        ]);
        for r in w[key].as_array().into_iter().flatten() {
            let c = str_of(r, "currency");
            let name = r["key"][0].as_str().unwrap_or("(none)");
            t.add_row([
                name.to_string(),
                money(str_of(r, "before"), c),
                money(str_of(r, "after"), c),
                money(str_of(r, "difference"), c),
            ]);
        }
        println!("{t}");
    }
    println!("(a preview of {}: nothing was changed)", args.period);
    Ok(())
}

pub async fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let (_, e) = api
        .call(
            Method::GET,
            &format!("/explain?line={}", q(&args.line)),
            None,
        )
        .await?;
    if args.json {
        return print_json(&e);
    }
    let cell = |rows: &Value, name: &str| -> String {
        rows.as_array()
            .into_iter()
            .flatten()
            .find(|p| p[0].as_str() == Some(name))
            .and_then(|p| p[1].as_str())
            .unwrap_or("")
            .to_string()
    };
    println!("line {} ({})", str_of(&e, "line_id"), str_of(&e, "period"));
    println!(
        "  {} · {} · {} · family {}",
        cell(&e["rated"], "SubAccountId"),
        cell(&e["rated"], "ServiceName"),
        cell(&e["rated"], "ChargeDescription"),
        cell(&e["rated"], "BillingFamilyName")
    );
    match (&e["source"], e["source_note"].as_str()) {
        (Value::Array(src), _) => {
            let src = Value::Array(src.clone());
            println!(
                "  source row {} of {}: BilledCost {}, EffectiveCost {}",
                cell(&src, "x_SourceRowId"),
                cell(&e["rated"], "x_SourceId"),
                cell(&src, "BilledCost"),
                cell(&src, "EffectiveCost")
            );
        }
        (_, Some(note)) => println!("  source row: {note}"),
        _ => {}
    }
    for s in e["splits"].as_array().into_iter().flatten() {
        println!(
            "  split: {} = {} ({} %)",
            str_of(s, "key"),
            str_of(s, "value"),
            str_of(s, "percent")
        );
    }
    println!("  ProviderCost {:>24}", str_of(&e, "provider_cost"));
    for s in e["stages"].as_array().into_iter().flatten() {
        if let Some(effect) = s["effect"].as_str() {
            println!(
                "  {:<40} {:>24}  -> {}",
                str_of(s, "label"),
                effect,
                str_of(s, "billed_after")
            );
        }
    }
    println!(
        "  BilledCost   {:>24}   EffectiveCost {}",
        str_of(&e, "billed_cost"),
        str_of(&e, "effective_cost")
    );
    Ok(())
}

impl Api {
    /// POST a file as the body, streamed from disk.
    pub async fn upload(&self, path: &str, file: &Path) -> anyhow::Result<Value> {
        let f = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot open {}", file.display()))?;
        let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
        let stream = tokio_util::io::ReaderStream::with_capacity(f, 1 << 20);
        let req = self
            .http()
            .request(Method::POST, format!("{}/api/v1{path}", self.base()))
            .bearer_auth(self.token())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .timeout(Duration::from_secs(24 * 3600))
            .body(reqwest::Body::wrap_stream(stream));
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base()))?;
        Ok(crate::client::read(resp).await?.1)
    }

    /// A text answer (a file download).
    pub async fn text(&self, method: Method, path: &str) -> anyhow::Result<String> {
        let resp = self
            .http()
            .request(method, format!("{}/api/v1{path}", self.base()))
            .bearer_auth(self.token())
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(crate::client::read(resp)
                .await
                .err()
                .unwrap_or_else(|| anyhow!("the server refused the request")));
        }
        Ok(resp.text().await?)
    }

    /// Send a text body of a content type.
    pub async fn send_text(
        &self,
        method: Method,
        path: &str,
        body: String,
        content_type: &str,
    ) -> anyhow::Result<Value> {
        let resp = self
            .http()
            .request(method, format!("{}/api/v1{path}", self.base()))
            .bearer_auth(self.token())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base()))?;
        Ok(crate::client::read(resp).await?.1)
    }
}
