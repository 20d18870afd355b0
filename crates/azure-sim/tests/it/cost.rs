//! Cost Details: generateCostDetailsReport, polling, blobs, validation, access, limits.

use crate::*;
use be_azure_sim::{Agreement, EmptyAnswer, NewBillingAccount, Settings};
use reqwest::Method;
use time::Date;

pub fn last_month(t: &T) -> (Date, Date) {
    let today = t.sim.clock().now().date();
    let first = today.replace_day(1).expect("day 1");
    let prev_last = first.previous_day().expect("prev");
    (prev_last.replace_day(1).expect("day 1"), prev_last)
}

pub fn gen_path(scope: &str, api: &str) -> String {
    format!(
        "/{scope}/providers/Microsoft.CostManagement/generateCostDetailsReport?api-version={api}"
    )
}

/// POST, then poll the Location header as given until 200; returns the final body.
pub async fn run_report(t: &T, token: &str, scope: &str, body: Value) -> Value {
    let r = t
        .http
        .post(t.arm(&gen_path(scope, "2022-05-01")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("integer seconds");
    assert!(retry >= 1);
    assert!(
        location.starts_with(&t.sim.management_url())
            && location
                .contains("/providers/Microsoft.CostManagement/costDetailsOperationResults/")
            && location.ends_with("?api-version=2022-05-01"),
        "{location}"
    );
    assert!(r.text().await.expect("body").is_empty());
    for _ in 0..200 {
        let r = t
            .http
            .get(&location)
            .bearer_auth(token)
            .send()
            .await
            .expect("poll");
        match r.status() {
            StatusCode::ACCEPTED => {
                assert!(r.headers().get("retry-after").is_some());
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            StatusCode::OK => return r.json().await.expect("json"),
            s => panic!("poll answered {s}: {:?}", r.text().await),
        }
    }
    panic!("report never finished");
}

/// Download every blob (no Authorization header) and check byte counts; returns the files.
pub async fn download_all(t: &T, result: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let blobs = result["manifest"]["blobs"].as_array().expect("blobs");
    assert_eq!(
        result["manifest"]["blobCount"].as_u64(),
        Some(blobs.len() as u64)
    );
    let mut total = 0;
    for b in blobs {
        let r = t
            .http
            .get(b["blobLink"].as_str().expect("link"))
            .send()
            .await
            .expect("download");
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("bytes");
        assert_eq!(Some(bytes.len() as u64), b["byteCount"].as_u64());
        total += bytes.len() as u64;
        assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 BOM");
        out.push(String::from_utf8(bytes[3..].to_vec()).expect("utf8"));
    }
    assert_eq!(result["manifest"]["byteCount"].as_u64(), Some(total));
    out
}

fn ea_scope(t: &T) -> String {
    format!(
        "providers/Microsoft.Billing/billingAccounts/{}",
        t.demo.ea_enrollment
    )
}

#[tokio::test]
async fn ea_actual_and_amortized_reports_end_to_end() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, to) = last_month(&t);
    for metric in ["ActualCost", "AmortizedCost"] {
        let body = json!({"metric": metric, "timePeriod": {"start": from.to_string(), "end": to.to_string()}});
        let res = run_report(&t, &token, &ea_scope(&t), body.clone()).await;
        assert_eq!(res["status"], "Completed");
        assert_eq!(res["manifest"]["manifestVersion"], "2022-05-01");
        assert_eq!(res["manifest"]["dataFormat"], "Csv");
        assert_eq!(res["manifest"]["compressData"], false);
        assert_eq!(
            res["manifest"]["requestContext"]["requestScope"],
            ea_scope(&t)
        );
        assert_eq!(res["manifest"]["requestContext"]["requestBody"], body);
        assert!(res["validTill"].is_string());
        assert!(res.get("expiryTime").is_none());
        let files = download_all(&t, &res).await;
        let header = files[0].lines().next().expect("header");
        assert!(
            header.starts_with("InvoiceSectionName,AccountName,AccountOwnerId,SubscriptionId"),
            "EA 2024-08-01 layout"
        );
        assert!(header.ends_with("benefitId,benefitName,AccountId,ResourceLocationNormalized"));
        let rows: usize = files.iter().map(|f| f.lines().count() - 1).sum();
        assert!(rows > 1000, "{rows}");
        let charge_types =
            files[0].contains(",UnusedReservation,") || files[0].contains(",UnusedSavingsPlan,");
        assert_eq!(charge_types, metric == "AmortizedCost");
    }
}

#[tokio::test]
async fn billing_period_and_default_period() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, _) = last_month(&t);
    let bp = format!("{:04}{:02}", from.year(), u8::from(from.month()));
    let res = run_report(
        &t,
        &token,
        &ea_scope(&t),
        json!({"metric": "ActualCost", "billingPeriod": bp}),
    )
    .await;
    assert_eq!(res["status"], "Completed");
    assert_eq!(
        res["manifest"]["requestContext"]["requestBody"]["billingPeriod"],
        bp.as_str()
    );
    // No period: the current month (may be empty on the 1st: then 204).
    let r = t
        .http
        .post(t.arm(&gen_path(&ea_scope(&t), "2025-03-01")))
        .bearer_auth(&token)
        .json(&json!({"metric": "ActualCost"}))
        .send()
        .await
        .expect("post");
    assert!(r.status() == StatusCode::ACCEPTED || r.status() == StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn sub_scopes_subscription_department_enrollment_account() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let info = t
        .sim
        .sim()
        .billing_account(&t.demo.ea_enrollment)
        .expect("info");
    let (from, to) = last_month(&t);
    let body = json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": to.to_string()}});
    let ea = &t.demo.ea_enrollment;
    for scope in [
        format!("subscriptions/{}", info.subscriptions[0]),
        format!(
            "providers/Microsoft.Billing/billingAccounts/{ea}/departments/{}",
            info.sections[0].0
        ),
        format!(
            "providers/Microsoft.Billing/billingAccounts/{ea}/enrollmentAccounts/{}",
            info.enrollment_accounts[0].0
        ),
        format!(
            "providers/Microsoft.Billing/departments/{}",
            info.sections[0].0
        ),
    ] {
        let res = run_report(&t, &token, &scope, body.clone()).await;
        assert_eq!(res["status"], "Completed", "{scope}");
        assert_eq!(
            res["manifest"]["requestContext"]["requestScope"],
            scope.as_str()
        );
        assert!(res["id"].as_str().expect("id").starts_with(&scope));
    }
}

#[tokio::test]
async fn mca_report_by_invoice_id_and_layout() {
    let t = spawn().await;
    t.grant_mca_reader().await;
    let token = t.app_token().await;
    let info = t
        .sim
        .sim()
        .billing_account(&t.demo.mca_billing_account)
        .expect("info");
    let (from, to) = last_month(&t);
    let scope = format!(
        "providers/Microsoft.Billing/billingAccounts/{}/billingProfiles/{}",
        info.name, info.billing_profiles[0].0
    );
    let res = run_report(&t, &token, &scope, json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": to.to_string()}})).await;
    let files = download_all(&t, &res).await;
    assert!(files[0].starts_with("invoiceId,previousInvoiceId,billingAccountId"));
    let invoice = files[0]
        .lines()
        .nth(1)
        .expect("row")
        .split(',')
        .next()
        .expect("invoiceId")
        .to_string();
    assert!(invoice.starts_with('G'), "{invoice}");
    let res = run_report(
        &t,
        &token,
        &scope,
        json!({"metric": "AmortizedCost", "invoiceId": invoice}),
    )
    .await;
    assert_eq!(res["status"], "Completed");
    // Invoice section scope (the demo account has one billing profile).
    let section = format!("{scope}/invoiceSections/{}", info.sections[0].0);
    let res = run_report(
        &t,
        &token,
        &section,
        json!({"timePeriod": {"start": from.to_string(), "end": to.to_string()}}),
    )
    .await;
    assert_eq!(res["status"], "Completed");
}

#[tokio::test]
async fn validation_errors() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let today = t.sim.clock().now().date();
    let old = today - time::Duration::days(500);
    let path = gen_path(&ea_scope(&t), "2022-05-01");
    let (lm, _) = last_month(&t);
    let cases = [
        (
            json!({"metric": "ActualCost", "timePeriod": {"start": lm.to_string(), "end": (lm + time::Duration::days(40)).to_string()}}),
            "maximum allowed date range is 1 months",
        ),
        (
            json!({"metric": "ActualCost", "timePeriod": {"start": old.to_string(), "end": (old + time::Duration::days(3)).to_string()}}),
            "Start date must be after",
        ),
        (
            json!({"metric": "Usage", "timePeriod": {"start": today.to_string(), "end": today.to_string()}}),
            "Invalid Request Payload",
        ),
        (
            json!({"metric": "ActualCost", "timePeriod": {"start": today.to_string(), "end": today.to_string()}, "billingPeriod": "202501"}),
            "can only have either timePeriod or invoiceId or billingPeriod",
        ),
        (
            json!({"metric": "ActualCost", "granularity": "Daily"}),
            "Invalid Request Payload",
        ),
        (
            json!({"metric": "ActualCost", "invoiceId": "G000000001"}),
            "invoiceId is only supported",
        ),
    ];
    for (body, text) in cases {
        let (s, v) = t.send(Method::POST, &path, &token, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(text),
            "{body}: {v}"
        );
        assert!(v["error"]["code"].is_string());
    }
    let r = t
        .http
        .post(t.arm(&path))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A month is fine, a range ending the day before the same date next month too.
    let (from, to) = last_month(&t);
    let (s, _) = t
        .send(
            Method::POST,
            &path,
            &token,
            json!({"timePeriod": {"start": from.to_string(), "end": to.to_string()}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn access_signals_ea_401_and_mca_403() {
    let t = spawn().await;
    let token = t.app_token().await;
    let (from, to) = last_month(&t);
    let body = json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": to.to_string()}});
    let (s, v) = t
        .send(
            Method::POST,
            &gen_path(&ea_scope(&t), "2022-05-01"),
            &token,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        json!({"error": {"code": "401", "message": "No claims present for the caller in the system"}})
    );
    let mca = format!(
        "providers/Microsoft.Billing/billingAccounts/{}",
        t.demo.mca_billing_account
    );
    let (s, v) = t
        .send(Method::POST, &gen_path(&mca, "2022-05-01"), &token, body)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "RBACAccessDenied");
}

#[tokio::test]
async fn empty_periods_204_or_no_data_found() {
    let t = spawn().await;
    let sim = t.sim.sim();
    let today = t.sim.clock().now().date();
    let mut acct = NewBillingAccount::new(Agreement::Ea, "contoso.com");
    acct.administrators = vec![t.demo.ea_admin.object_id];
    acct.rows_per_month = Some(0);
    let empty = sim.create_billing_account(acct.clone()).expect("account");
    acct.rows_per_month = Some(500);
    acct.empty_answer = Some(EmptyAnswer::NoDataFound);
    acct.data_start = Some(today.replace_day(1).expect("1st"));
    let late = sim.create_billing_account(acct).expect("account");
    let admin = t.ea_admin_token();
    let (from, to) = last_month(&t);
    let body = json!({"metric": "ActualCost", "timePeriod": {"start": from.to_string(), "end": to.to_string()}});
    let r = t
        .http
        .post(t.arm(&gen_path(
            &format!("providers/Microsoft.Billing/billingAccounts/{}", empty.name),
            "2024-08-01",
        )))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.text().await.expect("body").is_empty());
    let res = run_report(
        &t,
        &admin,
        &format!("providers/Microsoft.Billing/billingAccounts/{}", late.name),
        body,
    )
    .await;
    assert_eq!(res["status"], "NoDataFound");
    assert!(res.get("manifest").is_none());
}

#[tokio::test]
async fn large_reports_are_split_over_several_blobs() {
    let t = spawn().await;
    let sim = t.sim.sim();
    let mut acct = NewBillingAccount::new(Agreement::Ea, "contoso.com");
    acct.administrators = vec![t.demo.ea_admin.object_id];
    acct.rows_per_month = Some(3000);
    acct.rows_per_blob = Some(700);
    acct.seed = Some(99);
    let info = sim.create_billing_account(acct).expect("account");
    let admin = t.ea_admin_token();
    let (from, to) = last_month(&t);
    let res = run_report(&t, &admin, &format!("providers/Microsoft.Billing/billingAccounts/{}", info.name), json!({"metric": "AmortizedCost", "timePeriod": {"start": from.to_string(), "end": to.to_string()}})).await;
    let files = download_all(&t, &res).await;
    assert!(files.len() >= 4, "{}", files.len());
    let header = files[0].lines().next().expect("header").to_string();
    for (i, f) in files.iter().enumerate() {
        assert_eq!(
            f.lines().next(),
            Some(header.as_str()),
            "every blob has its header"
        );
        if i + 1 < files.len() {
            assert_eq!(f.lines().count() - 1, 700);
        }
    }
    // The blobs together are exactly the generator's single file.
    let generator = be_azure_sim::generator::Generator::new(be_azure_sim::generator::DataSpec {
        agreement: Agreement::Ea,
        billing_account_id: info.name.clone(),
        billing_account_name: info.display_name.clone(),
        seed: 99,
        rows_per_month: 3000,
        data_start: info.data.data_start,
        currency: "USD".into(),
        layout: be_azure_sim::Layout::Ea2024_08_01,
        widths: Default::default(),
    });
    let mut whole = Vec::new();
    let req = be_azure_sim::generator::Request {
        metric: be_azure_sim::Metric::AmortizedCost,
        from,
        to,
        filter: be_azure_sim::generator::ScopeFilter::All,
        until: t.sim.clock().now().date(),
    };
    generator.write_csv(&req, &mut whole).expect("write");
    let joined: String = std::iter::once(header.clone() + "\n")
        .chain(files.iter().map(|f| {
            f.split_once('\n')
                .map(|x| x.1)
                .unwrap_or_default()
                .to_string()
        }))
        .collect();
    assert_eq!(joined.as_bytes(), &whole[3..]);
}

#[tokio::test]
async fn signed_urls_expire_and_refuse_tampering() {
    let t = spawn().await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, to) = last_month(&t);
    let res = run_report(
        &t,
        &token,
        &ea_scope(&t),
        json!({"timePeriod": {"start": from.to_string(), "end": from.to_string()}}),
    )
    .await;
    let _ = to;
    let link = res["manifest"]["blobs"][0]["blobLink"]
        .as_str()
        .expect("link")
        .to_string();
    assert!(link.contains("sig=") && link.contains("se=") && link.contains("sv=2020-05-31"));
    // Tampered signature, and a signature moved to another blob.
    let i = link.find("sig=").expect("sig") + 4;
    let mut bad = link.clone();
    bad.replace_range(i..i + 2, if &link[i..i + 2] == "AA" { "BB" } else { "AA" });
    for url in [bad, link.replace("/0?", "/1?")] {
        let r = t.http.get(&url).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{url}");
        assert_eq!(r.headers()["x-ms-error-code"], "AuthenticationFailed");
        let text = r.text().await.expect("xml");
        assert!(
            text.contains("<Code>AuthenticationFailed</Code>")
                && text.contains("Signature did not match"),
            "{text}"
        );
    }
    assert_eq!(
        t.http.get(&link).send().await.expect("get").status(),
        StatusCode::OK
    );
    // Past validTill the same link is refused.
    t.sim.clock().advance(time::Duration::days(2));
    let r = t.http.get(&link).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .expect("xml")
            .contains("Signature not valid in the specified time frame")
    );
}

#[tokio::test]
async fn throttling_with_retry_after() {
    let t = spawn().await;
    let sim = t.sim.sim();
    let mut acct = NewBillingAccount::new(Agreement::Ea, "contoso.com");
    acct.administrators = vec![t.demo.ea_admin.object_id];
    acct.rate_limit_per_minute = Some(2);
    let info = sim.create_billing_account(acct).expect("account");
    let admin = t.ea_admin_token();
    let (from, to) = last_month(&t);
    let body = json!({"timePeriod": {"start": from.to_string(), "end": to.to_string()}});
    let path = gen_path(
        &format!("providers/Microsoft.Billing/billingAccounts/{}", info.name),
        "2022-05-01",
    );
    for _ in 0..2 {
        assert_eq!(
            t.send(Method::POST, &path, &admin, body.clone()).await.0,
            StatusCode::ACCEPTED
        );
    }
    let r = t
        .http
        .post(t.arm(&path))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait));
    // After the window, calls go through again.
    t.sim.clock().advance(time::Duration::seconds(61));
    assert_eq!(
        t.send(Method::POST, &path, &admin, body).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn polling_waits_for_processing_and_unknown_operations_are_404() {
    let t = spawn_with(SimConfig {
        settings: Settings {
            report_processing_secs: 300,
            ..Settings::default()
        },
        ..Default::default()
    })
    .await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, _) = last_month(&t);
    let r = t
        .http
        .post(t.arm(&gen_path(&ea_scope(&t), "2024-08-01")))
        .bearer_auth(&token)
        .json(&json!({"timePeriod": {"start": from.to_string(), "end": from.to_string()}}))
        .send()
        .await
        .expect("post");
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let r = t
        .http
        .get(&loc)
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["location"].to_str().expect("loc"), loc);
    t.sim.clock().advance(time::Duration::seconds(301));
    let r = t
        .http
        .get(&loc)
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["manifest"]["manifestVersion"], "2024-08-01");
    // The doc's older `costDetailsOperationStatus` path answers too.
    let alias = loc.replace("costDetailsOperationResults", "costDetailsOperationStatus");
    assert_eq!(
        t.http
            .get(&alias)
            .bearer_auth(&token)
            .send()
            .await
            .expect("poll")
            .status(),
        StatusCode::OK
    );
    let unknown = loc.replace(
        v["name"].as_str().expect("name"),
        &uuid::Uuid::new_v4().to_string(),
    );
    let (s, v) = status_json(
        t.http
            .get(&unknown)
            .bearer_auth(&token)
            .send()
            .await
            .expect("poll"),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
}

#[tokio::test]
async fn older_layouts_on_request_through_the_admin_api() {
    let t = spawn().await;
    let admin = t.sim.admin_url();
    let real = std::fs::read_to_string(format!(
        "{}/../../../shared/data/azure-cost-details/finops-toolkit__EA_ActualCost_Small.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("real file");
    let real_header = real
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .expect("header")
        .to_string();
    for (layout, starts) in [
        ("ea-legacy", real_header.as_str()),
        (
            "ea-2021-10-01",
            "CostInBillingCurrency,AccountName,AccountOwnerId,ProductName",
        ),
        ("ea-2023-12-01-preview", "InvoiceSectionName,AccountName"),
    ] {
        let r = t
            .http
            .post(format!("{admin}/billing-accounts"))
            .json(&json!({"agreement": "EA", "tenant": "contoso.com", "administrators": [t.demo.ea_admin.object_id], "rows_per_month": 300, "layout": layout}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::CREATED);
        let info: Value = r.json().await.expect("json");
        let (from, _) = last_month(&t);
        let scope = format!(
            "providers/Microsoft.Billing/billingAccounts/{}",
            info["name"].as_str().expect("name")
        );
        let res = run_report(
            &t,
            &t.ea_admin_token(),
            &scope,
            json!({"timePeriod": {"start": from.to_string(), "end": from.to_string()}}),
        )
        .await;
        let files = download_all(&t, &res).await;
        let header = files[0].lines().next().expect("header");
        assert!(header.starts_with(starts), "{layout}: {header}");
        if layout == "ea-legacy" {
            assert_eq!(header, real_header);
        }
        if layout == "ea-2023-12-01-preview" {
            assert!(header.ends_with("benefitId,benefitName"));
        }
    }
}

#[tokio::test]
async fn each_poll_can_stand_for_a_realistic_wait_and_tokens_expire_meanwhile() {
    let t = spawn_with(SimConfig {
        settings: Settings {
            token_lifetime_secs: 3599,
            report_processing_secs: 20 * 60,
            report_poll_advances_secs: 5 * 60,
            ..Settings::default()
        },
        ..Default::default()
    })
    .await;
    t.grant_ea_reader().await;
    let token = t.app_token().await;
    let (from, _) = last_month(&t);
    let start = t.sim.clock().now();
    let r = t
        .http
        .post(t.arm(&gen_path(&ea_scope(&t), "2024-08-01")))
        .bearer_auth(&token)
        .json(&json!({"timePeriod": {"start": from.to_string(), "end": from.to_string()}}))
        .send()
        .await
        .expect("post");
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let mut polls = 0;
    loop {
        let r = t
            .http
            .get(&loc)
            .bearer_auth(&token)
            .send()
            .await
            .expect("poll");
        polls += 1;
        if r.status() == StatusCode::OK {
            break;
        }
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    // Four polls of 5 minutes at least (more if the generation itself is slow), then ready.
    assert!(polls >= 5, "{polls} polls");
    assert!(t.sim.clock().now() - start >= time::Duration::minutes(20));
    // Three such reports later the hour-long token has expired.
    t.sim.clock().advance(time::Duration::minutes(40));
    let r = t
        .http
        .get(&loc)
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.sim.sim().stats().expired_token_answers, 1);
    assert!(t.sim.sim().stats().app_tokens_issued >= 1);
}
