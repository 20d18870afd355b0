//! Billing role assignments (azure-protocol.md section 3).

use crate::*;
use reqwest::Method;

fn ra_path(ea: &str, name: &str, api: &str) -> String {
    format!(
        "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{name}?api-version={api}"
    )
}

fn reader_body(t: &T, principal: impl ToString) -> Value {
    let ea = &t.demo.ea_enrollment;
    json!({"properties": {
        "principalId": principal.to_string(),
        "principalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}")
    }})
}

#[tokio::test]
async fn ea_put_get_list_delete() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let admin = t.ea_admin_token();
    let sp = t.demo.app.service_principal_object_id;
    let name = uuid::Uuid::new_v4().to_string();
    let app = t.app_token().await;
    assert_eq!(
        t.get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{ea}?api-version=2024-04-01"),
            &app
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // PUT 2019-10-01-preview: 200.
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &name, "2019-10-01-preview"),
            &admin,
            reader_body(&t, sp),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"], name.as_str());
    assert_eq!(v["properties"]["principalId"], sp.to_string());
    assert_eq!(
        v["properties"]["principalTenantId"],
        t.demo.tenant.id.to_string()
    );
    assert_eq!(
        v["properties"]["createdByPrincipalId"],
        t.demo.ea_admin.object_id.to_string()
    );
    assert_eq!(
        v["properties"]["scope"],
        format!("/providers/Microsoft.Billing/billingAccounts/{ea}")
    );
    assert_eq!(
        v["type"],
        "Microsoft.Billing/billingAccounts/billingRoleAssignments"
    );
    // The service principal can now read.
    assert_eq!(
        t.get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{ea}?api-version=2024-04-01"),
            &app
        )
        .await
        .0,
        StatusCode::OK
    );
    // GET and list (the reader may list too).
    let (s, v) = t
        .get(&ra_path(&ea, &name, "2019-10-01-preview"), &app)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["properties"]["roleDefinitionId"],
        format!(
            "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}"
        )
    );
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments?api-version=2019-10-01-preview"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    let items = v["value"].as_array().expect("value");
    assert_eq!(items.len(), 2, "the admin's own assignment and the reader");
    assert!(
        items
            .iter()
            .any(|i| i["properties"]["principalId"] == sp.to_string())
    );
    // The reader cannot delete; the admin can (200 with the deleted assignment).
    let (s, _) = t
        .send(
            Method::DELETE,
            &ra_path(&ea, &name, "2019-10-01-preview"),
            &app,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .send(
            Method::DELETE,
            &ra_path(&ea, &name, "2019-10-01-preview"),
            &admin,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["name"], name.as_str());
    let (s, v) = t
        .get(&ra_path(&ea, &name, "2019-10-01-preview"), &admin)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    assert_eq!(
        t.get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{ea}?api-version=2024-04-01"),
            &app
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn ea_put_2024_creates_201_then_200() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let admin = t.ea_admin_token();
    let name = uuid::Uuid::new_v4().to_string();
    let body = reader_body(&t, t.demo.app.service_principal_object_id);
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &name, "2024-04-01"),
            &admin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["properties"]["principalType"], "ServicePrincipal");
    let (s, _) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &name, "2024-04-01"),
            &admin,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn flat_body_is_an_aspnet_problem_details_400() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let admin = t.ea_admin_token();
    let flat = reader_body(&t, t.demo.app.service_principal_object_id)["properties"].clone();
    for api in ["2019-10-01-preview", "2024-04-01"] {
        let r = t
            .http
            .put(t.arm(&ra_path(&ea, &uuid::Uuid::new_v4().to_string(), api)))
            .bearer_auth(&admin)
            .json(&flat)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("application/problem+json")
        );
        let v: Value = r.json().await.expect("json");
        assert!(v.get("error").is_none(), "not the ARM envelope");
        assert_eq!(v["title"], "One or more validation errors occurred.");
        assert_eq!(v["status"], 400);
        assert_eq!(
            v["type"],
            "https://tools.ietf.org/html/rfc7231#section-6.5.1"
        );
        assert!(v["traceId"].is_string());
        assert_eq!(
            v["errors"]["Properties.PrincipalId"][0],
            "PrincipalId or UserEmailAddress/UserAuthenticationType must be specified."
        );
        assert_eq!(
            v["errors"]["Properties.RoleDefinitionId"][0],
            "The RoleDefinitionId field is required."
        );
    }
    // Wrapped but without roleDefinitionId: only that error.
    let mut body = reader_body(&t, t.demo.app.service_principal_object_id);
    body["properties"]
        .as_object_mut()
        .map(|o| o.remove("roleDefinitionId"));
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, "x", "2019-10-01-preview"),
            &admin,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["errors"].get("Properties.PrincipalId").is_none());
    assert!(v["errors"]["Properties.RoleDefinitionId"].is_array());
}

#[tokio::test]
async fn property_names_are_case_insensitive() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let body = json!({"properties": {
        "PrincipalId": t.demo.app.service_principal_object_id,
        "PrincipalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}")
    }});
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &t.ea_admin_token(),
            body,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn only_an_enrollment_administrator_may_assign() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let body = reader_body(&t, t.demo.app.service_principal_object_id);
    // The service principal cannot grant itself the role.
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &t.app_token().await,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "AuthorizationFailed");
    // Nor can the MCA owner (no role on the enrollment), nor a reader.
    let (s, _) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &t.mca_owner_token(),
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    t.grant_ea_reader().await;
    let other = t
        .sim
        .sim()
        .create_app("contoso.com", Default::default())
        .expect("app");
    let (s, _) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &t.app_token().await,
            reader_body(&t, other.service_principal_object_id),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn application_object_id_is_not_a_principal() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &t.ea_admin_token(),
            reader_body(&t, t.demo.app.object_id),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("The provided principal Tenant Id") && msg.contains("are not valid"),
        "{msg}"
    );
}

#[tokio::test]
async fn invalid_role_definition_and_conflict() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let admin = t.ea_admin_token();
    let mut body = reader_body(&t, t.demo.app.service_principal_object_id);
    body["properties"]["roleDefinitionId"] = json!(format!(
        "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{MCA_READER}"
    ));
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, "a", "2019-10-01-preview"),
            &admin,
            body,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidRoleDefinitionId"))
    );
    t.grant_ea_reader().await;
    // A service principal can have only one role: another assignment is a 409.
    let (s, v) = t
        .send(
            Method::PUT,
            &ra_path(&ea, &uuid::Uuid::new_v4().to_string(), "2019-10-01-preview"),
            &admin,
            reader_body(&t, t.demo.app.service_principal_object_id),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("Conflict"))
    );
}

#[tokio::test]
async fn mca_create_billing_role_assignment() {
    let t = spawn().await;
    let mca = t.demo.mca_billing_account.clone();
    let sp = t.demo.app.service_principal_object_id;
    let path = |api: &str| {
        format!(
            "/providers/Microsoft.Billing/billingAccounts/{mca}/createBillingRoleAssignment?api-version={api}"
        )
    };
    let body = json!({"principalId": sp, "principalTenantId": t.demo.tenant.id, "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions/{MCA_READER}")});
    // Not the owner: refused.
    let (s, _) = t
        .send(
            Method::POST,
            &path("2020-05-01"),
            &t.app_token().await,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // 2020-05-01 answers 201 and names the assignment {role}_{principal}.
    let (s, v) = t
        .send(
            Method::POST,
            &path("2020-05-01"),
            &t.mca_owner_token(),
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], format!("{MCA_READER}_{sp}"));
    // Again: 409.
    let (s, _) = t
        .send(
            Method::POST,
            &path("2024-04-01"),
            &t.mca_owner_token(),
            body,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The reader can now read the account.
    assert_eq!(
        t.get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{mca}?api-version=2024-04-01"),
            &t.app_token().await
        )
        .await
        .0,
        StatusCode::OK
    );
    // EA accounts use PUT, not createBillingRoleAssignment.
    let ea = &t.demo.ea_enrollment;
    let (s, _) = t
        .send(Method::POST, &format!("/providers/Microsoft.Billing/billingAccounts/{ea}/createBillingRoleAssignment?api-version=2024-04-01"), &t.ea_admin_token(), json!({"principalId": sp, "roleDefinitionId": "x"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn role_definitions_list() {
    let t = spawn().await;
    let mca = &t.demo.mca_billing_account;
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions?api-version=2024-04-01"), &t.mca_owner_token()).await;
    assert_eq!(s, StatusCode::OK);
    let reader = v["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|r| r["properties"]["roleName"] == "Billing account reader")
        .cloned()
        .expect("reader role");
    assert_eq!(reader["name"], MCA_READER);
    let ea = &t.demo.ea_enrollment;
    let (_, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions?api-version=2019-10-01-preview"), &t.ea_admin_token()).await;
    assert!(
        v["value"]
            .as_array()
            .expect("value")
            .iter()
            .any(|r| r["name"] == READER)
    );
}
