//! `Microsoft.Billing`: billing accounts, role definitions, permissions and role assignments
//! (azure-protocol.md sections 2 and 3).

use crate::arm::{
    self, ArmRequest, BILLING_VERSIONS, Caller, arm_error, authorization_failed, bare_not_found,
    caller_roles, can_manage, can_read, find_account,
};
use crate::clock::azure_datetime;
use crate::faults::FaultEndpoint;
use crate::generator::Agreement;
use crate::http_util::{get_ci, json_response, set_header};
use crate::model::{BillingAccount, RoleAssignment};
use crate::roles;
use crate::sim::Sim;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use uuid::Uuid;

fn account_path(name: &str) -> String {
    format!("/providers/Microsoft.Billing/billingAccounts/{name}")
}

fn expands(req: &ArmRequest) -> Vec<String> {
    get_ci(&req.query, "$expand")
        .map(|e| {
            e.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// A billing account as the given api-version shows it.
pub(crate) fn account_json(acct: &BillingAccount, api: &str, expand: &[String]) -> Value {
    let id = account_path(&acct.name);
    let mut p = Map::new();
    let ea = acct.agreement == Agreement::Ea;
    p.insert("displayName".into(), json!(acct.display_name));
    p.insert(
        "agreementType".into(),
        json!(arm::agreement_type(acct.agreement)),
    );
    match api {
        "2019-10-01-preview" => {
            p.insert("accountType".into(), json!("Enterprise"));
            if !ea {
                p.insert("organizationId".into(), json!(acct.tenant_id.to_string()));
            }
        }
        "2020-05-01" => {
            p.insert("accountStatus".into(), json!("Active"));
            p.insert("accountType".into(), json!("Enterprise"));
            p.insert("hasReadAccess".into(), json!(true));
        }
        _ => {
            p.insert("accountStatus".into(), json!("Active"));
            p.insert(
                "accountType".into(),
                json!(if ea { "Enterprise" } else { "Business" }),
            );
            p.insert(
                "accountSubType".into(),
                json!(if ea { "None" } else { "Enterprise" }),
            );
            p.insert("hasReadAccess".into(), json!(true));
            p.insert(
                "primaryBillingTenantId".into(),
                json!(acct.tenant_id.to_string()),
            );
        }
    }
    let u = acct.generator.universe();
    if ea {
        p.insert(
            "soldTo".into(),
            json!({"addressLine1": "1 Microsoft Way", "addressLine2": "Building 92", "addressLine3": "", "city": "Redmond", "postalCode": "98052", "region": "WA", "country": "US"}),
        );
        if expand.iter().any(|e| e == "enrollmentdetails") {
            let start = acct.data.data_start;
            let end = start.replace_year(start.year() + 3).unwrap_or(start);
            let mut policies = Map::new();
            policies.insert("accountOwnerViewCharges".into(), json!(true));
            policies.insert("departmentAdminViewCharges".into(), json!(true));
            policies.insert(
                if api == "2024-04-01" {
                    "marketplaceEnabled"
                } else {
                    "marketplacesEnabled"
                }
                .into(),
                json!(true),
            );
            policies.insert("reservedInstancesEnabled".into(), json!(true));
            p.insert(
                "enrollmentDetails".into(),
                json!({
                    "startDate": format!("{start}T00:00:00Z"),
                    "endDate": format!("{end}T00:00:00Z"),
                    "currency": acct.data.currency,
                    "channel": "EaDirect",
                    "language": "en",
                    "countryCode": "US",
                    "status": "Active",
                    "billingCycle": "Monthly",
                    "policies": Value::Object(policies),
                }),
            );
        }
        if expand.iter().any(|e| e == "departments") {
            let deps: Vec<Value> = u
                .sections()
                .into_iter()
                .map(|(did, name, cc)| {
                    json!({"id": format!("{id}/departments/{did}"), "name": did, "type": "Microsoft.Billing/departments",
                           "properties": {"departmentName": name, "costCenter": cc, "status": "Active"}})
                })
                .collect();
            p.insert("departments".into(), Value::Array(deps));
        }
        if expand.iter().any(|e| e == "enrollmentaccounts") {
            let start = format!("{}T00:00:00Z", acct.data.data_start);
            let end = format!(
                "{}T00:00:00Z",
                acct.data
                    .data_start
                    .replace_year(acct.data.data_start.year() + 3)
                    .unwrap_or(acct.data.data_start)
            );
            let accts: Vec<Value> = u
                .enrollment_accounts()
                .into_iter()
                .map(|(aid, name, cc)| {
                    json!({"id": format!("{id}/enrollmentAccounts/{aid}"), "name": aid, "type": "Microsoft.Billing/enrollmentAccounts",
                           "properties": {"accountName": name, "costCenter": cc, "status": "Active", "startDate": start, "endDate": end}})
                })
                .collect();
            p.insert("enrollmentAccounts".into(), Value::Array(accts));
        }
    } else if expand.iter().any(|e| e == "billingprofiles") {
        let bps: Vec<Value> = u
            .billing_profiles()
            .into_iter()
            .map(|(bid, name)| json!({"id": format!("{id}/billingProfiles/{bid}"), "name": bid, "type": "Microsoft.Billing/billingAccounts/billingProfiles", "properties": {"displayName": name}}))
            .collect();
        p.insert(
            "billingProfiles".into(),
            json!({"hasMoreResults": false, "value": bps}),
        );
    }
    let mut v = json!({"id": id, "name": acct.name, "properties": Value::Object(p), "type": "Microsoft.Billing/billingAccounts"});
    if api == "2024-04-01" {
        v["systemData"] = json!({"createdAt": azure_datetime(acct.created_at), "lastModifiedAt": azure_datetime(acct.created_at)});
    }
    v
}

/// A role assignment as the given api-version shows it.
pub(crate) fn assignment_json(
    acct: &BillingAccount,
    a: &RoleAssignment,
    api: &str,
    short_type: bool,
) -> Value {
    let scope = account_path(&acct.name);
    let mut p = Map::new();
    p.insert("createdOn".into(), json!(azure_datetime(a.created_on)));
    if api == "2024-04-01" {
        // The 2024-04-01 examples always carry both (createdByPrincipalId may be "").
        let tenant = a.created_by_principal_tenant_id.unwrap_or(acct.tenant_id);
        p.insert(
            "createdByPrincipalTenantId".into(),
            json!(tenant.to_string()),
        );
        p.insert(
            "createdByPrincipalId".into(),
            json!(
                a.created_by_principal_id
                    .map(|o| o.to_string())
                    .unwrap_or_default()
            ),
        );
    } else {
        if let Some(t) = a.created_by_principal_tenant_id {
            p.insert("createdByPrincipalTenantId".into(), json!(t.to_string()));
        }
        if let Some(o) = a.created_by_principal_id {
            p.insert("createdByPrincipalId".into(), json!(o.to_string()));
        }
        if let (None, Some(e)) = (a.created_by_principal_id, &a.created_by_user_email) {
            p.insert("createdByUserEmailAddress".into(), json!(e));
        }
    }
    let user = a.principal_type == "User";
    if !(user && api == "2019-10-01-preview") {
        p.insert("principalId".into(), json!(a.principal_id.to_string()));
        p.insert(
            "principalTenantId".into(),
            json!(a.principal_tenant_id.to_string()),
        );
    }
    p.insert(
        "roleDefinitionId".into(),
        json!(format!(
            "{scope}/billingRoleDefinitions/{}",
            a.role_definition
        )),
    );
    p.insert("scope".into(), json!(scope));
    if user {
        p.insert("userAuthenticationType".into(), json!("Organization"));
        if let Some(e) = &a.user_email {
            p.insert("userEmailAddress".into(), json!(e));
        }
    }
    if api == "2024-04-01" {
        p.insert("principalType".into(), json!(a.principal_type));
    }
    json!({
        "id": format!("{scope}/billingRoleAssignments/{}", a.name),
        "name": a.name,
        "properties": Value::Object(p),
        "type": if short_type { "Microsoft.Billing/billingRoleAssignments" } else { "Microsoft.Billing/billingAccounts/billingRoleAssignments" },
    })
}

fn role_definition_json(acct: &BillingAccount, r: &roles::RoleDef) -> Value {
    json!({
        "id": format!("{}/billingRoleDefinitions/{}", account_path(&acct.name), r.id),
        "name": r.id.to_string(),
        "properties": {"description": r.description, "permissions": [{"actions": roles::actions(acct.agreement, r), "notActions": []}], "roleName": r.name},
        "type": "Microsoft.Billing/billingAccounts/billingRoleDefinitions",
    })
}

/// ASP.NET Core ProblemDetails 400 (section 3.1.4).
fn problem(errors: Value) -> Response {
    let trace = format!(
        "00-{}-{}-00",
        Uuid::new_v4().simple(),
        &Uuid::new_v4().simple().to_string()[..16]
    );
    let body = json!({
        "errors": errors,
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "traceId": trace,
    });
    let mut r = json_response(StatusCode::BAD_REQUEST, &body);
    set_header(
        r.headers_mut(),
        "content-type",
        "application/problem+json; charset=utf-8",
    );
    r
}

fn get_ci_obj<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn str_field(o: &Map<String, Value>, key: &str) -> Option<String> {
    get_ci_obj(o, key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

struct AssignmentInput {
    principal_id: Option<String>,
    principal_tenant_id: Option<String>,
    role_definition_id: String,
    user_email: Option<String>,
}

/// Resolve and check an assignment request: role definition of this account, existing principal.
fn resolve(
    sim: &Sim,
    acct: &BillingAccount,
    input: &AssignmentInput,
) -> Result<(Uuid, Uuid, Uuid, &'static str, Option<String>), Response> {
    let prefix = format!("{}/billingRoleDefinitions/", account_path(&acct.name));
    let role = input
        .role_definition_id
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(&prefix))
        .and_then(|_| Uuid::parse_str(&input.role_definition_id[prefix.len()..]).ok())
        .and_then(|id| roles::lookup(acct.agreement, id));
    let Some(role) = role else {
        return Err(arm_error(
            400,
            "InvalidRoleDefinitionId",
            format!(
                "The role definition ID '{}' is not valid for billing account '{}'.",
                input.role_definition_id, acct.name
            ),
        ));
    };
    let st = sim.state();
    if let Some(pid) = &input.principal_id {
        let tenant = input
            .principal_tenant_id
            .clone()
            .unwrap_or_else(|| acct.tenant_id.to_string());
        let parsed = (Uuid::parse_str(pid).ok(), Uuid::parse_str(&tenant).ok());
        if let (Some(o), Some(t)) = parsed
            && let Some(kind) = st.principal_exists(t, o)
        {
            let email = st
                .users
                .iter()
                .find(|u| u.object_id == o)
                .map(|u| u.user_principal_name.clone());
            return Ok((o, t, role.id, kind, email));
        }
        return Err(arm_error(
            400,
            "BadRequest",
            format!(
                "The provided principal Tenant Id = {tenant} and principal Object Id = {pid} are not valid"
            ),
        ));
    }
    let email = input
        .user_email
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match st.users.iter().find(|u| u.user_principal_name == email) {
        Some(u) => Ok((u.object_id, u.tenant_id, role.id, "User", Some(email))),
        None => Err(arm_error(
            400,
            "BadRequest",
            format!("The user '{email}' was not found."),
        )),
    }
}

pub(crate) async fn handle(sim: &Sim, req: &ArmRequest) -> Response {
    let segs = &req.segs;
    let account = segs.get(3).cloned();
    let ep = if segs.iter().any(|s| {
        s.eq_ignore_ascii_case("billingRoleAssignments")
            || s.eq_ignore_ascii_case("createBillingRoleAssignment")
    }) {
        FaultEndpoint::RoleAssignments
    } else {
        FaultEndpoint::BillingAccounts
    };
    let body_fault = match arm::check_fault(sim, ep, account.as_deref()).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let caller = match arm::authenticate(sim, &req.headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let resp = route(sim, req, &caller);
    match body_fault {
        Some(k) => crate::faults::apply_to_body(resp, &k),
        None => resp,
    }
}

fn route(sim: &Sim, req: &ArmRequest, caller: &Caller) -> Response {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let m = &req.method;
    match (m, &l[3..]) {
        (&Method::GET, []) => list_accounts(sim, req, caller),
        (&Method::GET, [_]) => get_account(sim, req, caller, segs[3]),
        (&Method::GET, [_, "billingpermissions"]) => permissions(sim, req, caller, segs[3]),
        (&Method::GET, [_, "billingroledefinitions"]) => {
            role_definitions(sim, req, caller, segs[3], None)
        }
        (&Method::GET, [_, "billingroledefinitions", _]) => {
            role_definitions(sim, req, caller, segs[3], Some(segs[5]))
        }
        (&Method::GET, [_, "billingroleassignments"]) => {
            list_assignments(sim, req, caller, segs[3])
        }
        (&Method::GET, [_, "billingroleassignments", _]) => {
            get_assignment(sim, req, caller, segs[3], segs[5])
        }
        (&Method::PUT, [_, "billingroleassignments", _]) => {
            put_assignment(sim, req, caller, segs[3], segs[5])
        }
        (&Method::DELETE, [_, "billingroleassignments", _]) => {
            delete_assignment(sim, req, caller, segs[3], segs[5])
        }
        (&Method::POST, [_, "createbillingroleassignment"]) => {
            create_assignment(sim, req, caller, segs[3])
        }
        (
            _,
            []
            | [_]
            | [_, "billingroleassignments", ..]
            | [_, "billingroledefinitions", ..]
            | [_, "createbillingroleassignment"]
            | [_, "billingpermissions"],
        ) => arm_error(
            405,
            "MethodNotAllowed",
            format!("The requested method '{m}' is not allowed on this resource."),
        ),
        _ => arm_error(404, "NotFound", "The requested resource was not found."),
    }
}

fn version(req: &ArmRequest, resource_type: &str) -> Result<String, Response> {
    arm::api_version(
        &req.query,
        BILLING_VERSIONS,
        "Microsoft.Billing",
        resource_type,
    )
}

fn list_accounts(sim: &Sim, req: &ArmRequest, caller: &Caller) -> Response {
    let api = match version(req, "billingAccounts") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let expand = expands(req);
    let st = sim.state();
    let value: Vec<Value> = st
        .accounts
        .values()
        .filter(|a| can_read(a, caller))
        .map(|a| account_json(a, &api, &expand))
        .collect();
    json_response(StatusCode::OK, &json!({ "value": value }))
}

fn get_account(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str) -> Response {
    let api = match version(req, "billingAccounts") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let st = sim.state();
    let Some(acct) = find_account(&st, name) else {
        return bare_not_found();
    };
    if !can_read(acct, caller) {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/read",
            &account_path(&acct.name),
        );
    }
    json_response(StatusCode::OK, &account_json(acct, &api, &expands(req)))
}

fn permissions(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str) -> Response {
    if let Err(r) = version(req, "billingAccounts/billingPermissions") {
        return r;
    }
    let st = sim.state();
    let Some(acct) = find_account(&st, name) else {
        return bare_not_found();
    };
    let value: Vec<Value> = caller_roles(acct, caller)
        .into_iter()
        .map(|r| json!({"actions": roles::actions(acct.agreement, r), "notActions": []}))
        .collect();
    json_response(StatusCode::OK, &json!({ "value": value }))
}

fn role_definitions(
    sim: &Sim,
    req: &ArmRequest,
    caller: &Caller,
    name: &str,
    one: Option<&str>,
) -> Response {
    if let Err(r) = version(req, "billingAccounts/billingRoleDefinitions") {
        return r;
    }
    let st = sim.state();
    let Some(acct) = find_account(&st, name) else {
        return bare_not_found();
    };
    if caller_roles(acct, caller).is_empty() {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/billingRoleDefinitions/read",
            &account_path(&acct.name),
        );
    }
    match one {
        None => json_response(
            StatusCode::OK,
            &json!({"value": roles::definitions(acct.agreement).iter().map(|r| role_definition_json(acct, r)).collect::<Vec<_>>()}),
        ),
        Some(id) => match Uuid::parse_str(id)
            .ok()
            .and_then(|id| roles::lookup(acct.agreement, id))
        {
            Some(r) => json_response(StatusCode::OK, &role_definition_json(acct, r)),
            None => bare_not_found(),
        },
    }
}

fn list_assignments(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str) -> Response {
    let api = match version(req, "billingAccounts/billingRoleAssignments") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let st = sim.state();
    let Some(acct) = find_account(&st, name) else {
        return bare_not_found();
    };
    if !can_read(acct, caller) {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
            &account_path(&acct.name),
        );
    }
    let short = api == "2019-10-01-preview";
    let value: Vec<Value> = acct
        .assignments
        .iter()
        .map(|a| assignment_json(acct, a, &api, short))
        .collect();
    json_response(StatusCode::OK, &json!({ "value": value }))
}

fn get_assignment(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str, ra: &str) -> Response {
    let api = match version(req, "billingAccounts/billingRoleAssignments") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let st = sim.state();
    let Some(acct) = find_account(&st, name) else {
        return bare_not_found();
    };
    if !can_read(acct, caller) {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
            &account_path(&acct.name),
        );
    }
    match acct
        .assignments
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(ra))
    {
        Some(a) => json_response(
            StatusCode::OK,
            &assignment_json(acct, a, &api, api == "2019-10-01-preview"),
        ),
        None => bare_not_found(),
    }
}

fn delete_assignment(
    sim: &Sim,
    req: &ArmRequest,
    caller: &Caller,
    name: &str,
    ra: &str,
) -> Response {
    let api = match version(req, "billingAccounts/billingRoleAssignments") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut st = sim.state();
    let Some(key) = find_account(&st, name).map(|a| a.name.clone()) else {
        return bare_not_found();
    };
    let Some(acct) = st.accounts.get_mut(&key) else {
        return bare_not_found();
    };
    if !can_manage(acct, caller) {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/delete",
            &account_path(&acct.name),
        );
    }
    let Some(pos) = acct
        .assignments
        .iter()
        .position(|a| a.name.eq_ignore_ascii_case(ra))
    else {
        return bare_not_found();
    };
    let a = acct.assignments.remove(pos);
    json_response(StatusCode::OK, &assignment_json(acct, &a, &api, false))
}

/// `PUT .../billingRoleAssignments/{name}` (EA 2019-10-01-preview and 2024-04-01; `properties`-wrapped).
fn put_assignment(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str, ra: &str) -> Response {
    let api = match arm::api_version(
        &req.query,
        &["2019-10-01-preview", "2024-04-01"],
        "Microsoft.Billing",
        "billingAccounts/billingRoleAssignments",
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Model binding first, as ASP.NET does: a flat or incomplete body is a ProblemDetails 400.
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            return problem(
                json!({"$": [format!("The JSON value could not be converted to the request model. {e}")]}),
            );
        }
    };
    let props = body
        .as_object()
        .and_then(|o| get_ci_obj(o, "properties"))
        .and_then(Value::as_object);
    let mut errors = Map::new();
    let input = match props {
        None => {
            errors.insert(
                "Properties.PrincipalId".into(),
                json!([
                    "PrincipalId or UserEmailAddress/UserAuthenticationType must be specified."
                ]),
            );
            errors.insert(
                "Properties.RoleDefinitionId".into(),
                json!(["The RoleDefinitionId field is required."]),
            );
            None
        }
        Some(p) => {
            let input = AssignmentInput {
                principal_id: str_field(p, "principalId"),
                principal_tenant_id: str_field(p, "principalTenantId"),
                role_definition_id: str_field(p, "roleDefinitionId").unwrap_or_default(),
                user_email: str_field(p, "userEmailAddress"),
            };
            if input.principal_id.is_none() && input.user_email.is_none() {
                errors.insert(
                    "Properties.PrincipalId".into(),
                    json!([
                        "PrincipalId or UserEmailAddress/UserAuthenticationType must be specified."
                    ]),
                );
            }
            if input.role_definition_id.is_empty() {
                errors.insert(
                    "Properties.RoleDefinitionId".into(),
                    json!(["The RoleDefinitionId field is required."]),
                );
            }
            Some(input)
        }
    };
    let Some(input) = input.filter(|_| errors.is_empty()) else {
        return problem(Value::Object(errors));
    };
    let (acct_key, acct_snapshot_ok) = {
        let st = sim.state();
        match find_account(&st, name) {
            None => return bare_not_found(),
            Some(a) => (a.name.clone(), can_manage(a, caller)),
        }
    };
    if !acct_snapshot_ok {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/write",
            &account_path(&acct_key),
        );
    }
    let resolved = {
        let st = sim.state();
        let Some(acct) = st.accounts.get(&acct_key) else {
            return bare_not_found();
        };
        // `resolve` locks the state itself; release ours first by cloning what it needs.
        let acct = acct.clone();
        drop(st);
        resolve(sim, &acct, &input)
    };
    let (oid, tid, role, kind, email) = match resolved {
        Ok(r) => r,
        Err(r) => return r,
    };
    let now = sim.now();
    let mut st = sim.state();
    let Some(acct) = st.accounts.get_mut(&acct_key) else {
        return bare_not_found();
    };
    if acct.assignments.iter().any(|a| {
        !a.name.eq_ignore_ascii_case(ra) && a.principal_id == oid && a.principal_tenant_id == tid
    }) {
        return arm_error(
            409,
            "Conflict",
            format!(
                "The principal '{oid}' already has a billing role assignment on billing account '{}'. A principal can have only one role.",
                acct.name
            ),
        );
    }
    let created_by_email = caller.upn.clone();
    let status;
    let assignment = match acct
        .assignments
        .iter_mut()
        .find(|a| a.name.eq_ignore_ascii_case(ra))
    {
        Some(existing) => {
            existing.principal_id = oid;
            existing.principal_tenant_id = tid;
            existing.role_definition = role;
            existing.principal_type = kind.into();
            existing.user_email = if kind == "User" { email } else { None };
            status = StatusCode::OK;
            existing.clone()
        }
        None => {
            let a = RoleAssignment {
                name: ra.to_string(),
                principal_id: oid,
                principal_tenant_id: tid,
                role_definition: role,
                created_on: now,
                created_by_principal_id: Some(caller.oid),
                created_by_principal_tenant_id: Some(caller.tid),
                created_by_user_email: created_by_email,
                principal_type: kind.into(),
                user_email: if kind == "User" { email } else { None },
            };
            acct.assignments.push(a.clone());
            status = if api == "2024-04-01" {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            a
        }
    };
    json_response(status, &assignment_json(acct, &assignment, &api, false))
}

/// `POST .../createBillingRoleAssignment` (MCA; flat body; 2020-05-01 answers 201, 2024-04-01 200).
fn create_assignment(sim: &Sim, req: &ArmRequest, caller: &Caller, name: &str) -> Response {
    let api = match arm::api_version(
        &req.query,
        &["2020-05-01", "2024-04-01"],
        "Microsoft.Billing",
        "billingAccounts/createBillingRoleAssignment",
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let acct = {
        let st = sim.state();
        match find_account(&st, name) {
            None => return bare_not_found(),
            Some(a) => a.clone(),
        }
    };
    if !can_manage(&acct, caller) {
        return authorization_failed(
            caller,
            "Microsoft.Billing/billingAccounts/createBillingRoleAssignment/action",
            &account_path(&acct.name),
        );
    }
    if acct.agreement != Agreement::Mca {
        return arm_error(
            400,
            "BadRequest",
            format!(
                "createBillingRoleAssignment is not supported for billing account '{}' of agreement type EnterpriseAgreement. Use PUT billingRoleAssignments.",
                acct.name
            ),
        );
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized.",
            );
        }
    };
    let Some(o) = body.as_object() else {
        return arm_error(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        );
    };
    let input = AssignmentInput {
        principal_id: str_field(o, "principalId"),
        principal_tenant_id: str_field(o, "principalTenantId"),
        role_definition_id: str_field(o, "roleDefinitionId").unwrap_or_default(),
        user_email: str_field(o, "userEmailAddress"),
    };
    if input.role_definition_id.is_empty()
        || (input.principal_id.is_none() && input.user_email.is_none())
    {
        return arm_error(
            400,
            "InvalidRequestContent",
            "roleDefinitionId and principalId (or userEmailAddress) are required.",
        );
    }
    let (oid, tid, role, kind, email) = match resolve(sim, &acct, &input) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let now = sim.now();
    let mut st = sim.state();
    let Some(acct) = st.accounts.get_mut(&acct.name) else {
        return bare_not_found();
    };
    let ra = format!("{role}_{oid}");
    if acct
        .assignments
        .iter()
        .any(|a| a.name == ra || (a.principal_id == oid && a.role_definition == role))
    {
        return arm_error(
            409,
            "Conflict",
            format!(
                "The principal '{oid}' already has this role on billing account '{}'.",
                acct.name
            ),
        );
    }
    let a = RoleAssignment {
        name: ra,
        principal_id: oid,
        principal_tenant_id: tid,
        role_definition: role,
        created_on: now,
        created_by_principal_id: Some(caller.oid),
        created_by_principal_tenant_id: Some(caller.tid),
        created_by_user_email: caller.upn.clone(),
        principal_type: kind.into(),
        user_email: if kind == "User" { email } else { None },
    };
    acct.assignments.push(a.clone());
    let status = if api == "2020-05-01" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_response(status, &assignment_json(acct, &a, &api, false))
}
