//! Findings of the security review (issue 12): each test reproduces one and fails without its fix.

use std::time::Duration;

use crate::harness::spawn_app;

/// Argon2 runs on the blocking pool: while a sign-in's hash is computed, the (single-threaded)
/// runtime keeps serving other requests.
#[tokio::test]
async fn password_hashing_leaves_the_runtime_free() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let app = test.app.clone();
    let (email, password) = (t.email.clone(), t.password.clone());
    let login = tokio::spawn(async move { app.check_password(&email, &password, None).await });
    let mut in_flight = 0;
    for _ in 0..4000 {
        in_flight = test.app.hashes_in_flight();
        if in_flight > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        in_flight, 1,
        "a hash was never seen in flight: it blocked the runtime"
    );
    let health = test
        .raw()
        .get(test.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    login.await.expect("join").expect("signed in");
    assert_eq!(test.app.hashes_in_flight(), 0);
}

/// Sign-ins are throttled per client address (many e-mails from one client) and per account
/// (with backoff); someone else's guesses never lock the owner out from their own address.
#[tokio::test]
async fn sign_ins_are_throttled_per_address_and_per_account_without_locking_the_owner_out() {
    let test = crate::harness::spawn_app_with_manual_clock().await;
    let t = test.tenant("Org").await;
    let app = &test.app;
    let attacker = Some("192.0.2.7");
    for i in 0..20 {
        let e = app
            .check_password(
                &format!("guess{i}@example.com"),
                "wrong password!",
                attacker,
            )
            .await
            .expect_err("unknown");
        assert_eq!(e.code(), "invalid_credentials");
    }
    let e = app
        .check_password("guess21@example.com", "wrong password!", attacker)
        .await
        .expect_err("throttled");
    assert_eq!(
        e.code(),
        "too_many_attempts",
        "one client cannot try e-mails at speed"
    );

    let clock = test.clock.as_ref().expect("clock");
    clock.advance(time::Duration::minutes(16));
    for _ in 0..5 {
        let e = app
            .check_password(&t.email, "wrong password!", attacker)
            .await
            .expect_err("wrong");
        assert_eq!(e.code(), "invalid_credentials");
    }
    let e = app
        .check_password(&t.email, &t.password, attacker)
        .await
        .expect_err("waits");
    assert_eq!(e.code(), "too_many_attempts");
    // The owner, from their own address, signs in at once.
    app.check_password(&t.email, &t.password, Some("198.51.100.1"))
        .await
        .expect("not locked out");
}

/// The console's 429 carries Retry-After too.
#[tokio::test]
async fn the_console_sign_in_says_when_to_retry() {
    let test = crate::harness::spawn_app_with_manual_clock().await;
    let t = test.tenant("Org").await;
    let mut b = crate::harness::Browser::new(&test);
    for _ in 0..5 {
        assert_eq!(b.login(&t.email, "wrong password!").await.status, 401);
    }
    let page = b.login(&t.email, &t.password).await;
    assert_eq!((page.status, page.retry_after.as_deref()), (429, Some("1")));
}

/// Slow clients (a request header never finished) are cut off after the header-read timeout, and
/// connections beyond the limit wait for a free slot instead of piling up.
#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let test = spawn_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = be_http::router(
        test.app.clone(),
        be_http::HttpSettings {
            secure_cookies: true,
            session_ttl: time::Duration::hours(1),
        },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = be_http::ServeLimits {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 2,
    };
    let server = tokio::spawn(be_http::serve_with(
        listener,
        router,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
        limits,
    ));
    let mut slow = vec![];
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .expect("partial header");
        slow.push(s);
    }
    // Both slots are held by slow clients; this request is served once they are cut off.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let health = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("served once a slot is free");
    assert_eq!(health.status(), 200);
    for mut s in slow {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "a slow client was never cut off");
        let text = String::from_utf8_lossy(&rest);
        assert!(
            !text.contains("200 OK"),
            "an unfinished request was answered: {text}"
        );
    }
    let _ = stop.send(());
    server.await.expect("join").expect("served");
}

/// Every answer carries the security headers; pages are never cached, static files are.
#[tokio::test]
async fn answers_carry_security_headers() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let mut b = crate::harness::Browser::new(&test);
    b.login(&t.email, &t.password).await;
    let client = test.raw();
    for path in ["/login", "/api/v1/openapi.json"] {
        let resp = client.get(test.url(path)).send().await.expect("get");
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    let css = client
        .get(test.url("/static/app.css"))
        .send()
        .await
        .expect("css");
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("max-age")
    );
}

/// Item 7: a CSRF token made for the pre-login cookie (which a page could obtain while the
/// browser was signed out) does not authorize a signed-in action; cookies are `__Host-` prefixed.
#[tokio::test]
async fn a_token_made_before_sign_in_is_refused_after_it() {
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let mut b = crate::harness::Browser::new(&test);
    let before = b.get("/login").await.csrf();
    let page = b.login(&t.email, &t.password).await;
    assert_eq!(page.status, 303);
    assert!(
        b.has_cookie("__Host-be_session") && b.has_cookie("__Host-be_pre"),
        "Secure cookies carry the __Host- prefix"
    );
    let refused = b
        .post("/accounts", &[("csrf", &before), ("name", "Planted")])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // The session's own token works, and the planted account does not exist.
    let csrf = b.get("/accounts").await.csrf();
    let created = b
        .post("/accounts", &[("csrf", &csrf), ("name", "Mine")])
        .await;
    assert_eq!(created.status, 303);
    let list = b.get("/accounts").await;
    assert!(list.body.contains("Mine") && !list.body.contains("Planted"));
    // The session's token is no good for the sign-in form either (bound to the other cookie).
    let mut other = crate::harness::Browser::new(&test);
    other.get("/login").await;
    let cross = other
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &t.email),
                ("password", &t.password),
            ],
        )
        .await;
    assert_eq!(cross.status, 403);
}

/// Item 9: text in the address is never shown as the server's word, and the tokens page's CLI
/// address is the configured public URL, not the request's Host header.
#[tokio::test]
async fn pages_show_only_what_the_server_chose_to_say() {
    use reqwest::Method;
    use serde_json::json;
    let test = spawn_app().await;
    let t = test.tenant("Org").await;
    let mut b = crate::harness::Browser::new(&test);
    b.login(&t.email, &t.password).await;
    let (_, account) = test
        .api(
            Method::POST,
            "/accounts",
            Some(t.token.as_str()),
            Some(json!({"name": "Contoso"})),
        )
        .await;
    let (status, c) = test
        .api(
            Method::POST,
            "/connections",
            Some(t.token.as_str()),
            Some(json!({"account_id": account["id"], "provider": "azure", "product": "billing_engine"})),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().expect("id");
    let bait = "Support says: call 555-0100 now";
    let q: String = url::form_urlencoded::byte_serialize(bait.as_bytes()).collect();
    for path in [
        format!("/accounts?deleted={q}"),
        format!("/connections/{id}?error={q}"),
        format!("/connections/{id}?notice={q}"),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("555-0100"),
            "{path} shows the address's text"
        );
    }
    // Validating an incomplete connection names what is missing in the server's words.
    let csrf = b.get(&format!("/connections/{id}")).await.csrf();
    let refused = b
        .post(&format!("/connections/{id}/validate"), &[("csrf", &csrf)])
        .await;
    let to = refused.location.expect("redirect");
    assert_eq!(to, format!("/connections/{id}?error=connection_incomplete"));
    let page = b.get(&to).await;
    assert!(
        page.body.contains("Enter the missing details first"),
        "{}",
        page.body
    );

    // The CLI hint on the tokens page: the configured address, whatever Host the request named.
    let csrf = b.get("/tokens").await.csrf();
    let issued = b
        .post_with_host(
            "/tokens",
            &[("csrf", &csrf), ("name", "laptop")],
            "evil.example",
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert!(
        !issued.body.contains("evil.example"),
        "the Host header is not trusted"
    );
    assert!(
        issued.body.contains("http://localhost:8080"),
        "{}",
        issued.body
    );
}
