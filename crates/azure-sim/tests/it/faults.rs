//! Fault injection per endpoint and per enrollment.

use crate::cost::{gen_path, last_month, run_report};
use crate::*;
use be_azure_sim::{FaultEndpoint, FaultKind, FaultSpec};

fn fault(
    endpoint: FaultEndpoint,
    account: Option<&str>,
    kind: FaultKind,
    count: Option<u32>,
) -> FaultSpec {
    FaultSpec {
        endpoint,
        billing_account: account.map(str::to_string),
        kind,
        count,
    }
}

async fn ready(t: &T) -> (String, String, Value) {
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let scope = format!(
        "providers/Microsoft.Billing/billingAccounts/{}",
        t.demo.ea_enrollment
    );
    let (from, _) = last_month(t);
    (
        token,
        scope,
        json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": from.to_string()}}),
    )
}

#[tokio::test]
async fn throttling_and_server_errors_per_endpoint_and_enrollment() {
    let t = spawn().await;
    let (token, scope, body) = ready(&t).await;
    let sim = t.sim.sim();
    // A fault for another enrollment does not touch this one.
    sim.add_fault(fault(
        FaultEndpoint::GenerateCostDetailsReport,
        Some("1111111"),
        FaultKind::Throttle {
            retry_after_secs: 30,
        },
        None,
    ));
    assert_eq!(
        t.send(
            reqwest::Method::POST,
            &gen_path(&scope, "2022-05-01"),
            &token,
            body.clone()
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    sim.clear_faults();
    sim.add_fault(fault(
        FaultEndpoint::GenerateCostDetailsReport,
        Some(&t.demo.ea_enrollment),
        FaultKind::Throttle {
            retry_after_secs: 30,
        },
        Some(1),
    ));
    let r = t
        .http
        .post(t.arm(&gen_path(&scope, "2022-05-01")))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "30");
    assert_eq!(
        r.headers()["x-ms-ratelimit-microsoft.costmanagement-entity-retry-after"],
        "30"
    );
    let (_, v) = status_json(r).await;
    assert_eq!(v["error"]["code"], "TooManyRequests");
    // Count 1: used up.
    assert_eq!(
        t.send(
            reqwest::Method::POST,
            &gen_path(&scope, "2022-05-01"),
            &token,
            body
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    sim.add_fault(fault(
        FaultEndpoint::BillingAccounts,
        None,
        FaultKind::ServerError { status: 503 },
        Some(1),
    ));
    let r = t
        .http
        .get(t.arm("/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    sim.add_fault(fault(
        FaultEndpoint::RoleAssignments,
        None,
        FaultKind::ServerError { status: 500 },
        Some(1),
    ));
    let (s, v) = t.get(&format!("/providers/Microsoft.Billing/billingAccounts/{}/billingRoleAssignments?api-version=2019-10-01-preview", t.demo.ea_enrollment), &token).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("InternalServerError")
        )
    );
}

#[tokio::test]
async fn token_endpoint_faults() {
    let t = spawn().await;
    let sim = t.sim.sim();
    sim.add_fault(fault(
        FaultEndpoint::Token,
        None,
        FaultKind::Throttle {
            retry_after_secs: 5,
        },
        Some(1),
    ));
    let form = [
        ("client_id", t.demo.app.client_id.to_string()),
        ("scope", ARM_SCOPE.into()),
        ("client_secret", t.demo.client_secret.clone()),
        ("grant_type", "client_credentials".into()),
    ];
    let r = t
        .http
        .post(t.token_url("contoso.com"))
        .form(&form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "5");
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v).1, "temporarily_unavailable");
    sim.add_fault(fault(
        FaultEndpoint::Token,
        None,
        FaultKind::Slow { delay_ms: 50 },
        Some(1),
    ));
    assert_eq!(
        t.http
            .post(t.token_url("contoso.com"))
            .form(&form)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    sim.add_fault(fault(
        FaultEndpoint::Token,
        None,
        FaultKind::DropConnection { after_bytes: 10 },
        Some(1),
    ));
    let r = t
        .http
        .post(t.token_url("contoso.com"))
        .form(&form)
        .send()
        .await;
    match r {
        Err(_) => {}
        Ok(r) => assert!(r.bytes().await.is_err(), "the body must not arrive whole"),
    }
}

#[tokio::test]
async fn download_faults_truncate_corrupt_drop() {
    let t = spawn().await;
    let (token, scope, body) = ready(&t).await;
    let res = run_report(&t, &token, &scope, body).await;
    let blob = &res["manifest"]["blobs"][0];
    let link = blob["blobLink"].as_str().expect("link");
    let size = blob["byteCount"].as_u64().expect("size") as usize;
    let good = t
        .http
        .get(link)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(good.len(), size);
    let sim = t.sim.sim();
    let ea = t.demo.ea_enrollment.clone();
    // Truncated: a clean 200 with fewer bytes than byteCount.
    sim.add_fault(fault(
        FaultEndpoint::BlobDownload,
        Some(&ea),
        FaultKind::Truncate { after_bytes: 1000 },
        Some(1),
    ));
    let r = t.http.get(link).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    let b = r.bytes().await.expect("bytes");
    assert_eq!(b.len(), 1000);
    assert_eq!(&b[..], &good[..1000]);
    // Corrupted: same length, different bytes.
    sim.add_fault(fault(
        FaultEndpoint::BlobDownload,
        Some(&ea),
        FaultKind::Corrupt { at_byte: 500 },
        Some(1),
    ));
    let b = t
        .http
        .get(link)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(b.len(), size);
    assert_ne!(b, good);
    assert!(std::str::from_utf8(&b).is_err(), "0xFF bytes are not UTF-8");
    // Dropped connection: the body fails.
    sim.add_fault(fault(
        FaultEndpoint::BlobDownload,
        Some(&ea),
        FaultKind::DropConnection { after_bytes: 2000 },
        Some(1),
    ));
    let r = t.http.get(link).send().await;
    match r {
        Err(_) => {}
        Ok(r) => assert!(r.bytes().await.is_err()),
    }
    // Throttled blob store: 503 ServerBusy.
    sim.add_fault(fault(
        FaultEndpoint::BlobDownload,
        Some(&ea),
        FaultKind::Throttle {
            retry_after_secs: 3,
        },
        Some(1),
    ));
    let r = t.http.get(link).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["x-ms-error-code"], "ServerBusy");
    // And then it works again.
    assert_eq!(
        t.http
            .get(link)
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes"),
        good
    );
}

#[tokio::test]
async fn failed_report() {
    let t = spawn().await;
    let (token, scope, body) = ready(&t).await;
    t.sim.sim().add_fault(fault(
        FaultEndpoint::GenerateCostDetailsReport,
        None,
        FaultKind::ReportFailed,
        Some(1),
    ));
    let res = run_report(&t, &token, &scope, body).await;
    assert_eq!(res["status"], "Failed");
    assert!(res["error"]["code"].is_string() && res["error"]["message"].is_string());
}

#[tokio::test]
async fn faults_through_the_admin_api() {
    let t = spawn().await;
    let admin = t.sim.admin_url();
    let r = t
        .http
        .post(format!("{admin}/faults"))
        .json(&json!({"endpoint": "billing_accounts", "type": "server_error", "status": 503, "count": 2}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let f: Value = r.json().await.expect("json");
    let listed: Value = t
        .http
        .get(format!("{admin}/faults"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["id"], f["id"]);
    let token = t.ea_admin_token();
    assert_eq!(
        t.get(
            "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01",
            &token
        )
        .await
        .0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let r = t
        .http
        .delete(format!("{admin}/faults/{}", f["id"]))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get(
            "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01",
            &token
        )
        .await
        .0,
        StatusCode::OK
    );
}
