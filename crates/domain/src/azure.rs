//! Azure credential values, parsed at the boundary with messages that name the mistake
//! (product.md section 1, step 5 and 6; azure-protocol.md 1.1 and 2.2).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::FieldError;

fn looks_like_guid(s: &str) -> bool {
    Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// A Directory (tenant) ID: a GUID, or a verified domain such as `contoso.onmicrosoft.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub const FIELD: &'static str = "tenant_id";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let err = |code, msg: String| Err(FieldError::new(Self::FIELD, code, msg));
        if s.is_empty() {
            return err(
                "tenant_id_empty",
                "Enter the Directory (tenant) ID from the app registration's Overview page.".into(),
            );
        }
        if looks_like_guid(s) {
            return Ok(Self(s.to_ascii_lowercase()));
        }
        let lower = s.to_ascii_lowercase();
        if ["common", "organizations", "consumers"].contains(&lower.as_str()) {
            return err(
                "tenant_id_not_specific",
                format!(
                    "\"{s}\" is not a tenant: use your directory's own tenant ID (a GUID) or its domain, such as contoso.onmicrosoft.com."
                ),
            );
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return err(
                "tenant_id_is_url",
                "This is a web address. A tenant ID is a GUID (Directory (tenant) ID) or a domain such as contoso.onmicrosoft.com.".into(),
            );
        }
        if lower.contains('@') {
            return err(
                "tenant_id_is_email",
                format!(
                    "This is an e-mail address. Use the domain after the @ ({}) or the Directory (tenant) ID GUID.",
                    lower.rsplit('@').next().unwrap_or_default()
                ),
            );
        }
        if lower.starts_with("/subscriptions/") || lower.contains("/resourcegroups/") {
            return err(
                "tenant_id_is_resource_id",
                "This is an Azure resource or subscription path, not a tenant. Copy the Directory (tenant) ID from the app registration's Overview page.".into(),
            );
        }
        let hexish = s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if hexish && s.len() > 20 {
            return err(
                "tenant_id_invalid",
                "This looks like a GUID with a typo: a tenant ID has 32 hexadecimal digits in groups of 8-4-4-4-12.".into(),
            );
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !lower.contains('.') {
            return err(
                "tenant_id_invalid",
                format!(
                    "\"{s}\" is neither a GUID nor a domain. Use the Directory (tenant) ID, or a domain such as {s}.onmicrosoft.com."
                ),
            );
        }
        if lower.len() > 253 || !lower.split('.').all(label_ok) {
            return err(
                "tenant_id_invalid",
                "A tenant ID is a GUID or a domain such as contoso.onmicrosoft.com; this is neither.".into(),
            );
        }
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_guid(&self) -> bool {
        looks_like_guid(&self.0)
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Application (client) ID: a GUID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub const FIELD: &'static str = "client_id";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                "client_id_empty",
                "Enter the Application (client) ID from the app registration's Overview page.",
            ));
        }
        if looks_like_guid(s) {
            return Ok(Self(s.to_ascii_lowercase()));
        }
        let msg = if s.contains('.') {
            "This looks like a domain. The Application (client) ID is a GUID such as 00001111-aaaa-2222-bbbb-3333cccc4444, shown on the app registration's Overview page."
        } else if s.len() >= 30 && s.contains('~') {
            "This looks like a client secret. The Application (client) ID is a GUID shown on the app registration's Overview page; the secret goes in the next step."
        } else {
            "The Application (client) ID is a GUID such as 00001111-aaaa-2222-bbbb-3333cccc4444, shown on the app registration's Overview page."
        };
        Err(FieldError::new(Self::FIELD, "client_id_invalid", msg))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// Enterprise Agreement or Microsoft Customer Agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgreementType {
    #[serde(rename = "EA")]
    EnterpriseAgreement,
    #[serde(rename = "MCA")]
    MicrosoftCustomerAgreement,
}

impl AgreementType {
    pub const FIELD: &'static str = "agreement_type";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "ea" | "enterpriseagreement" | "enterprise agreement" => Ok(Self::EnterpriseAgreement),
            "mca" | "microsoftcustomeragreement" | "microsoft customer agreement" => {
                Ok(Self::MicrosoftCustomerAgreement)
            }
            "" => Err(FieldError::new(
                Self::FIELD,
                "agreement_type_empty",
                "Choose the agreement type: EA (Enterprise Agreement) or MCA (Microsoft Customer Agreement).",
            )),
            _ => Err(FieldError::new(
                Self::FIELD,
                "agreement_type_invalid",
                "The agreement type is EA (Enterprise Agreement) or MCA (Microsoft Customer Agreement).",
            )),
        }
    }

    /// Short code: `EA` or `MCA`.
    pub fn code(self) -> &'static str {
        match self {
            Self::EnterpriseAgreement => "EA",
            Self::MicrosoftCustomerAgreement => "MCA",
        }
    }

    /// The name Azure uses in `agreementType`.
    pub fn azure_name(self) -> &'static str {
        match self {
            Self::EnterpriseAgreement => "EnterpriseAgreement",
            Self::MicrosoftCustomerAgreement => "MicrosoftCustomerAgreement",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::EnterpriseAgreement => "Enterprise Agreement (EA)",
            Self::MicrosoftCustomerAgreement => "Microsoft Customer Agreement (MCA)",
        }
    }
}

/// A billing account ID whose shape matches its agreement: EA, the enrollment number (digits);
/// MCA, `guid:guid_YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BillingAccountId(String);

fn is_mca_shape(s: &str) -> bool {
    let Some((left, right)) = s.split_once(':') else {
        return false;
    };
    let Some((guid2, date)) = right.split_once('_') else {
        return false;
    };
    looks_like_guid(left) && looks_like_guid(guid2) && parse_ymd(date).is_some()
}

fn parse_ymd(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

impl BillingAccountId {
    pub const FIELD: &'static str = "billing_account_id";

    pub fn parse(agreement: AgreementType, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let err = |code, msg: &str| Err(FieldError::new(Self::FIELD, code, msg));
        if s.is_empty() {
            return match agreement {
                AgreementType::EnterpriseAgreement => err(
                    "billing_account_id_empty",
                    "Enter the enrollment number (digits), shown in Cost Management + Billing → Billing scopes.",
                ),
                AgreementType::MicrosoftCustomerAgreement => err(
                    "billing_account_id_empty",
                    "Enter the billing account ID (guid:guid_YYYY-MM-DD), shown in Cost Management + Billing → Properties.",
                ),
            };
        }
        let digits = s.chars().all(|c| c.is_ascii_digit());
        match agreement {
            AgreementType::EnterpriseAgreement if digits && s.len() <= 12 => {
                Ok(Self(s.to_string()))
            }
            AgreementType::EnterpriseAgreement if is_mca_shape(s) => err(
                "billing_account_id_agreement_mismatch",
                "This is a Microsoft Customer Agreement billing account ID (guid:guid_date). Choose MCA as the agreement type, or enter your EA enrollment number.",
            ),
            AgreementType::EnterpriseAgreement if looks_like_guid(s) => err(
                "billing_account_id_invalid",
                "This is a GUID (perhaps a subscription or tenant ID). An EA billing account ID is the enrollment number, digits only, such as 8611537.",
            ),
            AgreementType::EnterpriseAgreement => err(
                "billing_account_id_invalid",
                "An EA billing account ID is the enrollment number: digits only, such as 8611537.",
            ),
            AgreementType::MicrosoftCustomerAgreement if is_mca_shape(s) => {
                Ok(Self(s.to_ascii_lowercase()))
            }
            AgreementType::MicrosoftCustomerAgreement if digits => err(
                "billing_account_id_agreement_mismatch",
                "This is an EA enrollment number. Choose EA as the agreement type, or enter the MCA billing account ID (guid:guid_YYYY-MM-DD).",
            ),
            AgreementType::MicrosoftCustomerAgreement if looks_like_guid(s) => err(
                "billing_account_id_invalid",
                "This is a single GUID. An MCA billing account ID is two GUIDs and a date: guid:guid_YYYY-MM-DD, shown in Cost Management + Billing → Properties.",
            ),
            AgreementType::MicrosoftCustomerAgreement => err(
                "billing_account_id_invalid",
                "An MCA billing account ID looks like 10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31.",
            ),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for BillingAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client secret's value. Never printed; redacted in `Debug`.
#[derive(Clone)]
pub struct ClientSecretValue(String);

impl ClientSecretValue {
    pub const FIELD: &'static str = "client_secret";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                "client_secret_empty",
                "Paste the client secret's Value from Certificates & secrets.",
            ));
        }
        if looks_like_guid(s) {
            return Err(FieldError::new(
                Self::FIELD,
                "client_secret_is_secret_id",
                "This looks like the secret's ID (a GUID), not its value. In Certificates & secrets, copy the Value column, which is shown only right after the secret is created; if it is hidden, create a new secret.",
            ));
        }
        if s.len() < 16 {
            return Err(FieldError::new(
                Self::FIELD,
                "client_secret_too_short",
                "This is too short to be a client secret value. Copy the whole Value from Certificates & secrets.",
            ));
        }
        if s.len() > 1024 || s.chars().any(char::is_whitespace) {
            return Err(FieldError::new(
                Self::FIELD,
                "client_secret_invalid",
                "A client secret value has no spaces or line breaks. Copy just the Value.",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecretValue([redacted])")
    }
}

/// Parse an optional secret expiry date (`YYYY-MM-DD`); it must not be in the past.
pub fn parse_secret_expiry(raw: &str, today: Date) -> Result<Option<Date>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let date = parse_ymd(s).ok_or_else(|| {
        FieldError::new(
            "secret_expires_on",
            "secret_expiry_invalid",
            "Enter the expiry date as YYYY-MM-DD, as shown in Certificates & secrets.",
        )
    })?;
    if date < today {
        return Err(FieldError::new(
            "secret_expires_on",
            "secret_expired",
            format!(
                "This date ({date}) has passed: the secret has expired. Create a new secret in Certificates & secrets."
            ),
        ));
    }
    Ok(Some(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "11111111-2222-3333-4444-555555555555";
    const MCA: &str =
        "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31";

    #[test]
    fn tenants_are_guids_or_domains() {
        assert!(TenantId::parse(GUID).expect("guid").is_guid());
        assert_eq!(
            TenantId::parse(" Contoso.OnMicrosoft.com ")
                .expect("domain")
                .as_str(),
            "contoso.onmicrosoft.com"
        );
        for (raw, code) in [
            ("", "tenant_id_empty"),
            ("contoso", "tenant_id_invalid"),
            ("common", "tenant_id_not_specific"),
            ("https://portal.azure.com", "tenant_id_is_url"),
            ("ada@contoso.com", "tenant_id_is_email"),
            (
                "/subscriptions/11111111-2222-3333-4444-555555555555",
                "tenant_id_is_resource_id",
            ),
            ("11111111-2222-3333-4444-55555555555", "tenant_id_invalid"),
            ("foo bar.com", "tenant_id_invalid"),
        ] {
            assert_eq!(TenantId::parse(raw).expect_err(raw).code, code, "{raw}");
        }
        assert!(
            TenantId::parse("ada@contoso.com")
                .expect_err("email")
                .message
                .contains("contoso.com")
        );
    }

    #[test]
    fn client_ids_are_guids() {
        assert!(ClientId::parse(GUID).is_ok());
        assert_eq!(
            ClientId::parse("").expect_err("empty").code,
            "client_id_empty"
        );
        assert!(
            ClientId::parse("abc8Q~0123456789abcdefghijklmnopqrstuvwx")
                .expect_err("secret")
                .message
                .contains("client secret")
        );
        assert!(
            ClientId::parse("contoso.com")
                .expect_err("domain")
                .message
                .contains("domain")
        );
    }

    #[test]
    fn billing_account_ids_match_their_agreement() {
        use AgreementType::*;
        assert_eq!(
            BillingAccountId::parse(EnterpriseAgreement, " 8611537 ")
                .expect("ea")
                .as_str(),
            "8611537"
        );
        assert!(BillingAccountId::parse(MicrosoftCustomerAgreement, MCA).is_ok());
        for (agreement, raw, code) in [
            (
                EnterpriseAgreement,
                MCA,
                "billing_account_id_agreement_mismatch",
            ),
            (
                MicrosoftCustomerAgreement,
                "8611537",
                "billing_account_id_agreement_mismatch",
            ),
            (EnterpriseAgreement, GUID, "billing_account_id_invalid"),
            (
                MicrosoftCustomerAgreement,
                GUID,
                "billing_account_id_invalid",
            ),
            (
                EnterpriseAgreement,
                "86-11537",
                "billing_account_id_invalid",
            ),
            (
                MicrosoftCustomerAgreement,
                "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-13-31",
                "billing_account_id_invalid",
            ),
            (EnterpriseAgreement, "", "billing_account_id_empty"),
        ] {
            assert_eq!(
                BillingAccountId::parse(agreement, raw).expect_err(raw).code,
                code,
                "{raw}"
            );
        }
    }

    #[test]
    fn a_pasted_secret_id_is_recognized() {
        assert_eq!(
            ClientSecretValue::parse(GUID).expect_err("id").code,
            "client_secret_is_secret_id"
        );
        assert_eq!(
            ClientSecretValue::parse("short").expect_err("short").code,
            "client_secret_too_short"
        );
        let s =
            ClientSecretValue::parse("abc8Q~0123456789abcdefghijklmnopqrstuvwx").expect("value");
        assert!(!format!("{s:?}").contains("abc8Q"));
    }

    #[test]
    fn expiry_dates() {
        let today = time::macros::date!(2026 - 11 - 25);
        assert_eq!(parse_secret_expiry("", today).expect("none"), None);
        assert!(
            parse_secret_expiry("2027-05-01", today)
                .expect("ok")
                .is_some()
        );
        assert_eq!(
            parse_secret_expiry("2026-01-01", today)
                .expect_err("past")
                .code,
            "secret_expired"
        );
        assert_eq!(
            parse_secret_expiry("01/05/2027", today)
                .expect_err("format")
                .code,
            "secret_expiry_invalid"
        );
    }
}
