use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// A login e-mail address, stored lower-cased. Deliberately permissive: one `@`, something on
/// both sides, a dot in the domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const FIELD: &'static str = "email";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = || {
            FieldError::new(
                Self::FIELD,
                "email_invalid",
                "Enter an e-mail address such as name@example.com.",
            )
        };
        if email.is_empty() || email.len() > 254 || email.chars().any(|c| c.is_whitespace()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password chosen by a person: at least 12 characters, not one of the most common passwords
/// (an embedded list, compared ignoring case) and not a few characters repeated. (Login compares
/// against the stored hash and does not apply these rules, so a policy change never locks anyone
/// out.)
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const FIELD: &'static str = "password";
    pub const MIN_CHARS: usize = 12;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                Self::FIELD,
                "password_too_short",
                format!("A password needs at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if n > 1024 {
            return Err(FieldError::new(
                Self::FIELD,
                "password_too_long",
                "A password is at most 1024 characters.",
            ));
        }
        if is_common_password(raw) {
            return Err(FieldError::new(
                Self::FIELD,
                "password_too_common",
                "This password is one of the most common ones (or a few characters repeated), so it is guessed first. Choose another, such as three or four unrelated words.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Passwords of 12 characters or more at the top of published leaked-password lists.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Whether `raw` is on the embedded list (ignoring case) or made of fewer than four different
/// characters (`aaaaaaaaaaaa`, `abababababab`, `123123123123`).
fn is_common_password(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    distinct.len() < 4
        || COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .any(|l| l == lower)
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An organization's display name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrganizationName(String);

impl OrganizationName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 100 || crate::has_deceptive(name) {
            return Err(FieldError::new(
                "name",
                "organization_name_invalid",
                "An organization name is 1 to 100 characters, without control, invisible or text-direction characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A label for an API token so its owner can tell tokens apart: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(
                "name",
                "token_name_empty",
                "Enter a name for the token, such as \"laptop CLI\".",
            ));
        }
        if name.chars().count() > 100 || crate::has_deceptive(name) {
            return Err(FieldError::new(
                "name",
                "token_name_invalid",
                "A token name is at most 100 characters, without control, invisible or text-direction characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A user's role in their organization. Each role can do everything the one below it can:
/// owner > billing admin > analyst > viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Dashboard and analysis (optionally limited to some families).
    Viewer,
    /// Reads everything, saves views, exports.
    Analyst,
    /// Connections, families, plans, rules, allocations, invoices.
    BillingAdmin,
    /// Everything, users and roles included.
    Owner,
}

impl Role {
    pub const FIELD: &'static str = "role";
    pub const ALL: [Role; 4] = [Role::Owner, Role::BillingAdmin, Role::Analyst, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::BillingAdmin => "billing_admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// A person's name for the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::BillingAdmin => "Billing admin",
            Role::Analyst => "Analyst",
            Role::Viewer => "Viewer",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Parse a role named in a request or a form.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::from_db(raw.trim()).ok_or_else(|| {
            FieldError::new(
                Self::FIELD,
                "role_invalid",
                "Choose a role: owner, billing_admin, analyst or viewer.",
            )
        })
    }

    /// The lowest role that holds `permission`.
    pub fn least_for(permission: Permission) -> Role {
        match permission {
            Permission::ViewAnalysis | Permission::OwnTokens => Role::Viewer,
            Permission::Read
            | Permission::Export
            | Permission::SaveViews
            | Permission::ReadInvoices
            | Permission::ReadAudit => Role::Analyst,
            Permission::ManageConnections
            | Permission::ManagePricing
            | Permission::ManageInvoices => Role::BillingAdmin,
            Permission::ManageUsers => Role::Owner,
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        self >= Role::least_for(permission)
    }
}

/// What a request may need. Every use case names the one it needs; [`Role::least_for`] is the
/// one table from permissions to roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// The dashboard, analysis and saved views (read); a viewer's family limit applies.
    ViewAnalysis,
    /// The caller's own API tokens and profile.
    OwnTokens,
    /// Read everything else: accounts, connections, jobs, pricing, rating, lines, explain.
    Read,
    /// Downloads: pricing export, CSV analysis, audit CSV.
    Export,
    /// Save, change and delete saved views and asset groups.
    SaveViews,
    /// Read invoices.
    ReadInvoices,
    /// Read the audit trail.
    ReadAudit,
    /// Accounts, connections, secrets, imports, syncs.
    ManageConnections,
    /// Families, plans, rules, strategies, allocations, rating runs.
    ManagePricing,
    /// Invoice drafts, finalization, corrections, templates, customers.
    ManageInvoices,
    /// Invite and remove users, change roles.
    ManageUsers,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewAnalysis => "view_analysis",
            Permission::OwnTokens => "own_tokens",
            Permission::Read => "read",
            Permission::Export => "export",
            Permission::SaveViews => "save_views",
            Permission::ReadInvoices => "read_invoices",
            Permission::ReadAudit => "read_audit",
            Permission::ManageConnections => "manage_connections",
            Permission::ManagePricing => "manage_pricing",
            Permission::ManageInvoices => "manage_invoices",
            Permission::ManageUsers => "manage_users",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest_and_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_db(r.as_str()), Some(r));
        }
        assert!(Role::Owner.allows(Permission::ManageUsers));
        assert!(!Role::BillingAdmin.allows(Permission::ManageUsers));
        assert!(Role::BillingAdmin.allows(Permission::ManageInvoices));
        assert!(!Role::Analyst.allows(Permission::ManagePricing));
        assert!(Role::Analyst.allows(Permission::Export));
        assert!(!Role::Viewer.allows(Permission::Read));
        assert!(Role::Viewer.allows(Permission::ViewAnalysis));
        assert_eq!(Role::parse("boss").expect_err("bad").code, "role_invalid");
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").expect("valid").as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(
                Email::parse(raw).expect_err(raw).code,
                "email_invalid",
                "{raw}"
            );
        }
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert_eq!(
            Password::parse("short").expect_err("short").code,
            "password_too_short"
        );
        let p = Password::parse("correct horse battery").expect("long enough");
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn the_most_common_passwords_are_refused_whatever_their_case() {
        for raw in [
            "aaaaaaaaaaaa",
            "abababababab",
            "123123123123",
            "123456789012",
            "Password1234",
            "QWERTYUIOP123",
            "1q2w3e4r5t6y",
            "correct horse battery staple",
        ] {
            assert_eq!(
                Password::parse(raw).expect_err(raw).code,
                "password_too_common",
                "{raw}"
            );
        }
        // The length rule still comes first, and ordinary passphrases pass.
        assert_eq!(
            Password::parse("aaaa").expect_err("short").code,
            "password_too_short"
        );
        for ok in [
            "a long enough password",
            "billing-engine-demo",
            "tulip kettle 93 orbit",
        ] {
            Password::parse(ok).expect(ok);
        }
    }
}
