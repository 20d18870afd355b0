//! The audit trail over the API and the console: every change with who, when, from where, before
//! and after; filters; CSV; only analysts and above read it.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Browser, spawn_app};

#[tokio::test]
async fn changes_are_recorded_with_who_where_before_and_after() {
    let app = spawn_app().await;
    let t = app.tenant("Audited").await;
    let tok = Some(t.token.as_str());
    let (_, account) = app
        .api(
            Method::POST,
            "/accounts",
            tok,
            Some(json!({"name": "Contoso"})),
        )
        .await;
    let account_id = account["id"].as_str().expect("id").to_string();
    app.api(
        Method::PATCH,
        &format!("/accounts/{account_id}"),
        tok,
        Some(json!({"name": "Contoso EU"})),
    )
    .await;
    let (status, family) = app
        .api(
            Method::POST,
            "/families",
            tok,
            Some(json!({"name": "Retail"})),
        )
        .await;
    assert_eq!(status, 201, "{family}");
    let family_id = family["id"].as_str().expect("id").to_string();
    app.api(
        Method::PATCH,
        &format!("/families/{family_id}"),
        tok,
        Some(json!({"name": "Retail EU"})),
    )
    .await;
    let (status, _) = app
        .api(
            Method::POST,
            "/invites",
            tok,
            Some(json!({"email": "new@example.com", "role": "viewer"})),
        )
        .await;
    assert_eq!(status, 201);

    let (status, all) = app.api(Method::GET, "/audit", tok, None).await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().expect("items");
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("invite", "create"),
            ("family", "update"),
            ("family", "create"),
            ("account", "update"),
            ("account", "create")
        ],
        "newest first: {all}"
    );
    let renamed = &items[1];
    assert_eq!(renamed["target"], family_id.as_str());
    assert_eq!(renamed["before"]["name"], "Retail");
    assert_eq!(renamed["after"]["name"], "Retail EU");
    assert_eq!(renamed["actor"], t.email.as_str());
    assert_eq!(renamed["address"], "127.0.0.1");

    // Filters.
    let (_, accounts) = app
        .api(Method::GET, "/audit?kind=account&action=update", tok, None)
        .await;
    let accounts = accounts["items"].as_array().expect("items");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["before"]["name"], "Contoso");
    let (_, none) = app
        .api(Method::GET, "/audit?actor=eve@example.com", tok, None)
        .await;
    assert_eq!(none["items"], json!([]));
    let (status, bad) = app.api(Method::GET, "/audit?kind=weather", tok, None).await;
    assert_eq!(
        (status, bad["code"].clone()),
        (422, json!("audit_kind_invalid"))
    );

    // CSV: a header and one row per event, the JSON kept whole.
    let resp = app
        .raw()
        .get(app.url("/api/v1/audit.csv?kind=family"))
        .bearer_auth(&t.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(&rows[0][4], "update");
    let before: serde_json::Value = serde_json::from_str(&rows[0][6]).expect("json");
    assert_eq!(before["name"], "Retail");

    // The console page shows and filters the same events.
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let page = b.get("/audit?kind=account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Contoso EU") && !page.body.contains("Retail EU"));
}
