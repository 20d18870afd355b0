use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random identifier.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization: the tenant of this system.
    OrganizationId
);
id_type!(
    /// An invitation to join an organization.
    InviteId
);
id_type!(
    /// One entry of the audit trail.
    AuditEventId
);
id_type!(
    /// A person who logs in to the console or owns API tokens.
    UserId
);
id_type!(
    /// An account inside an organization (the unit that gets connected to a cloud provider).
    AccountId
);
id_type!(
    /// An API token (its identifier, not its secret value).
    ApiTokenId
);

id_type!(
    /// A cloud connection (an account's link to an Azure billing account).
    ConnectionId
);
id_type!(
    /// A persistent background job (a sync, a rating).
    JobId
);
id_type!(
    /// A server process's job runner: the owner of the job leases it holds. New at each start.
    RunnerId
);

id_type!(
    /// One period's pull within a sync.
    SyncPeriodId
);

id_type!(
    /// A family: a named group of sub-accounts billed as one customer.
    FamilyId
);
id_type!(
    /// A plan: a named, ordered list of rules.
    PlanId
);
id_type!(
    /// A rule of a plan.
    RuleId
);
id_type!(
    /// An allocation assignment (a key and its entries).
    AllocationId
);
id_type!(
    /// A source of imported FOCUS files (one per tool or provider the user imports from).
    ImportSourceId
);
id_type!(
    /// One rating run of an organization's period.
    RatingRunId
);

id_type!(
    /// A saved analysis view or asset group.
    SavedViewId
);

id_type!(
    /// An invoice template.
    TemplateId
);
id_type!(
    /// An invoice run (a draft, then finalized).
    InvoiceRunId
);
id_type!(
    /// An invoice, a credit note or a debit note.
    InvoiceId
);
id_type!(
    /// An e-mail delivery of an invoice.
    DeliveryId
);
id_type!(
    /// A scheduled invoice run.
    ScheduleId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = AccountId::new();
        let parsed: AccountId = id.to_string().parse().expect("parses");
        assert_eq!(id, parsed);
        assert!("not-a-uuid".parse::<AccountId>().is_err());
    }
}
