use std::{net::SocketAddr, sync::Arc};

use be_app::{App, AppSettings, Clock, Keys, ManualClock, SystemClock};
use reqwest::{Client, Method, Response, header};
use serde_json::Value;

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub clock: Option<Arc<ManualClock>>,
    pub db_url: String,
    dir: std::path::PathBuf,
    client: Client,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the real server on port 0 with a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_with_clock(None).await
}

pub async fn spawn_app_with_manual_clock() -> TestApp {
    spawn_with_clock(Some(Arc::new(ManualClock::new(
        time::OffsetDateTime::now_utc(),
    ))))
    .await
}

/// Starts the real server pointed at Azure endpoints of the caller's choice (the simulator).
pub async fn spawn_app_with_azure(azure: be_azure::Endpoints) -> TestApp {
    spawn_inner(None, azure).await
}

async fn spawn_with_clock(manual: Option<Arc<ManualClock>>) -> TestApp {
    spawn_inner(manual, be_azure::Endpoints::default()).await
}

/// Starts the real server with a rating engine of the caller's choice (a stand-in), rating at
/// once after a change (no debounce).
pub async fn spawn_app_with_engine(engine: Arc<dyn be_app::rating::RatingPort>) -> TestApp {
    spawn_full(None, be_azure::Endpoints::default(), Some(engine)).await
}

async fn spawn_inner(manual: Option<Arc<ManualClock>>, azure: be_azure::Endpoints) -> TestApp {
    spawn_full(manual, azure, None).await
}

async fn spawn_full(
    manual: Option<Arc<ManualClock>>,
    azure: be_azure::Endpoints,
    engine: Option<Arc<dyn be_app::rating::RatingPort>>,
) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("be-http-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db_url = format!("sqlite://{}", dir.join("state.db").display());
    let store = be_store::connect(&db_url).await.expect("open");
    store.migrate().await.expect("migrate");
    let clock: Arc<dyn Clock> = match &manual {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let settings = AppSettings {
        azure,
        // Quick retries: tests must not wait minutes on a throttled simulator.
        azure_retry: be_azure::RetryPolicy {
            max_attempts: 2,
            base_delay: std::time::Duration::from_millis(20),
            max_delay: std::time::Duration::from_secs(2),
            request_timeout: std::time::Duration::from_secs(10),
        },
        sync: be_app::sync::SyncSettings {
            data_dir: dir.join("data"),
            ..Default::default()
        },
        rating: be_app::rating::RatingSettings {
            debounce: time::Duration::ZERO,
            engine,
            ..Default::default()
        },
        ..AppSettings::default()
    };
    let app = App::new(store, clock, Keys::from_master(&[42; 32]), settings).expect("app");
    let settings = be_http::HttpSettings {
        secure_cookies: true,
        session_ttl: time::Duration::hours(12),
    };
    let router = be_http::router(app.clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(be_http::serve(
        listener,
        router,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr,
        app,
        clock: manual,
        db_url,
        dir,
        client,
    }
}

/// An organization with an administrator and an API token.
pub struct Tenant {
    pub token: String,
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "a long enough password".to_string();
        let (_, user) = self
            .app
            .create_organization_with_admin(name, &email, &password)
            .await
            .expect("org");
        let token = self
            .app
            .create_api_token(&user.into(), "tests")
            .await
            .expect("token")
            .secret;
        Tenant {
            token,
            email,
            password,
        }
    }

    /// An API call with a bearer token and an optional JSON body.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        json_of(req.send().await.expect("request")).await
    }

    pub fn raw(&self) -> &Client {
        &self.client
    }
}

pub async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A browser-like console session: keeps cookies, reads CSRF tokens from pages.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    pub last_set_cookies: Vec<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Page {
    /// The text of the message shown beside the field `field` (`data-field="..."`), tags removed.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!("data-field=\"{field}\"");
        let at = self.body.find(&marker)?;
        let open = self.body[..at].rfind('<')?;
        let tag: String = self.body[open + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let start = at + self.body[at..].find('>')? + 1;
        let end = start + self.body[start..].find(&format!("</{tag}>"))?;
        let mut text = String::new();
        let mut in_tag = false;
        for c in self.body[start..end].chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .expect("page has a form with a CSRF token");
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_string()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: vec![],
            last_set_cookies: vec![],
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: Response) -> Page {
        self.last_set_cookies.clear();
        for sc in resp.headers().get_all(header::SET_COOKIE) {
            let text = sc.to_str().expect("ascii").to_string();
            let (pair, _) = text.split_once(';').unwrap_or((&text, ""));
            let (k, v) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() && !text.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), v.to_string()));
            }
            self.last_set_cookies.push(text);
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().expect("ascii").to_string());
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .map(|l| l.to_str().expect("ascii").to_string());
        Page {
            status,
            location,
            retry_after,
            body: resp.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .app
            .client
            .get(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("get");
        self.finish(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .app
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("post");
        self.finish(resp).await
    }

    /// [`Browser::post`] naming another `Host` than the server's (as a client may).
    pub async fn post_with_host(&mut self, path: &str, form: &[(&str, &str)], host: &str) -> Page {
        let resp = self
            .app
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .header(header::HOST, host)
            .form(form)
            .send()
            .await
            .expect("post");
        self.finish(resp).await
    }

    /// A `multipart/form-data` form, fields in the given order: `(name, file name, content)`.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        let boundary = format!("----be-test-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::new();
        for (name, file, content) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .app
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("post");
        self.finish(resp).await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Page {
        let page = self.get("/login").await;
        let csrf = page.csrf();
        // The form's own `next` (where signing in leads by default).
        let marker = "name=\"next\" value=\"";
        let start = page.body.find(marker).expect("next field") + marker.len();
        let next = page.body[start..]
            .split('"')
            .next()
            .expect("value")
            .to_string();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", &next),
            ],
        )
        .await
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, _)| k == name)
    }
}
