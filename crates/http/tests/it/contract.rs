//! The API and its document agree (issue 9, item 18; issue 12, item 13): answers are checked
//! against the schemas of `/api/v1/openapi.json` by a small validator written here, and every
//! refusal is the JSON error, whatever refused it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};

/// Whether `v` matches `schema` (the subset the document uses: `$ref`, `type`, `enum`,
/// `required`, `properties`, `additionalProperties: false`, `items`, `allOf`, `oneOf`); the
/// problems found, with their JSON path.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], v, at, out);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, v, at, out);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fits = options.iter().any(|o| {
            let mut probe = vec![];
            check(doc, o, v, at, &mut probe);
            probe.is_empty()
        });
        if !fits {
            out.push(format!("{at}: matches none of oneOf"));
        }
        return;
    }
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let number_ok = kind == "integer" && allowed.contains(&"number");
    if !allowed.is_empty() && !allowed.contains(&kind) && !number_ok {
        out.push(format!("{at}: {kind}, the document says {allowed:?}"));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(v)
    {
        out.push(format!("{at}: {v} is not one of {values:?}"));
    }
    if let Value::Object(map) = v {
        for r in schema["required"].as_array().into_iter().flatten() {
            if let Some(r) = r.as_str()
                && !map.contains_key(r)
            {
                out.push(format!("{at}: lacks the required {r}"));
            }
        }
        for (k, x) in map {
            match schema["properties"].get(k) {
                Some(p) => check(doc, p, x, &format!("{at}.{k}"), out),
                None if schema["additionalProperties"] == json!(false) => {
                    out.push(format!("{at}: {k} is not in the document"))
                }
                None => {}
            }
        }
    }
    if let Value::Array(items) = v {
        for (i, x) in items.iter().enumerate() {
            check(doc, &schema["items"], x, &format!("{at}[{i}]"), out);
        }
    }
}

/// The answer's body checked against the document's response for `status` of the operation.
async fn conforms(test: &TestApp, method: &str, path: &str, status: u16, body: &Value) {
    let (_, doc) = test.api(Method::GET, "/openapi.json", None, None).await;
    let responses = &doc["paths"][path][method]["responses"];
    let response = match responses.get(status.to_string()) {
        Some(r) => r,
        None => responses.get("default").expect("status documented"),
    };
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status} has a JSON schema"
    );
    let mut problems = vec![];
    check(&doc, schema, body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {problems:?}\n{body}"
    );
}

async fn draft(test: &TestApp, token: &str) -> String {
    let (_, account) = test
        .api(
            Method::POST,
            "/accounts",
            Some(token),
            Some(json!({"name": "Contoso"})),
        )
        .await;
    let (status, c) = test
        .api(
            Method::POST,
            "/connections",
            Some(token),
            Some(json!({"account_id": account["id"], "provider": "azure", "product": "billing_engine"})),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn the_agreement_type_and_the_error_list_are_as_documented() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let token = t.token.as_str();
    let id = draft(&test, token).await;
    let path = format!("/connections/{id}");
    // `ea` is documented (any case) and answered as EA.
    let (status, c) = test
        .api(
            Method::PATCH,
            &path,
            Some(token),
            Some(json!({"agreement_type": "ea"})),
        )
        .await;
    assert_eq!(
        (status, c["agreement_type"].clone()),
        (200, json!("EA")),
        "{c}"
    );
    conforms(&test, "patch", "/connections/{id}", 200, &c).await;
    // A long name is not in the document, so the API refuses it.
    let (status, e) = test
        .api(
            Method::PATCH,
            &path,
            Some(token),
            Some(json!({"agreement_type": "Enterprise Agreement"})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    conforms(&test, "patch", "/connections/{id}", 422, &e).await;
    // Several mistakes at once: `invalid_fields` with an `errors` list the Error schema names.
    let (status, e) = test
        .api(
            Method::PATCH,
            &path,
            Some(token),
            Some(json!({"tenant_id": "not a tenant!", "client_id": "nope"})),
        )
        .await;
    assert_eq!(
        (status, e["code"].clone()),
        (422, json!("invalid_fields")),
        "{e}"
    );
    assert!(e["errors"].as_array().is_some_and(|a| a.len() == 2), "{e}");
    conforms(&test, "patch", "/connections/{id}", 422, &e).await;
}

#[tokio::test]
async fn every_refusal_is_the_json_error() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let token = t.token.as_str();
    let client = test.raw();
    let send = |req: reqwest::RequestBuilder| async move {
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let kind = resp.headers()["content-type"]
            .to_str()
            .expect("ct")
            .to_string();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        (status, kind, body)
    };
    // A path segment that is not UTF-8, a query parameter given twice.
    for path in [
        "/api/v1/accounts/%FF%FE",
        "/api/v1/accounts?limit=1&limit=2",
        "/api/v1/audit?kind=a&kind=b",
    ] {
        let (status, kind, body) = send(client.get(test.url(path)).bearer_auth(token)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
    }
    // A body that is not JSON: 415, documented for the operation.
    let (status, _, body) = send(
        client
            .post(test.url("/api/v1/accounts"))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body("name=x"),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (415, json!("unsupported_media_type"))
    );
    let (_, doc) = test.api(Method::GET, "/openapi.json", None, None).await;
    assert!(doc["paths"]["/accounts"]["post"]["responses"]["415"].is_object());
    // The scheme is case-insensitive: `BEARER` works on every route, /me included.
    for path in ["/api/v1/me", "/api/v1/accounts"] {
        let (status, _, body) = send(
            client
                .get(test.url(path))
                .header("authorization", format!("BEARER {token}")),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    // What the schema allows is accepted; what it refuses, the server refuses.
    let schema = &doc["components"]["schemas"]["AccountInput"]["properties"]["name"];
    assert_eq!(
        (schema["minLength"].clone(), schema["maxLength"].clone()),
        (json!(1), json!(100))
    );
    let (status, body) = test
        .api(
            Method::POST,
            "/accounts",
            Some(token),
            Some(json!({"name": ""})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (422, json!("account_name_empty"))
    );
}

/// Every list is paginated (issue 12, item 14): pages of `limit` in a stable order, the last
/// with a null `next_cursor`, no item twice or missed.
#[tokio::test]
async fn lists_come_a_page_at_a_time() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let token = t.token.as_str();
    for i in 0..7 {
        let (status, _) = test
            .api(
                Method::POST,
                "/accounts",
                Some(token),
                Some(json!({"name": format!("Account {i}")})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let mut names = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/accounts?limit=3&cursor={c}"),
            None => "/accounts?limit=3".to_string(),
        };
        let (status, page) = test.api(Method::GET, &path, Some(token), None).await;
        assert_eq!(status, 200, "{page}");
        conforms(&test, "get", "/accounts", 200, &page).await;
        pages += 1;
        names.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|a| a["name"].as_str().expect("n").to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|i| format!("Account {i}")).collect();
    assert_eq!(names, expected);
    // Another list, through the generic pager, and a bad cursor refused with its parameter.
    let (status, tokens) = test
        .api(Method::GET, "/tokens?limit=1", Some(token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(tokens["items"].as_array().map(Vec::len), Some(1));
    assert!(tokens.get("next_cursor").is_some(), "{tokens}");
    let (status, e) = test
        .api(Method::GET, "/accounts?cursor=***", Some(token), None)
        .await;
    assert_eq!((status, e["field"].clone()), (400, json!("cursor")), "{e}");
    // Every list operation documents limit and cursor.
    let (_, doc) = test.api(Method::GET, "/openapi.json", None, None).await;
    for path in [
        "/accounts",
        "/tokens",
        "/connections",
        "/audit",
        "/invoices",
        "/users",
    ] {
        let params = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("params");
        for name in ["limit", "cursor"] {
            assert!(
                params.iter().any(|p| p["name"] == name),
                "{path} lacks {name}"
            );
        }
    }
}
