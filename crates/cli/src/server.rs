//! Server-side commands: serve, demo, migrate, orgs.

use std::{
    io::{IsTerminal, Read},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use be_app::{
    App, SystemClock,
    config::{Config, LogFormat},
};
use clap::{Args, Subcommand};
use tracing_subscriber::EnvFilter;

/// Demo sign-in. The demo listens on the loopback interface only.
const DEMO_ORG: &str = "Demo Organization";
const DEMO_EMAIL: &str = "admin@demo.example";
const DEMO_PASSWORD: &str = "billing-engine-demo";

#[derive(Args)]
pub struct DemoArgs {
    /// Where the demo keeps its SQLite database and key file.
    #[arg(long, default_value = "./billing-engine-demo", value_name = "DIR")]
    data_dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Port of the built-in Azure simulator on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    azure_port: u16,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    /// Administer a running simulator instead of starting one.
    #[command(subcommand)]
    admin: Option<SimCommand>,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Create the demo world (Contoso tenant, apps, an enterprise administrator, EA enrollments).
    #[arg(long)]
    demo_world: bool,
}

#[derive(Subcommand)]
pub enum OrgsCommand {
    /// Create an organization and its first administrator. The password is read from a prompt
    /// (without echo), or from standard input with --password-stdin.
    Create {
        /// The organization's name.
        name: String,
        /// The administrator's e-mail address (their login).
        #[arg(long)]
        admin_email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}

/// A database URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The data directory, created readable by this user only (or made so): it holds the SQLite
/// database, the key file and the cost data.
fn private_data_dir(config: &Config) -> anyhow::Result<()> {
    be_app::Layout::new(&config.storage.data_dir)
        .ensure_private_root()
        .with_context(|| {
            format!(
                "cannot create the data directory {} (or make it private)",
                config.storage.data_dir.display()
            )
        })
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let url = config.database_url();
    private_data_dir(config)?;
    let store = be_store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    let keys = config.keys()?;
    let mut settings = config.app_settings();
    settings.sync.writer = Some(Arc::new(crate::ingest_writer::IngestWriter));
    let engine = crate::engine_port::EnginePort::new(config.rating.threads as usize)
        .context("cannot start the rating engine's threads")?;
    settings.rating.engine = Some(Arc::new(engine));
    settings.invoicing.documents = Some(Arc::new(crate::documents_port::DocumentsPort));
    if let Some(mail) = crate::mail_port::MailPortSmtp::from_config(&config.mail)? {
        settings.invoicing.mail = Some(Arc::new(mail));
    }
    Ok(App::new(store, Arc::new(SystemClock), keys, settings)?)
}

fn time_hours(h: u32) -> time::Duration {
    time::Duration::hours(i64::from(h))
}

async fn run_server(
    config: &Config,
    app: App,
    announce: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.server.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another program using it? Set server.listen or BILLING_ENGINE_LISTEN",
            config.server.listen
        )
    })?;
    run_server_on(config, app, listener, announce).await
}

async fn run_server_on(
    config: &Config,
    app: App,
    listener: tokio::net::TcpListener,
    announce: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let settings = be_http::HttpSettings {
        secure_cookies: config.server.secure_cookies,
        session_ttl: time_hours(config.security.session_hours),
    };
    // Expired sessions are removed hourly.
    let gc = app.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = gc.store().delete_expired_sessions(gc.now()).await {
                tracing::warn!(error = %e, "could not remove expired sessions");
            }
        }
    });
    // The job runner (`[jobs] concurrency` at a time). At start it cleans what interrupted jobs
    // left (download scratch, half-written Parquet temp files), never what a live job uses.
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.clone().run_worker(stop_rx, grace));
    tracing::info!(%addr, backend = ?app.store().backend(), "listening");
    announce(addr);
    let router = be_http::router(app, settings);
    let limits = be_http::ServeLimits {
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_seconds),
        max_connections: config.server.max_connections as usize,
    };
    be_http::serve_with(
        listener,
        router,
        shutdown_signal(),
        Duration::from_secs(config.server.shutdown_grace_seconds),
        limits,
    )
    .await?;
    // Running jobs stop after their current step (a sync after its current period) and release
    // their lease, so another server (or the next start) continues them at once; a job still busy
    // after the grace period is abandoned the same way, and the periods it had not finished keep
    // their previous data.
    let _ = stop_tx.send(true);
    let _ = worker.await;
    sweeper.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub async fn serve(file: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(file)?;
    init_logging(config.log.format, &config.log.level);
    let app = open_app(&config).await?;
    run_server(&config, app, |_| {}).await
}

pub async fn migrate(file: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(file)?;
    init_logging(config.log.format, &config.log.level);
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        private_data_dir(&config)?;
    }
    let store = be_store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    println!("database {} is up to date", redact_url(&url));
    Ok(())
}

pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text, "warn");
    let sim = crate::world::start(args.azure_port).await?;
    let mut config = Config::default();
    config.storage.data_dir = args.data_dir.clone();
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], args.port));
    config.log.format = LogFormat::Text;
    config.log.level = "warn".into();
    config.azure.login_url = url::Url::parse(&sim.login_url())?;
    config.azure.management_url = url::Url::parse(&sim.management_url())?;
    // Bind first so the public address (used in the wizard's redirect URI) has the real port.
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another program using it? Pick another port with --port",
                config.server.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let url = format!("http://localhost:{}", addr.port());
    config.server.public_url = Some(url::Url::parse(&url)?);
    let app = open_app(&config).await?;
    let seed = app
        .seed_demo(DEMO_ORG, DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .context("cannot seed the demo data")?;
    let connected = connect_demo_enrollment(&app, &seed.caller, &sim).await;
    let priced = seed_demo_pricing(&app, &seed.caller, &sim).await;
    let invoicing = seed_demo_invoicing(&app, &seed.caller).await;
    let data_dir = args.data_dir.display().to_string();
    let token = seed.cli_token.secret.clone();
    let org = seed.organization.name.as_str().to_string();
    let sim_url = sim.base_url().to_string();
    run_server_on(&config, app, listener, move |_| {
        println!("Billing Engine demo is running.");
        println!();
        println!("  Console:   {url}");
        println!("  Sign in:   {DEMO_EMAIL}  /  {DEMO_PASSWORD}   (organization \"{org}\")");
        println!("  REST API:  {url}/api/v1   (reference: {url}/api/v1/openapi.json)");
        println!("  CLI:       export BILLING_ENGINE_URL={url} BILLING_ENGINE_TOKEN={token}");
        println!("             billing-engine accounts list");
        println!("  Data:      {data_dir} (SQLite; delete the folder to start over)");
        println!();
        println!("  Azure (built-in simulator at {sim_url}):");
        match &connected {
            Ok(()) => println!("    \"Contoso Retail\" is connected to EA enrollment {} (Contoso Enrollment).", crate::world::CONNECTED_ENROLLMENT),
            Err(e) => println!("    the demo enrollment could not be connected: {e:#}"),
        }
        match &priced {
            Ok(()) => println!("    Pricing: families Northwind Traders and Tailspin Toys, plans Standard and Premium; rated as the months sync."),
            Err(e) => println!("    the demo pricing could not be set up: {e:#}"),
        }
        match &invoicing {
            Ok(()) => println!("    Invoices: template \"Contoso Cloud Services\" (VAT 20 %), customers for both families; `billing-engine invoices run --from <last month> --template \"Contoso Cloud Services\"` once rated."),
            Err(e) => println!("    the demo invoicing could not be set up: {e:#}"),
        }
        println!("    To try the wizard yourself (Connect an account), use:");
        println!("      Directory (tenant) ID:    {}   (or {})", crate::world::TENANT_DOMAIN, crate::world::TENANT_ID);
        println!("      Application (client) ID:  {}", crate::world::TRY_APP);
        println!("      Client secret value:      {}", crate::world::TRY_SECRET);
        println!("      Agreement, enrollment:    EA, {}", crate::world::TRY_ENROLLMENT);
        println!("    The grant step's curl needs an enterprise administrator's token:");
        println!("      export ADMIN_TOKEN=$(curl -s -X POST {sim_url}/_sim/users/{}/token | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')", crate::world::EA_ADMIN);
        println!();
        println!("Press Ctrl-C to stop.");
    })
    .await
}

/// The demo's invoice template and customers, unless the organization already has its own
/// template (a restarted demo keeps the user's changes).
async fn seed_demo_invoicing(app: &App, caller: &be_app::Caller) -> anyhow::Result<()> {
    use be_app::invoicing::{CustomerInput, FormulaBody, TemplateBody};
    if app
        .invoice_templates(caller)
        .await?
        .iter()
        .any(|t| !t.builtin)
    {
        return Ok(());
    }
    let template: TemplateBody = serde_json::from_value(serde_json::json!({
        "name": "Contoso Cloud Services",
        "footer": "Payment by bank transfer to IBAN GB33 BUKB 2020 1555 5555 55, quoting the invoice number.",
        "issuer": {
            "name": "Contoso Cloud Services Ltd",
            "address": ["1 Cloud Street", "London EC1A 1BB", "United Kingdom"],
            "tax_id": "GB123456789",
            "email": "billing@contoso-cloud.example"
        }
    }))?;
    let template = TemplateBody {
        formulas: vec![FormulaBody {
            label: "VAT 20 %".into(),
            formula: "BilledCost * 0.2".into(),
            adds_to_total: true,
        }],
        ..template
    };
    app.create_invoice_template(caller, template).await?;
    for (key, name, street, city, email) in [
        (
            "Northwind Traders",
            "Northwind Traders Inc.",
            "42 Harbour Road",
            "Seattle, WA 98101",
            "ap@northwind.example",
        ),
        (
            "Tailspin Toys",
            "Tailspin Toys GmbH",
            "Flughafenstrasse 7",
            "80331 Munich",
            "invoices@tailspin.example",
        ),
    ] {
        app.set_customer(
            caller,
            CustomerInput {
                key: key.into(),
                billing_name: name.into(),
                address: vec![street.into(), city.into()],
                emails: vec![email.into()],
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The demo's families, plans, strategies and allocations, unless the organization already has a
/// configuration (a restarted demo keeps the user's changes).
async fn seed_demo_pricing(
    app: &App,
    caller: &be_app::Caller,
    sim: &be_azure_sim::RunningSim,
) -> anyhow::Result<()> {
    if app.pricing(caller).await?.version > 0 {
        return Ok(());
    }
    let file = crate::world::demo_pricing(sim, app.now().date())?;
    app.import_pricing(caller, &file, be_app::ConfigFormat::Json, false)
        .await?;
    Ok(())
}

/// Connect "Contoso Retail" to the demo enrollment the way a user would: the wizard's steps, the
/// generated role assignment call run as the enterprise administrator, then validation.
async fn connect_demo_enrollment(
    app: &App,
    caller: &be_app::Caller,
    sim: &be_azure_sim::RunningSim,
) -> anyhow::Result<()> {
    let account = app
        .list_accounts(caller)
        .await?
        .into_iter()
        .find(|a| a.name.as_str() == "Contoso Retail");
    let Some(account) = account else {
        return Ok(());
    };
    let existing = app
        .list_connections(caller)
        .await?
        .into_iter()
        .find(|c| c.account_id == account.id);
    let connection = match existing {
        Some(c) => c,
        None => {
            let c = app
                .start_connection(caller, &account.id.to_string(), "azure", "billing_engine")
                .await?;
            let details = be_app::ConnectionDetails {
                tenant_id: Some(crate::world::TENANT_DOMAIN.into()),
                client_id: Some(crate::world::CONNECTED_APP.to_string()),
                agreement_type: Some("EA".into()),
                billing_account_id: Some(crate::world::CONNECTED_ENROLLMENT.into()),
                replace_data: false,
            };
            app.set_connection_details(caller, &c.id.to_string(), &details)
                .await?;
            app.set_connection_secret(
                caller,
                &c.id.to_string(),
                crate::world::CONNECTED_SECRET,
                "",
            )
            .await?
        }
    };
    let id = connection.id.to_string();
    // The simulator starts empty each time: grant the role again, as the administrator would.
    let grant = app.role_grant(caller, &id).await?;
    let call = grant.ea_call.context("the demo enrollment is EA")?;
    let resp = reqwest::Client::new()
        .put(&call.url)
        .bearer_auth(crate::world::admin_token(sim)?)
        .json(&call.body)
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "the role assignment answered {}",
        resp.status()
    );
    let validation = app.validate_connection(caller, &id).await?;
    anyhow::ensure!(
        validation.state == be_app::ConnectionState::Connected,
        "validation did not pass: {:?}",
        validation.checks
    );
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum SimCommand {
    /// The administrative API: tenants, apps, secrets, users, billing accounts, faults.
    Admin(crate::sim_admin::AdminArgs),
}

/// `billing-engine azure-sim`: the simulator alone, until Ctrl-C or SIGTERM.
pub async fn azure_sim(args: SimArgs) -> anyhow::Result<()> {
    if let Some(SimCommand::Admin(admin)) = args.admin {
        return crate::sim_admin::run(admin).await;
    }
    init_logging(LogFormat::Text, "info");
    let sim = if args.demo_world {
        crate::world::start(args.port).await?
    } else {
        be_azure_sim::AzureSim::start(be_azure_sim::SimConfig::on_port(args.port))
            .await
            .context("cannot start the Azure simulator")?
    };
    println!("Azure simulator listening on {}", sim.base_url());
    println!(
        "  Entra ID (login.microsoftonline.com):  {}",
        sim.login_url()
    );
    println!(
        "  Resource Manager (management.azure.com): {}",
        sim.management_url()
    );
    println!(
        "  Administrative API:                      {}   (see crates/azure-sim/README.md)",
        sim.admin_url()
    );
    if args.demo_world {
        println!(
            "  Demo world: tenant {} ({}), apps {} and {}, EA enrollments {} and {}, administrator {} ({})",
            crate::world::TENANT_DOMAIN,
            crate::world::TENANT_ID,
            crate::world::CONNECTED_APP,
            crate::world::TRY_APP,
            crate::world::CONNECTED_ENROLLMENT,
            crate::world::TRY_ENROLLMENT,
            crate::world::EA_ADMIN_UPN,
            crate::world::EA_ADMIN
        );
    }
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

fn read_new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to prompt for the password: pass --password-stdin and send it on standard input"
        );
    }
    let first =
        rpassword::prompt_password("Password for the administrator (12 characters or more): ")?;
    let second = rpassword::prompt_password("Same password again: ")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}

pub async fn orgs(file: Option<&Path>, cmd: OrgsCommand) -> anyhow::Result<()> {
    let config = Config::load(file)?;
    init_logging(config.log.format, "warn");
    match cmd {
        OrgsCommand::Create {
            name,
            admin_email,
            password_stdin,
        } => {
            let password = read_new_password(password_stdin)?;
            let app = open_app(&config).await?;
            let (org, user) = app
                .create_organization_with_admin(&name, &admin_email, &password)
                .await?;
            println!(
                "created organization \"{}\" ({}) with administrator {}",
                org.name.as_str(),
                org.id,
                user.email
            );
            Ok(())
        }
    }
}
