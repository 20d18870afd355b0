//! `billing-engine`: one binary for the server (`serve`, `demo`, `migrate`, `config`), operator
//! commands that work on the database directly (`orgs`), and client commands that talk to the REST
//! API with a token like any other client (`login`, `accounts`, `tokens`).

mod client;
mod connect;
mod documents_port;
mod engine_port;
mod ingest_writer;
mod invoices_cmd;
mod mail_port;
mod rating_cmd;
mod server;
mod sim_admin;
mod users_cmd;
mod world;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "billing-engine",
    version,
    about = "Billing Engine: re-bill Azure costs with your own prices."
)]
struct Cli {
    /// Configuration file (TOML). See `billing-engine config example`.
    #[arg(
        long,
        global = true,
        env = "BILLING_ENGINE_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (console, REST API) with the configuration.
    Serve,
    /// Run everything on this machine with an embedded SQLite database and demo data.
    Demo(server::DemoArgs),
    /// Run the built-in Azure simulator alone (Entra ID, billing, Cost Details) for experiments.
    AzureSim(server::SimArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage organizations (operator command; works on the configured database directly).
    #[command(subcommand)]
    Orgs(server::OrgsCommand),
    /// Sign in to a Billing Engine server and save an API token for the commands below.
    Login(client::LoginArgs),
    /// Manage accounts (uses the REST API).
    #[command(subcommand)]
    Accounts(client::AccountsCommand),
    /// Connect an account to a cloud billing account (the wizard; uses the REST API).
    #[command(subcommand)]
    Connect(connect::ConnectCommand),
    /// Manage cloud connections: list, show, validate, rotate the secret, pause, resume, delete.
    #[command(subcommand)]
    Connections(connect::ConnectionsCommand),
    /// Sync a connection's cost data now and follow its progress (uses the REST API).
    Sync(connect::SyncArgs),
    /// Import cost data from files (uses the REST API).
    #[command(subcommand)]
    Import(rating_cmd::ImportCommand),
    /// The pricing configuration as code: export, import (with --dry-run), history.
    #[command(subcommand)]
    Pricing(rating_cmd::PricingCommand),
    /// Allocation assignments: preview (unsaved), set, delete.
    #[command(subcommand)]
    Allocations(rating_cmd::AllocationsCommand),
    /// Rate a billing period now and wait for the outcome.
    Rate(rating_cmd::RateArgs),
    /// Totals of a rated period by family, sub-account or rule.
    Totals(rating_cmd::TotalsArgs),
    /// Rated lines of a period (their IDs, to explain one).
    Lines(rating_cmd::LinesArgs),
    /// A pivot over rated periods: group, filter, measures, rules, sort, top N; table, JSON or CSV.
    Analysis(rating_cmd::AnalysisArgs),
    /// Asset groups: saved filter sets for the dashboard and the analysis.
    #[command(subcommand)]
    AssetGroups(rating_cmd::AssetGroupsCommand),
    /// This month and last, top families and services (under the default asset group).
    Dashboard(rating_cmd::DashboardArgs),
    /// Preview changes on a real period (nothing is saved): differences per family and rule.
    WhatIf(rating_cmd::WhatIfArgs),
    /// A rated line: its source row and each strategy's and rule's effect, in order.
    Explain(rating_cmd::ExplainArgs),
    /// Invoices: draft a run, finalize, list, download PDF or CSV, send, re-rate a locked period,
    /// tie-out, locks, templates, customers, schedules.
    #[command(subcommand)]
    Invoices(invoices_cmd::InvoicesCommand),
    /// Manage your API tokens (uses the REST API).
    #[command(subcommand)]
    Tokens(client::TokensCommand),
    /// The organization's users: invite by link, change roles, remove (owners; REST API).
    #[command(subcommand)]
    Users(users_cmd::UsersCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print an example configuration file with every setting and its environment variable.
    Example,
    /// Load the configuration (file and environment) and report whether it is valid.
    Check,
}

fn main() -> ExitCode {
    // One TLS provider for the process (reqwest is built without one of its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Serve => server::serve(config).await,
        Command::Demo(args) => server::demo(args).await,
        Command::Migrate => server::migrate(config).await,
        Command::AzureSim(args) => server::azure_sim(args).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{}", be_app::config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let c = be_app::config::Config::load(config)?;
            let mail = match mail_port::MailPortSmtp::from_config(&c.mail)? {
                Some(_) => {
                    be_app::config::redacted_smtp_url(c.mail.smtp_url.as_deref().unwrap_or(""))
                }
                None => "not configured (no e-mail is sent)".into(),
            };
            println!(
                "configuration is valid; database: {}; mail: {mail}",
                server::redact_url(&c.database_url())
            );
            Ok(())
        }
        Command::Orgs(cmd) => server::orgs(config, cmd).await,
        Command::Login(args) => client::login(args).await,
        Command::Accounts(cmd) => client::accounts(cmd).await,
        Command::Tokens(cmd) => client::tokens(cmd).await,
        Command::Users(cmd) => users_cmd::run(cmd).await,
        Command::Connect(cmd) => connect::connect(cmd).await,
        Command::Connections(cmd) => connect::connections(cmd).await,
        Command::Sync(args) => connect::sync(args).await,
        Command::Import(cmd) => rating_cmd::import(cmd).await,
        Command::Pricing(cmd) => rating_cmd::pricing(cmd).await,
        Command::Rate(args) => rating_cmd::rate(args).await,
        Command::Allocations(cmd) => rating_cmd::allocations(cmd).await,
        Command::Totals(args) => rating_cmd::totals(args).await,
        Command::Lines(args) => rating_cmd::lines(args).await,
        Command::Explain(args) => rating_cmd::explain(args).await,
        Command::WhatIf(args) => rating_cmd::what_if(args).await,
        Command::Analysis(args) => rating_cmd::analysis(args).await,
        Command::AssetGroups(cmd) => rating_cmd::asset_groups(cmd).await,
        Command::Dashboard(args) => rating_cmd::dashboard(args).await,
        Command::Invoices(cmd) => invoices_cmd::invoices(cmd).await,
    }
}
