//! The console's pricing and rating pages over HTTP (this server has no rating engine, so the
//! pages that need one say so): the design's invariants on every page, families, every rule kind
//! through the rule form with each mistake beside its field, allocations, strategies, rules as
//! code (dry run, then apply), uploads' CSRF check.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Browser, TestApp, spawn_app};

async fn signed_in(app: &TestApp) -> (Browser<'_>, String, String) {
    let t = app.tenant("MSP").await;
    let mut b = Browser::new(app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/families").await.csrf();
    (b, csrf, t.token)
}

fn shared(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// The ID at the end of a redirect (`/plans/<id>?notice=created`).
fn id_in(location: Option<&str>) -> String {
    let path = location
        .expect("a redirect")
        .split('?')
        .next()
        .expect("path");
    path.rsplit('/').next().expect("id").to_string()
}

#[tokio::test]
async fn every_page_has_the_navigation_and_no_inline_script_or_style() {
    let app = spawn_app().await;
    let (mut b, _, _) = signed_in(&app).await;
    let pages = [
        "/accounts",
        "/tokens",
        "/administration",
        "/connect",
        "/connections",
        "/import",
        "/families",
        "/plans",
        "/strategies",
        "/allocations",
        "/allocations/new",
        "/pricing/code",
        "/rating",
        "/dashboard",
        "/analysis",
        "/asset-groups",
        "/invoices",
    ];
    for path in pages {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        for item in [
            "Dashboard",
            "Analysis",
            "Families",
            "Plans",
            "Allocations",
            "Invoices",
            "Connections",
            "Administration",
            "API tokens",
        ] {
            assert!(
                page.body.contains(&format!(">{item}")),
                "{path} lacks {item} in the navigation"
            );
        }
        assert!(
            page.body.contains("href=\"/static/app.css\"")
                && page
                    .body
                    .contains("<script src=\"/static/app.js\" defer></script>"),
            "{path}"
        );
        // A Content-Security-Policy without inline script is coming: nothing inline.
        let lower = page.body.to_lowercase();
        assert!(
            !lower.contains("<script>")
                && !lower.contains(" style=")
                && !lower.contains(" onclick=")
                && !lower.contains(" onchange="),
            "{path} has inline script or style"
        );
    }
    let js = app
        .raw()
        .get(app.url("/static/app.js"))
        .send()
        .await
        .expect("js");
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let css = app
        .raw()
        .get(app.url("/static/app.css"))
        .send()
        .await
        .expect("css")
        .text()
        .await
        .expect("text");
    assert!(
        css.contains("position: sticky")
            && css.contains(".table-wrap")
            && css.contains(".empty-state")
    );
}

#[tokio::test]
async fn families_created_renamed_filled_and_deleted_with_errors_beside_fields() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    let empty = b.get("/families").await;
    assert!(
        empty.body.contains("id=\"no-families\"") && empty.body.contains("id=\"no-sub-accounts\""),
        "empty states"
    );

    let page = b
        .post("/families", &[("csrf", &csrf), ("name", "Contoso")])
        .await;
    assert_eq!(page.status, 303);
    let id = id_in(page.location.as_deref());
    let page = b
        .post("/families", &[("csrf", &csrf), ("name", "contoso")])
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.field_error("name")
            .expect("beside the name")
            .contains("already named"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"contoso\""),
        "what was typed stays"
    );

    let page = b
        .post(
            &format!("/families/{id}/rename"),
            &[("csrf", &csrf), ("name", "")],
        )
        .await;
    assert_eq!(
        (page.status, page.field_error("name").as_deref()),
        (422, Some("Enter a name."))
    );
    assert_eq!(
        b.post(
            &format!("/families/{id}/rename"),
            &[("csrf", &csrf), ("name", "Contoso Ltd")]
        )
        .await
        .status,
        303
    );

    // Members from a period, typed by ID; a bad period is named beside its field.
    let add = |from: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("family_id", id.clone()),
            ("back", "family".into()),
            ("sub_account_id", "sub-A".into()),
            ("from", from.into()),
        ]
    };
    let page = b
        .post(
            "/families/members",
            &add("October")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.field_error("from")
            .expect("beside from")
            .contains("YYYY-MM"),
        "{}",
        page.body
    );
    let page = b
        .post(
            "/families/members",
            &add("2026-10")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(page.status, 303);
    let family = b
        .get(page.location.as_deref().expect("back to the family"))
        .await;
    assert!(
        family.body.contains("1 sub-account(s) put into the family")
            && family.body.contains("data-sub=\"sub-A\""),
        "{}",
        family.body
    );
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(pricing["families"][0]["name"], "Contoso Ltd");
    assert_eq!(
        pricing["families"][0]["members"][0],
        serde_json::json!({"sub_account_id": "sub-A", "from": "2026-10"})
    );
    let none_chosen = b
        .post(
            "/families/members",
            &[
                ("csrf", &csrf),
                ("family_id", &id),
                ("back", "family"),
                ("from", "2026-10"),
            ],
        )
        .await;
    assert!(
        none_chosen
            .field_error("sub_account_ids")
            .expect("beside the choice")
            .contains("at least one")
    );

    // A family a plan is assigned to cannot go; the reason is shown where the delete button is.
    let plan = id_in(
        b.post("/plans", &[("csrf", &csrf), ("name", "Standard")])
            .await
            .location
            .as_deref(),
    );
    assert_eq!(
        b.post(
            &format!("/plans/{plan}/assign"),
            &[
                ("csrf", &csrf),
                ("target", &format!("family:{id}")),
                ("from", "2026-10")
            ]
        )
        .await
        .status,
        303
    );
    let refused = b
        .post(&format!("/families/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 409);
    assert!(
        refused
            .field_error("delete")
            .expect("beside delete")
            .contains("remove that assignment first")
    );
    assert_eq!(
        b.post(
            &format!("/plans/{plan}/unassign"),
            &[
                ("csrf", &csrf),
                ("target", &format!("family:{id}")),
                ("from", "2026-10")
            ]
        )
        .await
        .status,
        303
    );

    let page = b
        .post(
            &format!("/families/{id}/members/remove"),
            &[
                ("csrf", &csrf),
                ("sub_account_id", "sub-A"),
                ("from", "2026-10"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(
        !b.get(&format!("/families/{id}"))
            .await
            .body
            .contains("data-sub=\"sub-A\""),
        "leaving from its first month removes the membership"
    );
    assert_eq!(
        b.post(&format!("/families/{id}/delete"), &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    assert!(b.get("/families").await.body.contains("id=\"no-families\""));
}

/// Post the rule form; `fields` are the form's own names.
async fn post_rule(
    b: &mut Browser<'_>,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> crate::harness::Page {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf), ("enabled", "on")];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

#[tokio::test]
async fn a_rule_of_every_kind_through_the_form() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    let plan = id_in(
        b.post("/plans", &[("csrf", &csrf), ("name", "Standard")])
            .await
            .location
            .as_deref(),
    );
    let add = format!("/plans/{plan}/rules");
    assert!(
        b.get(&format!("/plans/{plan}"))
            .await
            .body
            .contains("id=\"no-rules\"")
    );
    let new = b.get(&format!("{add}/new?kind=recurring_fee")).await;
    assert!(
        new.body.contains("name=\"from\"")
            && new.body.contains("name=\"to\"")
            && !new.body.contains("name=\"tiers.mode\""),
        "only the recurring fee's fields"
    );

    let ok = |fields: Vec<(&'static str, &'static str)>| fields;
    let rules = [
        ok(vec![
            ("name", "Markup 10%"),
            ("kind", "markup"),
            ("percent", "10"),
        ]),
        ok(vec![
            ("name", "Storage discount"),
            ("kind", "markdown"),
            ("percent", "5"),
            ("when[0][0].on", "dimension"),
            ("when[0][0].name", "ServiceName"),
            ("when[0][0].op", "in"),
            ("when[0][0].value", "Storage\nBackup"),
            ("when[0][1].on", "tag"),
            ("when[0][1].name", "team"),
            ("when[0][1].op", "not_exists"),
            ("when[0][1].value", ""),
            ("when[1][0].on", "dimension"),
            ("when[1][0].name", "RegionId"),
            ("when[1][0].op", "matches"),
            ("when[1][0].value", "^west"),
        ]),
        ok(vec![
            ("name", "Support fee"),
            ("kind", "upcharge"),
            ("scope", "family"),
            ("rate", "tiers"),
            ("tiers.mode", "volume"),
            ("tiers.bands[0].from", "0"),
            ("tiers.bands[0].percent", "10"),
            ("tiers.bands[1].from", "100"),
            ("tiers.bands[1].percent", "5"),
            ("minimum", "29"),
            ("maximum", "500"),
        ]),
        ok(vec![
            ("name", "Loyalty"),
            ("kind", "discount"),
            ("scope", "sub_account"),
            ("rate", "percent"),
            ("percent", "3"),
        ]),
        ok(vec![
            ("name", "Onboarding"),
            ("kind", "one_time_fee"),
            ("amount", "15.00"),
            ("currency", "USD"),
            ("period", "2026-10"),
        ]),
        ok(vec![
            ("name", "Welcome credit"),
            ("kind", "one_time_discount"),
            ("amount", "1000"),
            ("currency", "JPY"),
            ("period", "2026-11"),
        ]),
        ok(vec![
            ("name", "Platform"),
            ("kind", "recurring_fee"),
            ("amount", "99.00"),
            ("from", "2026-01"),
            ("to", "2026-12"),
        ]),
    ];
    for fields in &rules {
        let page = post_rule(&mut b, &add, &csrf, fields).await;
        assert_eq!(page.status, 303, "{fields:?}: {}", page.body);
    }
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    let saved: Vec<Value> = pricing["plans"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().expect("object").remove("id");
            r
        })
        .collect();
    let expected: Vec<Value> = serde_json::from_str(r#"[
        {"name": "Markup 10%", "kind": "markup", "percent": "10"},
        {"name": "Storage discount", "kind": "markdown", "percent": "5", "when": [
            [{"dimension": "ServiceName", "op": "in", "values": ["Storage", "Backup"]}, {"tag": "team", "op": "not_exists"}],
            [{"dimension": "RegionId", "op": "matches", "value": "^west"}]]},
        {"name": "Support fee", "kind": "upcharge", "scope": "family", "tiers": {"mode": "volume", "bands": [{"from": "0", "percent": "10"}, {"from": "100", "percent": "5"}]}, "minimum": "29", "maximum": "500"},
        {"name": "Loyalty", "kind": "discount", "scope": "sub_account", "percent": "3"},
        {"name": "Onboarding", "kind": "one_time_fee", "amount": "15.00", "currency": "USD", "period": "2026-10"},
        {"name": "Welcome credit", "kind": "one_time_discount", "amount": "1000", "currency": "JPY", "period": "2026-11"},
        {"name": "Platform", "kind": "recurring_fee", "amount": "99.00", "from": "2026-01", "to": "2026-12"}
    ]"#).expect("json");
    assert_eq!(saved, expected);
    let page = b.get(&format!("/plans/{plan}")).await;
    assert!(page.body.contains("volume tiers: from 0 at 10 %, from 100 at 5 % of each family&#39;s spend, minimum 29, maximum 500")
        || page.body.contains("volume tiers: from 0 at 10 %, from 100 at 5 % of each family's spend, minimum 29, maximum 500"), "{}", page.body);
    assert!(page.body.contains("ServiceName is one of [Storage, Backup] and tag:team does not exist or RegionId matches (regular expression) &quot;^west&quot;")
        || page.body.contains("ServiceName is one of [Storage, Backup] and tag:team does not exist or RegionId matches (regular expression) &#34;^west&#34;"), "{}", page.body);

    // Each mistake beside its field, the typed values kept, nothing saved.
    // (the form, the field the message is beside, what it says)
    type Case = (
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );
    let cases: [Case; 6] = [
        (
            vec![
                ("name", "Huge"),
                ("kind", "markup"),
                ("percent", "1000000000"),
            ],
            "percent",
            "at most 1000",
        ),
        (
            vec![
                ("name", "Bad tiers"),
                ("kind", "upcharge"),
                ("rate", "tiers"),
                ("tiers.bands[0].from", "0"),
                ("tiers.bands[0].percent", "10"),
                ("tiers.bands[1].from", "0"),
                ("tiers.bands[1].percent", "5"),
            ],
            "tiers.bands[1].from",
            "Bands go up",
        ),
        (
            vec![
                ("name", "Regex"),
                ("kind", "markup"),
                ("percent", "1"),
                ("when[0][0].on", "dimension"),
                ("when[0][0].name", "ServiceName"),
                ("when[0][0].op", "matches"),
                ("when[0][0].value", "(unclosed"),
            ],
            "when[0][0].value",
            "regular expression",
        ),
        (
            vec![
                ("name", "Dim"),
                ("kind", "markup"),
                ("percent", "1"),
                ("when[0][0].on", "dimension"),
                ("when[0][0].name", "servicename"),
                ("when[0][0].op", "equals"),
                ("when[0][0].value", "x"),
            ],
            "when[0][0].name",
            "Did you mean ServiceName?",
        ),
        (
            vec![
                ("name", "Yen"),
                ("kind", "one_time_fee"),
                ("amount", "15.5"),
                ("currency", "JPY"),
                ("period", "2026-10"),
            ],
            "amount",
            "JPY",
        ),
        (
            vec![("name", "Markup 10%"), ("kind", "markup"), ("percent", "1")],
            "name",
            "already named",
        ),
    ];
    for (fields, field, says) in cases {
        let page = post_rule(&mut b, &add, &csrf, &fields).await;
        assert_eq!(page.status, 422, "{fields:?}");
        let error = page
            .field_error(field)
            .unwrap_or_else(|| panic!("{fields:?}: no message beside {field}: {}", page.body));
        assert!(error.contains(says), "{field}: {error}");
    }
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(
        pricing["plans"][0]["rules"]
            .as_array()
            .expect("rules")
            .len(),
        7,
        "nothing was saved"
    );

    // Row buttons show the form again with a row more (nothing saved).
    let page = post_rule(
        &mut b,
        &add,
        &csrf,
        &[
            ("name", "T"),
            ("kind", "upcharge"),
            ("rate", "tiers"),
            ("tiers.bands[0].from", "0"),
            ("tiers.bands[0].percent", "10"),
            ("act", "add:tiers.bands"),
        ],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("name=\"tiers.bands[1].from\"") && page.body.contains("value=\"10\"")
    );
    let page = post_rule(
        &mut b,
        &add,
        &csrf,
        &[("name", "T"), ("kind", "markup"), ("act", "add:when")],
    )
    .await;
    assert!(page.body.contains("name=\"when[0][0].name\""));

    // Reorder, disable, edit, delete.
    let ids: Vec<String> = pricing["plans"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(
        b.post(&format!("/rules/{}/down", ids[0]), &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    assert_eq!(
        b.post(&format!("/rules/{}/disable", ids[3]), &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    let edit = b.get(&format!("/rules/{}/edit", ids[2])).await;
    assert!(
        edit.body.contains("value=\"100\"")
            && edit.body.contains("<option value=\"volume\" selected>"),
        "the form shows the rule"
    );
    let page = post_rule(
        &mut b,
        &format!("/rules/{}", ids[2]),
        &csrf,
        &[
            ("name", "Support fee"),
            ("kind", "upcharge"),
            ("scope", "family"),
            ("rate", "percent"),
            ("percent", "7"),
        ],
    )
    .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        b.post(&format!("/rules/{}/delete", ids[6]), &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    let rules = pricing["plans"][0]["rules"].as_array().expect("rules");
    let names: Vec<&str> = rules
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "Storage discount",
            "Markup 10%",
            "Support fee",
            "Loyalty",
            "Onboarding",
            "Welcome credit"
        ]
    );
    assert_eq!(
        (rules[2]["percent"].as_str(), rules[2]["tiers"].is_null()),
        (Some("7"), true)
    );
    assert_eq!(rules[3]["enabled"], false);
}

#[tokio::test]
async fn an_allocation_split_must_sum_to_100_and_the_sum_is_named() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    assert!(
        b.get("/allocations")
            .await
            .body
            .contains("id=\"no-allocations\"")
    );
    let entry = |second: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", "CostCenter".to_string()),
            ("entries[0].when[0][0].on", "dimension".into()),
            ("entries[0].when[0][0].name", "SubAccountId".into()),
            ("entries[0].when[0][0].op", "equals".into()),
            ("entries[0].when[0][0].value", "sub-A".into()),
            ("entries[0].values[0].value", "Web".into()),
            ("entries[0].values[0].percent", "60".into()),
            ("entries[0].values[1].value", "Batch".into()),
            ("entries[0].values[1].percent", second.into()),
        ]
    };
    let form = entry("39.99");
    let page = b
        .post(
            "/allocations",
            &form
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(page.status, 422);
    let error = page
        .field_error("entries[0].values")
        .expect("beside the entry's values");
    assert!(error.contains("sum to 99.99"), "{error}");
    assert!(
        page.body.contains("value=\"39.99\""),
        "what was typed stays"
    );
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(pricing["version"], 0, "nothing saved");

    let form = entry("40");
    assert_eq!(
        b.post(
            "/allocations",
            &form
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>()
        )
        .await
        .status,
        303
    );
    let list = b.get("/allocations").await;
    assert!(
        list.body.contains("Web 60 %, Batch 40 %") && list.body.contains("SubAccountId equals"),
        "{}",
        list.body
    );
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(
        pricing["allocations"][0]["entries"][0]["values"][1],
        serde_json::json!({"value": "Batch", "percent": "40"})
    );
    assert!(
        b.get("/allocations/CostCenter")
            .await
            .body
            .contains("value=\"Batch\"")
    );
    assert_eq!(
        b.post("/allocations/CostCenter/delete", &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    let bad_key = b
        .post(
            "/allocations",
            &[
                ("csrf", &csrf),
                ("key", "ServiceName"),
                ("entries[0].values[0].value", "X"),
                ("entries[0].values[0].percent", "100"),
            ],
        )
        .await;
    assert!(
        bad_key
            .field_error("key")
            .expect("beside the key")
            .contains("FOCUS column")
    );
}

#[tokio::test]
async fn strategies_from_a_period() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    assert!(
        b.get("/strategies")
            .await
            .body
            .contains("id=\"no-strategies\"")
    );
    let set = [
        ("csrf", csrf.as_str()),
        ("from", "2026-01"),
        ("credits", "hide"),
        ("commitments", "unshared"),
        ("on_demand_basis", "list"),
        ("taxes", "remove"),
    ];
    assert_eq!(b.post("/strategies", &set).await.status, 303);
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(
        pricing["strategies"][0],
        serde_json::json!({"from": "2026-01", "credits": "hide", "commitments": "unshared", "on_demand_basis": "list", "taxes": "remove"})
    );
    let bad = b
        .post(
            "/strategies",
            &[
                ("csrf", csrf.as_str()),
                ("from", "Jan"),
                ("credits", "maybe"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.field_error("from").expect("from").contains("YYYY-MM")
            && bad
                .field_error("credits")
                .expect("credits")
                .contains("show, hide")
    );
    assert_eq!(
        b.post("/strategies/2026-01/delete", &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    assert!(
        b.get("/strategies")
            .await
            .body
            .contains("id=\"no-strategies\"")
    );
}

#[tokio::test]
async fn rules_as_code_dry_run_then_apply() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    let file = std::fs::read(shared("data/engine/example-config.json")).expect("the example");

    let dry = b
        .post_multipart(
            "/pricing/code/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("mode", None, b"dry_run"),
                ("file", Some("example-config.json"), &file),
            ],
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert!(
        dry.body
            .contains("<li class=\"add\">+ family &#34;Contoso&#34;")
            || dry
                .body
                .contains("<li class=\"add\">+ family &quot;Contoso&quot;"),
        "{}",
        dry.body
    );
    assert!(dry.body.contains("Apply these 6 change(s)"));
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(pricing["version"], 0, "a dry run changes nothing");

    let text = String::from_utf8(file.clone()).expect("utf-8");
    let apply = b
        .post_multipart(
            "/pricing/code/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("mode", None, b"apply"),
                ("format", None, b"json"),
                ("file_name", None, b"example-config.json"),
                ("text", None, text.as_bytes()),
            ],
        )
        .await;
    assert_eq!(
        (apply.status, apply.location.as_deref()),
        (303, Some("/pricing/code?notice=applied&n=6&v=1"))
    );
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(pricing["version"], 1);
    let page = b.get("/pricing/code?notice=applied&n=6&v=1").await;
    assert!(
        page.body.contains("configuration is now version 1")
            && page.body.contains("rules as code imported (6 changes)")
    );

    // The download is the file (the example exports unchanged).
    let json = b.get("/pricing/export?format=json").await;
    assert_eq!(
        serde_json::from_str::<Value>(&json.body).expect("json"),
        serde_json::from_slice::<Value>(&file).expect("json")
    );
    assert!(
        b.get("/pricing/export?format=yaml")
            .await
            .body
            .contains("name: Contoso")
    );

    // A wrong value is named by its place in the file.
    let bad = br#"{"version":1,"plans":[{"name":"P","rules":[{"name":"m","kind":"markup","percent":"1000000000"}]}]}"#;
    let page = b
        .post_multipart(
            "/pricing/code/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("mode", None, b"dry_run"),
                ("file", Some("bad.json"), bad),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.field_error("file")
            .expect("beside the file")
            .contains("plans[0].rules[0].percent: This percentage is more than 0 and at most 1000"),
        "{}",
        page.body
    );
    let page = b
        .post_multipart(
            "/pricing/code/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("mode", None, b"dry_run"),
                ("file", Some("broken.yaml"), b"plans: ["),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.field_error("file")
            .expect("beside the file")
            .contains("line"),
        "YAML syntax errors name the line"
    );
}

#[tokio::test]
async fn uploads_need_the_form_token_first() {
    let app = spawn_app().await;
    let (mut b, csrf, token) = signed_in(&app).await;
    let file = std::fs::read(shared("data/engine/example-config.json")).expect("the example");
    for parts in [
        vec![
            ("mode", None, b"apply".as_slice()),
            ("file", Some("c.json"), file.as_slice()),
        ],
        vec![
            ("csrf", None, b"forged".as_slice()),
            ("file", Some("c.json"), file.as_slice()),
        ],
        vec![
            ("file", Some("c.json"), file.as_slice()),
            ("csrf", None, csrf.as_bytes()),
        ],
    ] {
        let page = b.post_multipart("/pricing/code/upload", &parts).await;
        assert_eq!(
            page.status,
            403,
            "{:?}",
            parts.iter().map(|p| p.0).collect::<Vec<_>>()
        );
        assert_eq!(b.post_multipart("/import/upload", &parts).await.status, 403);
    }
    let (_, pricing) = app.api(Method::GET, "/pricing", Some(&token), None).await;
    assert_eq!(pricing["version"], 0);

    // A valid form, without a file, and on a server without the engine: each said plainly.
    // (a browser sends the file input empty when no file was chosen)
    let page = b
        .post_multipart(
            "/import/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("source", None, b"AWS"),
                ("file", Some(""), b""),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.field_error("file")
            .expect("beside the file")
            .contains("Choose a FOCUS file")
    );
    assert!(page.body.contains("value=\"AWS\""));
    let csv = std::fs::read(shared("data/engine/example-focus.csv")).expect("the example");
    let page = b
        .post_multipart(
            "/import/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("example-focus.csv"), &csv),
            ],
        )
        .await;
    assert!(
        page.field_error("file")
            .expect("beside the file")
            .contains("Rating is not available"),
        "{}",
        page.body
    );
    assert!(
        std::fs::read_dir(app.app.layout().uploads_dir())
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "uploads are removed"
    );
}

#[tokio::test]
async fn rating_pages_before_any_data() {
    let app = spawn_app().await;
    let (mut b, _, _) = signed_in(&app).await;
    assert!(b.get("/rating").await.body.contains("id=\"no-periods\""));
    let page = b.get("/rating/2026-10").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("2026-10 has no rating yet"));
    assert_eq!(b.get("/rating/October").await.status, 422);
    let page = b.get("/explain?line=nonsense").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("is not a line ID"));
    let page = b
        .get("/rating/2026-10/what-if?run=1&rule=&add_plan=&move_sub=")
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Choose at least one change to preview."));
}
