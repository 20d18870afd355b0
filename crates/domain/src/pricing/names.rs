//! Names people give (families, plans, rules), allocation keys, and provider sub-account IDs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FieldError, dimension};

pub(crate) use crate::text::is_deceptive;

/// A display name (family, plan, rule): trimmed, 1 to 100 characters, no control, invisible or
/// bidirectional-control characters. Unique where it is used, ignoring case ([`Name::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(field, "name_empty", "Enter a name."));
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                "name_too_long",
                format!(
                    "A name is at most {} characters; this one has {chars}.",
                    Self::MAX_CHARS
                ),
            ));
        }
        if name.chars().any(is_deceptive) {
            return Err(FieldError::new(
                field,
                "name_invalid",
                "A name cannot contain control, invisible or text-direction characters.",
            ));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key compared for uniqueness.
    pub fn key(&self) -> String {
        Self::key_of(&self.0)
    }

    pub fn key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?, "name").map_err(serde::de::Error::custom)
    }
}

/// An allocation assignment's key: a new dimension such as `CostCenter`. Letters, digits and `_`,
/// starting with a letter, at most 64 characters; never a FOCUS column, `BillingFamilyName` or an
/// `x_` name (it would shadow the data).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllocationKey(String);

impl AllocationKey {
    pub const FIELD: &'static str = "key";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let key = raw.trim();
        let shape_ok = key.len() <= 64
            && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !shape_ok {
            return Err(FieldError::new(
                Self::FIELD,
                "allocation_key_invalid",
                format!(
                    "An allocation key is a name such as CostCenter: letters, digits and _, starting with a letter, at most 64 characters; got {key:?}."
                ),
            ));
        }
        if let Some((col, _)) = dimension::focus_column_ci(key) {
            return Err(FieldError::new(
                Self::FIELD,
                "allocation_key_reserved",
                format!("{key:?} is the FOCUS column {col}; an allocation key must be a new name."),
            ));
        }
        if key.eq_ignore_ascii_case(dimension::FAMILY_DIMENSION)
            || key.eq_ignore_ascii_case(dimension::PLAN_DIMENSION)
            || key.to_ascii_lowercase().starts_with("x_")
        {
            return Err(FieldError::new(
                Self::FIELD,
                "allocation_key_reserved",
                format!(
                    "{key:?} is reserved (BillingFamilyName, Plan and x_ names belong to the data); choose another key."
                ),
            ));
        }
        Ok(Self(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AllocationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AllocationKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AllocationKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A provider's sub-account (an Azure subscription GUID, an AWS account number, a GCP project):
/// FOCUS `SubAccountId`. Compared exactly, as the provider writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubAccountId(String);

impl SubAccountId {
    pub const FIELD: &'static str = "sub_account_id";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let id = raw.trim();
        if id.is_empty() || id.len() > 256 || id.chars().any(is_deceptive) {
            return Err(FieldError::new(
                Self::FIELD,
                "sub_account_id_invalid",
                "A sub-account ID is the provider's identifier (an Azure subscription ID, an AWS account number), 1 to 256 visible characters.",
            ));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SubAccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SubAccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
