//! Fidelity: for every official example the simulator covers, the simulator's answer has the same
//! structure (field names, nesting, JSON types). `exact` also forbids extra fields.

use crate::cost::{last_month, run_report};
use crate::*;
use reqwest::Method;

#[tokio::test]
async fn billing_accounts_match_the_examples() {
    let t = spawn().await;
    let mca = t.demo.mca_billing_account.clone();
    let ea = t.demo.ea_enrollment.clone();
    let owner = t.mca_owner_token();
    let admin = t.ea_admin_token();
    let get =
        |api: &str| format!("/providers/Microsoft.Billing/billingAccounts/{mca}?api-version={api}");
    let list =
        |api: &str| format!("/providers/Microsoft.Billing/billingAccounts?api-version={api}");
    let cases: Vec<(&str, String, &str, bool)> = vec![
        (
            "billing/2019-10-01-preview/BillingAccount.json",
            get("2019-10-01-preview"),
            "owner",
            true,
        ),
        (
            "billing/2020-05-01/BillingAccount.json",
            get("2020-05-01"),
            "owner",
            true,
        ),
        (
            "billing/2024-04-01/billingAccountsGet.json",
            get("2024-04-01"),
            "owner",
            true,
        ),
        (
            "billing/2019-10-01-preview/BillingAccountsList.json",
            list("2019-10-01-preview"),
            "owner",
            true,
        ),
        (
            "billing/2020-05-01/BillingAccountsList.json",
            list("2020-05-01"),
            "owner",
            true,
        ),
        (
            "billing/2024-04-01/billingAccountsList.json",
            list("2024-04-01"),
            "owner",
            false,
        ),
        (
            "billing/2020-05-01/BillingAccountsListWithExpandForEnrollmentDetails.json",
            format!(
                "{}&$expand=enrollmentDetails,departments,enrollmentAccounts",
                list("2020-05-01")
            ),
            "admin",
            false,
        ),
        (
            "billing/2024-04-01/billingAccountsListWithExpandForEnrollmentDetails.json",
            format!(
                "{}&$expand=enrollmentDetails,departments,enrollmentAccounts",
                list("2024-04-01")
            ),
            "admin",
            false,
        ),
        (
            "billing/2019-10-01-preview/BillingAccountEaPermissionsList.json",
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{ea}/billingPermissions?api-version=2019-10-01-preview"
            ),
            "admin",
            true,
        ),
        (
            "billing/2019-10-01-preview/BillingAccountEaRoleAssignmentList.json",
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments?api-version=2019-10-01-preview"
            ),
            "admin",
            true,
        ),
        (
            "billing/2020-05-01/BillingAccountRoleDefinitionsList.json",
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions?api-version=2020-05-01"
            ),
            "owner",
            true,
        ),
        (
            "billing/2024-04-01/billingRoleDefinitionListByBillingAccount.json",
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions?api-version=2024-04-01"
            ),
            "owner",
            false,
        ),
        (
            "billing/2024-04-01/billingRoleAssignmentListByBillingAccount.json",
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleAssignments?api-version=2024-04-01"
            ),
            "owner",
            false,
        ),
    ];
    for (fx, path, who, exact) in cases {
        let token = if who == "owner" { &owner } else { &admin };
        let (s, v) = t.get(&path, token).await;
        assert_eq!(s, StatusCode::OK, "{fx}: {v}");
        let errs = same_shape(&fixture(fx, "200"), &v, "$", exact);
        assert!(errs.is_empty(), "{fx}:\n{}\n{v:#}", errs.join("\n"));
    }
    // The policy flag is spelled differently per version, as in the examples.
    let (_, v) = t
        .get(
            &format!("{}&$expand=enrollmentDetails", list("2020-05-01")),
            &admin,
        )
        .await;
    assert!(
        v["value"][0]["properties"]["enrollmentDetails"]["policies"]["marketplacesEnabled"]
            .is_boolean()
    );
    let (_, v) = t
        .get(
            &format!("{}&$expand=enrollmentDetails", list("2024-04-01")),
            &admin,
        )
        .await;
    assert!(
        v["value"][0]["properties"]["enrollmentDetails"]["policies"]["marketplaceEnabled"]
            .is_boolean()
    );
}

#[tokio::test]
async fn role_assignments_match_the_examples() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let mca = t.demo.mca_billing_account.clone();
    let admin = t.ea_admin_token();
    // GET one EA assignment (the administrator's, a user).
    let (_, list) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments?api-version=2019-10-01-preview"), &admin).await;
    let admin_ra = list["value"][0]["name"].as_str().expect("name").to_string();
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{admin_ra}?api-version=2019-10-01-preview"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_shape(
        &fixture(
            "billing/2019-10-01-preview/BillingAccountEaRoleAssignment.json",
            "200",
        ),
        &v,
        true,
    );
    // PUT 2019-10-01-preview for a service principal.
    let name = uuid::Uuid::new_v4();
    let body = json!({"properties": {"principalId": t.demo.app.service_principal_object_id, "principalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}")}});
    let path = format!(
        "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{name}?api-version=2019-10-01-preview"
    );
    let (s, v) = t.send(Method::PUT, &path, &admin, body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_shape(
        &fixture(
            "billing/2019-10-01-preview/PutEnrollmentAccountSubscriptionCreatorRoleAssignment.json",
            "200",
        ),
        &v,
        true,
    );
    // DELETE answers the deleted assignment (user variant, as in the example).
    let (s, v) = t.send(Method::DELETE, &format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{admin_ra}?api-version=2019-10-01-preview"), &admin, Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert_shape(
        &fixture(
            "billing/2019-10-01-preview/BillingAccountEaRoleAssignmentDelete.json",
            "200",
        ),
        &v,
        true,
    );
    // PUT 2024-04-01 (201, then 200).
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let admin = t.ea_admin_token();
    let body = json!({"properties": {"principalId": t.demo.app.service_principal_object_id, "principalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions/{READER}")}});
    let path = format!(
        "/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/{name}?api-version=2024-04-01"
    );
    let fx = "billing/2024-04-01/billingRoleAssignmentCreateOrUpdateByBillingAccount.json";
    let (s, v) = t.send(Method::PUT, &path, &admin, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_shape(&fixture(fx, "201"), &v, false);
    let (s, v) = t.send(Method::PUT, &path, &admin, body).await;
    assert_eq!(s, StatusCode::OK);
    assert_shape(&fixture(fx, "200"), &v, false);
    let (_, v) = t.get(&path, &admin).await;
    assert_shape(
        &fixture(
            "billing/2024-04-01/billingRoleAssignmentGetByBillingAccount.json",
            "200",
        ),
        &v,
        false,
    );
    // MCA createBillingRoleAssignment, 2020-05-01 (201) and 2024-04-01 (200).
    let owner = t.mca_owner_token();
    let body = json!({"principalId": t.demo.app.service_principal_object_id, "principalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions/{MCA_READER}")});
    let (s, v) = t.send(Method::POST, &format!("/providers/Microsoft.Billing/billingAccounts/{mca}/createBillingRoleAssignment?api-version=2020-05-01"), &owner, body).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_shape(
        &fixture(
            "billing/2020-05-01/AddRoleAssignmentToBillingAccount.json",
            "201",
        ),
        &v,
        true,
    );
    let other = t
        .sim
        .sim()
        .create_app("contoso.com", Default::default())
        .expect("app");
    let body = json!({"principalId": other.service_principal_object_id, "principalTenantId": t.demo.tenant.id,
        "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{mca}/billingRoleDefinitions/{MCA_READER}")});
    let (s, v) = t.send(Method::POST, &format!("/providers/Microsoft.Billing/billingAccounts/{mca}/createBillingRoleAssignment?api-version=2024-04-01"), &owner, body).await;
    assert_eq!(s, StatusCode::OK);
    assert_shape(
        &fixture(
            "billing/2024-04-01/billingRoleAssignmentCreateByBillingAccount.json",
            "200",
        ),
        &v,
        false,
    );
}

#[tokio::test]
async fn cost_details_match_the_examples() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    t.grant_mca_reader().await;
    let token = t.app_token().await;
    let ea = t
        .sim
        .sim()
        .billing_account(&t.demo.ea_enrollment)
        .expect("ea");
    let mca = t
        .sim
        .sim()
        .billing_account(&t.demo.mca_billing_account)
        .expect("mca");
    let (from, _) = last_month(&t);
    let tp = json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": (from + time::Duration::days(14)).to_string()}});
    let bp = json!({"metric": "ActualCost", "billingPeriod": format!("{:04}{:02}", from.year(), u8::from(from.month()))});
    // The invoice of last month of the first billing profile, as the CSV shows it.
    let profile_scope = format!(
        "providers/Microsoft.Billing/billingAccounts/{}/billingProfiles/{}",
        mca.name, mca.billing_profiles[0].0
    );
    let res = run_report(&t, &token, &profile_scope, tp.clone()).await;
    let files = crate::cost::download_all(&t, &res).await;
    let invoice = files[0]
        .lines()
        .nth(1)
        .expect("row")
        .split(',')
        .next()
        .expect("invoiceId")
        .to_string();
    let cases = vec![
        (
            "costmanagement/2022-05-01/CostDetailsOperationResultsBySubscriptionScope.json",
            format!("subscriptions/{}", ea.subscriptions[0]),
            tp.clone(),
        ),
        (
            "costmanagement/2022-05-01/GenerateCostDetailsReportBySubscriptionAndTimePeriod.json",
            format!("subscriptions/{}", ea.subscriptions[1]),
            tp.clone(),
        ),
        (
            "costmanagement/2022-05-01/GenerateCostDetailsReportByBillingAccountEnterpriseAgreementCustomerAndBillingPeriod.json",
            format!("providers/Microsoft.Billing/billingAccounts/{}", ea.name),
            bp,
        ),
        (
            "costmanagement/2022-05-01/GenerateCostDetailsReportByDepartmentsAndTimePeriod.json",
            format!(
                "providers/Microsoft.Billing/departments/{}",
                ea.sections[0].0
            ),
            tp.clone(),
        ),
        (
            "costmanagement/2022-05-01/GenerateCostDetailsReportByEnrollmentAccountsAndTimePeriod.json",
            format!(
                "providers/Microsoft.Billing/enrollmentAccounts/{}",
                ea.enrollment_accounts[0].0
            ),
            tp.clone(),
        ),
        (
            "costmanagement/2022-05-01/GenerateCostDetailsReportByBillingProfileAndInvoiceId.json",
            format!(
                "providers/Microsoft.Billing/billingAccounts/{}/billingProfiles/{}",
                mca.name, mca.billing_profiles[0].0
            ),
            json!({"metric": "ActualCost", "invoiceId": invoice}),
        ),
    ];
    for (fx, scope, body) in cases {
        let mut res = run_report(&t, &token, &scope, body).await;
        let mut expected = fixture(fx, "200");
        if fx.contains("InvoiceId") {
            // That example's requestBody shows billingPeriod although the request had invoiceId.
            assert_eq!(
                res["manifest"]["requestContext"]["requestBody"]["invoiceId"],
                invoice.as_str()
            );
            expected["manifest"]["requestContext"]["requestBody"] = Value::Null;
            res["manifest"]["requestContext"]["requestBody"] = Value::Null;
        }
        let errs = same_shape(&expected, &res, "$", true);
        assert!(errs.is_empty(), "{fx}:\n{}\n{res:#}", errs.join("\n"));
    }
    // manifestVersion follows the api-version (2024-08-01 and 2025-03-01 examples).
    for (fx, api) in [
        (
            "costmanagement/2024-08-01/GenerateCostDetailsReportBySubscriptionAndTimePeriod.json",
            "2024-08-01",
        ),
        (
            "costmanagement/2025-03-01/GenerateCostDetailsReportBySubscriptionAndTimePeriod.json",
            "2025-03-01",
        ),
    ] {
        let scope = format!("subscriptions/{}", ea.subscriptions[0]);
        let r = t
            .http
            .post(t.arm(&crate::cost::gen_path(&scope, api)))
            .bearer_auth(&token)
            .json(&tp)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let loc = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        let example_loc = serde_json::from_str::<Value>(
            &std::fs::read_to_string(format!(
                "{}/../../../shared/fixtures/azure/{fx}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("read"),
        )
        .expect("json")["responses"]["202"]["headers"]["Location"]
            .as_str()
            .expect("loc")
            .to_string();
        assert!(
            loc.ends_with(&format!("?api-version={api}"))
                && example_loc.ends_with(&format!("?api-version={api}"))
        );
        let mut v = Value::Null;
        for _ in 0..100 {
            let r = t
                .http
                .get(&loc)
                .bearer_auth(&token)
                .send()
                .await
                .expect("poll");
            if r.status() == StatusCode::OK {
                v = r.json().await.expect("json");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_shape(&fixture(fx, "200"), &v, true);
        assert_eq!(v["manifest"]["manifestVersion"], api);
    }
}
