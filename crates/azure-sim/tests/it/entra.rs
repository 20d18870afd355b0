//! Entra ID: token endpoint successes and every failure of azure-protocol.md section 1.4.

use crate::*;
use base64::Engine as _;
use be_azure_sim::{AppUpdate, NewApp, NewSecret};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json claims")
}

#[tokio::test]
async fn client_credentials_by_domain_and_guid() {
    let t = spawn().await;
    let cid = t.demo.app.client_id.to_string();
    for tenant in [
        "contoso.onmicrosoft.com",
        "contoso.com",
        "CONTOSO.COM",
        &t.demo.tenant.id.to_string(),
    ] {
        let r = t
            .token_request(
                tenant,
                &[
                    ("client_id", &cid),
                    ("scope", ARM_SCOPE),
                    ("client_secret", &t.demo.client_secret),
                    ("grant_type", "client_credentials"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{tenant}");
        assert_eq!(
            r.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["expires_in"], 3599);
        assert_eq!(v["ext_expires_in"], 3599);
        assert!(v.get("refresh_token").is_none());
        let c = claims(v["access_token"].as_str().expect("token"));
        assert_eq!(c["oid"], t.demo.app.service_principal_object_id.to_string());
        assert_ne!(
            c["oid"],
            t.demo.app.object_id.to_string(),
            "oid is the SP, not the app object"
        );
        assert_eq!(c["sub"], c["oid"]);
        assert_eq!(c["tid"], t.demo.tenant.id.to_string());
        assert_eq!(c["appid"], cid);
        assert_eq!(c["aud"], "https://management.azure.com/");
        assert_eq!(
            c["iss"],
            format!("https://sts.windows.net/{}/", t.demo.tenant.id)
        );
        assert_eq!(c["idtyp"], "app");
        assert!(c["exp"].as_i64().expect("exp") > c["iat"].as_i64().expect("iat"));
    }
}

#[tokio::test]
async fn http_basic_client_authentication() {
    let t = spawn().await;
    let r = t
        .http
        .post(t.token_url("contoso.com"))
        .basic_auth(t.demo.app.client_id, Some(&t.demo.client_secret))
        .form(&[("scope", ARM_SCOPE), ("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
}

async fn expect_error(
    t: &T,
    tenant: &str,
    form: &[(&str, &str)],
    status: u16,
    error: &str,
    code: u64,
) {
    let r = t.token_request(tenant, form).await;
    assert_eq!(r.status().as_u16(), status, "{tenant} {form:?}");
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v), (code, error.to_string()), "{v}");
    assert_eq!(
        v["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
}

#[tokio::test]
async fn every_documented_token_failure() {
    let t = spawn().await;
    let cid = t.demo.app.client_id.to_string();
    let secret = t.demo.client_secret.clone();
    let ok = |k: &'static str, v: &str| -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("client_id", cid.clone()),
            ("scope", ARM_SCOPE.to_string()),
            ("client_secret", secret.clone()),
            ("grant_type", "client_credentials".to_string()),
        ];
        f.retain(|(n, _)| *n != k);
        if !v.is_empty() {
            f.push((k, v.to_string()));
        }
        f
    };
    let run = |f: Vec<(&'static str, String)>| f;
    let as_ref = |f: &Vec<(&'static str, String)>| {
        f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, u16, &'a str, u64);
    let cases: Vec<Case> = vec![
        // unknown tenant (GUID and domain)
        (
            "11111111-2222-3333-4444-555555555555",
            run(ok("x", "")),
            400,
            "invalid_request",
            90002,
        ),
        (
            "fabrikam.com",
            run(ok("x", "")),
            400,
            "invalid_request",
            90002,
        ),
        // malformed tenant
        ("contoso", run(ok("x", "")), 400, "invalid_request", 900023),
        ("foo bar", run(ok("x", "")), 400, "invalid_request", 900023),
        // /common and /consumers
        ("common", run(ok("x", "")), 400, "invalid_request", 9001023),
        (
            "consumers",
            run(ok("x", "")),
            400,
            "invalid_request",
            9001023,
        ),
        // app not in tenant / unknown client id
        (
            "contoso.com",
            ok("client_id", "00000000-1111-2222-3333-444444444444"),
            400,
            "unauthorized_client",
            700016,
        ),
        // wrong secret (e.g. the secret ID pasted instead of the value)
        (
            "contoso.com",
            ok("client_secret", &t.demo.app.secrets[0].key_id.to_string()),
            401,
            "invalid_client",
            7000215,
        ),
        // missing secret
        (
            "contoso.com",
            ok("client_secret", ""),
            401,
            "invalid_client",
            7000218,
        ),
        // wrong scope: not .default, another resource, two resources
        (
            "contoso.com",
            ok("scope", "https://management.azure.com/user_impersonation"),
            400,
            "invalid_scope",
            70011,
        ),
        (
            "contoso.com",
            ok("scope", "https://graph.microsoft.com/.default"),
            400,
            "invalid_resource",
            500011,
        ),
        (
            "contoso.com",
            ok(
                "scope",
                "https://management.azure.com/.default https://graph.microsoft.com/.default",
            ),
            400,
            "invalid_scope",
            700022,
        ),
        // missing parameters
        (
            "contoso.com",
            ok("scope", ""),
            400,
            "invalid_request",
            900144,
        ),
        (
            "contoso.com",
            ok("grant_type", ""),
            400,
            "invalid_request",
            900144,
        ),
        (
            "contoso.com",
            ok("client_id", ""),
            400,
            "invalid_request",
            900144,
        ),
        // unsupported grant
        (
            "contoso.com",
            ok("grant_type", "authorization_code"),
            400,
            "unsupported_grant_type",
            70003,
        ),
    ];
    for (tenant, form, status, error, code) in cases {
        let f = as_ref(&form);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect_error(&t, tenant, &f, status, error, code).await;
    }
}

#[tokio::test]
async fn expired_disabled_and_missing_service_principal() {
    let t = spawn().await;
    let sim = t.sim.sim();
    let tenant = "contoso.onmicrosoft.com";
    let app = sim
        .create_app(
            tenant,
            NewApp {
                secret: Some(NewSecret {
                    value: Some("s3cret".into()),
                    expires_in_days: Some(30),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .expect("app");
    let cid = app.client_id.to_string();
    let form = [
        ("client_id", cid.as_str()),
        ("scope", ARM_SCOPE),
        ("client_secret", "s3cret"),
        ("grant_type", "client_credentials"),
    ];
    assert_eq!(
        t.token_request(tenant, &form).await.status(),
        StatusCode::OK
    );
    // The injectable clock moves past the secret's expiry.
    t.sim.clock().advance(time::Duration::days(31));
    expect_error(&t, tenant, &form, 401, "invalid_client", 7000222).await;
    // A new secret works again; the old one stays expired.
    sim.add_secret(
        tenant,
        app.client_id,
        NewSecret {
            value: Some("n3w".into()),
            ..Default::default()
        },
    )
    .expect("secret");
    let form2 = [
        ("client_id", cid.as_str()),
        ("scope", ARM_SCOPE),
        ("client_secret", "n3w"),
        ("grant_type", "client_credentials"),
    ];
    assert_eq!(
        t.token_request(tenant, &form2).await.status(),
        StatusCode::OK
    );
    // Disabled app.
    sim.update_app(
        tenant,
        app.client_id,
        AppUpdate {
            disabled: Some(true),
            ..Default::default()
        },
    )
    .expect("disable");
    expect_error(&t, tenant, &form2, 400, "unauthorized_client", 7000112).await;
    // No service principal in the tenant.
    sim.update_app(
        tenant,
        app.client_id,
        AppUpdate {
            disabled: Some(false),
            has_service_principal: Some(false),
        },
    )
    .expect("update");
    expect_error(&t, tenant, &form2, 401, "invalid_client", 7000229).await;
}

#[tokio::test]
async fn app_of_another_tenant_is_not_found() {
    let t = spawn().await;
    let sim = t.sim.sim();
    sim.create_tenant(be_azure_sim::NewTenant {
        domains: vec!["fabrikam.onmicrosoft.com".into()],
        ..Default::default()
    })
    .expect("tenant");
    let form = [
        ("client_id", t.demo.app.client_id.to_string()),
        ("scope", ARM_SCOPE.into()),
        ("client_secret", t.demo.client_secret.clone()),
        ("grant_type", "client_credentials".into()),
    ];
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    expect_error(
        &t,
        "fabrikam.onmicrosoft.com",
        &f,
        400,
        "unauthorized_client",
        700016,
    )
    .await;
}

#[tokio::test]
async fn missing_tenant_segment() {
    let t = spawn().await;
    let r = t
        .http
        .post(format!("{}/oauth2/v2.0/token", t.sim.login_url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v), (90019, "invalid_request".into()));
}

#[tokio::test]
async fn openid_configuration() {
    let t = spawn().await;
    let url = |tenant: &str| {
        format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            t.sim.login_url()
        )
    };
    let r = t.http.get(url("contoso.com")).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    let tid = t.demo.tenant.id.to_string();
    assert!(
        v["issuer"].as_str().expect("issuer").contains(&tid),
        "domain resolves to the GUID"
    );
    assert_eq!(
        v["token_endpoint"],
        format!("{}/{tid}/oauth2/v2.0/token", t.sim.login_url())
    );
    // The advertised token endpoint works.
    let r = t
        .http
        .post(v["token_endpoint"].as_str().expect("te"))
        .form(&[
            ("client_id", t.demo.app.client_id.to_string().as_str()),
            ("scope", ARM_SCOPE),
            ("client_secret", &t.demo.client_secret),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    // Unknown and malformed tenants.
    let r = t
        .http
        .get(url("nowhere.example.com"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v), (90002, "invalid_tenant".into()));
    assert!(
        v["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("Tenant 'nowhere.example.com' not found")
    );
    let r = t.http.get(url("contoso")).send().await.expect("send");
    let v: Value = r.json().await.expect("json");
    assert_eq!(aad_error(&v), (900023, "invalid_tenant".into()));
}

#[tokio::test]
async fn password_grant_for_administrators() {
    let t = spawn().await;
    let form = [
        ("client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"),
        ("scope", ARM_SCOPE),
        ("grant_type", "password"),
        ("username", "ea-admin@contoso.com"),
        ("password", "Passw0rd!"),
    ];
    let r = t.token_request("contoso.com", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    let c = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(c["oid"], t.demo.ea_admin.object_id.to_string());
    assert_eq!(c["upn"], "ea-admin@contoso.com");
    let mut bad = form;
    bad[4] = ("password", "nope");
    expect_error(&t, "contoso.com", &bad, 400, "invalid_grant", 50126).await;
    bad[3] = ("username", "ghost@contoso.com");
    expect_error(&t, "contoso.com", &bad, 400, "invalid_grant", 50034).await;
}
