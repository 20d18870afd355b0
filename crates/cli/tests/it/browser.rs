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
