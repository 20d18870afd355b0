use crate::harness::{Browser, spawn_app, spawn_app_with_manual_clock};

#[tokio::test]
async fn login_sets_a_secure_http_only_session_cookie() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);

    let page = b.get("/accounts").await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/login?next=%2Faccounts"))
    );

    let page = b.login(&t.email, "not the password").await;
    assert_eq!(page.status, 401);
    assert!(
        page.body.contains("id=\"login-error\"") && page.body.contains("not right"),
        "{}",
        page.body
    );
    assert!(!b.has_cookie("be_session"));

    let page = b.login(&t.email, &t.password).await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/dashboard"))
    );
    let cookie = b
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("be_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let page = b.get("/accounts").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&t.email));
}

#[tokio::test]
async fn login_never_redirects_off_site() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    let page = b.get("/login").await;
    let csrf = page.csrf();
    let page = b
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &t.email),
                ("password", &t.password),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/dashboard"));
    // Tabs, line breaks and backslashes (which browsers drop or read as `/`) never lead off-site,
    // and a line break is no server error.
    for next in [
        "/\t/127.0.0.1:28099/x",
        "/\\evil.example/x",
        "\\\\evil.example",
        "/x\r\nSet-Cookie: a=b",
        "/\n/evil.example",
        "https://evil.example/",
        "/ /evil.example",
    ] {
        let mut b = Browser::new(&app);
        let csrf = b.get("/login").await.csrf();
        let form = [
            ("csrf", csrf.as_str()),
            ("email", t.email.as_str()),
            ("password", t.password.as_str()),
            ("next", next),
        ];
        let page = b.post("/login", &form).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/dashboard")),
            "{next:?}"
        );
        assert!(b.has_cookie("be_session"), "{next:?}: signed in");
    }
    // A path on this site is kept, query included.
    let mut b = Browser::new(&app);
    let csrf = b.get("/login").await.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("email", t.email.as_str()),
        ("password", t.password.as_str()),
        ("next", "/rating/2026-01?x=1"),
    ];
    let page = b.post("/login", &form).await;
    assert_eq!(page.location.as_deref(), Some("/rating/2026-01?x=1"));
    // The sign-in page's own link is checked the same way.
    let page = b.get("/login?next=/%09/127.0.0.1:28099/x").await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/dashboard"))
    );
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;

    for token in ["", "forged"] {
        let page = b
            .post("/accounts", &[("csrf", token), ("name", "Evil")])
            .await;
        assert_eq!(page.status, 403, "token {token:?}");
        assert!(page.body.contains("expired"), "{}", page.body);
    }
    // Nor is the login form accepted without one.
    let mut fresh = Browser::new(&app);
    let page = fresh
        .post("/login", &[("email", &t.email), ("password", &t.password)])
        .await;
    assert_eq!(page.status, 403);

    let page = b.get("/accounts").await;
    assert!(!page.body.contains("Evil"), "nothing was created");
}

#[tokio::test]
async fn create_account_and_see_errors_beside_the_field() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/accounts").await.csrf();

    let page = b
        .post("/accounts", &[("csrf", &csrf), ("name", "Contoso")])
        .await;
    assert_eq!(page.status, 303);
    let list = b.get(page.location.as_deref().expect("redirect")).await;
    assert!(
        list.body.contains("Account “Contoso” created."),
        "{}",
        list.body
    );
    assert!(list.body.contains(">Contoso</a>"));

    let page = b
        .post("/accounts", &[("csrf", &csrf), ("name", "CONTOSO")])
        .await;
    assert_eq!(page.status, 409);
    let error = field_error(&page.body).expect("error beside the name field");
    assert!(error.contains("already exists"), "{error}");
    assert!(
        page.body.contains("value=\"CONTOSO\""),
        "the entered value is kept"
    );

    let page = b
        .post("/accounts", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(page.status, 422);
    assert!(
        field_error(&page.body)
            .expect("error")
            .contains("Enter a name")
    );
}

/// The text of the error paragraph attached to the `name` field.
fn field_error(html: &str) -> Option<String> {
    let start = html.find("id=\"name-error\" data-field=\"name\">")?
        + "id=\"name-error\" data-field=\"name\">".len();
    let end = html[start..].find("</p>")? + start;
    Some(html[start..end].to_string())
}

#[tokio::test]
async fn rename_and_delete_in_the_console() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/accounts").await.csrf();
    let created = b
        .post("/accounts", &[("csrf", &csrf), ("name", "Alpha")])
        .await;
    let id = created
        .location
        .expect("location")
        .rsplit('=')
        .next()
        .expect("id")
        .to_string();
    b.post("/accounts", &[("csrf", &csrf), ("name", "Beta")])
        .await;

    let page = b
        .post(
            &format!("/accounts/{id}/rename"),
            &[("csrf", &csrf), ("name", "beta")],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(field_error(&page.body).is_some());
    let page = b
        .post(
            &format!("/accounts/{id}/rename"),
            &[("csrf", &csrf), ("name", "Gamma")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(
        b.get(&format!("/accounts/{id}"))
            .await
            .body
            .contains("<h1>Gamma</h1>")
    );

    let confirm = b.get(&format!("/accounts/{id}/delete")).await;
    assert!(confirm.body.contains("Delete “Gamma”?"));
    let page = b
        .post(&format!("/accounts/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(page.status, 303);
    let list = b.get(page.location.as_deref().expect("redirect")).await;
    assert!(list.body.contains("Account “Gamma” deleted.") && !list.body.contains(">Gamma</a>"));
}

#[tokio::test]
async fn another_organization_s_account_is_not_found_in_the_console() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let bt = app.tenant("B").await;
    let mut alice = Browser::new(&app);
    alice.login(&a.email, &a.password).await;
    let csrf = alice.get("/accounts").await.csrf();
    let created = alice
        .post("/accounts", &[("csrf", &csrf), ("name", "Private")])
        .await;
    let id = created
        .location
        .expect("location")
        .rsplit('=')
        .next()
        .expect("id")
        .to_string();

    let mut bob = Browser::new(&app);
    bob.login(&bt.email, &bt.password).await;
    let bob_csrf = bob.get("/accounts").await.csrf();
    assert!(!bob.get("/accounts").await.body.contains("Private"));
    assert_eq!(bob.get(&format!("/accounts/{id}")).await.status, 404);
    assert_eq!(bob.get(&format!("/accounts/{id}/delete")).await.status, 404);
    assert_eq!(
        bob.post(
            &format!("/accounts/{id}/rename"),
            &[("csrf", &bob_csrf), ("name", "Mine")]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        bob.post(&format!("/accounts/{id}/delete"), &[("csrf", &bob_csrf)])
            .await
            .status,
        404
    );
    // Alice's CSRF token is useless in Bob's session.
    assert_eq!(
        bob.post(&format!("/accounts/{id}/delete"), &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    assert!(
        alice
            .get(&format!("/accounts/{id}"))
            .await
            .body
            .contains("<h1>Private</h1>"),
        "untouched"
    );
}

#[tokio::test]
async fn sessions_end_at_logout_and_at_expiry() {
    let app = spawn_app_with_manual_clock().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/accounts").await.csrf();
    let page = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    assert_eq!(b.get("/accounts").await.status, 303);

    b.login(&t.email, &t.password).await;
    assert_eq!(b.get("/accounts").await.status, 200);
    app.clock
        .as_ref()
        .expect("manual clock")
        .advance(time::Duration::hours(13));
    let page = b.get("/accounts").await;
    assert_eq!(page.status, 303, "expired after 12 hours");
}

#[tokio::test]
async fn api_tokens_page_shows_a_new_token_once() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/tokens").await.csrf();
    let page = b
        .post("/tokens", &[("csrf", &csrf), ("name", "laptop")])
        .await;
    assert_eq!(page.status, 201);
    let start =
        page.body.find("<pre id=\"new-token\">").expect("shown") + "<pre id=\"new-token\">".len();
    let secret = &page.body[start..start + page.body[start..].find('<').expect("end")];
    assert!(secret.starts_with("be_"));
    let again = b.get("/tokens").await;
    assert!(!again.body.contains(secret), "shown only once");
    assert!(again.body.contains("laptop"));
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let page = b.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Not found"));
}
