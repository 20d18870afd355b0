//! `billing-engine connect azure` (the wizard on a terminal or in a script) and
//! `billing-engine connections ...` (the connection's life), both through the REST API.
//!
//! The client secret is read from a prompt without echo, a file, or standard input; never from a
//! flag, where other users of the machine could see it.

use std::{
    io::{IsTerminal, Read},
    path::PathBuf,
};

use anyhow::{Context, anyhow, bail};
use be_app::{JobState, SyncOutcome};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Api, ApiFailure, prompt, str_of};

#[derive(Clone, Copy, ValueEnum)]
pub enum Agreement {
    Ea,
    Mca,
}

#[derive(Args)]
pub struct ConnectArgs {
    /// An existing account to connect, by name.
    #[arg(long, conflicts_with_all = ["account_id", "new_account"])]
    account: Option<String>,
    /// An existing account to connect, by ID.
    #[arg(long, conflicts_with = "new_account")]
    account_id: Option<String>,
    /// Create this account and connect it.
    #[arg(long)]
    new_account: Option<String>,
    /// Directory (tenant) ID: a GUID or a verified domain.
    #[arg(long)]
    tenant: Option<String>,
    /// Application (client) ID.
    #[arg(long)]
    client_id: Option<String>,
    /// Agreement type.
    #[arg(long, value_enum)]
    agreement: Option<Agreement>,
    /// Billing account ID: the enrollment number (EA) or guid:guid_YYYY-MM-DD (MCA).
    #[arg(long)]
    billing_account: Option<String>,
    /// Read the client secret's value from this file.
    #[arg(long, conflicts_with = "secret_stdin")]
    secret_file: Option<PathBuf>,
    /// Read the client secret's value from standard input.
    #[arg(long)]
    secret_stdin: bool,
    /// The secret's expiry date (YYYY-MM-DD), to be warned before it expires.
    #[arg(long)]
    secret_expires: Option<String>,
    /// Do not wait for the role grant: validate right after printing it (for scripts, when the role is already granted).
    #[arg(long)]
    no_wait: bool,
}

#[derive(Subcommand)]
pub enum ConnectCommand {
    /// Connect an account to an Azure billing account for Billing Engine.
    Azure(ConnectArgs),
}

#[derive(Subcommand)]
pub enum ConnectionsCommand {
    /// List the organization's connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one connection and its last checks.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Run the checks again.
    Validate { id: String },
    /// Show the role grant (EA call or MCA steps).
    Grant { id: String },
    /// Replace the client secret; the new one must sign in before it replaces the old one.
    RotateSecret {
        id: String,
        #[arg(long, conflicts_with = "secret_stdin")]
        secret_file: Option<PathBuf>,
        #[arg(long)]
        secret_stdin: bool,
        #[arg(long)]
        secret_expires: Option<String>,
    },
    /// Change the IDs of a connection (validate it again afterwards). Changing the tenant,
    /// agreement type or billing account of a connection with data needs --replace-data.
    SetIds {
        id: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        #[arg(long, value_enum)]
        agreement: Option<Agreement>,
        #[arg(long)]
        billing_account: Option<String>,
        /// Remove the stored periods (they are backfilled from the new billing account).
        #[arg(long)]
        replace_data: bool,
    },
    /// Stop syncing.
    Pause { id: String },
    /// Validate again and resume syncing.
    Resume { id: String },
    /// Delete the connection and its data (asks for the account name unless --confirm gives it).
    Delete {
        id: String,
        /// The account's name, to confirm without a prompt.
        #[arg(long)]
        confirm: Option<String>,
    },
}

fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

fn read_secret(file: Option<&PathBuf>, stdin: bool) -> anyhow::Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the secret file {}", path.display()))?;
        return Ok(text.trim().to_string());
    }
    if stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.trim().to_string());
    }
    if interactive() {
        return Ok(
            rpassword::prompt_password("Client secret value (not its ID; input hidden): ")?
                .trim()
                .to_string(),
        );
    }
    bail!(
        "the client secret is needed: pass --secret-file FILE or --secret-stdin (never as a flag)"
    )
}

fn ask(value: Option<String>, label: &str, flag: &str) -> anyhow::Result<String> {
    match value {
        Some(v) => Ok(v),
        None if interactive() => prompt(&format!("{label}: ")),
        None => bail!("{label} is needed: pass {flag}"),
    }
}

fn print_checks(v: &Value) {
    for c in v["checks"].as_array().into_iter().flatten() {
        let mark = match c["outcome"].as_str() {
            Some("passed") => "✓",
            Some("failed") => "✗",
            _ => "–",
        };
        println!("  {mark} {}: {}", str_of(c, "title"), str_of(c, "message"));
        if let Some(r) = c["remedy"].as_str() {
            println!("      what to do: {r}");
        }
        if let Some(id) = c["azure_request_id"].as_str() {
            println!("      Azure request ID: {id}");
        }
    }
    if let Some(n) = v["next"].as_str() {
        println!("{n}");
    }
}

fn print_grant(g: &Value) {
    println!(
        "Grant the {} role to the app's service principal:",
        str_of(g, "role_name")
    );
    println!(
        "  service principal object ID: {}",
        str_of(g, "principal_object_id")
    );
    println!(
        "  tenant ID:                   {}",
        str_of(g, "principal_tenant_id")
    );
    println!(
        "  billing account:             {}",
        str_of(g, "billing_account_id")
    );
    if let Some(call) = g.get("ea_call") {
        println!();
        println!(
            "Run this as an enterprise administrator of the enrollment (curl; set ADMIN_TOKEN first):"
        );
        println!();
        println!("{}", str_of(call, "curl"));
        println!();
        println!("or with the Azure CLI:");
        println!();
        println!("{}", str_of(call, "az_rest"));
        println!();
    }
    for (i, step) in g["steps"].as_array().into_iter().flatten().enumerate() {
        println!("  {}. {}", i + 1, step.as_str().unwrap_or(""));
    }
}

fn agreement_code(a: Agreement) -> &'static str {
    match a {
        Agreement::Ea => "EA",
        Agreement::Mca => "MCA",
    }
}

/// Every value the flags give, checked with the server's own parsers before anything is created,
/// so a typo leaves no account or draft behind; returns the secret when a flag says where it is.
fn check_flags(args: &ConnectArgs) -> anyhow::Result<Option<String>> {
    use be_domain::{AccountName, AgreementType, BillingAccountId, ClientId, TenantId};
    let mut problems: Vec<String> = vec![];
    let mut check = |flag: &str, r: Result<(), be_domain::FieldError>| {
        if let Err(e) = r {
            problems.push(format!("{flag}: {} ({})", e.message, e.code));
        }
    };
    if let Some(n) = &args.new_account {
        check("--new-account", AccountName::parse(n).map(drop));
    }
    if let Some(t) = &args.tenant {
        check("--tenant", TenantId::parse(t).map(drop));
    }
    if let Some(c) = &args.client_id {
        check("--client-id", ClientId::parse(c).map(drop));
    }
    if let (Some(a), Some(b)) = (args.agreement, &args.billing_account) {
        let a = AgreementType::parse(agreement_code(a)).map_err(|e| anyhow!(e.message))?;
        check("--billing-account", BillingAccountId::parse(a, b).map(drop));
    }
    if let Some(d) = &args.secret_expires {
        let today = time::OffsetDateTime::now_utc().date();
        check(
            "--secret-expires",
            be_domain::parse_secret_expiry(d, today).map(drop),
        );
    }
    let mut later: Vec<String> = vec![];
    if !interactive() {
        for (missing, flag) in [
            (args.tenant.is_none(), "--tenant"),
            (args.client_id.is_none(), "--client-id"),
            (args.agreement.is_none(), "--agreement"),
            (args.billing_account.is_none(), "--billing-account"),
            (
                args.secret_file.is_none() && !args.secret_stdin,
                "--secret-file or --secret-stdin",
            ),
        ] {
            if missing {
                later.push(format!("{flag} is needed (there is no terminal to ask on)"));
            }
        }
    }
    let secret = if args.secret_file.is_some() || args.secret_stdin {
        match read_secret(args.secret_file.as_ref(), args.secret_stdin) {
            Ok(secret) => {
                check(
                    "the client secret",
                    be_domain::ClientSecretValue::parse(&secret).map(drop),
                );
                Some(secret)
            }
            Err(e) => {
                later.push(format!("{e:#}"));
                None
            }
        }
    } else {
        None
    };
    problems.extend(later);
    if !problems.is_empty() {
        bail!(
            "nothing was created; fix these and run the command again:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(secret)
}

/// `--new-account NAME`: refused when NAME exists (the command was probably run before and
/// stopped: `--account` continues that account's draft).
async fn create_account(api: &Api, name: &str) -> anyhow::Result<String> {
    let use_account = || {
        anyhow!(
            "an account named \"{}\" already exists (account_name_taken); to connect it or continue its unfinished connection, run the same command with --account \"{}\" instead of --new-account",
            name.trim(),
            name.trim()
        )
    };
    let key = name.trim().to_lowercase();
    let (_, list) = api.call(Method::GET, "/accounts", None).await?;
    if list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| str_of(a, "name").to_lowercase() == key)
    {
        return Err(use_account());
    }
    match api
        .call(Method::POST, "/accounts", Some(json!({"name": name})))
        .await
    {
        Ok((_, a)) => {
            println!("created account \"{}\"", str_of(&a, "name"));
            Ok(str_of(&a, "id").to_string())
        }
        Err(e)
            if e.downcast_ref::<ApiFailure>()
                .is_some_and(|f| f.code == "account_name_taken") =>
        {
            Err(use_account())
        }
        Err(e) => Err(e),
    }
}

/// Resolve or create the account; start the draft, or continue the account's existing draft.
async fn start(api: &Api, args: &ConnectArgs) -> anyhow::Result<Value> {
    let account_id = if let Some(id) = &args.account_id {
        id.clone()
    } else if let Some(name) = &args.new_account {
        create_account(api, name).await?
    } else {
        let name = ask(
            args.account.clone(),
            "Account name (an existing one, or a new one to create)",
            "--account or --new-account",
        )?;
        let (_, list) = api.call(Method::GET, "/accounts", None).await?;
        let found = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| str_of(a, "name").eq_ignore_ascii_case(name.trim()));
        match found {
            Some(a) => str_of(a, "id").to_string(),
            None if args.account.is_none() => {
                let (_, a) = api
                    .call(Method::POST, "/accounts", Some(json!({"name": name})))
                    .await?;
                println!("created account \"{}\"", str_of(&a, "name"));
                str_of(&a, "id").to_string()
            }
            None => bail!("there is no account named \"{name}\"; use --new-account to create it"),
        }
    };
    match api
        .call(
            Method::POST,
            "/connections",
            Some(
                json!({"account_id": account_id, "provider": "azure", "product": "billing_engine"}),
            ),
        )
        .await
    {
        Ok((_, c)) => Ok(c),
        Err(e)
            if e.downcast_ref::<ApiFailure>()
                .is_some_and(|f| f.code == "account_already_connected") =>
        {
            let (_, admin) = api.call(Method::GET, "/administration", None).await?;
            let draft = admin["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["account"]["id"] == json!(account_id))
                .and_then(|r| {
                    r.get("connection")
                        .filter(|c| c["state"] == "draft" || c["state"] == "failed")
                })
                .cloned();
            match draft {
                Some(c) => {
                    println!("continuing the unfinished connection {}", str_of(&c, "id"));
                    Ok(c)
                }
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

pub async fn connect(cmd: ConnectCommand) -> anyhow::Result<()> {
    let ConnectCommand::Azure(args) = cmd;
    let api = Api::from_env()?;
    let mut secret_given = check_flags(&args)?;
    let c = start(&api, &args).await?;
    let id = str_of(&c, "id").to_string();
    println!();
    println!(
        "Step: log in to Azure and register an app (Azure portal → App registrations → + New registration):"
    );
    println!(
        "  supported account types: Accounts in this organizational directory only (Single tenant)"
    );
    println!("  redirect URI: Web, {}", api.base());
    println!(
        "  then copy the Application (client) ID and the Directory (tenant) ID from the app's Overview page."
    );
    println!();

    let mut tenant = args.tenant.clone();
    let mut client = args.client_id.clone();
    let mut billing = args.billing_account.clone();
    let mut agreement = args.agreement.map(|a| agreement_code(a).to_string());
    loop {
        let details = json!({
            "client_id": ask(client.clone(), "Application (client) ID", "--client-id")?,
            "tenant_id": ask(tenant.clone(), "Directory (tenant) ID (GUID or domain)", "--tenant")?,
            "agreement_type": ask(agreement.clone(), "Agreement type (EA or MCA)", "--agreement")?,
            "billing_account_id": ask(billing.clone(), "Billing account ID (EA: enrollment number; MCA: guid:guid_YYYY-MM-DD)", "--billing-account")?,
        });
        match api
            .call(
                Method::PATCH,
                &format!("/connections/{id}"),
                Some(details.clone()),
            )
            .await
        {
            Ok(_) => break,
            Err(e)
                if interactive()
                    && e.downcast_ref::<ApiFailure>()
                        .is_some_and(|f| f.status == 422) =>
            {
                let failure = e.downcast_ref::<ApiFailure>().expect("checked");
                eprintln!("{}", failure.message);
                let bad: Vec<String> = failure.fields();
                // Keep the good values; ask again for the bad ones.
                client = (!bad.contains(&"client_id".to_string()))
                    .then(|| details["client_id"].as_str().unwrap_or("").to_string());
                tenant = (!bad.contains(&"tenant_id".to_string()))
                    .then(|| details["tenant_id"].as_str().unwrap_or("").to_string());
                agreement = (!bad.contains(&"agreement_type".to_string()))
                    .then(|| details["agreement_type"].as_str().unwrap_or("").to_string());
                billing = (!bad.contains(&"billing_account_id".to_string())).then(|| {
                    details["billing_account_id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                });
            }
            Err(e) => return Err(e),
        }
    }

    println!(
        "Step: create a client secret (the app → Certificates & secrets → + New client secret) and copy its Value."
    );
    loop {
        let secret = match secret_given.take() {
            Some(s) => s,
            None => read_secret(args.secret_file.as_ref(), args.secret_stdin)?,
        };
        let mut body = json!({"client_secret": secret});
        if let Some(exp) = &args.secret_expires {
            body["expires_on"] = json!(exp);
        }
        match api
            .call(
                Method::PUT,
                &format!("/connections/{id}/secret"),
                Some(body),
            )
            .await
        {
            Ok(_) => break,
            Err(e)
                if interactive()
                    && args.secret_file.is_none()
                    && !args.secret_stdin
                    && e.downcast_ref::<ApiFailure>()
                        .is_some_and(|f| f.status == 422) =>
            {
                eprintln!(
                    "{}",
                    e.downcast_ref::<ApiFailure>().expect("checked").message
                );
            }
            Err(e) => return Err(e),
        }
    }
    println!("secret stored encrypted");
    println!();

    let (_, grant) = api
        .call(Method::GET, &format!("/connections/{id}/role-grant"), None)
        .await?;
    print_grant(&grant);
    if interactive() && !args.no_wait {
        prompt(
            "\nPress Enter once the role is granted (Ctrl-C to stop; the connection is kept as a draft)... ",
        )?;
    }
    println!("Connecting...");
    let (_, v) = api
        .call(Method::POST, &format!("/connections/{id}/validate"), None)
        .await?;
    print_checks(&v);
    if v["state"] == "connected" {
        println!("connection {id} is connected");
        Ok(())
    } else {
        Err(anyhow!(
            "the connection is not connected yet (state {}); fix the failed check, then run: billing-engine connections validate {id}",
            str_of(&v, "state")
        ))
    }
}

pub async fn connections(cmd: ConnectionsCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        ConnectionsCommand::List { json } => {
            let (_, list) = api.call(Method::GET, "/connections", None).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header([
                    "ID",
                    "ACCOUNT",
                    "STATE",
                    "AGREEMENT",
                    "BILLING ACCOUNT",
                    "SECRET",
                ]);
            let mut names = std::collections::HashMap::new();
            for c in list["items"].as_array().into_iter().flatten() {
                let account = account_name(&api, &mut names, str_of(c, "account_id")).await;
                let secret = c["secret"]["warning"]
                    .as_str()
                    .map(|_| "expires soon")
                    .unwrap_or(if c["secret"]["set"] == true {
                        "set"
                    } else {
                        "missing"
                    });
                t.add_row([
                    str_of(c, "id"),
                    account.as_str(),
                    str_of(c, "state"),
                    str_of(c, "agreement_type"),
                    str_of(c, "billing_account_id"),
                    secret,
                ]);
            }
            println!("{t}");
        }
        ConnectionsCommand::Show { id, json } => {
            let (_, c) = api
                .call(Method::GET, &format!("/connections/{id}"), None)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
                return Ok(());
            }
            let account =
                account_name(&api, &mut Default::default(), str_of(&c, "account_id")).await;
            println!(
                "connection {} of \"{account}\" ({})",
                str_of(&c, "id"),
                str_of(&c, "state")
            );
            println!(
                "  billing account: {} {}",
                str_of(&c, "agreement_type"),
                str_of(&c, "billing_account_id")
            );
            println!(
                "  tenant: {}  client: {}  service principal: {}",
                str_of(&c, "tenant_id"),
                str_of(&c, "client_id"),
                str_of(&c, "principal_object_id")
            );
            if let Some(w) = c["secret"]["warning"].as_str() {
                println!("  warning: {w}");
            }
            print_checks(&c);
            if c["state"] != "draft" {
                let (_, status) = api
                    .call(Method::GET, &format!("/connections/{id}/sync"), None)
                    .await?;
                print_sync_status(&status);
            }
        }
        ConnectionsCommand::Validate { id } => {
            let (_, v) = api
                .call(Method::POST, &format!("/connections/{id}/validate"), None)
                .await?;
            print_checks(&v);
            if v["state"] != "connected" {
                bail!("not connected (state {})", str_of(&v, "state"));
            }
        }
        ConnectionsCommand::Grant { id } => {
            let (_, g) = api
                .call(Method::GET, &format!("/connections/{id}/role-grant"), None)
                .await?;
            print_grant(&g);
        }
        ConnectionsCommand::RotateSecret {
            id,
            secret_file,
            secret_stdin,
            secret_expires,
        } => {
            let secret = read_secret(secret_file.as_ref(), secret_stdin)?;
            let mut body = json!({"client_secret": secret});
            if let Some(exp) = secret_expires {
                body["expires_on"] = json!(exp);
            }
            api.call(
                Method::PUT,
                &format!("/connections/{id}/secret"),
                Some(body),
            )
            .await?;
            println!("the new secret was accepted by Azure and replaced the old one");
        }
        ConnectionsCommand::SetIds {
            id,
            tenant,
            client_id,
            agreement,
            billing_account,
            replace_data,
        } => {
            let mut body = json!({});
            let agreement = agreement.map(|a| match a {
                Agreement::Ea => "EA",
                Agreement::Mca => "MCA",
            });
            for (k, v) in [
                ("tenant_id", tenant.as_deref()),
                ("client_id", client_id.as_deref()),
                ("agreement_type", agreement),
                ("billing_account_id", billing_account.as_deref()),
            ] {
                if let Some(v) = v {
                    body[k] = json!(v);
                }
            }
            if replace_data {
                body["replace_data"] = json!(true);
            }
            api.call(Method::PATCH, &format!("/connections/{id}"), Some(body))
                .await?;
            if replace_data {
                println!("saved; the stored periods (if the billing account changed) were removed");
            } else {
                println!("saved");
            }
            println!("validate it again: billing-engine connections validate {id}");
        }
        ConnectionsCommand::Pause { id } => {
            api.call(Method::POST, &format!("/connections/{id}/pause"), None)
                .await?;
            println!("paused");
        }
        ConnectionsCommand::Resume { id } => {
            let (_, v) = api
                .call(Method::POST, &format!("/connections/{id}/resume"), None)
                .await?;
            print_checks(&v);
        }
        ConnectionsCommand::Delete { id, confirm } => {
            let (_, c) = api
                .call(Method::GET, &format!("/connections/{id}"), None)
                .await?;
            let (_, account) = api
                .call(
                    Method::GET,
                    &format!("/accounts/{}", str_of(&c, "account_id")),
                    None,
                )
                .await?;
            let name = str_of(&account, "name").to_string();
            let confirm = match confirm {
                Some(c) => c,
                None if interactive() => prompt(&format!(
                    "This deletes the connection and all its data. Type the account name \"{name}\" to confirm: "
                ))?,
                None => bail!("pass --confirm \"{name}\" to delete without a prompt"),
            };
            let q: String = url::form_urlencoded::byte_serialize(confirm.as_bytes()).collect();
            api.call(
                Method::DELETE,
                &format!("/connections/{id}?confirm={q}"),
                None,
            )
            .await?;
            println!("deleted the connection of \"{name}\" and its data");
        }
    }
    Ok(())
}

/// An account's name by its ID (each asked once); the ID itself if it cannot be read.
async fn account_name(
    api: &Api,
    names: &mut std::collections::HashMap<String, String>,
    id: &str,
) -> String {
    if let Some(n) = names.get(id) {
        return n.clone();
    }
    let name = match api
        .call(Method::GET, &format!("/accounts/{id}"), None)
        .await
    {
        Ok((_, a)) => str_of(&a, "name").to_string(),
        Err(_) => id.to_string(),
    };
    names.insert(id.to_string(), name.clone());
    name
}

/// What the console's connection page shows: freshness and the running sync, the stored periods
/// (newest first) with their totals, the periods whose last pull failed, and the sync history.
fn print_sync_status(status: &Value) {
    println!(
        "data as of: {}",
        status["data_as_of"].as_str().unwrap_or("no data yet")
    );
    if status["job"].is_object() {
        let j = &status["job"];
        println!(
            "sync: {} ({} of {} periods)",
            str_of(j, "state"),
            j["progress_done"],
            j["progress_total"]
        );
    }
    if let Some(rule) = status["closing_rule"].as_str() {
        println!("closed months: {rule}");
    }
    let mut periods: Vec<&Value> = status["periods"].as_array().into_iter().flatten().collect();
    periods.sort_by_key(|p| std::cmp::Reverse(str_of(p, "period").to_string()));
    for p in periods {
        println!(
            "  {}: {} rows, BilledCost {} (Azure {}), {}, {}, pulled {}",
            str_of(p, "period"),
            p["rows"],
            str_of(p, "billed_total"),
            str_of(p, "actual_total"),
            if p["reconciled"] == true {
                "reconciled"
            } else {
                "NOT reconciled"
            },
            if p["closed"] == true {
                "closed"
            } else {
                "open"
            },
            str_of(p, "pulled_at")
        );
    }
    for f in status["failing"].as_array().into_iter().flatten() {
        let kept = if f["previous_kept"] == true {
            "keeps its previous data"
        } else {
            "no data stored yet"
        };
        println!(
            "  {} last pull FAILED ({}): {} ({kept}; pulled again at the next sync) {}",
            str_of(f, "period"),
            str_of(f, "code"),
            str_of(f, "message"),
            str_of(f, "remedy")
        );
    }
    let history: Vec<&Value> = status["history"].as_array().into_iter().flatten().collect();
    if !history.is_empty() {
        println!("sync history (newest first, at most 20):");
    }
    for h in history.iter().take(20) {
        let what = match h["error_code"].as_str() {
            Some(code) => format!("{code}: {}", str_of(h, "error")),
            None => format!("{} rows, {} bytes", h["rows"], h["bytes"]),
        };
        println!(
            "  {} {} {} ({} ms) {what}",
            str_of(h, "started_at"),
            str_of(h, "period"),
            str_of(h, "outcome"),
            h["duration_ms"]
        );
    }
}

#[derive(Args)]
pub struct SyncArgs {
    /// The connection to sync.
    id: String,
    /// Queue the sync and return at once.
    #[arg(long)]
    no_wait: bool,
}

fn outcome(history_entry: &Value) -> Option<SyncOutcome> {
    serde_json::from_value(history_entry["outcome"].clone()).ok()
}

/// `billing-engine sync ID`: sync now and follow it, with a progress bar on a terminal and plain
/// lines otherwise.
pub async fn sync(args: SyncArgs) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    let (_, job) = api
        .call(
            Method::POST,
            &format!("/connections/{}/sync", args.id),
            None,
        )
        .await?;
    let job_id = str_of(&job, "id").to_string();
    println!("sync queued (job {job_id})");
    if args.no_wait {
        return Ok(());
    }
    let tty = std::io::stdout().is_terminal();
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} periods {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let mut reported = std::collections::HashSet::new();
    let mut failed = 0;
    loop {
        let (_, jobs) = api
            .call(Method::GET, &format!("/connections/{}/jobs", args.id), None)
            .await?;
        let this = jobs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|j| j["id"] == json!(job_id))
            .cloned()
            .unwrap_or(Value::Null);
        let (_, status) = api
            .call(Method::GET, &format!("/connections/{}/sync", args.id), None)
            .await?;
        let mut finished: Vec<&Value> = status["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h["job_id"] == json!(job_id) && outcome(h) != Some(SyncOutcome::Running))
            .collect();
        finished.sort_by_key(|h| h["period"].as_str().unwrap_or("").to_string());
        for h in finished {
            let key = format!("{}-{}", str_of(h, "period"), str_of(h, "started_at"));
            if !reported.insert(key) {
                continue;
            }
            let line = if outcome(h) == Some(SyncOutcome::Succeeded) {
                let rec = if h["reconciled"] == true {
                    "reconciled to the last digit"
                } else {
                    "NOT reconciled"
                };
                format!(
                    "{}: {} rows, {} bytes, BilledCost {} (Azure {}), {rec}",
                    str_of(h, "period"),
                    h["rows"],
                    h["bytes"],
                    str_of(h, "billed_total"),
                    str_of(h, "actual_total")
                )
            } else {
                failed += 1;
                format!(
                    "{}: failed: {} {}",
                    str_of(h, "period"),
                    str_of(h, "error"),
                    str_of(h, "remedy")
                )
            };
            match &bar {
                Some(b) => b.println(line),
                None => println!("{line}"),
            }
        }
        if let Some(b) = &bar {
            b.set_length(this["progress_total"].as_u64().unwrap_or(0));
            b.set_position(this["progress_done"].as_u64().unwrap_or(0));
            b.set_message(str_of(&this, "state").to_string());
            b.tick();
        }
        match serde_json::from_value::<JobState>(this["state"].clone()) {
            Ok(JobState::Cancelled) => bail!("the sync was cancelled: the connection was deleted"),
            Ok(state) if !state.is_active() => break,
            _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if failed > 0 {
        bail!(
            "{failed} period(s) failed; they keep their previous data and are pulled again at the next sync"
        );
    }
    println!("sync finished");
    Ok(())
}
