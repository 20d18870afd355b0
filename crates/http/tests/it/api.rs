use reqwest::{Method, header};
use serde_json::{Value, json};

use crate::harness::{json_of, spawn_app, spawn_app_with_manual_clock};

#[tokio::test]
async fn accounts_round_trip() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let tok = Some(t.token.as_str());

    let (status, created) = app
        .api(
            Method::POST,
            "/accounts",
            tok,
            Some(json!({"name": "  Contoso  "})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Contoso", "trimmed");
    let id = created["id"].as_str().expect("id").to_string();

    let (status, got) = app
        .api(Method::GET, &format!("/accounts/{id}"), tok, None)
        .await;
    assert_eq!((status, got["name"].clone()), (200, json!("Contoso")));

    let (status, renamed) = app
        .api(
            Method::PATCH,
            &format!("/accounts/{id}"),
            tok,
            Some(json!({"name": "Fabrikam"})),
        )
        .await;
    assert_eq!((status, renamed["name"].clone()), (200, json!("Fabrikam")));

    app.api(
        Method::POST,
        "/accounts",
        tok,
        Some(json!({"name": "alpha"})),
    )
    .await;
    let (status, list) = app.api(Method::GET, "/accounts", tok, None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alpha", "Fabrikam"], "sorted by name ignoring case");

    let (status, _) = app
        .api(Method::DELETE, &format!("/accounts/{id}"), tok, None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .api(Method::GET, &format!("/accounts/{id}"), tok, None)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (404, json!("account_not_found"))
    );
}

#[tokio::test]
async fn created_accounts_have_a_location() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let resp = app
        .raw()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&t.token)
        .json(&json!({"name": "Contoso"}))
        .send()
        .await
        .expect("post");
    let location = resp
        .headers()
        .get(header::LOCATION)
        .expect("location")
        .to_str()
        .expect("ascii")
        .to_string();
    let (_, body) = json_of(resp).await;
    assert_eq!(
        location,
        format!("/api/v1/accounts/{}", body["id"].as_str().expect("id"))
    );
}

#[tokio::test]
async fn account_name_rules_have_stable_codes() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let tok = Some(t.token.as_str());
    app.api(
        Method::POST,
        "/accounts",
        tok,
        Some(json!({"name": "Contoso"})),
    )
    .await;

    let long = "x".repeat(101);
    for (name, status, code) in [
        ("", 422, "account_name_empty"),
        ("   ", 422, "account_name_empty"),
        (long.as_str(), 422, "account_name_too_long"),
        ("tab\there", 422, "account_name_invalid"),
        // Invisible and text-direction characters: "Con\u{200B}toso" would pass for "Contoso",
        // and U+202E shows "\u{202E}exe.fdp" as "pdf.exe".
        ("Con\u{200B}toso", 422, "account_name_invalid"),
        ("\u{202E}exe.fdp", 422, "account_name_invalid"),
        ("Contoso\u{2066}", 422, "account_name_invalid"),
        ("contoso", 409, "account_name_taken"),
        (" CONTOSO ", 409, "account_name_taken"),
    ] {
        let (s, body) = app
            .api(Method::POST, "/accounts", tok, Some(json!({"name": name})))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (status, Some(code)),
            "{name:?}: {body}"
        );
        assert_eq!(body["field"], "name");
        assert!(
            body["message"].as_str().is_some_and(|m| m.len() > 10),
            "a message a person can act on: {body}"
        );
    }
    let (_, list) = app.api(Method::GET, "/accounts", tok, None).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "nothing was created by refused requests"
    );
    // The same rule for every name people give: a token, a family.
    let (s, body) = app
        .api(
            Method::POST,
            "/tokens",
            tok,
            Some(json!({"name": "laptop\u{202E}"})),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (422, Some("token_name_invalid")),
        "{body}"
    );
    let (s, body) = app
        .api(
            Method::POST,
            "/families",
            tok,
            Some(json!({"name": "Re\u{200D}tail"})),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (422, Some("name_invalid")),
        "{body}"
    );
}

#[tokio::test]
async fn one_organization_cannot_see_or_change_another_s_accounts() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;
    let (_, acc) = app
        .api(
            Method::POST,
            "/accounts",
            Some(&a.token),
            Some(json!({"name": "Secret"})),
        )
        .await;
    let path = format!("/accounts/{}", acc["id"].as_str().expect("id"));

    let (_, list) = app
        .api(Method::GET, "/accounts", Some(&b.token), None)
        .await;
    assert_eq!(list["items"], json!([]));
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Mine"}))),
        (Method::DELETE, None),
    ] {
        let (status, err) = app.api(method.clone(), &path, Some(&b.token), body).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (404, Some("account_not_found")),
            "{method}"
        );
    }
    // An ID that exists nowhere answers exactly the same.
    let (status, err) = app
        .api(
            Method::GET,
            &format!("/accounts/{}", uuid::Uuid::new_v4()),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("account_not_found"))
    );
    let (status, err) = app
        .api(Method::GET, "/accounts/not-a-uuid", Some(&b.token), None)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("account_not_found"))
    );

    let (_, still) = app.api(Method::GET, &path, Some(&a.token), None).await;
    assert_eq!(still["name"], "Secret", "untouched by B");
    // B may use the same name in its own organization.
    let (status, _) = app
        .api(
            Method::POST,
            "/accounts",
            Some(&b.token),
            Some(json!({"name": "secret"})),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let (status, body) = app.api(Method::GET, "/accounts", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, body) = app
        .api(Method::GET, "/accounts", Some("be_forged"), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let resp = app
        .raw()
        .get(app.url("/api/v1/accounts"))
        .header(header::AUTHORIZATION, "Basic abc")
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().expect("ascii")),
        Some("Bearer")
    );
    assert_eq!(json_of(resp).await.1["code"], "unauthenticated");

    // A revoked token stops working at once.
    let (_, tokens) = app.api(Method::GET, "/tokens", Some(&t.token), None).await;
    let id = tokens["items"][0]["id"].as_str().expect("id").to_string();
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/tokens/{id}"),
            Some(&t.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .api(Method::GET, "/accounts", Some(&t.token), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn tokens_are_shown_once_and_work() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let (status, body) = app
        .api(
            Method::POST,
            "/auth/tokens",
            None,
            Some(json!({"email": t.email, "password": "wrong password!", "name": "x"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, body) = app
        .api(
            Method::POST,
            "/auth/tokens",
            None,
            Some(json!({"email": "nobody@example.com", "password": "whatever", "name": "x"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials")),
        "unknown user: the same answer"
    );

    let (status, issued) = app
        .api(
            Method::POST,
            "/auth/tokens",
            None,
            Some(json!({"email": t.email, "password": t.password, "name": "laptop"})),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    let secret = issued["token_value"].as_str().expect("value").to_string();
    assert!(secret.starts_with("be_") && secret.len() > 40);

    let (status, me) = app.api(Method::GET, "/me", Some(&secret), None).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (200, Some(t.email.as_str()))
    );

    let (_, list) = app.api(Method::GET, "/tokens", Some(&secret), None).await;
    let text = list.to_string();
    assert!(
        !text.contains(&secret) && !text.contains(&t.token),
        "values are never listed"
    );
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["name"] == "laptop" && secret.starts_with(i["prefix"].as_str().expect("p")))
    );

    let (status, body) = app
        .api(
            Method::POST,
            "/tokens",
            Some(&secret),
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("token_name_empty"))
    );
    let (status, body) = app
        .api(
            Method::DELETE,
            &format!("/tokens/{}", uuid::Uuid::new_v4()),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("token_not_found"))
    );
}

#[tokio::test]
async fn bad_bodies_get_clear_4xx_answers() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.raw()
            .post(app.url("/api/v1/accounts"))
            .bearer_auth(&t.token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    for (body, ct, status, code, field) in [
        (
            b"{\"name\": ".to_vec(),
            "application/json",
            400,
            "malformed_json",
            None,
        ),
        (
            b"{\"name\": \"a\", \"nmae\": \"b\"}".to_vec(),
            "application/json",
            400,
            "unknown_field",
            Some("nmae"),
        ),
        (
            b"{}".to_vec(),
            "application/json",
            400,
            "missing_field",
            Some("name"),
        ),
        (
            b"{\"name\": 7}".to_vec(),
            "application/json",
            400,
            "invalid_field",
            Some("name"),
        ),
        (
            b"name=a".to_vec(),
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            None,
        ),
        (
            vec![b' '; be_http::MAX_BODY_BYTES + 1],
            "application/json",
            413,
            "payload_too_large",
            None,
        ),
    ] {
        let (s, err) = json_of(post(body, ct).await.expect("send")).await;
        assert_eq!((s, err["code"].as_str()), (status, Some(code)), "{err}");
        assert_eq!(err["field"].as_str(), field, "{err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, list) = app
        .api(Method::GET, "/accounts", Some(&t.token), None)
        .await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let (status, body) = app
        .api(Method::GET, "/nothing-here", Some(&t.token), None)
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = app
        .api(Method::PUT, "/accounts", Some(&t.token), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn server_errors_reveal_nothing_internal() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    // Break the database under the running server: the accounts table disappears.
    let pool = sqlx::SqlitePool::connect(&app.db_url).await.expect("open");
    sqlx::query("DROP TABLE accounts")
        .execute(&pool)
        .await
        .expect("drop");
    let (status, body) = app
        .api(Method::GET, "/accounts", Some(&t.token), None)
        .await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "internal_error");
    let text = body.to_string().to_lowercase();
    for leak in ["sqlite", "table", "accounts", "sqlx", "select", "panicked"] {
        assert!(!text.contains(leak), "500 body mentions {leak:?}: {text}");
    }
}

#[tokio::test]
async fn openapi_documents_every_operation_that_exists() {
    let app = spawn_app().await;
    let (status, doc) = app.api(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let public = op.get("security") == Some(&json!([]));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (status, body) = app
                .api(method.clone(), &concrete, None, Some(json!({})))
                .await;
            // A documented operation exists: it answers with something it documents, never 404/405.
            assert!(
                ![404, 405].contains(&status),
                "{method} {path} answered {status}"
            );
            let documented: Vec<&String> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .collect();
            assert!(
                documented.iter().any(|k| k.as_str() == status.to_string()),
                "{method} {path}: {status} not documented ({body})"
            );
            if !public {
                assert_eq!(status, 401, "{method} {path} needs a token");
            }
            // Every referenced schema exists.
            for r in refs(op) {
                let name = r.trim_start_matches("#/components/schemas/");
                assert!(
                    doc["components"]["schemas"].get(name).is_some(),
                    "{path}: missing schema {name}"
                );
            }
        }
    }
    assert!(operations >= 10, "{operations} operations");
}

fn refs(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| {
                if k == "$ref" {
                    vec![v.as_str().unwrap_or_default().to_string()]
                } else {
                    refs(v)
                }
            })
            .collect(),
        Value::Array(a) => a.iter().flat_map(refs).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn health_and_request_ids() {
    let app = spawn_app().await;
    let resp = app.raw().get(app.url("/health")).send().await.expect("get");
    let id = resp
        .headers()
        .get("x-request-id")
        .expect("generated request id")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(
        json_of(resp).await,
        (200, json!({"status": "ok", "database": "ok"}))
    );

    let resp = app
        .raw()
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .map(|v| v.to_str().expect("ascii")),
        Some("trace-me-123"),
        "propagated"
    );
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_slowed_down() {
    let app = spawn_app_with_manual_clock().await;
    let t = app.tenant("Org").await;
    let attempt = |password: &'static str| {
        let body = json!({"email": t.email, "password": password, "name": "x"});
        app.raw()
            .post(app.url("/api/v1/auth/tokens"))
            .json(&body)
            .send()
    };
    for _ in 0..5 {
        let (status, body) = json_of(attempt("wrong password!").await.expect("send")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
    }
    let resp = attempt("a long enough password").await.expect("send");
    let retry = resp
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").to_string());
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_attempts")),
        "even the right password waits: {body}"
    );
    assert_eq!(retry.as_deref(), Some("1"), "the first wait is one second");
    // Each further failure doubles the wait: backoff, not a 15-minute lockout.
    let clock = app.clock.as_ref().expect("clock");
    clock.advance(time::Duration::seconds(1));
    let (status, _) = json_of(attempt("wrong password!").await.expect("send")).await;
    assert_eq!(status, 401);
    let resp = attempt("a long enough password").await.expect("send");
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    assert_eq!(
        (
            resp.status().as_u16(),
            retry.as_ref().map(|v| v.to_str().expect("a"))
        ),
        (429, Some("2"))
    );
    clock.advance(time::Duration::seconds(2));
    let (status, _) = json_of(attempt("a long enough password").await.expect("send")).await;
    assert_eq!(status, 201, "the wait has passed");
}
