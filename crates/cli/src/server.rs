//! Server-side commands: serve, demo, migrate, orgs.

use std::{
    io::{IsTerminal, Read},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use be_app::{App, SystemClock, config::{Config, LogFormat}};
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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
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

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.storage.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.storage.data_dir.display()))?;
    }
    let store = be_store::connect(&url).await.with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store.migrate().await.context("cannot migrate the database")?;
    let keys = config.keys()?;
    Ok(App::new(store, Arc::new(SystemClock), keys, config.app_settings())?)
}

fn time_hours(h: u32) -> time::Duration {
    time::Duration::hours(i64::from(h))
}

async fn run_server(config: &Config, app: App, announce: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.server.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another program using it? Set server.listen or BILLING_ENGINE_LISTEN",
            config.server.listen
        )
    })?;
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
    tracing::info!(%addr, backend = ?app.store().backend(), "listening");
    announce(addr);
    let router = be_http::router(app, settings);
    be_http::serve(listener, router, shutdown_signal(), Duration::from_secs(config.server.shutdown_grace_seconds)).await?;
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
        std::fs::create_dir_all(&config.storage.data_dir)?;
    }
    let store = be_store::connect(&url).await.with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store.migrate().await.context("cannot migrate the database")?;
    println!("database {} is up to date", redact_url(&url));
    Ok(())
}

pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = Config::default();
    config.storage.data_dir = args.data_dir.clone();
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], args.port));
    config.log.format = LogFormat::Text;
    config.log.level = "warn".into();
    init_logging(config.log.format, &config.log.level);
    let app = open_app(&config).await?;
    let seed = app.seed_demo(DEMO_ORG, DEMO_EMAIL, DEMO_PASSWORD).await.context("cannot seed the demo data")?;
    let data_dir = args.data_dir.display().to_string();
    let token = seed.cli_token.secret.clone();
    let org = seed.organization.name.as_str().to_string();
    run_server(&config, app, move |addr| {
        let url = format!("http://localhost:{}", addr.port());
        println!("Billing Engine demo is running.");
        println!();
        println!("  Console:   {url}");
        println!("  Sign in:   {DEMO_EMAIL}  /  {DEMO_PASSWORD}   (organization \"{org}\")");
        println!("  REST API:  {url}/api/v1   (reference: {url}/api/v1/openapi.json)");
        println!("  CLI:       export BILLING_ENGINE_URL={url} BILLING_ENGINE_TOKEN={token}");
        println!("             billing-engine accounts list");
        println!("  Data:      {data_dir} (SQLite; delete the folder to start over)");
        println!();
        println!("Press Ctrl-C to stop.");
    })
    .await
}

fn read_new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to prompt for the password: pass --password-stdin and send it on standard input");
    }
    let first = rpassword::prompt_password("Password for the administrator (12 characters or more): ")?;
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
        OrgsCommand::Create { name, admin_email, password_stdin } => {
            let password = read_new_password(password_stdin)?;
            let app = open_app(&config).await?;
            let (org, user) = app.create_organization_with_admin(&name, &admin_email, &password).await?;
            println!("created organization \"{}\" ({}) with administrator {}", org.name.as_str(), org.id, user.email);
            Ok(())
        }
    }
}
