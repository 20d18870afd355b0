//! Client commands for invoicing: draft a run, finalize, list, show, download PDF or CSV, send,
//! re-rate a locked period, the tie-out, period locks, templates, customers and schedules. They
//! use the REST API like any other client.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Api, str_of};
use crate::rating_cmd::{money, print_json, q};

#[derive(Subcommand)]
pub enum InvoicesCommand {
    /// Draft a run over rated periods: each invoice's number-to-be, customer, lines and total.
    Run(RunArgs),
    /// Finalize a draft run: numbers without gaps, periods locked, documents frozen.
    Finalize {
        run: String,
        #[arg(long)]
        json: bool,
    },
    /// Discard a draft run.
    Discard { run: String },
    /// Invoice runs, newest first.
    Runs {
        #[arg(long)]
        json: bool,
    },
    /// Final invoices, credit and debit notes, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One invoice with its lines (by ID or number).
    Show {
        invoice: String,
        #[arg(long)]
        json: bool,
    },
    /// Download an invoice as PDF or CSV (by ID or number).
    Download(DownloadArgs),
    /// E-mail a final invoice to its customer's recipients (or to --to).
    Send {
        invoice: String,
        #[arg(long)]
        to: Vec<String>,
    },
    /// Re-rate a locked period: the difference per invoice, issued as credit or debit notes.
    Rerate {
        period: String,
        /// Show the differences only; nothing is rated or issued.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// From the provider's total to the invoiced total, step by step.
    TieOut {
        period: String,
        #[arg(long)]
        json: bool,
    },
    /// Lock a period by hand (changes wait for a re-rate).
    Lock { period: String },
    /// Unlock a period (waiting changes are rated).
    Unlock { period: String },
    /// Locked periods and their waiting changes.
    Locks {
        #[arg(long)]
        json: bool,
    },
    /// Invoice templates.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Customers' billing details (name, address, recipients, tax ID, PO, terms).
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Monthly invoice runs.
    #[command(subcommand)]
    Schedules(SchedulesCommand),
}

#[derive(Args)]
pub struct RunArgs {
    /// First billing period (YYYY-MM).
    #[arg(long)]
    from: String,
    /// Last billing period (default: --from).
    #[arg(long)]
    to: Option<String>,
    /// YYYY-MM-DD (default: today).
    #[arg(long)]
    issue_date: Option<String>,
    /// A template's name or ID (default: the out-of-the-box one).
    #[arg(long)]
    template: Option<String>,
    /// A header field for this run: LABEL=VALUE (repeatable).
    #[arg(long = "param", value_name = "LABEL=VALUE")]
    params: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DownloadArgs {
    invoice: String,
    #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
    pdf: bool,
    #[arg(long)]
    csv: bool,
    /// Where to write (default: the invoice's file name in this folder).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    List,
    /// A template as JSON (a starting point for `create`).
    Show {
        template: String,
    },
    /// Create a template from a JSON file (the shape `show` prints, without id and builtin).
    Create {
        file: PathBuf,
    },
    /// Replace a template from a JSON file.
    Update {
        template: String,
        file: PathBuf,
    },
    /// Copy a template under a new name.
    Copy {
        template: String,
        #[arg(long)]
        name: String,
    },
    Delete {
        template: String,
    },
}

#[derive(Subcommand)]
pub enum CustomersCommand {
    List,
    /// Set a customer's details; KEY is the family's name (or the template's grouping value).
    Set(CustomerArgs),
    Delete {
        key: String,
    },
}

#[derive(Args)]
pub struct CustomerArgs {
    key: String,
    #[arg(long)]
    name: String,
    /// An address line (repeatable).
    #[arg(long)]
    address: Vec<String>,
    /// A recipient (repeatable).
    #[arg(long)]
    email: Vec<String>,
    #[arg(long)]
    tax_id: Option<String>,
    #[arg(long)]
    purchase_order: Option<String>,
    /// Days to pay (default: the template's).
    #[arg(long)]
    terms: Option<u32>,
}

#[derive(Subcommand)]
pub enum SchedulesCommand {
    List,
    Create {
        #[arg(long)]
        name: String,
        /// Day of the month (1-28) the run is made for the month before.
        #[arg(long)]
        day: u8,
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        finalize: bool,
        #[arg(long)]
        send: bool,
    },
    Delete {
        id: String,
    },
}

pub async fn invoices(cmd: InvoicesCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        InvoicesCommand::Run(args) => run(&api, args).await,
        InvoicesCommand::Finalize { run, json } => {
            let (_, r) = api
                .call(
                    Method::POST,
                    &format!("/invoice-runs/{}/finalize", q(&run)),
                    None,
                )
                .await?;
            if json {
                return print_json(&r);
            }
            print_run(&r);
            Ok(())
        }
        InvoicesCommand::Discard { run } => {
            api.call(
                Method::POST,
                &format!("/invoice-runs/{}/discard", q(&run)),
                None,
            )
            .await?;
            println!("run {run} discarded");
            Ok(())
        }
        InvoicesCommand::Runs { json } => runs(&api, json).await,
        InvoicesCommand::List { json } => list(&api, json).await,
        InvoicesCommand::Show { invoice, json } => show(&api, &invoice, json).await,
        InvoicesCommand::Download(args) => download(&api, args).await,
        InvoicesCommand::Send { invoice, to } => {
            let id = invoice_id(&api, &invoice).await?;
            let (_, d) = api
                .call(
                    Method::POST,
                    &format!("/invoices/{id}/send"),
                    Some(json!({"to": to})),
                )
                .await?;
            println!(
                "queued an e-mail to {} (delivery {})",
                join(&d["recipients"]),
                str_of(&d, "id")
            );
            Ok(())
        }
        InvoicesCommand::Rerate {
            period,
            dry_run,
            json,
        } => rerate(&api, &period, dry_run, json).await,
        InvoicesCommand::TieOut { period, json } => tie_out(&api, &period, json).await,
        InvoicesCommand::Lock { period } => {
            api.call(Method::PUT, &format!("/period-locks/{}", q(&period)), None)
                .await?;
            println!("{period} locked");
            Ok(())
        }
        InvoicesCommand::Unlock { period } => {
            api.call(
                Method::DELETE,
                &format!("/period-locks/{}", q(&period)),
                None,
            )
            .await?;
            println!("{period} unlocked");
            Ok(())
        }
        InvoicesCommand::Locks { json } => locks(&api, json).await,
        InvoicesCommand::Templates(cmd) => templates(&api, cmd).await,
        InvoicesCommand::Customers(cmd) => customers(&api, cmd).await,
        InvoicesCommand::Schedules(cmd) => schedules(&api, cmd).await,
    }
}

fn join(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn parameter(raw: &str) -> anyhow::Result<Value> {
    let (label, value) = raw.split_once('=').ok_or_else(|| {
        anyhow!("--param {raw:?}: write LABEL=VALUE, e.g. --param \"Contract=C-1042\"")
    })?;
    Ok(json!({"label": label.trim(), "value": value.trim()}))
}

async fn run(api: &Api, a: RunArgs) -> anyhow::Result<()> {
    let parameters = a
        .params
        .iter()
        .map(|p| parameter(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let body = json!({"template": a.template, "from": a.from, "to": a.to, "issue_date": a.issue_date, "parameters": parameters});
    let (_, r) = api.call(Method::POST, "/invoice-runs", Some(body)).await?;
    if a.json {
        return print_json(&r);
    }
    print_run(&r);
    let id = str_of(&r, "id");
    for inv in r["invoices"].as_array().into_iter().flatten() {
        let (_, full) = api
            .call(
                Method::GET,
                &format!("/invoices/{}", str_of(inv, "id")),
                None,
            )
            .await?;
        print_lines(&full["document"]);
    }
    println!("draft run {id}: `billing-engine invoices finalize {id}` numbers and locks it");
    Ok(())
}

fn number_of(inv: &Value) -> String {
    match inv["number"].as_str() {
        Some(n) => n.to_string(),
        None => format!("{} (to be)", str_of(inv, "number_to_be")),
    }
}

fn print_run(r: &Value) {
    println!(
        "run {} ({}), {} to {}, issued {}, template {}{}",
        str_of(r, "id"),
        str_of(r, "state"),
        str_of(r, "period_from"),
        str_of(r, "period_to"),
        str_of(r, "issue_date"),
        str_of(r, "template"),
        if r["outdated"].as_bool() == Some(true) {
            " — OUTDATED: the rating changed since this draft"
        } else {
            ""
        }
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["NUMBER", "KIND", "CUSTOMER", "LINES", "TOTAL"]);
    for inv in r["invoices"].as_array().into_iter().flatten() {
        t.add_row([
            number_of(inv),
            str_of(inv, "kind").replace('_', " "),
            str_of(inv, "customer").to_string(),
            inv["lines"].to_string(),
            money(str_of(inv, "total"), str_of(inv, "currency")),
        ]);
    }
    right_align(&mut t, &[3, 4]);
    println!("{t}");
}

fn right_align(t: &mut Table, columns: &[usize]) {
    for c in columns {
        if let Some(col) = t.column_mut(*c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn print_lines(doc: &Value) {
    let currency = str_of(doc, "currency");
    println!(
        "{} — {} {}",
        str_of(&doc["customer"], "billing_name"),
        doc["kind"].as_str().unwrap_or("").replace('_', " "),
        doc["number"].as_str().unwrap_or("(draft)")
    );
    let mut t = Table::new();
    let mut header: Vec<String> = doc["line_headings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    header.push("AMOUNT".into());
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.clone());
    for l in doc["lines"].as_array().into_iter().flatten() {
        let mut row: Vec<String> = l["values"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect();
        row.push(money(str_of(l, "amount"), currency));
        t.add_row(row);
    }
    t.add_row(total_row(
        &header,
        "Subtotal",
        &money(str_of(doc, "subtotal"), currency),
    ));
    for f in doc["formulas"].as_array().into_iter().flatten() {
        t.add_row(total_row(
            &header,
            &format!("{} ({})", str_of(f, "label"), str_of(f, "formula")),
            &money(str_of(f, "amount"), currency),
        ));
    }
    t.add_row(total_row(
        &header,
        "Total",
        &money(str_of(doc, "total"), currency),
    ));
    right_align(&mut t, &[header.len() - 1]);
    println!("{t}");
}

fn total_row(header: &[String], label: &str, amount: &str) -> Vec<String> {
    let mut row = vec![String::new(); header.len()];
    row[0] = label.to_string();
    row[header.len() - 1] = amount.to_string();
    row
}

async fn runs(api: &Api, json: bool) -> anyhow::Result<()> {
    let (_, r) = api.call(Method::GET, "/invoice-runs", None).await?;
    if json {
        return print_json(&r);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["RUN", "STATE", "PERIODS", "ISSUED", "TEMPLATE", "INVOICES"]);
    for run in r["items"].as_array().into_iter().flatten() {
        t.add_row([
            str_of(run, "id").to_string(),
            str_of(run, "state").to_string(),
            format!(
                "{} to {}",
                str_of(run, "period_from"),
                str_of(run, "period_to")
            ),
            str_of(run, "issue_date").to_string(),
            str_of(run, "template").to_string(),
            run["invoices"].as_array().map_or(0, Vec::len).to_string(),
        ]);
    }
    println!("{t}");
    Ok(())
}

async fn list(api: &Api, json: bool) -> anyhow::Result<()> {
    let (_, r) = api.call(Method::GET, "/invoices", None).await?;
    if json {
        return print_json(&r);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "NUMBER", "KIND", "ISSUED", "PERIODS", "CUSTOMER", "TOTAL", "ID",
    ]);
    for inv in r["items"].as_array().into_iter().flatten() {
        t.add_row([
            number_of(inv),
            str_of(inv, "kind").replace('_', " "),
            str_of(inv, "issue_date").to_string(),
            format!(
                "{} to {}",
                str_of(inv, "period_from"),
                str_of(inv, "period_to")
            ),
            str_of(inv, "customer").to_string(),
            money(str_of(inv, "total"), str_of(inv, "currency")),
            str_of(inv, "id").to_string(),
        ]);
    }
    right_align(&mut t, &[5]);
    println!("{t}");
    Ok(())
}

/// An invoice's ID from its ID or its number.
async fn invoice_id(api: &Api, wanted: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(wanted).is_ok() {
        return Ok(wanted.to_string());
    }
    let (_, r) = api.call(Method::GET, "/invoices", None).await?;
    r["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["number"].as_str() == Some(wanted))
        .map(|i| str_of(i, "id").to_string())
        .ok_or_else(|| anyhow!("no invoice {wanted:?}; `billing-engine invoices list` shows them"))
}

async fn show(api: &Api, invoice: &str, json: bool) -> anyhow::Result<()> {
    let id = invoice_id(api, invoice).await?;
    let (_, r) = api
        .call(Method::GET, &format!("/invoices/{id}"), None)
        .await?;
    if json {
        return print_json(&r);
    }
    print_lines(&r["document"]);
    for d in r["deliveries"].as_array().into_iter().flatten() {
        println!(
            "e-mail to {}: {} ({} attempts) {}",
            join(&d["recipients"]),
            str_of(d, "state"),
            d["attempts"],
            str_of(d, "server_answer")
        );
    }
    Ok(())
}

async fn download(api: &Api, a: DownloadArgs) -> anyhow::Result<()> {
    let id = invoice_id(api, &a.invoice).await?;
    let ext = if a.csv { "csv" } else { "pdf" };
    let resp = api
        .http()
        .get(format!("{}/api/v1/invoices/{id}/{ext}", api.base()))
        .bearer_auth(api.token())
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {}", api.base()))?;
    if !resp.status().is_success() {
        return Err(crate::client::read(resp)
            .await
            .err()
            .unwrap_or_else(|| anyhow!("the server refused the request")));
    }
    let name = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=\"").nth(1))
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap_or_else(|| format!("{id}.{ext}"));
    let bytes = resp.bytes().await?;
    let path = a.output.unwrap_or_else(|| PathBuf::from(name));
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}

async fn rerate(api: &Api, period: &str, dry_run: bool, json: bool) -> anyhow::Result<()> {
    let (_, r) = api
        .call(
            Method::POST,
            &format!("/periods/{}/rerate", q(period)),
            Some(json!({"dry_run": dry_run})),
        )
        .await?;
    if json {
        return print_json(&r);
    }
    let changes = r["changes"].as_array().cloned().unwrap_or_default();
    if changes.is_empty() {
        println!("{period}: re-rated, no invoice changes");
    }
    for c in &changes {
        let cur = str_of(c, "currency");
        println!(
            "{} ({}): billed {}, now {}, difference {} -> {}",
            c["number"].as_str().unwrap_or("new invoice"),
            str_of(c, "customer"),
            money(str_of(c, "before"), cur),
            money(str_of(c, "after"), cur),
            money(str_of(c, "difference"), cur),
            str_of(c, "settled_by").replace('_', " ")
        );
        for l in c["lines"].as_array().into_iter().flatten() {
            let name = l["rule"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| join(&l["values"]));
            println!(
                "  {name}: {} -> {} ({})",
                money(str_of(l, "before"), cur),
                money(str_of(l, "after"), cur),
                money(str_of(l, "difference"), cur)
            );
        }
    }
    for n in r["issued"].as_array().into_iter().flatten() {
        println!(
            "issued {} {} for {}: {}",
            str_of(n, "kind").replace('_', " "),
            number_of(n),
            str_of(n, "customer"),
            money(str_of(n, "total"), str_of(n, "currency"))
        );
    }
    if dry_run && !changes.is_empty() {
        println!("dry run: nothing was rated or issued; run without --dry-run to issue the notes");
    }
    Ok(())
}

async fn tie_out(api: &Api, period: &str, json: bool) -> anyhow::Result<()> {
    let (_, r) = api
        .call(
            Method::GET,
            &format!("/periods/{}/tie-out", q(period)),
            None,
        )
        .await?;
    if json {
        return print_json(&r);
    }
    for c in r["currencies"].as_array().into_iter().flatten() {
        let cur = str_of(c, "currency");
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header([format!("{period} ({cur})"), "AMOUNT".into()]);
        t.add_row([
            "Provider cost".to_string(),
            money(str_of(c, "provider_total"), cur),
        ]);
        for s in c["steps"].as_array().into_iter().flatten() {
            t.add_row([
                str_of(s, "label").to_string(),
                money(str_of(s, "amount"), cur),
            ]);
        }
        t.add_row([
            format!("Invoiced ({} documents)", c["invoices"]),
            money(str_of(c, "invoiced_total"), cur),
        ]);
        right_align(&mut t, &[1]);
        println!("{t}");
        println!(
            "{}",
            if c["reconciled"].as_bool() == Some(true) {
                "✓ every step explained"
            } else {
                "✗ a difference is not explained (see the steps marked unexplained)"
            }
        );
    }
    if let Some(p) = r["provider_reported"].as_str() {
        println!("the provider reported {p} for {period}");
    }
    Ok(())
}

async fn locks(api: &Api, json: bool) -> anyhow::Result<()> {
    let (_, r) = api.call(Method::GET, "/period-locks", None).await?;
    if json {
        return print_json(&r);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "PERIOD",
        "REASON",
        "LOCKED AT",
        "CHANGES WAITING SINCE",
    ]);
    for l in r["items"].as_array().into_iter().flatten() {
        t.add_row([
            str_of(l, "period"),
            str_of(l, "reason"),
            str_of(l, "locked_at"),
            l["pending_since"].as_str().unwrap_or("-"),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// A template's ID from its ID or its name.
async fn template_id(api: &Api, wanted: &str) -> anyhow::Result<String> {
    let (_, r) = api.call(Method::GET, "/invoice-templates", None).await?;
    r["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| str_of(t, "id") == wanted || str_of(t, "name").eq_ignore_ascii_case(wanted))
        .map(|t| str_of(t, "id").to_string())
        .ok_or_else(|| {
            anyhow!("no template {wanted:?}; `billing-engine invoices templates list` shows them")
        })
}

fn read_json(file: &PathBuf) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "builtin", "updated_at"] {
            o.remove(k);
        }
    }
    Ok(v)
}

async fn templates(api: &Api, cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::List => {
            let (_, r) = api.call(Method::GET, "/invoice-templates", None).await?;
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                "NAME",
                "ONE INVOICE PER",
                "LINES BY",
                "MEASURE",
                "ID",
            ]);
            for x in r["items"].as_array().into_iter().flatten() {
                let name = format!(
                    "{}{}",
                    str_of(x, "name"),
                    if x["builtin"].as_bool() == Some(true) {
                        " (built in)"
                    } else {
                        ""
                    }
                );
                t.add_row([
                    name,
                    str_of(x, "invoice_by").to_string(),
                    join(&x["line_by"]),
                    str_of(x, "measure").to_string(),
                    str_of(x, "id").to_string(),
                ]);
            }
            println!("{t}");
        }
        TemplatesCommand::Show { template } => {
            let id = template_id(api, &template).await?;
            print_json(
                &api.call(Method::GET, &format!("/invoice-templates/{id}"), None)
                    .await?
                    .1,
            )?;
        }
        TemplatesCommand::Create { file } => {
            let (_, t) = api
                .call(Method::POST, "/invoice-templates", Some(read_json(&file)?))
                .await?;
            println!(
                "template {} created ({})",
                str_of(&t, "name"),
                str_of(&t, "id")
            );
        }
        TemplatesCommand::Update { template, file } => {
            let id = template_id(api, &template).await?;
            api.call(
                Method::PUT,
                &format!("/invoice-templates/{id}"),
                Some(read_json(&file)?),
            )
            .await?;
            println!("template {template} updated");
        }
        TemplatesCommand::Copy { template, name } => {
            let id = template_id(api, &template).await?;
            let (_, t) = api
                .call(
                    Method::POST,
                    &format!("/invoice-templates/{id}/copy"),
                    Some(json!({"name": name})),
                )
                .await?;
            println!(
                "template {} created ({})",
                str_of(&t, "name"),
                str_of(&t, "id")
            );
        }
        TemplatesCommand::Delete { template } => {
            let id = template_id(api, &template).await?;
            api.call(Method::DELETE, &format!("/invoice-templates/{id}"), None)
                .await?;
            println!("template {template} deleted");
        }
    }
    Ok(())
}

async fn customers(api: &Api, cmd: CustomersCommand) -> anyhow::Result<()> {
    match cmd {
        CustomersCommand::List => {
            let (_, r) = api.call(Method::GET, "/customers", None).await?;
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                "KEY",
                "BILLING NAME",
                "RECIPIENTS",
                "TAX ID",
                "PO",
            ]);
            for c in r["items"].as_array().into_iter().flatten() {
                t.add_row([
                    str_of(c, "key").to_string(),
                    str_of(c, "billing_name").to_string(),
                    join(&c["emails"]),
                    str_of(c, "tax_id").to_string(),
                    str_of(c, "purchase_order").to_string(),
                ]);
            }
            println!("{t}");
        }
        CustomersCommand::Set(a) => {
            let body = json!({"key": a.key, "billing_name": a.name, "address": a.address, "emails": a.email,
                              "tax_id": a.tax_id, "purchase_order": a.purchase_order, "payment_terms_days": a.terms});
            api.call(Method::PUT, "/customers", Some(body)).await?;
            println!("customer {} saved", a.key);
        }
        CustomersCommand::Delete { key } => {
            api.call(Method::DELETE, &format!("/customers/{}", q(&key)), None)
                .await?;
            println!("customer {key} removed");
        }
    }
    Ok(())
}

async fn schedules(api: &Api, cmd: SchedulesCommand) -> anyhow::Result<()> {
    match cmd {
        SchedulesCommand::List => {
            let (_, r) = api.call(Method::GET, "/invoice-schedules", None).await?;
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_header(["NAME", "DAY", "FINALIZE", "SEND", "NEXT RUN", "ID"]);
            for s in r["items"].as_array().into_iter().flatten() {
                t.add_row([
                    str_of(s, "name").to_string(),
                    s["day_of_month"].to_string(),
                    s["finalize"].to_string(),
                    s["send"].to_string(),
                    str_of(s, "next_run_at").to_string(),
                    str_of(s, "id").to_string(),
                ]);
            }
            println!("{t}");
        }
        SchedulesCommand::Create {
            name,
            day,
            template,
            finalize,
            send,
        } => {
            let body = json!({"name": name, "day_of_month": day, "template": template, "finalize": finalize, "send": send});
            let (_, s) = api
                .call(Method::POST, "/invoice-schedules", Some(body))
                .await?;
            println!(
                "schedule {} created; next run {}",
                str_of(&s, "name"),
                str_of(&s, "next_run_at")
            );
        }
        SchedulesCommand::Delete { id } => {
            api.call(
                Method::DELETE,
                &format!("/invoice-schedules/{}", q(&id)),
                None,
            )
            .await?;
            println!("schedule deleted");
        }
    }
    Ok(())
}
