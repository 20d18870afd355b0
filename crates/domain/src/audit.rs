//! The audit trail's vocabulary: what kind of thing changed and how.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Account,
    Connection,
    /// A connection's client secret (recorded without its value).
    Secret,
    Family,
    Plan,
    Rule,
    Strategy,
    Allocation,
    Invoice,
    User,
    Invite,
}

/// How it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditKind {
    pub const ALL: [AuditKind; 11] = [
        AuditKind::Account,
        AuditKind::Connection,
        AuditKind::Secret,
        AuditKind::Family,
        AuditKind::Plan,
        AuditKind::Rule,
        AuditKind::Strategy,
        AuditKind::Allocation,
        AuditKind::Invoice,
        AuditKind::User,
        AuditKind::Invite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Account => "account",
            AuditKind::Connection => "connection",
            AuditKind::Secret => "secret",
            AuditKind::Family => "family",
            AuditKind::Plan => "plan",
            AuditKind::Rule => "rule",
            AuditKind::Strategy => "strategy",
            AuditKind::Allocation => "allocation",
            AuditKind::Invoice => "invoice",
            AuditKind::User => "user",
            AuditKind::Invite => "invite",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    "audit_kind_invalid",
                    "The kind is one of account, connection, secret, family, plan, rule, strategy, allocation, invoice, user, invite.",
                )
            })
    }
}

impl AuditAction {
    pub const ALL: [AuditAction; 3] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "action",
                    "audit_action_invalid",
                    "The action is create, update or delete.",
                )
            })
    }
}
