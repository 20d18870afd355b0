//! The remaining error shapes the simulator emits, each pinned once.

use crate::cost::{gen_path, last_month};
use crate::*;
use be_azure_sim::{FaultEndpoint, FaultKind, FaultSpec};
use reqwest::Method;

#[tokio::test]
async fn arm_header_format_not_yet_valid_unknown_path_and_method() {
    let t = spawn().await;
    let path = "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01";
    let r = t
        .http
        .get(t.arm(path))
        .header("authorization", "Basic abc")
        .send()
        .await
        .expect("send");
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("AuthenticationFailed"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid format")
    );
    let mut claims = serde_json::Map::new();
    let now = t.sim.clock().now().unix_timestamp();
    claims.insert("aud".into(), json!("https://management.azure.com/"));
    claims.insert("oid".into(), json!(t.demo.ea_admin.object_id.to_string()));
    claims.insert("tid".into(), json!(t.demo.tenant.id.to_string()));
    claims.insert("nbf".into(), json!(now + 3600));
    claims.insert("exp".into(), json!(now + 7200));
    let (s, v) = t.get(path, &t.sim.sim().mint_token(claims)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("InvalidAuthenticationToken"))
    );
    let token = t.ea_admin_token();
    let (s, v) = t
        .get(
            "/subscriptions/x/resourceGroups?api-version=2021-04-01",
            &token,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (s, v) = t.send(Method::POST, path, &token, json!({})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("MethodNotAllowed"))
    );
    let ea = &t.demo.ea_enrollment;
    let (s, _) = t
        .get(
            &format!(
                "/{}",
                gen_path(
                    &format!("providers/Microsoft.Billing/billingAccounts/{ea}"),
                    "2022-05-01"
                )
                .trim_start_matches('/')
            ),
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/providers/Microsoft.CostManagement/query?api-version=2023-03-01"), &token).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
}

#[tokio::test]
async fn billing_error_bodies() {
    let t = spawn().await;
    let ea = t.demo.ea_enrollment.clone();
    let mca = t.demo.mca_billing_account.clone();
    let app = t.app_token().await;
    // Role definitions without any role: 403.
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleDefinitions?api-version=2019-10-01-preview"), &app).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("AuthorizationFailed"))
    );
    // PUT with a body that is not JSON: ProblemDetails with a "$" error.
    let r = t
        .http
        .put(t.arm(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/x?api-version=2019-10-01-preview")))
        .bearer_auth(t.ea_admin_token())
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .expect("put");
    let (s, v) = status_json(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["errors"]["$"].is_array() && v["status"] == 400);
    // PUT on an unknown enrollment (after model validation): bare 404.
    let body = json!({"properties": {"principalId": t.demo.app.service_principal_object_id, "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/999/billingRoleDefinitions/{READER}")}});
    let (s, v) = t.send(Method::PUT, "/providers/Microsoft.Billing/billingAccounts/999/billingRoleAssignments/x?api-version=2019-10-01-preview", &t.ea_admin_token(), body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    // PUT with an unsupported api-version.
    let (s, v) = t.send(Method::PUT, &format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingRoleAssignments/x?api-version=2020-05-01"), &t.ea_admin_token(), json!({})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidResourceType"))
    );
    // MCA createBillingRoleAssignment with an incomplete body.
    let (s, v) = t.send(Method::POST, &format!("/providers/Microsoft.Billing/billingAccounts/{mca}/createBillingRoleAssignment?api-version=2024-04-01"), &t.mca_owner_token(), json!({"principalId": "x"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidRequestContent"))
    );
}

#[tokio::test]
async fn cost_scope_and_period_errors() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    t.grant_mca_reader().await;
    let token = t.app_token().await;
    let (from, to) = last_month(&t);
    let body = json!({"timePeriod": {"start": from.to_string(), "end": to.to_string()}});
    let cases = [
        (
            format!("subscriptions/{}", uuid::Uuid::new_v4()),
            404,
            "SubscriptionNotFound",
        ),
        (
            "providers/Microsoft.Management/managementGroups/mg1".to_string(),
            400,
            "BadRequest",
        ),
        ("resourceGroups/rg".to_string(), 400, "BadRequest"),
        (
            "providers/Microsoft.Billing/billingAccounts/1234567".to_string(),
            401,
            "401",
        ),
        (
            format!(
                "providers/Microsoft.Billing/billingAccounts/{}:{}_2020-01-01",
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4()
            ),
            404,
            "NotFound",
        ),
    ];
    for (scope, status, code) in cases {
        let (s, v) = t
            .send(
                Method::POST,
                &gen_path(&scope, "2022-05-01"),
                &token,
                body.clone(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (status, Some(code)),
            "{scope}: {v}"
        );
    }
    let mca = format!(
        "providers/Microsoft.Billing/billingAccounts/{}",
        t.demo.mca_billing_account
    );
    let (s, v) = t
        .send(
            Method::POST,
            &gen_path(&mca, "2022-05-01"),
            &token,
            json!({"billingPeriod": "202401"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("billingPeriod is only supported")
    );
    let (s, v) = t
        .send(
            Method::POST,
            &gen_path(&mca, "2022-05-01"),
            &token,
            json!({"invoiceId": "G000000000"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("was not found")
    );
    let (s, v) = t
        .send(Method::POST, &gen_path(&mca, "2021-10-01"), &token, body)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidResourceType"))
    );
}

#[tokio::test]
async fn blob_store_errors() {
    let t = spawn().await;
    let base = t.sim.management_url();
    let r = t
        .http
        .get(format!(
            "{base}/blob/armreports/{}/0?sv=2020-05-31&st=a&se=b&sr=b&sp=r&sig=x",
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "an unsigned link is refused before any lookup"
    );
    let r = t
        .http
        .get(format!("{base}/blob/armreports/{}/0", uuid::Uuid::new_v4()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-ms-error-code"], "ResourceNotFound");
    let r = t
        .http
        .get(format!("{base}/blob/armreports/not-a-guid/0"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.headers()["x-ms-error-code"], "BlobNotFound");
    assert!(
        r.text()
            .await
            .expect("xml")
            .contains("<Code>BlobNotFound</Code>")
    );
    // A server error fault on the blob store.
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, _) = last_month(&t);
    let scope = format!(
        "providers/Microsoft.Billing/billingAccounts/{}",
        t.demo.ea_enrollment
    );
    let res = crate::cost::run_report(
        &t,
        &token,
        &scope,
        json!({"timePeriod": {"start": from.to_string(), "end": from.to_string()}}),
    )
    .await;
    t.sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::BlobDownload,
        billing_account: None,
        kind: FaultKind::ServerError { status: 500 },
        count: Some(1),
    });
    let r = t
        .http
        .get(
            res["manifest"]["blobs"][0]["blobLink"]
                .as_str()
                .expect("link"),
        )
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.headers()["x-ms-error-code"], "InternalError");
}

#[tokio::test]
async fn token_server_error_and_organizations() {
    let t = spawn().await;
    t.sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::Token,
        billing_account: None,
        kind: FaultKind::ServerError { status: 503 },
        count: Some(1),
    });
    let r = t
        .token_request("contoso.com", &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v).1, "temporarily_unavailable");
    let r = t
        .token_request("organizations", &[("grant_type", "client_credentials")])
        .await;
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v).0, 9001023);
    // OpenID configuration faults too.
    t.sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::OpenidConfiguration,
        billing_account: None,
        kind: FaultKind::Throttle {
            retry_after_secs: 2,
        },
        count: Some(1),
    });
    let r = t
        .http
        .get(format!(
            "{}/contoso.com/v2.0/.well-known/openid-configuration",
            t.sim.login_url()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn admin_api_errors_and_clock() {
    let t = spawn().await;
    let admin = t.sim.admin_url();
    let post = |path: &str, body: Value| t.http.post(format!("{admin}{path}")).json(&body).send();
    let r = post("/tenants/nowhere.example.com/apps", json!({}))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.json::<Value>().await.expect("json")["error"].is_string());
    let r = post("/tenants", json!({"domains": ["contoso.com"]}))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = post("/tenants", json!({"domains": ["not a domain"]}))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        "/billing-accounts",
        json!({"agreement": "MCA", "name": "123", "tenant": "contoso.com"}),
    )
    .await
    .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .http
        .post(format!("{admin}/tenants"))
        .body("{nope")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let before: Value = t
        .http
        .get(format!("{admin}/clock"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let after: Value = post("/clock", json!({"advance_secs": 86400}))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_ne!(before["now"], after["now"]);
    let r = post("/clock", json!({"set": "2030-01-01T00:00:00Z"}))
        .await
        .expect("post");
    assert_eq!(
        r.json::<Value>().await.expect("json")["now"],
        "2030-01-01T00:00:00Z"
    );
    let r = post("/seed/demo", json!({})).await.expect("post");
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "the demo world exists already"
    );
}
