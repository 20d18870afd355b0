//! The console in a real headless Chromium (Debian `chromium` and `chromium-driver`), driven over
//! WebDriver against the real `demo` binary.

use std::{process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::process::{DEMO_EMAIL, DEMO_PASSWORD, Server, TempDir, free_port, start_demo};

struct Driver {
    _process: Server,
    port: u16,
    _profile: TempDir,
}

fn start_chromedriver() -> Driver {
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
    Driver { _process: process, port, _profile: TempDir::new("chromium-profile") }
}

async fn browser(driver: &Driver) -> Client {
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
    let field = c.find(Locator::Css("input#name")).await.expect("name field");
    field.clear().await.expect("clear");
    field.send_keys(name).await.expect("type");
    c.find(Locator::XPath("//button[normalize-space()='Create Account']")).await.expect("button").click().await.expect("click");
}

#[tokio::test]
async fn log_in_create_an_account_and_see_a_duplicate_refused() {
    let demo = start_demo();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        c.goto(&demo.url).await.expect("open console");
        c.wait().for_element(Locator::Css("input#email")).await.expect("login page");
        assert!(c.current_url().await.expect("url").path().starts_with("/login"));
        c.find(Locator::Css("input#email")).await.expect("email").send_keys(DEMO_EMAIL).await.expect("type");
        c.find(Locator::Css("input#password")).await.expect("password").send_keys(DEMO_PASSWORD).await.expect("type");
        c.find(Locator::Css("button[type=submit]")).await.expect("submit").click().await.expect("click");
        c.wait().for_element(Locator::Css("input#name")).await.expect("accounts page");
        assert_eq!(c.current_url().await.expect("url").path(), "/accounts");
        screenshot(&c, "1-accounts").await;

        submit_name(&c, "Wingtip Toys").await;
        let notice = c.wait().for_element(Locator::Css("#notice")).await.expect("notice");
        assert_eq!(notice.text().await.expect("text"), "Account “Wingtip Toys” created.");
        let names: Vec<String> = {
            let mut v = vec![];
            for cell in c.find_all(Locator::Css("#accounts td.account-name")).await.expect("rows") {
                v.push(cell.text().await.expect("text"));
            }
            v
        };
        assert!(names.contains(&"Wingtip Toys".to_string()), "{names:?}");

        submit_name(&c, "wingtip toys").await;
        let error = c.wait().for_element(Locator::Css("#name-error")).await.expect("field error");
        let text = error.text().await.expect("text");
        assert!(text.contains("\"Wingtip Toys\" already exists"), "names the existing account as spelled: {text}");
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
        assert_eq!(c.find(Locator::Css("input#name")).await.expect("f").prop("value").await.expect("v").as_deref(), Some("wingtip toys"));
        screenshot(&c, "2-duplicate").await;
    };
    // Close the browser whatever happened, then report.
    let outcome = tokio::time::timeout(Duration::from_secs(120), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css}")).click().await.expect("click");
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css}")).text().await.expect("text")
}

async fn path(c: &Client) -> String {
    c.current_url().await.expect("url").path().to_string()
}

async fn sign_in(c: &Client, url: &str) {
    c.goto(&format!("{url}/login")).await.expect("open");
    fill(c, "input#email", DEMO_EMAIL).await;
    fill(c, "input#password", DEMO_PASSWORD).await;
    click(c, "button[type=submit]").await;
    c.wait().for_element(Locator::Css("input#name")).await.expect("signed in");
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
        c.goto(&format!("{}/connect", demo.url)).await.expect("wizard");
        fill(&c, "input#name", "Wingtip Labs").await;
        click(&c, "button.primary").await;
        c.wait().for_element(Locator::Css("#provider-azure")).await.expect("provider step");
        click(&c, "#provider-azure").await;
        c.wait().for_element(Locator::Css("#product-next")).await.expect("product step");
        assert!(c.source().await.expect("html").contains("FinOps Products"));
        click(&c, "#product-next").await;

        // Step 4: what to register, with this server's redirect URI.
        let redirect = text_of(&c, "#redirect-uri").await;
        assert_eq!(redirect, demo.url);
        assert!(c.source().await.expect("html").contains("Accounts in this organizational directory only (Single tenant)"));
        screenshot(&c, "wizard-4-login").await;
        click(&c, "#login-next").await;

        // Step 5: a subscription path in the tenant field is named as such while typing.
        c.wait().for_element(Locator::Css("input#tenant_id")).await.expect("ids step");
        fill(&c, "input#tenant_id", "/subscriptions/11111111-2222-3333-4444-555555555555").await;
        click(&c, "input#client_id").await; // leaving the field triggers the check
        let live = c.wait().for_element(Locator::Css("#tenant_id-error:not([hidden])")).await.expect("live check").text().await.expect("t");
        assert!(live.contains("subscription"), "{live}");
        fill(&c, "input#client_id", "22222222-2222-4222-8222-222222222222").await;
        fill(&c, "input#tenant_id", "contoso.onmicrosoft.com").await;
        click(&c, "input[name=agreement_type][value=EA]").await;
        fill(&c, "input#billing_account_id", "8611537").await;
        screenshot(&c, "wizard-5-ids").await;
        click(&c, "#ids-next").await;

        // Step 6 with a wrong secret: the grant step says why and how to fix it.
        c.wait().for_element(Locator::Css("input#client_secret")).await.expect("secret step");
        fill(&c, "input#client_secret", "abc8Q~this-is-not-the-secret-value-00000").await;
        click(&c, "#secret-next").await;
        let error = text_of(&c, "#grant-error").await;
        assert!(error.contains("refused the client secret") && error.contains("Value"), "{error}");
        screenshot(&c, "wizard-7-wrong-secret").await;
        c.find(Locator::LinkText("Enter the secret again")).await.expect("link").click().await.expect("click");
        c.wait().for_element(Locator::Css("input#client_secret")).await.expect("secret step again");
        fill(&c, "input#client_secret", "tr2Q~try-the-wizard-secret-value-000000").await;
        click(&c, "#secret-next").await;

        // Step 7: the call, with the service principal's object ID filled in.
        let principal = text_of(&c, "#principal-id").await;
        assert_eq!(principal, "22222222-2222-4222-8222-5e7000000002");
        let curl = text_of(&c, "#grant-curl").await;
        assert!(curl.contains("8611537") && curl.contains(&principal), "{curl}");
        screenshot(&c, "wizard-7-grant").await;
        let admin = std::process::Command::new("curl")
            .args(["-s", "-X", "POST", &format!("{}/_sim/users/aaaaaaaa-0000-4000-8000-00000000ad01/token", demo.sim_url)])
            .output()
            .expect("curl");
        let admin: serde_json::Value = serde_json::from_slice(&admin.stdout).expect("json");
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("{curl} -o /dev/null -w '%{{http_code}}'")])
            .env("ADMIN_TOKEN", admin["access_token"].as_str().expect("token"))
            .output()
            .expect("run the call");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200");

        // Step 8: Connect.
        click(&c, "#connect").await;
        let state = text_of(&c, "#state").await;
        assert_eq!(state, "connected");
        let passed = c.find_all(Locator::Css("#checks li.check-passed")).await.expect("checks").len();
        assert_eq!(passed, 4);
        assert!(text_of(&c, "#next").await.contains("first sync is queued"));
        screenshot(&c, "wizard-8-connected").await;

        // The existing-account path: Administration → Billing Engine → + Cloud account.
        c.goto(&format!("{}/accounts", demo.url)).await.expect("accounts");
        fill(&c, "input#name", "Spare Account").await;
        c.find(Locator::XPath("//button[normalize-space()='Create Account']")).await.expect("b").click().await.expect("click");
        c.wait().for_element(Locator::Css("#notice")).await.expect("created");
        c.goto(&format!("{}/administration", demo.url)).await.expect("administration");
        let listed = text_of(&c, "#registered").await;
        assert!(listed.contains("Wingtip Labs") && listed.contains("Contoso Retail"), "{listed}");
        click(&c, "#add-cloud-account").await;
        let options = text_of(&c, "select#account_id").await;
        assert!(options.contains("Spare Account"), "{options}");
        assert!(!options.contains("Wingtip Labs") && !options.contains("Contoso Retail"), "connected accounts are not offered: {options}");
        screenshot(&c, "admin-cloud-account").await;
        click(&c, "#cloud-account-next").await;
        c.wait().for_element(Locator::Css("#redirect-uri")).await.expect("continues at log in to Azure");
        assert!(path(&c).await.ends_with("/login"));
    };
    let outcome = tokio::time::timeout(Duration::from_secs(180), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}
