//! Entra ID client-credentials tokens (azure-protocol.md section 1).

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::{ARM_SCOPE, AzureClient, AzureError, ErrorKind, error::classify_token_error};

/// An app registration's credentials. The secret is redacted in `Debug`.
#[derive(Clone)]
pub struct ClientCredentials {
    /// Directory (tenant) ID: a GUID or a verified domain.
    pub tenant: String,
    /// Application (client) ID.
    pub client_id: String,
    pub client_secret: SecretString,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// What an app-only ARM token says about its principal (section 1.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenClaims {
    /// The service principal's object ID: the `principalId` a billing role assignment needs.
    pub oid: Option<String>,
    /// The tenant GUID, even when the token was requested with a domain.
    pub tid: Option<String>,
    /// The application (client) ID (v1 tokens).
    pub appid: Option<String>,
    /// The application (client) ID (v2 tokens).
    pub azp: Option<String>,
    pub aud: Option<String>,
    pub exp: Option<i64>,
}

impl TokenClaims {
    /// Read the claims of a JWT without verifying it (we only read our own token's payload).
    pub fn decode(jwt: &str) -> Option<Self> {
        let payload = jwt.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A bearer token for ARM. Redacted in `Debug`.
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    pub expires_at: OffsetDateTime,
    pub claims: TokenClaims,
}

impl AccessToken {
    pub fn bearer(&self) -> &str {
        self.value.expose_secret()
    }

    /// Build one from parts (tests, and tokens obtained elsewhere).
    pub fn from_parts(value: String, expires_at: OffsetDateTime) -> Self {
        let claims = TokenClaims::decode(&value).unwrap_or_default();
        Self {
            value: SecretString::from(value),
            expires_at,
            claims,
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OpenIdConfiguration {
    issuer: Option<String>,
    token_endpoint: Option<String>,
}

fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.trim().as_bytes()).collect()
}

impl AzureClient {
    fn login_url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.endpoints.login.as_str().trim_end_matches('/'),
            path
        )
    }

    /// Get an app-only token for ARM with the client-credentials grant.
    pub async fn token(&self, creds: &ClientCredentials) -> Result<AccessToken, AzureError> {
        let url = self.login_url(&format!("/{}/oauth2/v2.0/token", segment(&creds.tenant)));
        let form = [
            ("client_id", creds.client_id.trim()),
            ("scope", ARM_SCOPE),
            ("client_secret", creds.client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
        ];
        let answer = self
            .send("token", &url, || self.http.post(&url).form(&form))
            .await?;
        if answer.status != 200 {
            return Err(classify_token_error(
                answer.status,
                &answer.body,
                answer.request_id,
            ));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&answer.body).map_err(|e| AzureError {
                status: Some(200),
                ..AzureError::new(
                    ErrorKind::UnexpectedResponse,
                    format!("token response is not understood: {e}"),
                )
            })?;
        let seconds = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(3599),
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(3599),
            _ => 3599,
        };
        let claims = TokenClaims::decode(&parsed.access_token).unwrap_or_default();
        Ok(AccessToken {
            value: SecretString::from(parsed.access_token),
            expires_at: OffsetDateTime::now_utc() + time::Duration::seconds(seconds),
            claims,
        })
    }

    /// The tenant's GUID, from its OpenID configuration (works for a GUID or a verified domain).
    pub async fn tenant_guid(&self, tenant: &str) -> Result<String, AzureError> {
        let url = self.login_url(&format!(
            "/{}/v2.0/.well-known/openid-configuration",
            segment(tenant)
        ));
        let answer = self
            .send("openid-configuration", &url, || self.http.get(&url))
            .await?;
        if answer.status != 200 {
            return Err(classify_token_error(
                answer.status,
                &answer.body,
                answer.request_id,
            ));
        }
        let config: OpenIdConfiguration = serde_json::from_slice(&answer.body).map_err(|e| {
            AzureError::new(
                ErrorKind::UnexpectedResponse,
                format!("OpenID configuration not understood: {e}"),
            )
        })?;
        [config.issuer, config.token_endpoint]
            .into_iter()
            .flatten()
            .find_map(|u| {
                u.split('/')
                    .find(|part| uuid::Uuid::parse_str(part).is_ok())
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                AzureError::new(
                    ErrorKind::UnexpectedResponse,
                    "the OpenID configuration names no tenant GUID",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"oid":"sp-oid","tid":"tenant","appid":"client","aud":"https://management.azure.com/","exp":1}"#);
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig");
        let c = TokenClaims::decode(&jwt).expect("decoded");
        assert_eq!(
            (c.oid.as_deref(), c.tid.as_deref(), c.appid.as_deref()),
            (Some("sp-oid"), Some("tenant"), Some("client"))
        );
        assert!(TokenClaims::decode("not a jwt").is_none());
    }

    #[test]
    fn secrets_are_redacted() {
        let creds = ClientCredentials {
            tenant: "t".into(),
            client_id: "c".into(),
            client_secret: SecretString::from("hunter2-secret".to_string()),
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
        let token =
            AccessToken::from_parts("eyJ.eyJ.sig-value-secret".into(), OffsetDateTime::now_utc());
        assert!(!format!("{token:?}").contains("sig-value-secret"));
    }
}
