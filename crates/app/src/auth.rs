//! Logging in, console sessions and API tokens.
//!
//! Passwords are hashed with Argon2id (memory-hard). Session cookies and API tokens are 32 random
//! bytes; only their SHA-256 is stored, so a copy of the database cannot be used to log in. An API
//! token is shown once, when it is created.

use std::{fmt, sync::OnceLock};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use be_domain::{ApiTokenId, Email, FamilyId, OrganizationId, Permission, Role, TokenName, UserId};
use be_store::{ApiTokenRecord, NewApiToken, User};
use sha2::{Digest, Sha256};

use crate::{App, AppError, Result};

/// Who is making a request. Every organization-owned use case takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    /// The role in force: the user's, or the narrower one of the API token used.
    pub role: Role,
    /// The families a viewer is limited to (dashboard and analysis show only their costs).
    pub families: Option<Vec<FamilyId>>,
    /// The client's address (IP), recorded in the audit trail; set by the HTTP edge.
    pub address: Option<String>,
}

impl From<User> for Caller {
    fn from(u: User) -> Self {
        Caller {
            user_id: u.id,
            organization_id: u.organization_id,
            email: u.email,
            role: u.role,
            families: u.families,
            address: None,
        }
    }
}

impl Caller {
    /// The one permission check: every use case calls it first. Refused with 403 `forbidden`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.role.allows(permission) {
            return Ok(());
        }
        Err(AppError::Forbidden {
            code: "forbidden",
            message: format!(
                "Your role ({}) cannot do this; it needs the {} role or above. Ask an owner of your organization.",
                self.role.label(),
                Role::least_for(permission).label()
            ),
        })
    }

    /// Whether the caller may do this (for showing or hiding buttons).
    pub fn can(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

/// A console session's cookie value. Redacted in `Debug`.
#[derive(Clone)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// A newly created API token: the record, and the secret value shown this once.
pub struct IssuedToken {
    pub record: ApiTokenRecord,
    pub secret: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("record", &self.record)
            .field("secret", &"[redacted]")
            .finish()
    }
}

const TOKEN_PREFIX: &str = "be_";

pub(crate) fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Hash a password with Argon2id and a random salt (PHC string format).
fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Argon2 hashes running at once, at most: more sign-ins wait their turn instead of taking every
/// core from the requests the runtime serves.
pub(crate) const MAX_CONCURRENT_HASHES: usize = 2;

impl App {
    /// Run an Argon2 computation on the blocking pool (never on the async runtime's threads),
    /// at most [`MAX_CONCURRENT_HASHES`] at once.
    async fn on_hashing_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self.hashing.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)
    }

    /// Hash a new password (Argon2id) off the runtime.
    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.on_hashing_pool(move || hash_password(&password))
            .await?
    }

    /// Check a password against a stored hash off the runtime.
    async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool> {
        let password = password.to_owned();
        self.on_hashing_pool(move || match hash {
            Some(h) => verify_password(&password, &h),
            // Unknown address: the same work against a decoy, so both take the same time.
            None => {
                verify_password(&password, decoy_hash());
                false
            }
        })
        .await
    }

    /// Argon2 computations running now (for tests and metrics).
    pub fn hashes_in_flight(&self) -> usize {
        MAX_CONCURRENT_HASHES - self.hashing.available_permits()
    }
}

/// A hash to verify against when the e-mail is unknown, so both paths take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for timing").unwrap_or_default())
}

fn bad_login() -> AppError {
    AppError::Unauthenticated {
        code: "invalid_credentials",
        message: "The e-mail address or the password is not right.".into(),
    }
}

/// Failed sign-ins under one key (a client address, an account, or both) and when the last one
/// was.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failures {
    count: u32,
    last: time::OffsetDateTime,
}

/// The throttle's keys and how many failures each forgives before waits begin: a client address
/// (any accounts), an account from one address, an account from everywhere (a distributed guess).
/// Beyond the free failures, each failure doubles the wait (1 s, 2 s, 4 s, ... at most 15
/// minutes) instead of locking the account: its owner, from another address, is not locked out
/// by someone else's guesses, and waits stay short for a few typos.
const LIMITS: [(&str, u32); 3] = [("address", 20), ("account+address", 5), ("account", 50)];
const MAX_WAIT: time::Duration = time::Duration::minutes(15);

fn wait_after(count: u32, free: u32) -> time::Duration {
    if count < free {
        return time::Duration::ZERO;
    }
    let doublings = (count - free).min(20);
    (time::Duration::seconds(1) * 2_i32.pow(doublings)).min(MAX_WAIT)
}

fn throttle_keys(email: &str, address: Option<&str>) -> Vec<(String, u32)> {
    let account = email.trim().to_lowercase();
    let address = address.unwrap_or("unknown");
    let [(_, by_address), (_, by_pair), (_, by_account)] = LIMITS;
    vec![
        (format!("address {address}"), by_address),
        (format!("account {account} from {address}"), by_pair),
        (format!("account {account}"), by_account),
    ]
}

impl App {
    /// How long the caller must still wait before another attempt (the longest of its keys).
    fn throttled_for(&self, keys: &[(String, u32)]) -> time::Duration {
        let now = self.clock.now();
        let mut map = self
            .login_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.retain(|_, f| now - f.last < MAX_WAIT);
        keys.iter()
            .filter_map(|(k, free)| {
                map.get(k)
                    .map(|f| f.last + wait_after(f.count, *free) - now)
            })
            .max()
            .unwrap_or(time::Duration::ZERO)
    }

    fn record_failure(&self, keys: &[(String, u32)]) {
        let now = self.clock.now();
        let mut map = self
            .login_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (k, _) in keys {
            let entry = map.entry(k.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            entry.count += 1;
            entry.last = now;
        }
    }

    /// A success forgives the account's failures from this address (not the address's own).
    fn clear_failures(&self, keys: &[(String, u32)]) {
        let mut map = self
            .login_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.remove(&keys[1].0);
    }

    /// Check an e-mail and password from a client address; the user on success. Failures are
    /// throttled per client address and per account with exponential backoff ([`LIMITS`]): while
    /// a wait runs, attempts are refused with `too_many_attempts` and the seconds left.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<Caller> {
        let keys = throttle_keys(email, address);
        let wait = self.throttled_for(&keys);
        if wait > time::Duration::ZERO {
            let secs = (wait.as_seconds_f64().ceil() as u64).max(1);
            return Err(AppError::RateLimited {
                code: "too_many_attempts",
                message: format!("Too many failed sign-ins. Try again in {secs} seconds."),
                retry_after_seconds: secs,
            });
        }
        let result = self.check_password_once(email, password).await;
        match &result {
            Ok(_) => self.clear_failures(&keys),
            Err(AppError::Unauthenticated { .. }) => self.record_failure(&keys),
            Err(_) => {}
        }
        result
    }

    async fn check_password_once(&self, email: &str, password: &str) -> Result<Caller> {
        let creds = match Email::parse(email) {
            Ok(email) => self.store.find_user_credentials(&email).await?,
            Err(_) => None,
        };
        let hash = creds.as_ref().map(|c| c.password_hash.clone());
        let matches = self.verify(password, hash).await?;
        match creds {
            Some(creds) if matches => Ok(creds.user.into()),
            _ => Err(bad_login()),
        }
    }

    /// Log in to the console: a new session.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<(SessionToken, Caller)> {
        let caller = self.check_password(email, password, address).await?;
        let token = self.start_session(&caller).await?;
        tracing::info!(user = %caller.user_id, org = %caller.organization_id, "console login");
        Ok((token, caller))
    }

    /// A new console session for a caller already authenticated (sign-in, accepted invitation).
    pub async fn start_session(&self, caller: &Caller) -> Result<SessionToken> {
        let token = random_secret()?;
        let now = self.clock.now();
        self.store
            .create_session(
                &digest(&token),
                caller.user_id,
                now,
                now + self.settings.session_ttl,
            )
            .await?;
        Ok(SessionToken(token))
    }

    /// The caller behind a session cookie, if the session is live.
    pub async fn session_caller(&self, token: &str) -> Result<Option<Caller>> {
        Ok(self
            .store
            .find_session(&digest(token), self.clock.now())
            .await?
            .map(|s| s.user.into()))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        self.store.delete_session(&digest(token)).await?;
        Ok(())
    }

    /// The caller behind an API token (the value after `Bearer `).
    pub async fn token_caller(&self, token: &str) -> Result<Caller> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(invalid_token());
        }
        match self
            .store
            .use_api_token(&digest(token), self.clock.now())
            .await?
        {
            Some((token, user)) => {
                let mut caller = Caller::from(user);
                caller.role = caller.role.min(token.role.unwrap_or(caller.role));
                Ok(caller)
            }
            None => Err(invalid_token()),
        }
    }

    /// Create an API token for the caller, with the caller's role. The secret is in the result
    /// and nowhere else.
    pub async fn create_api_token(&self, caller: &Caller, name: &str) -> Result<IssuedToken> {
        self.create_api_token_with_role(caller, name, None).await
    }

    /// Create an API token with the caller's role or a narrower one. A token never acts beyond
    /// its creator's current role either.
    pub async fn create_api_token_with_role(
        &self,
        caller: &Caller,
        name: &str,
        role: Option<&str>,
    ) -> Result<IssuedToken> {
        caller.require(Permission::OwnTokens)?;
        let name = TokenName::parse(name)?;
        let role = match role {
            None => caller.role,
            Some(raw) => Role::parse(raw)?,
        };
        if role > caller.role {
            return Err(AppError::Invalid(be_domain::FieldError::new(
                Role::FIELD,
                "role_too_wide",
                format!(
                    "A token can have your role ({}) or a narrower one, not {}.",
                    caller.role.as_str(),
                    role.as_str()
                ),
            )));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let token = NewApiToken {
            id: ApiTokenId::new(),
            organization_id: caller.organization_id,
            user_id: caller.user_id,
            name,
            token_hash: digest(&secret),
            prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
            role: Some(role),
            created_at: self.clock.now(),
        };
        let record = self.store.create_api_token(&token).await?;
        tracing::info!(user = %caller.user_id, token = %record.id, "API token created");
        Ok(IssuedToken { record, secret })
    }

    /// Exchange an e-mail and password for a new API token (what `billing-engine login` does).
    pub async fn create_api_token_with_password(
        &self,
        email: &str,
        password: &str,
        name: &str,
        address: Option<&str>,
    ) -> Result<IssuedToken> {
        let caller = self.check_password(email, password, address).await?;
        self.create_api_token(&caller, name).await
    }

    pub async fn list_api_tokens(&self, caller: &Caller) -> Result<Vec<ApiTokenRecord>> {
        caller.require(Permission::OwnTokens)?;
        Ok(self
            .store
            .list_api_tokens(caller.organization_id, caller.user_id)
            .await?)
    }

    pub async fn revoke_api_token(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(Permission::OwnTokens)?;
        let not_found = || AppError::NotFound {
            code: "token_not_found",
            message: "There is no such API token.".into(),
        };
        let id: ApiTokenId = id.parse().map_err(|_| not_found())?;
        if self
            .store
            .revoke_api_token(caller.organization_id, caller.user_id, id)
            .await?
        {
            tracing::info!(user = %caller.user_id, token = %id, "API token revoked");
            Ok(())
        } else {
            Err(not_found())
        }
    }
}

fn invalid_token() -> AppError {
    AppError::Unauthenticated {
        code: "invalid_token",
        message: "The API token is not valid: it may have been revoked. Create a new one under API tokens.".into(),
    }
}
