//! The console in a real headless Chromium (Debian `chromium` and `chromium-driver`), driven over
//! WebDriver against the real `demo` binary.

use std::{process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::process::{DEMO_EMAIL, DEMO_PASSWORD, Server, TempDir, free_port, start_demo};

pub(crate) struct Driver {
    _process: Server,
    port: u16,
    _profile: TempDir,
}

pub(crate) fn start_chromedriver() -> Driver {
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&driver).exists(),
        "the browser test needs {driver}: install Debian's chromium and chromium-driver (scripts/test does)"
    );
    let port = free_port();
    let mut cmd = std::process::Command::new(driver);
    cmd.arg(format!("--port={port}")).stdin(Stdio::null());
    let process = Server::spawn(cmd);
    process.wait_stdout("started successfully");
    Driver {
        _process: process,
        port,
        _profile: TempDir::new("chromium-profile"),
    }
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", driver._profile.0.display()), "--window-size=1280,900"
            ]
        }
    });
    let caps = caps.as_object().expect("object").clone();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

async fn submit_name(c: &Client, name: &str) {
    let field = c
        .find(Locator::Css("input#name"))
        .await
        .expect("name field");
    field.clear().await.expect("clear");
    field.send_keys(name).await.expect("type");
    c.find(Locator::XPath(
        "//button[normalize-space()='Create Account']",
    ))
    .await
    .expect("button")
    .click()
    .await
    .expect("click");
}

#[tokio::test]
async fn log_in_create_an_account_and_see_a_duplicate_refused() {
    let demo = start_demo();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        c.goto(&demo.url).await.expect("open console");
        c.wait()
            .for_element(Locator::Css("input#email"))
            .await
            .expect("login page");
        assert!(
            c.current_url()
                .await
                .expect("url")
                .path()
                .starts_with("/login")
        );
        c.find(Locator::Css("input#email"))
            .await
            .expect("email")
            .send_keys(DEMO_EMAIL)
            .await
            .expect("type");
        c.find(Locator::Css("input#password"))
            .await
            .expect("password")
            .send_keys(DEMO_PASSWORD)
            .await
            .expect("type");
        c.find(Locator::Css("button[type=submit]"))
            .await
            .expect("submit")
            .click()
            .await
            .expect("click");
        c.wait()
            .for_element(Locator::Css("#trend, #no-data"))
            .await
            .expect("dashboard");
        assert_eq!(c.current_url().await.expect("url").path(), "/dashboard");
        goto(&c, &demo.url, "/accounts").await;
        shots(&c, "1-accounts").await;

        submit_name(&c, "Wingtip Toys").await;
        let notice = c
            .wait()
            .for_element(Locator::Css("#notice"))
            .await
            .expect("notice");
        assert_eq!(
            notice.text().await.expect("text"),
            "Account “Wingtip Toys” created."
        );
        let names: Vec<String> = {
            let mut v = vec![];
            for cell in c
                .find_all(Locator::Css("#accounts td.account-name"))
                .await
                .expect("rows")
            {
                v.push(cell.text().await.expect("text"));
            }
            v
        };
        assert!(names.contains(&"Wingtip Toys".to_string()), "{names:?}");

        submit_name(&c, "wingtip toys").await;
        let error = c
            .wait()
            .for_element(Locator::Css("#name-error"))
            .await
            .expect("field error");
        let text = error.text().await.expect("text");
        assert!(
            text.contains("\"Wingtip Toys\" already exists"),
            "names the existing account as spelled: {text}"
        );
        // The message sits beside the field it concerns, and the field is marked invalid.
        let beside: bool = c
            .execute(
                "const f = document.querySelector('input#name'); \
                 return f.getAttribute('aria-invalid') === 'true' && \
                        f.parentElement.querySelector('.field-error') === document.getElementById('name-error') && \
                        f.getAttribute('aria-describedby') === 'name-error';",
                vec![],
            )
            .await
            .expect("script")
            .as_bool()
            .expect("bool");
        assert!(beside);
        assert_eq!(
            c.find(Locator::Css("input#name"))
                .await
                .expect("f")
                .prop("value")
                .await
                .expect("v")
                .as_deref(),
            Some("wingtip toys")
        );
        shots(&c, "2-duplicate").await;

        // The demo's rated months, as a newcomer sees them.
        until_text(
            &c,
            &demo.url,
            "/rating",
            "#periods tr[data-status='rated']",
            "rated",
        )
        .await;
        shots(&c, "demo-rating").await;
        c.find(Locator::Css("#periods tr[data-status='rated'] a"))
            .await
            .expect("a rated month")
            .click()
            .await
            .expect("click");
        let families = text_of(&c, "#totals-table tbody").await;
        assert!(
            families.contains("Northwind Traders") && families.contains("Tailspin Toys"),
            "{families}"
        );
        assert!(
            text_of(&c, "#totals-table tfoot")
                .await
                .contains("Total USD")
        );
        click(&c, "#show-rules").await;
        until_shown(&c, "#totals-table thead", "Standard / Managed service fee").await;
        shots(&c, "demo-totals-rules").await;
        click(&c, "#by-sub-account").await;
        c.wait()
            .for_element(Locator::Css("#totals-table[data-by='sub_account']"))
            .await
            .expect("by sub-account");
        shots(&c, "demo-totals-sub-accounts").await;
    };
    // Close the browser whatever happened, then report.
    let outcome = tokio::time::timeout(Duration::from_secs(120), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}

pub(crate) async fn fill(c: &Client, css: &str, text: &str) {
    let field = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .click()
        .await
        .expect("click");
}

pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .text()
        .await
        .expect("text")
}

async fn path(c: &Client) -> String {
    c.current_url().await.expect("url").path().to_string()
}

async fn sign_in(c: &Client, url: &str) {
    c.goto(&format!("{url}/login")).await.expect("open");
    fill(c, "input#email", DEMO_EMAIL).await;
    fill(c, "input#password", DEMO_PASSWORD).await;
    click(c, "button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("#trend, #no-data"))
        .await
        .expect("signed in, on the dashboard");
}

/// The seed's flow in the console: create an account, Azure, Billing Engine, the app registration
/// instructions, the IDs (checked as typed), a wrong secret (refused with the reason), the right
/// one, the generated role call run by the administrator, Connect; then the existing-account path
/// from Administration.
#[tokio::test]
async fn the_whole_wizard_in_the_console() {
    let demo = start_demo();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        sign_in(&c, &demo.url).await;
        c.goto(&format!("{}/connect", demo.url))
            .await
            .expect("wizard");
        fill(&c, "input#name", "Wingtip Labs").await;
        click(&c, "button.primary").await;
        c.wait()
            .for_element(Locator::Css("#provider-azure"))
            .await
            .expect("provider step");
        click(&c, "#provider-azure").await;
        c.wait()
            .for_element(Locator::Css("#product-next"))
            .await
            .expect("product step");
        assert!(c.source().await.expect("html").contains("FinOps Products"));
        click(&c, "#product-next").await;

        // Step 4: what to register, with this server's redirect URI.
        let redirect = text_of(&c, "#redirect-uri").await;
        assert_eq!(redirect, demo.url);
        assert!(
            c.source()
                .await
                .expect("html")
                .contains("Accounts in this organizational directory only (Single tenant)")
        );
        shots(&c, "wizard-4-login").await;
        click(&c, "#login-next").await;

        // Step 5: a subscription path in the tenant field is named as such while typing.
        c.wait()
            .for_element(Locator::Css("input#tenant_id"))
            .await
            .expect("ids step");
        fill(
            &c,
            "input#tenant_id",
            "/subscriptions/11111111-2222-3333-4444-555555555555",
        )
        .await;
        click(&c, "input#client_id").await; // leaving the field triggers the check
        let live = c
            .wait()
            .for_element(Locator::Css("#tenant_id-error:not([hidden])"))
            .await
            .expect("live check")
            .text()
            .await
            .expect("t");
        assert!(live.contains("subscription"), "{live}");
        fill(
            &c,
            "input#client_id",
            "22222222-2222-4222-8222-222222222222",
        )
        .await;
        fill(&c, "input#tenant_id", "contoso.onmicrosoft.com").await;
        click(&c, "input[name=agreement_type][value=EA]").await;
        fill(&c, "input#billing_account_id", "8611537").await;
        shots(&c, "wizard-5-ids").await;
        click(&c, "#ids-next").await;

        // Step 6 with a wrong secret: the grant step says why and how to fix it.
        c.wait()
            .for_element(Locator::Css("input#client_secret"))
            .await
            .expect("secret step");
        fill(
            &c,
            "input#client_secret",
            "abc8Q~this-is-not-the-secret-value-00000",
        )
        .await;
        click(&c, "#secret-next").await;
        let error = text_of(&c, "#grant-error").await;
        assert!(
            error.contains("refused the client secret") && error.contains("Value"),
            "{error}"
        );
        shots(&c, "wizard-7-wrong-secret").await;
        c.find(Locator::LinkText("Enter the secret again"))
            .await
            .expect("link")
            .click()
            .await
            .expect("click");
        c.wait()
            .for_element(Locator::Css("input#client_secret"))
            .await
            .expect("secret step again");
        fill(
            &c,
            "input#client_secret",
            "tr2Q~try-the-wizard-secret-value-000000",
        )
        .await;
        click(&c, "#secret-next").await;

        // Step 7: the call, with the service principal's object ID filled in.
        let principal = text_of(&c, "#principal-id").await;
        assert_eq!(principal, "22222222-2222-4222-8222-5e7000000002");
        let curl = text_of(&c, "#grant-curl").await;
        assert!(
            curl.contains("8611537") && curl.contains(&principal),
            "{curl}"
        );
        shots(&c, "wizard-7-grant").await;
        let admin = std::process::Command::new("curl")
            .args([
                "-s",
                "-X",
                "POST",
                &format!(
                    "{}/_sim/users/aaaaaaaa-0000-4000-8000-00000000ad01/token",
                    demo.sim_url
                ),
            ])
            .output()
            .expect("curl");
        let admin: serde_json::Value = serde_json::from_slice(&admin.stdout).expect("json");
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("{curl} -o /dev/null -w '%{{http_code}}'")])
            .env(
                "ADMIN_TOKEN",
                admin["access_token"].as_str().expect("token"),
            )
            .output()
            .expect("run the call");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200");

        // Step 8: Connect.
        click(&c, "#connect").await;
        let state = text_of(&c, "#state").await;
        assert_eq!(state, "connected");
        let passed = c
            .find_all(Locator::Css("#checks li.check-passed"))
            .await
            .expect("checks")
            .len();
        assert_eq!(passed, 4);
        assert!(text_of(&c, "#next").await.contains("first sync is queued"));
        shots(&c, "wizard-8-connected").await;

        // The existing-account path: Administration → Billing Engine → + Cloud account.
        c.goto(&format!("{}/accounts", demo.url))
            .await
            .expect("accounts");
        fill(&c, "input#name", "Spare Account").await;
        c.find(Locator::XPath(
            "//button[normalize-space()='Create Account']",
        ))
        .await
        .expect("b")
        .click()
        .await
        .expect("click");
        c.wait()
            .for_element(Locator::Css("#notice"))
            .await
            .expect("created");
        c.goto(&format!("{}/administration", demo.url))
            .await
            .expect("administration");
        let listed = text_of(&c, "#registered").await;
        assert!(
            listed.contains("Wingtip Labs") && listed.contains("Contoso Retail"),
            "{listed}"
        );
        click(&c, "#add-cloud-account").await;
        let options = text_of(&c, "select#account_id").await;
        assert!(options.contains("Spare Account"), "{options}");
        assert!(
            !options.contains("Wingtip Labs") && !options.contains("Contoso Retail"),
            "connected accounts are not offered: {options}"
        );
        shots(&c, "admin-cloud-account").await;
        click(&c, "#cloud-account-next").await;
        c.wait()
            .for_element(Locator::Css("#redirect-uri"))
            .await
            .expect("continues at log in to Azure");
        assert!(path(&c).await.ends_with("/login"));
    };
    let outcome = tokio::time::timeout(Duration::from_secs(180), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}

/// A DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(&'static str, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.0, "params": self.1}).to_string()),
        )
    }
}

async fn viewport(c: &Client, width: u64, height: u64) {
    let metrics =
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
    c.issue_cmd(Cdp("Emulation.setDeviceMetricsOverride", metrics))
        .await
        .expect("set the viewport");
}

/// A full-page screenshot at 1400 and at 800 px wide (`<name>-1400.png`, `<name>-800.png`).
pub(crate) async fn shots(c: &Client, name: &str) {
    for width in [1400u64, 800] {
        viewport(c, width, 900).await;
        let height = c
            .execute(
                "return Math.min(Math.max(document.documentElement.scrollHeight, 900), 8000);",
                vec![],
            )
            .await
            .expect("height")
            .as_u64()
            .unwrap_or(900);
        viewport(c, width, height).await;
        screenshot(c, &format!("{name}-{width}")).await;
    }
    c.issue_cmd(Cdp("Emulation.clearDeviceMetricsOverride", json!({})))
        .await
        .expect("reset the viewport");
}

pub(crate) async fn attr(c: &Client, css: &str, name: &str) -> String {
    let e = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"));
    e.attr(name).await.expect("attr").unwrap_or_default()
}

async fn choose(c: &Client, select: &str, label: &str) {
    let s = c
        .find(Locator::Css(select))
        .await
        .unwrap_or_else(|_| panic!("{select}"));
    s.select_by_label(label)
        .await
        .unwrap_or_else(|_| panic!("{select}: {label}"));
}

pub(crate) async fn goto(c: &Client, url: &str, path: &str) {
    c.goto(&format!("{url}{path}"))
        .await
        .unwrap_or_else(|_| panic!("open {path}"));
}

/// Wait (without reloading) until `css` shows `expected`: the page a click leads to has loaded.
pub(crate) async fn until_shown(c: &Client, css: &str, expected: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
            && text.contains(expected)
        {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css} never showed {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reload `path` until `css` shows `expected` (the rating runs in the background).
async fn until_text(c: &Client, url: &str, path: &str, css: &str, expected: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        goto(c, url, path).await;
        if let Ok(e) = c.find(Locator::Css(css)).await {
            let text = e.text().await.unwrap_or_default();
            if text.contains(expected) {
                return text;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path}: {css} never showed {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Issue 8's console flow on a fresh server: import the worked example's FOCUS file and its
/// configuration, create a family and a plan with a tiered rule (a mistake shown beside its
/// field first), read the rated totals (exact on hover), use what-if, explain a line.
#[tokio::test]
async fn pricing_and_rating_in_the_console() {
    let fresh = crate::rating::Fresh::start();
    let url = fresh.url.clone();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        goto(&c, &url, "/login").await;
        fill(&c, "input#email", crate::rating::EMAIL).await;
        fill(&c, "input#password", "a very good password").await;
        click(&c, "button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css("#no-data"))
            .await
            .expect("signed in, on the empty dashboard");

        // Before any data: honest empty states and placeholders.
        goto(&c, &url, "/rating").await;
        assert!(
            text_of(&c, "#no-periods")
                .await
                .contains("No cost data yet")
        );
        goto(&c, &url, "/dashboard").await;
        assert!(
            text_of(&c, "#no-data")
                .await
                .contains("No rated costs in the last 13 months")
        );
        shots(&c, "dashboard-empty").await;

        // Import the FOCUS file through the upload form.
        goto(&c, &url, "/import").await;
        fill(&c, "input#source", "Example").await;
        let csv = crate::rating::shared("data/engine/example-focus.csv")
            .canonicalize()
            .expect("the example file");
        c.find(Locator::Css("input#file"))
            .await
            .expect("file")
            .send_keys(csv.to_str().expect("path"))
            .await
            .expect("choose");
        click(&c, "#import-submit").await;
        let imported = text_of(&c, "#imported-periods tr[data-period='2026-10']").await;
        assert!(
            imported.contains("2026-10") && imported.contains(" 8 ") && imported.contains("700.00"),
            "{imported}"
        );
        assert!(
            text_of(&c, "#import-columns")
                .await
                .contains("x_ExampleRow"),
            "kept x_ columns are named"
        );
        shots(&c, "import-result").await;

        // Rules as code: a dry run shows the differences, then apply.
        goto(&c, &url, "/pricing/code").await;
        let config = crate::rating::shared("data/engine/example-config.json")
            .canonicalize()
            .expect("the example file");
        c.find(Locator::Css("input#code-file"))
            .await
            .expect("file")
            .send_keys(config.to_str().expect("path"))
            .await
            .expect("choose");
        click(&c, "#dry-run-submit").await;
        let changes = c
            .wait()
            .for_element(Locator::Css("#changes"))
            .await
            .expect("diff");
        let lines = changes
            .find_all(Locator::Css("li"))
            .await
            .expect("lines")
            .len();
        assert!(lines >= 5, "{lines} changes");
        assert!(changes.text().await.expect("t").contains("Contoso"));
        shots(&c, "code-dry-run").await;
        click(&c, "#apply").await;
        let notice = text_of(&c, "#notice").await;
        assert!(notice.contains("version 1"), "{notice}");

        // The month gets rated by itself.
        until_text(
            &c,
            &url,
            "/rating",
            "tr[data-period='2026-10'][data-status='rated']",
            "v1",
        )
        .await;
        shots(&c, "rating").await;

        // A family: a duplicate name refused beside the field, then Tailspin with sub-D.
        goto(&c, &url, "/families").await;
        let subs = text_of(&c, "#subs").await;
        assert!(
            [
                "sub-A",
                "sub-B",
                "sub-C",
                "sub-D",
                "Tailspin Dev",
                "8611537",
                "Example"
            ]
            .iter()
            .all(|s| subs.contains(s)),
            "{subs}"
        );
        fill(&c, "input[name=name]", "contoso").await;
        click(&c, "#create-family").await;
        let error = text_of(&c, "[data-field='name']").await;
        assert!(error.contains("already named"), "{error}");
        assert_eq!(attr(&c, "input[name=name]", "aria-invalid").await, "true");
        shots(&c, "families-error").await;
        fill(&c, "input[name=name]", "Tailspin").await;
        click(&c, "#create-family").await;
        c.wait()
            .for_element(Locator::Css("#add-members"))
            .await
            .expect("the family's page");
        click(&c, "#add-members input[value='sub-D']").await;
        assert_eq!(
            c.find(Locator::Css("#add-members input[name=from]"))
                .await
                .expect("from")
                .prop("value")
                .await
                .expect("v")
                .as_deref(),
            Some("2026-10")
        );
        click(&c, "#add-to-family").await;
        until_shown(&c, "#notice", "1 sub-account").await;
        assert!(text_of(&c, "#members").await.contains("sub-D"));
        shots(&c, "family").await;

        // A plan with a tiered upcharge, assigned to Tailspin.
        goto(&c, &url, "/plans").await;
        fill(&c, "input[name=name]", "Tiered support").await;
        click(&c, "#create-plan").await;
        c.wait()
            .for_element(Locator::Css("#assign"))
            .await
            .expect("plan page");
        choose(&c, "select[name=target]", "Tailspin").await;
        click(&c, "#assign").await;
        assert!(text_of(&c, "#assignment-list").await.contains("Tailspin"));
        choose(&c, "#new-kind", "Upcharge").await;
        click(&c, "#add-rule").await;
        c.wait()
            .for_element(Locator::Css("#rule-form"))
            .await
            .expect("the rule form");
        fill(&c, "#f-name", "Support tiers").await;
        choose(&c, "#f-rate", "Tiers by spend").await; // re-renders with the bands
        c.wait()
            .for_element(Locator::Css("#add-band"))
            .await
            .expect("bands");
        fill(&c, "input[name='tiers.bands[0].percent']", "10").await;
        click(&c, "#add-band").await;
        c.wait()
            .for_element(Locator::Css("input[name='tiers.bands[1].from']"))
            .await
            .expect("a second band");
        fill(&c, "input[name='tiers.bands[1].from']", "0").await;
        fill(&c, "input[name='tiers.bands[1].percent']", "5").await;
        click(&c, "#save-rule").await;
        let error = text_of(&c, "[data-field='tiers.bands[1].from']").await;
        assert!(error.contains("Bands go up"), "{error}");
        assert_eq!(
            attr(&c, "input[name='tiers.bands[1].from']", "aria-invalid").await,
            "true"
        );
        assert_eq!(
            c.find(Locator::Css("#f-name"))
                .await
                .expect("name")
                .prop("value")
                .await
                .expect("v")
                .as_deref(),
            Some("Support tiers"),
            "what was typed stays"
        );
        shots(&c, "rule-error").await;
        fill(&c, "input[name='tiers.bands[1].from']", "5").await;
        click(&c, "#save-rule").await;
        let rules = text_of(&c, "#rule-list").await;
        assert!(
            rules.contains("Support tiers")
                && rules.contains("graduated tiers: from 0 at 10 %, from 5 at 5 %"),
            "{rules}"
        );
        shots(&c, "plan").await;

        // Rated totals: Contoso 256.21 shown, 256.2125 exact on hover; Tailspin 10 + 0.5 + 0.25.
        let tailspin = "tr[data-key='Tailspin'] td[data-col='BilledCost']";
        until_text(&c, &url, "/rating/2026-10", tailspin, "USD 10.75").await;
        let contoso = "#totals-table tr[data-key='Contoso'] td[data-col='BilledCost']";
        assert_eq!(text_of(&c, contoso).await, "USD 256.21");
        assert_eq!(attr(&c, contoso, "title").await, "USD 256.2125");
        assert_eq!(
            text_of(&c, "#totals-table tfoot td[data-col='BilledCost']").await,
            "USD 441.96"
        );
        assert_eq!(
            attr(&c, "#totals-table tfoot td[data-col='BilledCost']", "title").await,
            "USD 441.9625"
        );
        shots(&c, "totals").await;
        click(&c, "#show-rules").await;
        let header = until_shown(&c, "#totals-table thead", "Standard / Markup 10%").await;
        assert!(
            header.contains("Standard / Markup 10%")
                && header.contains("Tiered support / Support tiers"),
            "{header}"
        );
        assert_eq!(
            text_of(
                &c,
                "tr[data-key='Tailspin'] td[data-col='Tiered support / Support tiers']"
            )
            .await,
            "USD 0.75"
        );
        shots(&c, "totals-rules").await;
        click(&c, "#by-rule").await;
        assert_eq!(
            text_of(
                &c,
                "tr[data-key='Standard / Support fee'] td[data-col='Effect']"
            )
            .await,
            "USD 16.96"
        );
        shots(&c, "totals-by-rule").await;

        // What if the markup were 20 %? Contoso: 261 before the support fee, which becomes 18.05.
        goto(&c, &url, "/rating/2026-10/what-if").await;
        choose(
            &c,
            "select[name=rule]",
            "Standard / Markup 10% (markup, now 10 %)",
        )
        .await;
        fill(&c, "input[name=percent]", "20").await;
        click(&c, "#preview").await;
        let row = text_of(&c, "#by-family tr[data-key='Contoso']").await;
        assert!(
            row.contains("USD 256.21") && row.contains("USD 279.05") && row.contains("USD +22.84"),
            "{row}"
        );
        assert_eq!(
            attr(
                &c,
                "#by-family tr[data-key='Contoso'] td[data-col='difference']",
                "title"
            )
            .await,
            "USD 22.8375"
        );
        assert!(
            text_of(&c, "#by-family tr[data-key='Fabrikam']")
                .await
                .contains("USD 0.00"),
            "Fabrikam is not on Standard's rows"
        );
        shots(&c, "what-if").await;
        goto(&c, &url, "/rating/2026-10").await;
        assert_eq!(
            text_of(&c, contoso).await,
            "USD 256.21",
            "nothing was saved"
        );

        // Explain the Web share of r1: 60 provider, +6 markup, 66 billed.
        goto(&c, &url, "/rating/2026-10/lines?family=Contoso").await;
        c.find(Locator::Css("#lines tr[data-provider='USD 60'] a"))
            .await
            .expect("the Web share of r1")
            .click()
            .await
            .expect("click");
        assert!(
            text_of(&c, "#splits")
                .await
                .contains("CostCenter = Web (60 %)")
        );
        assert!(
            text_of(&c, "li[data-stage='Standard / Markup 10%']")
                .await
                .contains("USD 6.00")
        );
        assert_eq!(text_of(&c, "#billed").await, "USD 66.00");
        let source = text_of(&c, "#source-row").await;
        assert!(
            source.contains("x_ExampleRow") && source.contains("r1"),
            "{source}"
        );
        shots(&c, "explain").await;

        // An allocation previewed on the month before it is saved.
        goto(&c, &url, "/allocations/CostCenter").await;
        click(&c, "#preview-allocation").await;
        let preview = text_of(&c, "#preview-table").await;
        assert!(
            [
                "Web",
                "USD 66.00",
                "Batch",
                "USD 44.00",
                "Data",
                "USD 160.00",
                "(unallocated)"
            ]
            .iter()
            .all(|s| preview.contains(s)),
            "{preview}"
        );
        shots(&c, "allocation-preview").await;

        // Every other page, at both widths.
        for (path, name) in [
            ("/rating/2026-10/lines?family=Contoso", "lines"),
            ("/families", "families"),
            ("/plans", "plans"),
            ("/strategies", "strategies"),
            ("/allocations", "allocations"),
            ("/connections", "connections"),
            ("/pricing/code", "code"),
            ("/accounts", "accounts"),
            ("/tokens", "tokens"),
            ("/administration", "administration"),
            ("/connect", "connect"),
            ("/nowhere", "not-found"),
        ] {
            goto(&c, &url, path).await;
            shots(&c, name).await;
        }
        goto(&c, &url, "/accounts").await;
        click(&c, ".who button.link").await;
        c.wait()
            .for_element(Locator::Css("input#email"))
            .await
            .expect("signed out");
        shots(&c, "login").await;
    };
    let outcome = tokio::time::timeout(Duration::from_secs(300), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}

/// The fetched text of a link of the page, with the browser's session (an export).
async fn fetch_text(c: &Client, css: &str) -> String {
    let href = attr(c, css, "href").await;
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         fetch(arguments[0]).then((r) => r.text()).then(done, (e) => done('failed: ' + e));",
        vec![json!(href)],
    )
    .await
    .expect("fetch")
    .as_str()
    .expect("text")
    .to_string()
}

/// Issue 10 in the console on the worked example (loaded through the CLI): the dashboard with
/// figures and an SVG chart, the analysis by CostCenter (Web 66, Batch 44, Data 160, unallocated
/// 171.2125) with a second level folding, a row drilled to its rated rows and explained, a saved
/// view reopened by its address, the CSV export parsed, an asset group; screenshots at both widths.
#[tokio::test]
async fn dashboard_analysis_and_saved_views_in_the_console() {
    let fresh = crate::rating::Fresh::start();
    let csv = crate::rating::shared("data/engine/example-focus.csv");
    let config = crate::rating::shared("data/engine/example-config.json");
    let (ok, _, err) = fresh.run(&["import", "focus", csv.to_str().expect("path")]);
    assert!(ok, "{err}");
    let (ok, _, err) = fresh.run(&["pricing", "import", config.to_str().expect("path")]);
    assert!(ok, "{err}");
    let (ok, out, err) = fresh.run(&["rate", "2026-10"]);
    assert!(ok && out.contains("BilledCost 441.2125"), "{out}{err}");
    let url = fresh.url.clone();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        goto(&c, &url, "/login").await;
        fill(&c, "input#email", crate::rating::EMAIL).await;
        fill(&c, "input#password", "a very good password").await;
        click(&c, "button[type=submit]").await;
        // The landing page: the dashboard, with October's figures in the trend chart.
        let trend = text_of(&c, "#trend").await;
        assert_eq!(path(&c).await, "/dashboard");
        assert!(trend.contains("USD"), "{trend}");
        let titles = c
            .execute(
                "return Array.from(document.querySelectorAll('#trend-usd title')).map((t) => t.textContent).join('|');",
                vec![],
            )
            .await
            .expect("titles");
        let titles = titles.as_str().expect("text");
        assert!(
            titles.contains("Oct 26 Billed: USD 441.21")
                && titles.contains("Oct 26 Provider cost: USD 700.00"),
            "{titles}"
        );
        let top = text_of(&c, "#top-families-usd").await;
        assert!(top.contains("Contoso"), "{top}");
        shots(&c, "dashboard").await;

        // The analysis by CostCenter, through the form.
        goto(&c, &url, "/analysis").await;
        fill(&c, "#f-from", "2026-10").await;
        fill(&c, "#f-to", "2026-10").await;
        fill(&c, "#f-group_by-0", "CostCenter").await;
        click(&c, "#run").await;
        let table = until_shown(&c, "#pivot", "Web").await;
        for (name, billed) in [
            ("Web", "USD 66.00"),
            ("Batch", "USD 44.00"),
            ("Data", "USD 160.00"),
            ("(unallocated)", "USD 171.21"),
        ] {
            let row = text_of(
                &c,
                &format!(
                    "#pivot tr[data-path='USD|{}']",
                    if name.starts_with('(') { "" } else { name }
                ),
            )
            .await;
            assert!(
                row.contains(name) && row.contains(billed),
                "{row} in {table}"
            );
        }
        assert!(text_of(&c, "#pivot tfoot").await.contains("USD 441.21"));
        assert_eq!(
            attr(
                &c,
                "#pivot tr[data-path='USD|'] td.num:nth-of-type(3)",
                "title"
            )
            .await,
            "USD 171.2125",
            "exact on hover"
        );
        shots(&c, "analysis").await;

        // The export of the current table, parsed.
        let csv = fetch_text(&c, "#export-csv").await;
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("row,CostCenter,BillingCurrency,ProviderCost,BilledCost"),
            "{csv}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("group,,USD,") && l.contains(",171.2125,")),
            "{csv}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("group,Web,USD,") && l.contains(",66,")),
            "{csv}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("total,,USD,700,441.2125,")),
            "{csv}"
        );

        // The Parquet export: a whole Parquet file (the engine's test reads its exact values).
        let href = attr(&c, "#export-parquet", "href").await;
        let magic = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then((r) => r.arrayBuffer()).then((b) => {
                   const t = new TextDecoder().decode(new Uint8Array(b));
                   done([t.slice(0, 4), t.slice(-4), b.byteLength]);
                 }, (e) => done(['failed: ' + e]));",
                vec![json!(href)],
            )
            .await
            .expect("fetch");
        assert_eq!(
            (magic[0].as_str(), magic[1].as_str()),
            (Some("PAR1"), Some("PAR1")),
            "{magic}"
        );

        // Saved, then reopened by its address.
        fill(&c, "#f-name", "By cost center").await;
        click(&c, "#save-view-button").await;
        until_shown(&c, "#notice", "saved").await;
        let saved = c.current_url().await.expect("url");
        let id = saved
            .query_pairs()
            .find(|(k, _)| k == "view")
            .map(|(_, v)| v.to_string())
            .expect("the view's address");
        goto(&c, &url, "/dashboard").await;
        goto(&c, &url, &format!("/analysis?view={id}")).await;
        assert_eq!(text_of(&c, "#view-name").await, "By cost center");
        assert!(text_of(&c, "#pivot").await.contains("USD 171.21"));
        assert!(text_of(&c, "#views").await.contains("By cost center"));

        // Two levels: a subtotal folds its groups (keyboard: Enter on the button).
        fill(&c, "#f-group_by-1", "BillingFamilyName").await;
        click(&c, "#run").await;
        until_shown(&c, "#pivot", "Contoso").await;
        let inner = "#pivot tr[data-parent='USD|Web']";
        assert!(
            c.find(Locator::Css(inner))
                .await
                .expect("a nested row")
                .is_displayed()
                .await
                .expect("shown")
        );
        let fold = c
            .find(Locator::Css("#pivot tr[data-path='USD|Web'] button.fold"))
            .await
            .expect("fold button");
        fold.send_keys("\u{E007}").await.expect("Enter");
        assert!(
            !c.find(Locator::Css(inner))
                .await
                .expect("row")
                .is_displayed()
                .await
                .expect("hidden")
        );
        assert_eq!(
            fold.attr("aria-expanded").await.expect("attr").as_deref(),
            Some("false")
        );
        fold.click().await.expect("unfold");
        shots(&c, "analysis-nested").await;

        // Drill down from Web's count to its rated rows, then explain one.
        click(&c, "#pivot tr[data-path='USD|Web'] a.drill").await;
        let rows = text_of(&c, "#lines").await;
        assert!(
            text_of(&c, "#drill-what")
                .await
                .contains("CostCenter = Web")
        );
        assert!(rows.contains("USD 66.00"), "{rows}");
        shots(&c, "analysis-rows").await;
        click(&c, "#lines a.button").await;
        c.wait()
            .for_element(Locator::Css("#pipeline"))
            .await
            .expect("explained");

        // An asset group made the default narrows the dashboard.
        goto(&c, &url, "/asset-groups").await;
        fill(&c, "#f-name", "Contoso only").await;
        fill(&c, "#f-family", "Contoso").await;
        click(&c, "#is-default").await;
        click(&c, "#create-group").await;
        until_shown(&c, "#notice", "saved").await;
        assert!(text_of(&c, "#group-list").await.contains("default"));
        shots(&c, "asset-groups").await;
        goto(&c, &url, "/dashboard").await;
        assert_eq!(text_of(&c, "#asset-group-name").await, "Contoso only");
        shots(&c, "dashboard-asset-group").await;
    };
    let outcome = tokio::time::timeout(Duration::from_secs(300), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}
