//! Billing role definitions (azure-protocol.md sections 3.1 and 3.2) and what they allow.

use crate::generator::Agreement;
use uuid::{Uuid, uuid};

pub const EA_ENTERPRISE_ADMINISTRATOR: Uuid = uuid!("9f1983cb-2574-400c-87e9-34cf8e2280db");
pub const EA_ENROLLMENT_READER: Uuid = uuid!("24f8edb6-1668-4659-b5e2-40bb5f3a7d7e");
pub const EA_PURCHASER: Uuid = uuid!("da6647fb-7651-49ee-be91-c43c4877f0c4");
pub const MCA_OWNER: Uuid = uuid!("50000000-aaaa-bbbb-cccc-100000000000");
pub const MCA_CONTRIBUTOR: Uuid = uuid!("50000000-aaaa-bbbb-cccc-100000000001");
pub const MCA_READER: Uuid = uuid!("50000000-aaaa-bbbb-cccc-100000000002");
pub const MCA_BASIC_PURCHASER: Uuid = uuid!("50000000-aaaa-bbbb-cccc-100000000003");
/// Legacy "commerce root" ids of the 2020-05-01 examples, mapped onto the current ones.
const LEGACY_OWNER: Uuid = uuid!("10000000-aaaa-bbbb-cccc-100000000000");
const LEGACY_CONTRIBUTOR: Uuid = uuid!("10000000-aaaa-bbbb-cccc-100000000001");
const LEGACY_READER: Uuid = uuid!("10000000-aaaa-bbbb-cccc-100000000002");

pub(crate) struct RoleDef {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub read: bool,
    pub manage_access: bool,
}

const EA_ROLES: &[RoleDef] = &[
    RoleDef {
        id: EA_ENTERPRISE_ADMINISTRATOR,
        name: "Enterprise Administrator",
        description: "Enterprise Administrator: full access to the enrollment, including role assignments.",
        read: true,
        manage_access: true,
    },
    RoleDef {
        id: EA_ENROLLMENT_READER,
        name: "Enterprise Administrator (read only)",
        description: "EnrollmentReader: read access to the enrollment and its cost data.",
        read: true,
        manage_access: false,
    },
    RoleDef {
        id: EA_PURCHASER,
        name: "EA purchaser",
        description: "EA purchaser: purchases reservations and savings plans, reads the enrollment.",
        read: true,
        manage_access: false,
    },
];

const MCA_ROLES: &[RoleDef] = &[
    RoleDef {
        id: MCA_OWNER,
        name: "Billing account owner",
        description: "The Owner role gives the user all permissions including access management rights to the organization.",
        read: true,
        manage_access: true,
    },
    RoleDef {
        id: MCA_CONTRIBUTOR,
        name: "Billing account contributor",
        description: "The Contributor role gives the user all permissions except access management on the organization.",
        read: true,
        manage_access: true,
    },
    RoleDef {
        id: MCA_READER,
        name: "Billing account reader",
        description: "The Reader role gives the user read permissions to an organization.",
        read: true,
        manage_access: false,
    },
    RoleDef {
        id: MCA_BASIC_PURCHASER,
        name: "Basic Purchaser",
        description: "The Purchaser role gives the user permissions to make purchases by creating new Projects and Billing Groups in an organization.",
        read: false,
        manage_access: false,
    },
];

pub(crate) fn definitions(agreement: Agreement) -> &'static [RoleDef] {
    match agreement {
        Agreement::Ea => EA_ROLES,
        Agreement::Mca => MCA_ROLES,
    }
}

/// The role a definition id stands for on an account of this agreement (legacy MCA ids mapped).
pub(crate) fn lookup(agreement: Agreement, id: Uuid) -> Option<&'static RoleDef> {
    let id = match (agreement, id) {
        (Agreement::Mca, x) if x == LEGACY_OWNER => MCA_OWNER,
        (Agreement::Mca, x) if x == LEGACY_CONTRIBUTOR => MCA_CONTRIBUTOR,
        (Agreement::Mca, x) if x == LEGACY_READER => MCA_READER,
        (_, x) => x,
    };
    definitions(agreement).iter().find(|r| r.id == id)
}

/// The administrator role of an agreement.
pub(crate) fn admin_role(agreement: Agreement) -> Uuid {
    match agreement {
        Agreement::Ea => EA_ENTERPRISE_ADMINISTRATOR,
        Agreement::Mca => MCA_OWNER,
    }
}

/// Permission actions per role, for `billingPermissions` and role definitions.
pub(crate) fn actions(agreement: Agreement, role: &RoleDef) -> Vec<&'static str> {
    let mut a = vec!["Microsoft.Billing/billingAccounts/read"];
    if agreement == Agreement::Ea {
        a.extend([
            "Microsoft.Billing/billingAccounts/departments/read",
            "Microsoft.Billing/billingAccounts/enrollmentAccounts/read",
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
            "Microsoft.CostManagement/generateCostDetailsReport/action",
        ]);
    } else {
        a.extend([
            "Microsoft.Billing/billingAccounts/billingProfiles/read",
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
            "Microsoft.CostManagement/generateCostDetailsReport/action",
        ]);
    }
    if role.manage_access {
        a.extend([
            "Microsoft.Billing/billingAccounts/write",
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/write",
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/delete",
        ]);
    }
    if !role.read {
        a.retain(|x| !x.ends_with("/read") && !x.ends_with("generateCostDetailsReport/action"));
        a.push("Microsoft.Billing/billingAccounts/purchase/action");
    }
    a
}
