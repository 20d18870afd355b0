use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{AccountId, FieldError, OrganizationId};

/// Longest account name, in characters (not bytes).
pub const ACCOUNT_NAME_MAX_CHARS: usize = 100;

/// An account's name: trimmed, 1 to 100 characters, no control, invisible or bidirectional-control
/// characters ([`crate::is_deceptive`]). Uniqueness inside an
/// organization is case-insensitive; [`AccountName::key`] is the value compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AccountName(String);

impl AccountName {
    pub const FIELD: &'static str = "name";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                "account_name_empty",
                "Enter a name for the account.",
            ));
        }
        let chars = name.chars().count();
        if chars > ACCOUNT_NAME_MAX_CHARS {
            return Err(FieldError::new(
                Self::FIELD,
                "account_name_too_long",
                format!(
                    "An account name is at most {ACCOUNT_NAME_MAX_CHARS} characters; this one has {chars}."
                ),
            ));
        }
        if crate::has_deceptive(name) {
            return Err(FieldError::new(
                Self::FIELD,
                "account_name_invalid",
                "An account name cannot contain control characters (tabs, line breaks), invisible characters (zero-width spaces) or text-direction characters (such as U+202E): they can make one name look like another.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that must be unique in an organization.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Rebuild a name read back from storage, where it was valid when written.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    #[serde(skip)]
    pub organization_id: OrganizationId,
    pub name: AccountName,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(
            AccountName::parse("  Contoso  ").expect("valid").as_str(),
            "Contoso"
        );
    }

    #[test]
    fn empty_and_blank_names_are_refused() {
        for raw in ["", "   ", "\t\n"] {
            assert_eq!(
                AccountName::parse(raw).expect_err("blank").code,
                "account_name_empty"
            );
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        let hundred_e_acute: String = "é".repeat(100);
        assert!(
            AccountName::parse(&hundred_e_acute).is_ok(),
            "100 two-byte chars are fine"
        );
        let err = AccountName::parse(&"a".repeat(101)).expect_err("too long");
        assert_eq!(err.code, "account_name_too_long");
        assert!(err.message.contains("101"), "{}", err.message);
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            AccountName::parse("a\u{7}b").expect_err("bell").code,
            "account_name_invalid"
        );
    }

    #[test]
    fn key_folds_case() {
        let a = AccountName::parse("Contoso").expect("valid");
        let b = AccountName::parse("CONTOSO").expect("valid");
        assert_eq!(a.key(), b.key());
        assert_ne!(a, b);
    }
}
