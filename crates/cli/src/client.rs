//! Client commands: they use the REST API with an API token, like any other client.
//!
//! The server address and token come from BILLING_ENGINE_URL / BILLING_ENGINE_TOKEN, or from the
//! profile `billing-engine login` saves (~/.config/billing-engine/cli.toml, mode 0600). Tokens are
//! never taken as command-line flags, which other users of the machine could see.

use std::{
    io::{BufRead, IsTerminal, Read, Write},
    path::PathBuf,
};

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Args)]
pub struct LoginArgs {
    /// The server, e.g. http://localhost:8080.
    #[arg(long, env = "BILLING_ENGINE_URL")]
    url: String,
    /// Your e-mail address (prompted for when absent).
    #[arg(long)]
    email: Option<String>,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
    /// A label for the token this creates.
    #[arg(long, default_value = "CLI")]
    token_name: String,
}

#[derive(Args, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// List the organization's accounts.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Create an account.
    Create {
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Show one account.
    Get {
        id: String,
        #[command(flatten)]
        out: Output,
    },
    /// Rename an account.
    Rename {
        id: String,
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Delete an account (asks for confirmation unless --yes).
    Delete {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// List your API tokens.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Create an API token; its value is printed once.
    Create {
        name: String,
        /// A role narrower than yours (owner, billing_admin, analyst, viewer); default: yours.
        #[arg(long)]
        role: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Revoke an API token.
    Revoke { id: String },
}

#[derive(Serialize, Deserialize, Default)]
struct Profile {
    url: String,
    token: String,
}

fn profile_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("billing-engine").join("cli.toml"))
}

fn load_profile() -> Option<Profile> {
    let text = std::fs::read_to_string(profile_path()?).ok()?;
    toml::from_str(&text).ok()
}

fn save_profile(profile: &Profile) -> anyhow::Result<PathBuf> {
    let path = profile_path().ok_or_else(|| {
        anyhow!("cannot tell where to save the profile: set HOME or XDG_CONFIG_HOME")
    })?;
    if let Some(dir) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let text = toml::to_string(profile)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The mode above applies only to a new file: a profile saved before (or by hand) with wider
    // permissions is made private before the token is written into it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    file.write_all(text.as_bytes())?;
    Ok(path)
}

/// An API error answer, with what a command may react to.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
    body: Value,
}

impl ApiFailure {
    /// The input fields the server named.
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_string))
            .collect();
        if let Some(f) = self.body["field"].as_str() {
            out.push(f.to_string());
        }
        out
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}, HTTP {}]", self.message, self.code, self.status)?;
        if let Some(field) = self.body["field"].as_str() {
            write!(f, "\n  at {field}")?;
        }
        for e in self.body["errors"].as_array().into_iter().flatten() {
            write!(
                f,
                "\n  {}: {} [{}]",
                e["field"].as_str().unwrap_or("-"),
                e["message"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap_or("")
            )?;
        }
        if self.status == 401 && self.code != "invalid_credentials" {
            write!(
                f,
                "\nhint: run `billing-engine login --url <server>` or set BILLING_ENGINE_TOKEN"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

/// An authenticated API client.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn from_env() -> anyhow::Result<Self> {
        let saved = load_profile();
        let url = std::env::var("BILLING_ENGINE_URL")
            .ok()
            .or_else(|| saved.as_ref().map(|p| p.url.clone()));
        let token = std::env::var("BILLING_ENGINE_TOKEN")
            .ok()
            .or_else(|| saved.as_ref().map(|p| p.token.clone()));
        let (Some(url), Some(token)) = (url, token) else {
            bail!(
                "not signed in: run `billing-engine login --url <server>`, or set BILLING_ENGINE_URL and \
                 BILLING_ENGINE_TOKEN (the demo prints both)"
            );
        };
        Ok(Self {
            http: http_client()?,
            base: base_url(&url)?,
            token,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// One API call. A list (`GET` answered with `items` and a `next_cursor`) is read to its end,
    /// a page after another, and returned whole.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let get = method == Method::GET;
        let (status, mut value) = self.call_once(method, path, body).await?;
        if !get {
            return Ok((status, value));
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        while let Some(cursor) = value["next_cursor"].as_str().map(str::to_owned) {
            let (_, next) = self
                .call_once(Method::GET, &format!("{path}{sep}cursor={cursor}"), None)
                .await?;
            let more = next["items"].as_array().cloned().unwrap_or_default();
            match value["items"].as_array_mut() {
                Some(items) => items.extend(more),
                None => break,
            }
            value["next_cursor"] = next["next_cursor"].clone();
        }
        Ok((status, value))
    }

    async fn call_once(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        read(resp).await
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("billing-engine-cli/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

fn base_url(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        anyhow!("the server address \"{url}\" is not a URL ({e}); use e.g. http://localhost:8080")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("the server address must start with http:// or https://");
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

pub(crate) async fn read(resp: reqwest::Response) -> anyhow::Result<(StatusCode, Value)> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    let value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if status.is_success() {
        return Ok((status, value));
    }
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the server refused the request")
        .to_string();
    let code = value
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    Err(ApiFailure {
        status: status.as_u16(),
        code,
        message,
        body: value,
    }
    .into())
}

pub(crate) fn prompt(label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let base = base_url(&args.url)?;
    let email = match args.email {
        Some(e) => e,
        None if std::io::stdin().is_terminal() => prompt("E-mail address: ")?,
        None => bail!("pass --email when there is no terminal to prompt on"),
    };
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        bail!(
            "no terminal to prompt for the password: pass --password-stdin and send it on standard input"
        );
    };
    let resp = http_client()?
        .post(format!("{base}/api/v1/auth/tokens"))
        .json(&json!({"email": email, "password": password, "name": args.token_name}))
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}"))?;
    let (_, body) = read(resp).await?;
    let token = body
        .get("token_value")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the server sent no token"))?;
    let path = save_profile(&Profile {
        url: base.clone(),
        token: token.to_string(),
    })?;
    println!(
        "signed in to {base} as {email}; token saved in {}",
        path.display()
    );
    Ok(())
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn accounts_table(items: &[Value]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["ID", "NAME", "CREATED"]);
    for a in items {
        t.add_row([str_of(a, "id"), str_of(a, "name"), str_of(a, "created_at")]);
    }
    t
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to delete without confirmation: pass --yes");
    }
    let answer = prompt(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

pub async fn accounts(cmd: AccountsCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        AccountsCommand::List { out } => {
            let (_, body) = api.call(Method::GET, "/accounts", None).await?;
            if out.json {
                return print_json(&body);
            }
            let items = body
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if items.is_empty() {
                println!("no accounts yet: create one with `billing-engine accounts create NAME`");
            } else {
                println!("{}", accounts_table(&items));
            }
        }
        AccountsCommand::Create { name, out } => {
            let (_, body) = api
                .call(Method::POST, "/accounts", Some(json!({"name": name})))
                .await?;
            if out.json {
                return print_json(&body);
            }
            println!(
                "created account \"{}\" ({})",
                str_of(&body, "name"),
                str_of(&body, "id")
            );
        }
        AccountsCommand::Get { id, out } => {
            let (_, body) = api
                .call(Method::GET, &format!("/accounts/{}", segment(&id)), None)
                .await?;
            if out.json {
                return print_json(&body);
            }
            println!("{}", accounts_table(std::slice::from_ref(&body)));
        }
        AccountsCommand::Rename { id, name, out } => {
            let (_, body) = api
                .call(
                    Method::PATCH,
                    &format!("/accounts/{}", segment(&id)),
                    Some(json!({"name": name})),
                )
                .await?;
            if out.json {
                return print_json(&body);
            }
            println!(
                "renamed account {} to \"{}\"",
                str_of(&body, "id"),
                str_of(&body, "name")
            );
        }
        AccountsCommand::Delete { id, yes } => {
            let (_, account) = api
                .call(Method::GET, &format!("/accounts/{}", segment(&id)), None)
                .await?;
            let name = str_of(&account, "name").to_string();
            if !yes
                && !confirm(&format!(
                    "Delete account \"{name}\" and everything connected to it?"
                ))?
            {
                println!("nothing deleted");
                return Ok(());
            }
            api.call(Method::DELETE, &format!("/accounts/{}", segment(&id)), None)
                .await?;
            println!("deleted account \"{name}\"");
        }
    }
    Ok(())
}

pub async fn tokens(cmd: TokensCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        TokensCommand::List { out } => {
            let (_, body) = api.call(Method::GET, "/tokens", None).await?;
            if out.json {
                return print_json(&body);
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header([
                "ID",
                "NAME",
                "STARTS WITH",
                "CREATED",
                "LAST USED",
            ]);
            for tok in body
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let last = tok
                    .get("last_used_at")
                    .and_then(Value::as_str)
                    .unwrap_or("never");
                t.add_row([
                    str_of(tok, "id"),
                    str_of(tok, "name"),
                    str_of(tok, "prefix"),
                    str_of(tok, "created_at"),
                    last,
                ]);
            }
            println!("{t}");
        }
        TokensCommand::Create { name, role, out } => {
            let mut input = json!({"name": name});
            if let Some(role) = role {
                input["role"] = json!(role);
            }
            let (_, body) = api.call(Method::POST, "/tokens", Some(input)).await?;
            if out.json {
                return print_json(&body);
            }
            println!(
                "created token \"{}\" ({}); copy it now, it is not shown again:",
                str_of(&body, "name"),
                str_of(&body, "id")
            );
            println!("{}", str_of(&body, "token_value"));
        }
        TokensCommand::Revoke { id } => {
            api.call(Method::DELETE, &format!("/tokens/{}", segment(&id)), None)
                .await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}
