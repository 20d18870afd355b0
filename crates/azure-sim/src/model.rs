//! The simulator's state: tenants, apps, users, billing accounts, role assignments, reports, faults.
//! These are the simulator's own types (administrative API), not Azure wire types.

use crate::faults::Fault;
use crate::generator::{Agreement, Generator, Layout, RowIter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// An Entra ID tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub display_name: String,
    /// Verified domains (lower case); the first is the `*.onmicrosoft.com` one.
    pub domains: Vec<String>,
}

/// A client secret of an app registration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Secret {
    /// The "Secret ID" shown in the portal (a user may paste it instead of the value).
    pub key_id: Uuid,
    /// The secret value.
    pub value: String,
    pub display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A single-tenant app registration with its service principal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct App {
    pub tenant_id: Uuid,
    pub display_name: String,
    /// Application (client) ID.
    pub client_id: Uuid,
    /// Object ID of the app registration (NOT the one billing role assignments need).
    pub object_id: Uuid,
    /// Object ID of the service principal (Enterprise applications -> Object ID): the token's `oid`.
    pub service_principal_object_id: Uuid,
    /// Sign-in disabled (AADSTS7000112).
    pub disabled: bool,
    /// False simulates an app without a service principal in its tenant (AADSTS7000229).
    pub has_service_principal: bool,
    pub secrets: Vec<Secret>,
}

/// A user (e.g. an EA enrollment administrator or an MCA billing account owner).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    pub password: String,
}

/// What an empty Cost Details period answers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmptyAnswer {
    /// `204 No Content` on the POST (2024-08-01 swagger, and the 2022-05-01 examples).
    #[default]
    NoContent,
    /// `202`, then the poll answers `status: NoDataFound`.
    NoDataFound,
}

/// How a billing account's cost data is generated and served.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DataOptions {
    pub seed: u64,
    /// Approximate rows per month of ActualCost. 0 = no data at all.
    pub rows_per_month: u64,
    /// Rows per blob of a Cost Details report: larger reports are split into several blobs.
    pub rows_per_blob: u64,
    /// First day with data (moved to the first of its month).
    pub data_start: Date,
    pub layout: Layout,
    pub currency: String,
    pub empty_answer: EmptyAnswer,
    /// generateCostDetailsReport calls allowed per minute and scope (None = unlimited).
    pub rate_limit_per_minute: Option<u32>,
}

/// A billing role assignment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoleAssignment {
    pub name: String,
    pub principal_id: Uuid,
    pub principal_tenant_id: Uuid,
    /// The role definition GUID (last segment of `roleDefinitionId`).
    pub role_definition: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_on: OffsetDateTime,
    pub created_by_principal_id: Option<Uuid>,
    pub created_by_principal_tenant_id: Option<Uuid>,
    pub created_by_user_email: Option<String>,
    /// `User` or `ServicePrincipal`.
    pub principal_type: String,
    pub user_email: Option<String>,
}

/// An EA enrollment or an MCA billing account.
#[derive(Debug, Clone)]
pub struct BillingAccount {
    pub name: String,
    pub agreement: Agreement,
    pub display_name: String,
    pub tenant_id: Uuid,
    pub created_at: OffsetDateTime,
    pub data: DataOptions,
    pub assignments: Vec<RoleAssignment>,
    pub(crate) generator: Generator,
    pub(crate) calls: VecDeque<OffsetDateTime>,
}

/// Public summary of a billing account (admin API answer).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BillingAccountInfo {
    pub name: String,
    pub agreement: Agreement,
    pub display_name: String,
    pub tenant_id: Uuid,
    pub data: DataOptions,
    pub assignments: Vec<RoleAssignment>,
    pub subscriptions: Vec<String>,
    /// EA departments / MCA invoice sections: (id, name).
    pub sections: Vec<(String, String)>,
    /// EA enrollment accounts: (id, name).
    pub enrollment_accounts: Vec<(String, String)>,
    /// MCA billing profiles: (id, name).
    pub billing_profiles: Vec<(String, String)>,
}

impl BillingAccount {
    pub(crate) fn info(&self) -> BillingAccountInfo {
        let u = self.generator.universe();
        BillingAccountInfo {
            name: self.name.clone(),
            agreement: self.agreement,
            display_name: self.display_name.clone(),
            tenant_id: self.tenant_id,
            data: self.data.clone(),
            assignments: self.assignments.clone(),
            subscriptions: u.subscription_ids(),
            sections: u.sections().into_iter().map(|(i, n, _)| (i, n)).collect(),
            enrollment_accounts: if self.agreement == Agreement::Ea {
                u.enrollment_accounts()
                    .into_iter()
                    .map(|(i, n, _)| (i, n))
                    .collect()
            } else {
                Vec::new()
            },
            billing_profiles: if self.agreement == Agreement::Mca {
                u.billing_profiles()
            } else {
                Vec::new()
            },
        }
    }
}

/// One blob of a finished report: a resumable cursor and its size.
#[derive(Debug, Clone)]
pub(crate) struct BlobPart {
    pub cursor: RowIter,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub(crate) enum ReportState {
    Running,
    Completed {
        parts: Vec<BlobPart>,
        valid_till: OffsetDateTime,
    },
    NoData,
    Failed {
        code: String,
        message: String,
    },
}

/// A Cost Details operation.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub id: Uuid,
    pub account: String,
    /// The scope as requested, without a leading slash.
    pub scope: String,
    pub api_version: String,
    pub request_body: serde_json::Value,
    pub ready_at: OffsetDateTime,
    pub state: ReportState,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub tenants: Vec<Tenant>,
    pub apps: Vec<App>,
    pub users: Vec<User>,
    pub accounts: BTreeMap<String, BillingAccount>,
    pub reports: BTreeMap<Uuid, Report>,
    pub faults: Vec<Fault>,
    pub next_fault: u64,
}

impl State {
    pub fn tenant_by_ref(&self, r: &str) -> Option<&Tenant> {
        let r = r.to_ascii_lowercase();
        self.tenants
            .iter()
            .find(|t| t.id.to_string() == r || t.domains.contains(&r))
    }
    pub fn principal_exists(&self, tenant: Uuid, oid: Uuid) -> Option<&'static str> {
        if self.apps.iter().any(|a| {
            a.tenant_id == tenant && a.has_service_principal && a.service_principal_object_id == oid
        }) {
            return Some("ServicePrincipal");
        }
        if self
            .users
            .iter()
            .any(|u| u.tenant_id == tenant && u.object_id == oid)
        {
            return Some("User");
        }
        None
    }
}
