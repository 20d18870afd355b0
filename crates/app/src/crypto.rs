//! Sealing stored secrets with XChaCha20-Poly1305 (an AEAD cipher) under the installation's
//! secrets key. A sealed value is bound to the record it belongs to (associated data), so a
//! ciphertext copied onto another row does not open.
//!
//! Layout: `0x01 | nonce (24 bytes) | ciphertext+tag`.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use secrecy::SecretString;

use crate::{AppError, Keys};

const VERSION: u8 = 1;

impl Keys {
    pub fn seal(&self, plaintext: &str, bound_to: &[u8]) -> Result<Vec<u8>, AppError> {
        let cipher = XChaCha20Poly1305::new(self.secrets_key().into());
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: bound_to,
                },
            )
            .map_err(|_| AppError::internal(std::io::Error::other("encryption failed")))?;
        let mut out = Vec::with_capacity(1 + 24 + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Open a sealed secret. Fails if the key, the binding or the bytes are not the ones it was
    /// sealed with.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Result<SecretString, AppError> {
        let broken = || {
            AppError::internal(std::io::Error::other(
                "a stored secret cannot be decrypted: the data or the installation key (secret.key / security.secret_key) changed",
            ))
        };
        if sealed.len() < 1 + 24 + 16 || sealed[0] != VERSION {
            return Err(broken());
        }
        let cipher = XChaCha20Poly1305::new(self.secrets_key().into());
        let plain = cipher
            .decrypt(
                &nonce_of(sealed),
                Payload {
                    msg: &sealed[25..],
                    aad: bound_to,
                },
            )
            .map_err(|_| broken())?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| broken())
    }
}

fn nonce_of(sealed: &[u8]) -> XNonce {
    let mut n = [0u8; 24];
    n.copy_from_slice(&sealed[1..25]);
    XNonce::from(n)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_binding() {
        let keys = Keys::from_master(&[3; 32]);
        let sealed = keys
            .seal("abc8Q~the-secret-value", b"connection-1")
            .expect("seal");
        assert!(
            !sealed.windows(6).any(|w| w == b"secret"),
            "no plaintext in the ciphertext"
        );
        assert_eq!(
            keys.open(&sealed, b"connection-1")
                .expect("open")
                .expose_secret(),
            "abc8Q~the-secret-value"
        );
        assert!(
            keys.open(&sealed, b"connection-2").is_err(),
            "bound to its record"
        );
        assert!(
            Keys::from_master(&[4; 32])
                .open(&sealed, b"connection-1")
                .is_err(),
            "another key"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(
            keys.open(&tampered, b"connection-1").is_err(),
            "tampering is detected"
        );
        let again = keys
            .seal("abc8Q~the-secret-value", b"connection-1")
            .expect("seal");
        assert_ne!(sealed, again, "a fresh nonce each time");
    }
}
