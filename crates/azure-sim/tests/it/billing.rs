//! Billing accounts: access signals, versions, ARM authentication failures.

use crate::*;

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn without_a_role_the_list_is_empty_and_get_is_refused() {
    let t = spawn().await;
    let token = t.app_token().await;
    let (s, v) = t
        .get(
            "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01",
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"value": []}));
    let ea = &t.demo.ea_enrollment;
    let (s, v) = t
        .get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{ea}?api-version=2024-04-01"),
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&v), "AuthorizationFailed");
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&t.demo.app.service_principal_object_id.to_string())
            && msg.contains("Microsoft.Billing/billingAccounts/read"),
        "{msg}"
    );
    // billingPermissions: nothing.
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingPermissions?api-version=2019-10-01-preview"), &token).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"value": []})));
}

#[tokio::test]
async fn unknown_account_is_a_bare_not_found() {
    let t = spawn().await;
    let token = t.ea_admin_token();
    for path in [
        "/providers/Microsoft.Billing/billingAccounts/1234567?api-version=2024-04-01",
        "/providers/Microsoft.Billing/billingAccounts/1234567/billingRoleAssignments?api-version=2019-10-01-preview",
    ] {
        let (s, v) = t.get(path, &token).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(
            v,
            json!({"code": "NotFound", "message": "The resource or one of its dependencies could not be found."})
        );
    }
}

#[tokio::test]
async fn ea_reader_can_read_in_every_version() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let ea = &t.demo.ea_enrollment;
    for api in ["2019-10-01-preview", "2020-05-01", "2024-04-01"] {
        let (s, v) = t
            .get(
                &format!("/providers/Microsoft.Billing/billingAccounts/{ea}?api-version={api}"),
                &token,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{api}: {v}");
        assert_eq!(v["name"], ea.as_str());
        assert_eq!(
            v["id"],
            format!("/providers/Microsoft.Billing/billingAccounts/{ea}")
        );
        assert_eq!(v["type"], "Microsoft.Billing/billingAccounts");
        assert_eq!(v["properties"]["agreementType"], "EnterpriseAgreement");
        assert_eq!(v["properties"]["displayName"], "Contoso Enrollment");
    }
    let (s, v) = t
        .get(
            "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01",
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["value"].as_array().map(Vec::len),
        Some(1),
        "only the enrollment it can read"
    );
    let (_, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{ea}/billingPermissions?api-version=2019-10-01-preview"), &token).await;
    let actions = v["value"][0]["actions"].as_array().expect("actions");
    assert!(actions.contains(&json!("Microsoft.Billing/billingAccounts/read")));
    assert!(
        !actions.contains(&json!(
            "Microsoft.Billing/billingAccounts/billingRoleAssignments/write"
        )),
        "a reader cannot assign"
    );
}

#[tokio::test]
async fn mca_owner_and_reader() {
    let t = spawn().await;
    let mca = t.demo.mca_billing_account.clone();
    let token = t.app_token().await;
    let path = format!("/providers/Microsoft.Billing/billingAccounts/{mca}?api-version=2024-04-01");
    assert_eq!(t.get(&path, &token).await.0, StatusCode::FORBIDDEN);
    let (s, v) = t.get(&path, &t.mca_owner_token()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["properties"]["agreementType"],
        "MicrosoftCustomerAgreement"
    );
    assert_eq!(v["properties"]["accountType"], "Business");
    t.grant_mca_reader().await;
    let (s, v) = t
        .get(&format!("{path}&$expand=billingProfiles"), &token)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !v["properties"]["billingProfiles"]["value"]
            .as_array()
            .expect("profiles")
            .is_empty()
    );
    // The MCA id keeps its ':' whether or not the client percent-encodes it.
    let enc = mca.replace(':', "%3A");
    assert_eq!(
        t.get(
            &format!("/providers/Microsoft.Billing/billingAccounts/{enc}?api-version=2024-04-01"),
            &token
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_version_errors() {
    let t = spawn().await;
    let token = t.ea_admin_token();
    let (s, v) = t
        .get("/providers/Microsoft.Billing/billingAccounts", &token)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&v), "MissingApiVersionParameter");
    let (s, v) = t
        .get(
            "/providers/Microsoft.Billing/billingAccounts?api-version=2019-10-01",
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&v), "InvalidResourceType");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("for api version '2019-10-01'")
    );
}

#[tokio::test]
async fn arm_authentication_failures() {
    let t = spawn().await;
    let path = "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01";
    // Missing header.
    let r = t.http.get(t.arm(path)).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
    assert!(r.headers().get("x-ms-request-id").is_some());
    let (_, v) = status_json(r).await;
    assert_eq!(err_code(&v), "AuthenticationFailed");
    // Garbage token.
    let (s, v) = t.get(path, "not-a-jwt").await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken")
    );
    // A token from another simulator (foreign signature).
    let other = AzureSim::start(SimConfig {
        seed_demo: true,
        ..Default::default()
    })
    .await
    .expect("other sim");
    let foreign = other
        .sim()
        .app_token(other.demo().expect("demo").app.client_id)
        .expect("token")
        .access_token;
    let (s, v) = t.get(path, &foreign).await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken")
    );
    other.shutdown().await;
    // A token for the wrong audience (e.g. Graph).
    let sim = t.sim.sim();
    let mut claims = serde_json::Map::new();
    claims.insert("aud".into(), json!("https://graph.microsoft.com"));
    claims.insert(
        "oid".into(),
        json!(t.demo.app.service_principal_object_id.to_string()),
    );
    claims.insert("tid".into(), json!(t.demo.tenant.id.to_string()));
    claims.insert(
        "exp".into(),
        json!(t.sim.clock().now().unix_timestamp() + 600),
    );
    let graph = sim.mint_token(claims);
    let (s, v) = t.get(path, &graph).await;
    assert_eq!(
        (s, err_code(&v)),
        (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience"
        )
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'https://graph.microsoft.com'")
    );
    // Expired: the clock moves past `exp`.
    let token = t.app_token().await;
    assert_eq!(t.get(path, &token).await.0, StatusCode::OK);
    t.sim.clock().advance(time::Duration::seconds(3600));
    let (s, v) = t.get(path, &token).await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "ExpiredAuthenticationToken")
    );
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("The access token expiry UTC time '")
            && msg.contains("is earlier than current UTC time"),
        "{msg}"
    );
}

#[tokio::test]
async fn client_request_id_is_echoed() {
    let t = spawn().await;
    let r = t
        .http
        .get(t.arm("/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01"))
        .bearer_auth(t.ea_admin_token())
        .header("x-ms-client-request-id", "abc-123")
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers()["x-ms-correlation-request-id"], "abc-123");
    assert!(r.headers().get("x-ms-request-id").is_some());
}
