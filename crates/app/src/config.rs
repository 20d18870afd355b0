//! Configuration: defaults in code, then a TOML file, then `BILLING_ENGINE_*` environment
//! variables. Bad configuration fails at start with a message naming the setting and its source.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// The example configuration, with every setting and its environment variable.
pub const EXAMPLE: &str = include_str!("../../../config/billing-engine.example.toml");

/// Environment variables and the settings they set.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("BILLING_ENGINE_LISTEN", "server.listen"),
    ("BILLING_ENGINE_PUBLIC_URL", "server.public_url"),
    ("BILLING_ENGINE_SECURE_COOKIES", "server.secure_cookies"),
    (
        "BILLING_ENGINE_HEADER_READ_TIMEOUT_SECONDS",
        "server.header_read_timeout_seconds",
    ),
    ("BILLING_ENGINE_MAX_CONNECTIONS", "server.max_connections"),
    (
        "BILLING_ENGINE_SHUTDOWN_GRACE_SECONDS",
        "server.shutdown_grace_seconds",
    ),
    ("BILLING_ENGINE_DATA_DIR", "storage.data_dir"),
    ("BILLING_ENGINE_DATABASE_URL", "database.url"),
    ("BILLING_ENGINE_SECRET_KEY", "security.secret_key"),
    ("BILLING_ENGINE_KEY_FILE", "security.key_file"),
    ("BILLING_ENGINE_SESSION_HOURS", "security.session_hours"),
    ("BILLING_ENGINE_AZURE_LOGIN_URL", "azure.login_url"),
    (
        "BILLING_ENGINE_AZURE_MANAGEMENT_URL",
        "azure.management_url",
    ),
    ("BILLING_ENGINE_SYNC_INTERVAL_HOURS", "sync.interval_hours"),
    (
        "BILLING_ENGINE_SYNC_BACKFILL_MONTHS",
        "sync.backfill_months",
    ),
    (
        "BILLING_ENGINE_SYNC_REPORTS_IN_FLIGHT",
        "sync.reports_in_flight",
    ),
    ("BILLING_ENGINE_SYNC_EA_CLOSE_DAYS", "sync.ea_close_days"),
    ("BILLING_ENGINE_JOBS_CONCURRENCY", "jobs.concurrency"),
    ("BILLING_ENGINE_RATING_THREADS", "rating.threads"),
    (
        "BILLING_ENGINE_RATING_DEFAULT_CURRENCY",
        "rating.default_currency",
    ),
    (
        "BILLING_ENGINE_INVOICING_LOCK_DAYS_AFTER_CLOSE",
        "invoicing.lock_days_after_close",
    ),
    ("BILLING_ENGINE_MAIL_SMTP_URL", "mail.smtp_url"),
    ("BILLING_ENGINE_MAIL_FROM", "mail.from"),
    ("BILLING_ENGINE_MAIL_PASSWORD", "mail.password"),
    ("BILLING_ENGINE_LOG_FORMAT", "log.format"),
    ("BILLING_ENGINE_LOG", "log.level"),
];

/// Settings read from the environment as text whatever they look like.
const TEXT_SETTINGS: &[&str] = &["mail.smtp_url", "mail.from", "mail.password"];

/// Variables with the prefix that are not server settings (the CLI's own, and tests').
const NOT_SETTINGS: &[&str] = &[
    "BILLING_ENGINE_URL",
    "BILLING_ENGINE_TOKEN",
    "BILLING_ENGINE_CONFIG",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub azure: AzureConfig,
    pub sync: SyncConfig,
    pub jobs: JobsConfig,
    pub rating: RatingConfig,
    pub invoicing: InvoicingConfig,
    pub mail: MailConfig,
    pub log: LogConfig,
}

/// The SMTP server invoices are sent through; unset, the server sends no e-mail.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465`;
    /// `user:password@` may stand before the host.
    pub smtp_url: Option<String>,
    /// The sender: `billing@example.com` or `Billing <billing@example.com>`.
    pub from: Option<String>,
    /// The SMTP password kept out of the URL (best from `BILLING_ENGINE_MAIL_PASSWORD`).
    pub password: Option<String>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.smtp_url.as_deref().map(redacted_smtp_url);
        f.debug_struct("MailConfig")
            .field("smtp_url", &url)
            .field("from", &self.from)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// An SMTP URL with its password hidden, for messages and logs.
pub fn redacted_smtp_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "[not a URL]".into(),
    }
}

impl MailConfig {
    /// Both the URL and the sender, or neither; a URL an SMTP client can use; a sender address.
    fn check(&self) -> Result<(), ConfigError> {
        let (url, from) = match (&self.smtp_url, &self.from) {
            (None, None) if self.password.is_some() => {
                return Err(ConfigError(
                    "mail.password is set but mail.smtp_url is not: set both (and mail.from) to send e-mail".into(),
                ));
            }
            (None, None) => return Ok(()),
            (Some(_), None) => {
                return Err(ConfigError(
                    "mail.smtp_url is set but mail.from is not: set the sender address, e.g. from = \"billing@example.com\"".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "mail.from is set but mail.smtp_url is not: set the SMTP server, e.g. smtp_url = \"smtps://mail.example.com:465\"".into(),
                ));
            }
            (Some(url), Some(from)) => (url, from),
        };
        let parsed = url::Url::parse(url).map_err(|e| {
            ConfigError(format!(
                "mail.smtp_url {} cannot be read ({e}); write smtp://host:25, smtp://host:587?tls=required or smtps://host:465",
                redacted_smtp_url(url)
            ))
        })?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
            return Err(ConfigError(format!(
                "mail.smtp_url must be smtp://host[:port] or smtps://host[:port]; it is {}",
                redacted_smtp_url(url)
            )));
        }
        let address = match (from.rfind('<'), from.trim_end().strip_suffix('>')) {
            (Some(open), Some(rest)) => &rest[open + 1..],
            _ => from.as_str(),
        };
        be_domain::Email::parse(address).map_err(|e| {
            ConfigError(format!(
                "mail.from {from:?} is not a sender address ({}); write billing@example.com or Billing <billing@example.com>",
                e.message
            ))
        })?;
        Ok(())
    }
}

/// Period locks and e-mail delivery of invoices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InvoicingConfig {
    /// Lock a period this many days after the provider closed it; 0 locks only by hand and at
    /// finalization.
    pub lock_days_after_close: u32,
    /// Minutes before the first retry of a transient e-mail failure (doubling each time).
    pub mail_retry_minutes: u32,
    /// Attempts before an e-mail is marked failed.
    pub mail_attempts: u32,
}

impl Default for InvoicingConfig {
    fn default() -> Self {
        Self {
            lock_days_after_close: 0,
            mail_retry_minutes: 5,
            mail_attempts: 6,
        }
    }
}

/// How the rating engine runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RatingConfig {
    /// Threads the engine uses (each a DataFusion partition).
    pub threads: u32,
    /// The currency of a fee when neither the rule nor the customer's rows decide it.
    pub default_currency: String,
}

impl Default for RatingConfig {
    fn default() -> Self {
        Self {
            threads: 2,
            default_currency: "USD".into(),
        }
    }
}

/// How background jobs (syncs, ratings) run on this server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Jobs this server runs at the same time (one at a time per connection or organization).
    pub concurrency: u32,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { concurrency: 2 }
    }
}

/// When cost data is pulled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    pub interval_hours: u32,
    pub backfill_months: u32,
    /// Cost Details reports requested at once per billing account.
    pub reports_in_flight: u32,
    /// An EA month is closed when its last pull happened this many days after it ended
    /// ([`crate::closing`]).
    pub ea_close_days: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            interval_hours: 4,
            backfill_months: 13,
            reports_in_flight: 2,
            ea_close_days: crate::closing::DEFAULT_EA_CLOSE_DAYS,
        }
    }
}

/// Where Azure is. The defaults are the real endpoints; the simulator is used only when configured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    pub login_url: url::Url,
    pub management_url: url::Url,
}

impl Default for AzureConfig {
    fn default() -> Self {
        Self {
            login_url: url::Url::parse("https://login.microsoftonline.com").expect("valid URL"),
            management_url: url::Url::parse("https://management.azure.com").expect("valid URL"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The address people use to reach the server; unset, it is made from `listen`
    /// ([`Config::public_url`]).
    pub public_url: Option<url::Url>,
    pub secure_cookies: bool,
    pub shutdown_grace_seconds: u64,
    /// A client must send a request's whole header within this many seconds.
    pub header_read_timeout_seconds: u64,
    /// Client connections open at once, at most (more wait to be accepted).
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: Option<String>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub secret_key: Option<String>,
    pub key_file: Option<PathBuf>,
    pub session_hours: u32,
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("key_file", &self.key_file)
            .field("session_hours", &self.session_hours)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            secure_cookies: true,
            shutdown_grace_seconds: 20,
            header_read_timeout_seconds: 10,
            max_connections: 1024,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./billing-engine-data"),
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            key_file: None,
            session_hours: 12,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".into(),
        }
    }
}

/// A configuration that could not be loaded, with the reason in words.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Like [`Config::load`], with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "the configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("BILLING_ENGINE_"))
            .collect();
        for (key, _) in &env {
            let known = ENV_VARS.iter().any(|(k, _)| k == key)
                || NOT_SETTINGS.contains(&key.as_str())
                || key.starts_with("BILLING_ENGINE_TEST_");
            if !known {
                return Err(ConfigError(format!(
                    "the environment variable {key} is not a Billing Engine setting; known ones are: {}",
                    ENV_VARS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        // Map each known variable to its setting; figment parses the values as TOML-like scalars.
        let mapped: Vec<(String, String)> = env
            .into_iter()
            .filter_map(|(k, v)| {
                ENV_VARS
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, path)| (path.to_string(), v))
            })
            .collect();
        let from_env: Vec<String> = mapped.iter().map(|(path, _)| path.clone()).collect();
        for (path, value) in mapped {
            // Text settings stay text: a password of digits must not become a number (whose
            // type error would print it).
            let value = if TEXT_SETTINGS.contains(&path.as_str()) {
                figment::value::Value::from(value)
            } else {
                env_value(&value)
            };
            figment = figment.merge((path.as_str(), value));
        }
        let config: Config = figment.extract().map_err(|e| {
            let msgs: Vec<String> = e.into_iter().map(|e| describe(e, &from_env)).collect();
            ConfigError(msgs.join("; "))
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(1..=720).contains(&self.security.session_hours) {
            return Err(ConfigError(format!(
                "security.session_hours must be between 1 and 720; it is {}",
                self.security.session_hours
            )));
        }
        if let Some(url) = &self.database.url {
            let scheme = url.split(':').next().unwrap_or_default();
            if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
                return Err(ConfigError(format!(
                    "database.url must start with sqlite: or postgres://; it starts with \"{scheme}:\""
                )));
            }
        }
        if let Some(key) = &self.security.secret_key {
            crate::Keys::from_base64(key).map_err(|e| ConfigError(e.to_string()))?;
        }
        if let Some(u) = &self.server.public_url
            && (!matches!(u.scheme(), "http" | "https") || u.host_str().is_none())
        {
            return Err(ConfigError(
                "server.public_url must be an http:// or https:// address, such as https://billing.example.com".into(),
            ));
        }
        if !(1..=300).contains(&self.server.header_read_timeout_seconds) {
            return Err(ConfigError(format!(
                "server.header_read_timeout_seconds must be between 1 and 300; it is {}",
                self.server.header_read_timeout_seconds
            )));
        }
        if !(1..=65_536).contains(&self.server.max_connections) {
            return Err(ConfigError(format!(
                "server.max_connections must be between 1 and 65536; it is {}",
                self.server.max_connections
            )));
        }
        if !(1..=168).contains(&self.sync.interval_hours) {
            return Err(ConfigError(format!(
                "sync.interval_hours must be between 1 and 168; it is {}",
                self.sync.interval_hours
            )));
        }
        if !(1..=13).contains(&self.sync.backfill_months) {
            return Err(ConfigError(format!(
                "sync.backfill_months must be between 1 and 13 (the Cost Details API goes back 13 months); it is {}",
                self.sync.backfill_months
            )));
        }
        if !(1..=60).contains(&self.sync.ea_close_days) {
            return Err(ConfigError(format!(
                "sync.ea_close_days must be between 1 and 60 (days after month end an EA month is closed); it is {}",
                self.sync.ea_close_days
            )));
        }
        if !(1..=8).contains(&self.sync.reports_in_flight) {
            return Err(ConfigError(format!(
                "sync.reports_in_flight must be between 1 and 8; it is {}",
                self.sync.reports_in_flight
            )));
        }
        if !(1..=64).contains(&self.rating.threads) {
            return Err(ConfigError(format!(
                "rating.threads must be between 1 and 64; it is {}",
                self.rating.threads
            )));
        }
        be_domain::Currency::parse(&self.rating.default_currency)
            .map_err(|e| ConfigError(format!("rating.default_currency: {}", e.message)))?;
        if self.invoicing.lock_days_after_close > 366 {
            return Err(ConfigError(format!(
                "invoicing.lock_days_after_close must be between 0 (off) and 366; it is {}",
                self.invoicing.lock_days_after_close
            )));
        }
        if !(1..=1440).contains(&self.invoicing.mail_retry_minutes) {
            return Err(ConfigError(format!(
                "invoicing.mail_retry_minutes must be between 1 and 1440; it is {}",
                self.invoicing.mail_retry_minutes
            )));
        }
        if !(1..=20).contains(&self.invoicing.mail_attempts) {
            return Err(ConfigError(format!(
                "invoicing.mail_attempts must be between 1 and 20; it is {}",
                self.invoicing.mail_attempts
            )));
        }
        if !(1..=64).contains(&self.jobs.concurrency) {
            return Err(ConfigError(format!(
                "jobs.concurrency must be between 1 and 64; it is {}",
                self.jobs.concurrency
            )));
        }
        for (name, u) in [
            ("azure.login_url", &self.azure.login_url),
            ("azure.management_url", &self.azure.management_url),
        ] {
            if !matches!(u.scheme(), "http" | "https") {
                return Err(ConfigError(format!(
                    "{name} must be an http:// or https:// address"
                )));
            }
        }
        self.mail.check()?;
        tracing_subscriber_filter_check(&self.log.level)?;
        Ok(())
    }

    /// The database URL in force: the configured one, or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.storage.data_dir.join("billing-engine.db").display()
            )
        })
    }

    /// The settings the use cases need.
    pub fn app_settings(&self) -> crate::AppSettings {
        crate::AppSettings {
            session_ttl: time::Duration::hours(i64::from(self.security.session_hours)),
            azure: be_azure::Endpoints {
                login: self.azure.login_url.clone(),
                management: self.azure.management_url.clone(),
            },
            azure_retry: be_azure::RetryPolicy::interactive(),
            public_url: self.public_url().as_str().trim_end_matches('/').to_string(),
            sync: crate::sync::SyncSettings {
                data_dir: self.storage.data_dir.clone(),
                interval: time::Duration::hours(i64::from(self.sync.interval_hours)),
                backfill_months: self.sync.backfill_months,
                fetch: be_azure::FetchLimits {
                    reports_in_flight: self.sync.reports_in_flight as usize,
                    ..Default::default()
                },
                closing: crate::closing::ClosingRule {
                    ea_close_days: self.sync.ea_close_days,
                },
                ..Default::default()
            },
            jobs: crate::jobs::JobSettings {
                concurrency: self.jobs.concurrency as usize,
                ..Default::default()
            },
            rating: crate::rating::RatingSettings {
                default_currency: be_domain::Currency::parse(&self.rating.default_currency)
                    .unwrap_or(crate::rating::RatingSettings::default().default_currency),
                ..Default::default()
            },
            invoicing: crate::invoicing::InvoiceSettings {
                lock_days_after_close: Some(self.invoicing.lock_days_after_close)
                    .filter(|d| *d > 0),
                mail_retry: time::Duration::minutes(i64::from(self.invoicing.mail_retry_minutes)),
                mail_attempts: self.invoicing.mail_attempts as i32,
                ..Default::default()
            },
        }
    }

    /// The address people use to reach this server (links, the CLI hints, the wizard's redirect
    /// URI): `server.public_url`, or else `http://` and the listen address (`localhost` for a
    /// loopback or unspecified address). Never taken from a request's `Host` header.
    pub fn public_url(&self) -> url::Url {
        if let Some(u) = &self.server.public_url {
            return u.clone();
        }
        let ip = self.server.listen.ip();
        let host = if ip.is_loopback() || ip.is_unspecified() {
            "localhost".to_string()
        } else if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        let text = format!("http://{host}:{}", self.server.listen.port());
        url::Url::parse(&text).unwrap_or_else(|_| {
            url::Url::parse("http://localhost:8080").expect("valid fallback URL")
        })
    }

    /// The key file in force.
    pub fn key_file(&self) -> PathBuf {
        self.security
            .key_file
            .clone()
            .unwrap_or_else(|| self.storage.data_dir.join("secret.key"))
    }

    /// The master key: from `security.secret_key`, or the key file (created if absent).
    pub fn keys(&self) -> Result<crate::Keys, crate::KeyError> {
        match &self.security.secret_key {
            Some(key) => crate::Keys::from_base64(key),
            None => crate::Keys::load_or_create(&self.key_file()),
        }
    }
}

/// Environment values are typed like TOML scalars: booleans and integers become such, the rest is text.
fn env_value(raw: &str) -> figment::value::Value {
    use figment::value::Value;
    let t = raw.trim();
    match t {
        "true" => Value::from(true),
        "false" => Value::from(false),
        _ => t
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(raw.to_string())),
    }
}

fn describe(e: figment::Error, from_env: &[String]) -> String {
    let path = e.path.join(".");
    let key = if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    };
    let source = if from_env.contains(&path) {
        ENV_VARS
            .iter()
            .find(|(_, p)| *p == path)
            .map(|(k, _)| format!(" (from {k})"))
            .unwrap_or_default()
    } else {
        match e.metadata.as_ref().and_then(|md| md.source.as_ref()) {
            Some(figment::Source::File(p)) => format!(" (in {})", p.display()),
            _ => String::new(),
        }
    };
    format!("{key}{}{source}", e.kind)
}

/// Log filters are checked at start so a typo does not silently log nothing.
fn tracing_subscriber_filter_check(level: &str) -> Result<(), ConfigError> {
    let ok = level.split(',').all(|part| {
        let part = part.trim();
        let lvl = part.rsplit('=').next().unwrap_or(part);
        !part.is_empty()
            && matches!(
                lvl.to_ascii_lowercase().as_str(),
                "trace" | "debug" | "info" | "warn" | "error" | "off"
            )
    });
    if ok {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "log.level \"{level}\" is not a filter such as \"info\" or \"info,be_http=debug\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write_temp(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("be-config-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_example_is_valid_and_equals_the_defaults() {
        let path = write_temp(EXAMPLE);
        let loaded = Config::load_from(Some(&path), env(&[])).expect("example loads");
        assert_eq!(
            loaded,
            Config::default(),
            "the example documents the defaults"
        );
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn every_env_var_is_documented_in_the_example() {
        for (var, _) in ENV_VARS {
            assert!(
                EXAMPLE.contains(var),
                "{var} is missing from the example configuration"
            );
        }
    }

    #[test]
    fn environment_wins_over_the_file() {
        let path = write_temp("[server]\nlisten = \"127.0.0.1:9000\"\n");
        let c = Config::load_from(
            Some(&path),
            env(&[
                ("BILLING_ENGINE_LISTEN", "0.0.0.0:9100"),
                ("BILLING_ENGINE_DATABASE_URL", "postgres://u@h/db"),
                ("BILLING_ENGINE_SECURE_COOKIES", "false"),
                ("BILLING_ENGINE_SESSION_HOURS", "24"),
            ]),
        )
        .expect("loads");
        assert_eq!(c.server.listen.port(), 9100);
        assert_eq!(c.database_url(), "postgres://u@h/db");
        assert!(!c.server.secure_cookies);
        assert_eq!(c.security.session_hours, 24);
        let _ = std::fs::remove_file(path);
        let c = Config::load_from(None, env(&[("BILLING_ENGINE_JOBS_CONCURRENCY", "4")]))
            .expect("loads");
        assert_eq!(c.app_settings().jobs.concurrency, 4);
    }

    #[test]
    fn the_public_url_defaults_to_the_listen_address() {
        let c = Config::default();
        assert_eq!(c.public_url().as_str(), "http://localhost:8080/");
        let c = Config::load_from(None, env(&[("BILLING_ENGINE_LISTEN", "0.0.0.0:9100")]))
            .expect("loads");
        assert_eq!(c.app_settings().public_url, "http://localhost:9100");
        let c = Config::load_from(None, env(&[("BILLING_ENGINE_LISTEN", "10.0.0.5:9100")]))
            .expect("loads");
        assert_eq!(c.app_settings().public_url, "http://10.0.0.5:9100");
        let c = Config::load_from(
            None,
            env(&[
                ("BILLING_ENGINE_LISTEN", "10.0.0.5:9100"),
                ("BILLING_ENGINE_PUBLIC_URL", "https://billing.example.com/"),
            ]),
        )
        .expect("loads");
        assert_eq!(c.app_settings().public_url, "https://billing.example.com");
    }

    #[test]
    fn server_limits_are_read_and_checked() {
        let c = Config::default();
        assert_eq!(
            (
                c.server.header_read_timeout_seconds,
                c.server.max_connections
            ),
            (10, 1024)
        );
        let c = Config::load_from(
            None,
            env(&[
                ("BILLING_ENGINE_HEADER_READ_TIMEOUT_SECONDS", "3"),
                ("BILLING_ENGINE_MAX_CONNECTIONS", "64"),
            ]),
        )
        .expect("loads");
        assert_eq!(
            (
                c.server.header_read_timeout_seconds,
                c.server.max_connections
            ),
            (3, 64)
        );
        for (var, value, needle) in [
            (
                "BILLING_ENGINE_HEADER_READ_TIMEOUT_SECONDS",
                "0",
                "header_read_timeout_seconds",
            ),
            ("BILLING_ENGINE_MAX_CONNECTIONS", "0", "max_connections"),
        ] {
            let msg = Config::load_from(None, env(&[(var, value)]))
                .expect_err(var)
                .to_string();
            assert!(msg.contains(needle), "{var}: {msg}");
        }
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let c = Config::load_from(None, env(&[("BILLING_ENGINE_DATA_DIR", "/var/lib/be")]))
            .expect("loads");
        assert_eq!(c.database_url(), "sqlite:///var/lib/be/billing-engine.db");
        assert_eq!(c.key_file(), PathBuf::from("/var/lib/be/secret.key"));
    }

    #[test]
    fn bad_values_name_the_setting_and_source() {
        let err = Config::load_from(None, env(&[("BILLING_ENGINE_LISTEN", "not an address")]))
            .expect_err("bad");
        let msg = err.to_string();
        assert!(
            msg.contains("server.listen") && msg.contains("BILLING_ENGINE_LISTEN"),
            "{msg}"
        );

        let path = write_temp("[server]\nlisten = 42\n");
        let msg = Config::load_from(Some(&path), env(&[]))
            .expect_err("bad")
            .to_string();
        assert!(
            msg.contains("server.listen") && msg.contains(&path.display().to_string()),
            "{msg}"
        );
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn unknown_keys_and_variables_are_refused() {
        let path = write_temp("[server]\nlisen = \"127.0.0.1:1\"\n");
        let msg = Config::load_from(Some(&path), env(&[]))
            .expect_err("typo")
            .to_string();
        assert!(msg.contains("lisen"), "{msg}");
        let _ = std::fs::remove_file(path);

        let msg = Config::load_from(None, env(&[("BILLING_ENGINE_DATABSE_URL", "x")]))
            .expect_err("typo")
            .to_string();
        assert!(
            msg.contains("BILLING_ENGINE_DATABSE_URL")
                && msg.contains("BILLING_ENGINE_DATABASE_URL"),
            "{msg}"
        );
        // The CLI's own variables are not server settings and are let through.
        Config::load_from(
            None,
            env(&[("BILLING_ENGINE_TOKEN", "x"), ("BILLING_ENGINE_URL", "y")]),
        )
        .expect("ignored");
    }

    #[test]
    fn checked_values() {
        for (var, value, needle) in [
            ("BILLING_ENGINE_DATABASE_URL", "mysql://x", "database.url"),
            ("BILLING_ENGINE_SESSION_HOURS", "0", "session_hours"),
            ("BILLING_ENGINE_SECRET_KEY", "short", "secret_key"),
            ("BILLING_ENGINE_LOG", "verbose", "log.level"),
            ("BILLING_ENGINE_LOG_FORMAT", "xml", "log.format"),
            ("BILLING_ENGINE_JOBS_CONCURRENCY", "0", "jobs.concurrency"),
            (
                "BILLING_ENGINE_JOBS_CONCURRENCY",
                "many",
                "jobs.concurrency",
            ),
        ] {
            let msg = Config::load_from(None, env(&[(var, value)]))
                .expect_err(var)
                .to_string();
            assert!(msg.contains(needle), "{var}: {msg}");
        }
        let missing = Config::load_from(Some(Path::new("/nonexistent/be.toml")), env(&[]))
            .expect_err("missing");
        assert!(missing.to_string().contains("does not exist"));
    }

    #[test]
    fn mail_settings_are_checked_and_the_password_never_shown() {
        let ok = Config::load_from(
            None,
            env(&[
                (
                    "BILLING_ENGINE_MAIL_SMTP_URL",
                    "smtps://billing:url-pw@mail.example.com:465",
                ),
                ("BILLING_ENGINE_MAIL_FROM", "Billing <billing@example.com>"),
                ("BILLING_ENGINE_MAIL_PASSWORD", "123456"),
            ]),
        )
        .expect("valid mail settings");
        assert_eq!(
            ok.mail.password.as_deref(),
            Some("123456"),
            "digits stay text"
        );
        let shown = format!("{ok:?}");
        assert!(
            !shown.contains("url-pw") && !shown.contains("123456"),
            "{shown}"
        );
        assert!(shown.contains("mail.example.com"), "{shown}");
        for (pairs, needle) in [
            (
                vec![("BILLING_ENGINE_MAIL_SMTP_URL", "smtp://mail.example.com")],
                "mail.from is not",
            ),
            (
                vec![("BILLING_ENGINE_MAIL_FROM", "billing@example.com")],
                "mail.smtp_url is not",
            ),
            (
                vec![("BILLING_ENGINE_MAIL_PASSWORD", "secret-pw")],
                "mail.password is set",
            ),
            (
                vec![
                    (
                        "BILLING_ENGINE_MAIL_SMTP_URL",
                        "https://user:secret-pw@mail.example.com",
                    ),
                    ("BILLING_ENGINE_MAIL_FROM", "billing@example.com"),
                ],
                "smtps://host",
            ),
            (
                vec![
                    ("BILLING_ENGINE_MAIL_SMTP_URL", "smtp://mail.example.com"),
                    ("BILLING_ENGINE_MAIL_FROM", "Billing"),
                ],
                "mail.from \"Billing\" is not a sender address",
            ),
        ] {
            let msg = Config::load_from(None, env(&pairs))
                .expect_err(needle)
                .to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains("secret-pw"), "{msg}");
        }
    }
}
