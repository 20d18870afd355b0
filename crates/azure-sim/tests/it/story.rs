//! "Tried as a new user would": everything over HTTP, through the admin API and the Azure APIs,
//! exactly the calls README.md shows as curl commands.

use crate::*;
use base64::Engine as _;

#[tokio::test]
async fn new_user_story() {
    let sim = AzureSim::start(SimConfig::default()).await.expect("start");
    let http = crate::http_client();
    let admin = sim.admin_url();
    let login = sim.login_url();
    let arm = sim.management_url();
    let post = |url: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http.post(url).json(&body).send().await.expect("post");
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.expect("json")
        }
    };
    // 1. A tenant, an app with a secret, an EA administrator, an enrollment.
    let tenant = post(
        format!("{admin}/tenants"),
        json!({"display_name": "Fabrikam", "domains": ["fabrikam.onmicrosoft.com"]}),
    )
    .await;
    let tid = tenant["id"].as_str().expect("tid").to_string();
    let app = post(
        format!("{admin}/tenants/fabrikam.onmicrosoft.com/apps"),
        json!({"display_name": "billing-engine", "secret": {"expires_in_days": 90}}),
    )
    .await;
    let client_id = app["client_id"].as_str().expect("client_id").to_string();
    let secret = app["secrets"][0]["value"]
        .as_str()
        .expect("secret")
        .to_string();
    let user = post(format!("{admin}/tenants/fabrikam.onmicrosoft.com/users"), json!({"user_principal_name": "ea-admin@fabrikam.onmicrosoft.com", "password": "Passw0rd!"})).await;
    let acct = post(
        format!("{admin}/billing-accounts"),
        json!({"agreement": "EA", "name": "7645820", "tenant": "fabrikam.onmicrosoft.com", "administrators": [user["object_id"]], "rows_per_month": 1500, "seed": 3}),
    )
    .await;
    assert_eq!(acct["name"], "7645820");
    // 2. A token with curl (client credentials).
    let r = http
        .post(format!("{login}/fabrikam.onmicrosoft.com/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_id={client_id}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&client_secret={}&grant_type=client_credentials", urlencode(&secret)))
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("claims");
    let oid = claims["oid"].as_str().expect("oid").to_string();
    assert_eq!(
        oid,
        app["service_principal_object_id"].as_str().expect("sp")
    );
    assert_eq!(claims["tid"], tid.as_str());
    // 3. Read the billing account: refused.
    let account_url =
        format!("{arm}/providers/Microsoft.Billing/billingAccounts/7645820?api-version=2024-04-01");
    assert_eq!(
        http.get(&account_url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::FORBIDDEN
    );
    // 4. The administrator gets a token (password grant, as a script would) and assigns EnrollmentReader.
    let r = http
        .post(format!(
            "{login}/fabrikam.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"),
            ("scope", ARM_SCOPE),
            ("grant_type", "password"),
            ("username", "ea-admin@fabrikam.onmicrosoft.com"),
            ("password", "Passw0rd!"),
        ])
        .send()
        .await
        .expect("admin token");
    let admin_token = r.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = http
        .put(format!("{arm}/providers/Microsoft.Billing/billingAccounts/7645820/billingRoleAssignments/{}?api-version=2019-10-01-preview", uuid::Uuid::new_v4()))
        .bearer_auth(&admin_token)
        .header("content-type", "application/json")
        .body(format!(r#"{{"properties":{{"principalId":"{oid}","principalTenantId":"{tid}","roleDefinitionId":"/providers/Microsoft.Billing/billingAccounts/7645820/billingRoleDefinitions/24f8edb6-1668-4659-b5e2-40bb5f3a7d7e"}}}}"#))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    // 5. Read it again: allowed.
    let r = http
        .get(&account_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.expect("json")["properties"]["agreementType"],
        "EnterpriseAgreement"
    );
    // 6. Generate a cost report, poll, download the CSV.
    let today = sim.clock().now().date();
    let start = today
        .replace_day(1)
        .expect("1st")
        .previous_day()
        .expect("prev")
        .replace_day(1)
        .expect("1st");
    let r = http
        .post(format!("{arm}/providers/Microsoft.Billing/billingAccounts/7645820/providers/Microsoft.CostManagement/generateCostDetailsReport?api-version=2022-05-01"))
        .bearer_auth(&token)
        .json(&json!({"metric": "ActualCost", "timePeriod": {"start": start.to_string(), "end": (start + time::Duration::days(6)).to_string()}}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let result = loop {
        let r = http
            .get(&location)
            .bearer_auth(&token)
            .send()
            .await
            .expect("poll");
        if r.status() == StatusCode::OK {
            break r.json::<Value>().await.expect("json");
        }
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let link = result["manifest"]["blobs"][0]["blobLink"]
        .as_str()
        .expect("link");
    let csv = http
        .get(link)
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    let csv = csv.trim_start_matches('\u{feff}');
    assert!(csv.starts_with("InvoiceSectionName,AccountName,"));
    assert!(csv.lines().count() > 100);
    assert!(csv.contains(",7645820,"));
    sim.shutdown().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
