//! The installation's master key and the keys derived from it.
//!
//! The master key comes from the configuration (`security.secret_key`, base64 of 32 bytes) or from
//! a key file, created on first start with 0600 permissions. Purpose keys are derived with
//! HMAC-SHA256 so one secret never serves two purposes.

use std::{fmt, fs, io::Write, path::Path};

use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why the key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "security.secret_key must be the base64 encoding of exactly 32 random bytes (for example: openssl rand -base64 32)"
    )]
    BadSecret,
    #[error(
        "the key file {path} is not valid: it must hold the base64 encoding of exactly 32 bytes"
    )]
    BadKeyFile { path: String },
    #[error("cannot read or create the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
    )]
    Permissions { path: String, mode: u32 },
}

pub struct Keys {
    csrf: [u8; 32],
    secrets: [u8; 32],
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    /// Derive the purpose keys from a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        Self {
            csrf: derive(master, b"billing-engine/csrf/v1"),
            secrets: derive(master, b"billing-engine/secrets/v1"),
        }
    }

    /// Parse a base64 master key (from configuration).
    pub fn from_base64(secret: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(secret.trim())
            .map_err(|_| KeyError::BadSecret)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadSecret)?;
        Ok(Self::from_master(&master))
    }

    /// Load the master key from `path`, creating it (0600) with fresh random bytes if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => {
                check_permissions(path)?;
                let bytes = STANDARD
                    .decode(text.trim())
                    .map_err(|_| KeyError::BadKeyFile {
                        path: shown.clone(),
                    })?;
                let master: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadKeyFile {
                    path: shown.clone(),
                })?;
                Ok(Self::from_master(&master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    crate::layout::create_private_dir(dir).map_err(io)?;
                }
                let mut master = [0u8; 32];
                getrandom::fill(&mut master)
                    .map_err(|e| io(std::io::Error::other(e.to_string())))?;
                let mut file = create_private(path).map_err(io)?;
                file.write_all(STANDARD.encode(master).as_bytes())
                    .map_err(io)?;
                file.write_all(b"\n").map_err(io)?;
                file.sync_all().map_err(io)?;
                tracing::info!(path = %shown, "created a new secret key file");
                Ok(Self::from_master(&master))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The CSRF token for a binding value (the session cookie, or the pre-login cookie).
    pub fn csrf_token(&self, binding: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.csrf).expect("HMAC takes any key length");
        mac.update(binding.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Constant-time check of a CSRF token.
    pub fn verify_csrf(&self, binding: &str, token: &str) -> bool {
        let expected = self.csrf_token(binding);
        expected.as_bytes().ct_eq(token.as_bytes()).into()
    }

    /// The key for encrypting stored secrets (used by the Azure connection work).
    pub fn secrets_key(&self) -> &[u8; 32] {
        &self.secrets
    }
}

fn derive(master: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path() -> std::path::PathBuf {
        std::env::temp_dir()
            .join(format!("be-key-{}", uuid::Uuid::new_v4()))
            .join("secret.key")
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let path = temp_path();
        let first = Keys::load_or_create(&path).expect("created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let second = Keys::load_or_create(&path).expect("reloaded");
        assert_eq!(
            first.csrf_token("x"),
            second.csrf_token("x"),
            "same key after a restart"
        );
        let _ = fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_path();
        Keys::load_or_create(&path).expect("created");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            Keys::load_or_create(&path),
            Err(KeyError::Permissions { .. })
        ));
        let _ = fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn csrf_tokens_bind_to_their_value() {
        let keys = Keys::from_master(&[7; 32]);
        let token = keys.csrf_token("session-a");
        assert!(keys.verify_csrf("session-a", &token));
        assert!(!keys.verify_csrf("session-b", &token));
        assert!(!keys.verify_csrf("session-a", ""));
        assert!(
            !Keys::from_master(&[8; 32]).verify_csrf("session-a", &token),
            "another installation's key"
        );
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(matches!(
            Keys::from_base64("not base64!"),
            Err(KeyError::BadSecret)
        ));
        assert!(matches!(
            Keys::from_base64(&STANDARD.encode([1u8; 16])),
            Err(KeyError::BadSecret)
        ));
        assert!(Keys::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
    }
}
