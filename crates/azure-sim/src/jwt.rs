//! HS256 JSON Web Tokens. Real Entra ID signs with RS256; the client under test only decodes the
//! claims, and the simulator's ARM side is the only verifier, so a symmetric key is enough.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for HMAC.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

pub(crate) fn sign(key: &[u8], claims: &Map<String, Value>) -> String {
    let header = serde_json::json!({"typ": "JWT", "alg": "HS256", "kid": "azure-sim"});
    let h = B64.encode(header.to_string());
    let p = B64.encode(Value::Object(claims.clone()).to_string());
    let input = format!("{h}.{p}");
    let sig = B64.encode(hmac_sha256(key, input.as_bytes()));
    format!("{input}.{sig}")
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// Well-formed, but not signed by this simulator.
    BadSignature,
}

/// Decode and verify; returns the claims.
pub(crate) fn verify(key: &[u8], token: &str) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let claims: Map<String, Value> = B64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let sig = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::BadSignature);
    }
    let expected = hmac_sha256(key, format!("{h}.{p}").as_bytes());
    if !constant_time_eq(&expected, &sig) {
        return Err(JwtError::BadSignature);
    }
    Ok(claims)
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip_and_tamper() {
        let mut c = Map::new();
        c.insert("oid".into(), Value::from("abc"));
        let t = sign(b"k1", &c);
        assert_eq!(verify(b"k1", &t).ok(), Some(c));
        assert_eq!(verify(b"k2", &t), Err(JwtError::BadSignature));
        assert_eq!(verify(b"k1", "nope"), Err(JwtError::Malformed));
        let mut bad = t.clone();
        bad.push('x');
        assert!(verify(b"k1", &bad).is_err());
    }
}
