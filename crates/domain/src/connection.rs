//! Cloud connections: their states and the products an account is registered for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Being set up in the wizard; kept so the user can leave and come back.
    Draft,
    /// Checks are running.
    Validating,
    /// All checks passed; data is synced.
    Connected,
    /// The last check failed; the cause and the fix are stored with it.
    Failed,
    /// Stopped by the user; nothing is synced until resumed.
    Paused,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Validating => "validating",
            Self::Connected => "connected",
            Self::Failed => "failed",
            Self::Paused => "paused",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "validating" => Self::Validating,
            "connected" => Self::Connected,
            "failed" => Self::Failed,
            "paused" => Self::Paused,
            _ => return None,
        })
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an account is registered for. Billing Engine is this system; Cost Intelligence is a
/// sibling product whose registrations are only recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    BillingEngine,
    CostIntelligence,
}

impl Product {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BillingEngine => "billing_engine",
            Self::CostIntelligence => "cost_intelligence",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::BillingEngine => "Billing Engine",
            Self::CostIntelligence => "Cost Intelligence",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "billing_engine" => Some(Self::BillingEngine),
            "cost_intelligence" => Some(Self::CostIntelligence),
            _ => None,
        }
    }

    pub fn parse(raw: &str) -> Result<Self, crate::FieldError> {
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "billing_engine" => Ok(Self::BillingEngine),
            "cost_intelligence" => Ok(Self::CostIntelligence),
            _ => Err(crate::FieldError::new(
                "product",
                "product_invalid",
                "The product is billing_engine or cost_intelligence.",
            )),
        }
    }
}

/// A cloud provider. Only Azure is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Azure,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        "azure"
    }

    pub fn parse(raw: &str) -> Result<Self, crate::FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "azure" | "microsoft azure" => Ok(Self::Azure),
            "aws" | "gcp" | "google" | "amazon" => Err(crate::FieldError::new(
                "provider",
                "provider_unsupported",
                "Only Microsoft Azure can be connected so far.",
            )),
            _ => Err(crate::FieldError::new(
                "provider",
                "provider_invalid",
                "The provider is azure.",
            )),
        }
    }
}

/// Where a rating run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingRunState {
    Running,
    Succeeded,
    Failed,
}

impl RatingRunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl fmt::Display for RatingRunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a saved view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// An analysis: grouping, filters, measures, period range.
    Analysis,
    /// An asset group: a saved filter set for the dashboard and the analysis.
    AssetGroup,
}

impl ViewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Analysis => "analysis",
            Self::AssetGroup => "asset_group",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "analysis" => Some(Self::Analysis),
            "asset_group" => Some(Self::AssetGroup),
            _ => None,
        }
    }
}
