//! The client's transport behaviour against a local server that counts calls: retries on 429 and
//! 5xx with `Retry-After`, giving up past the policy, and unreachable hosts; and whole-report fetches
//! against the project's Azure simulator, with its download faults.

mod in_flight;
mod reports;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
use be_azure::{AccessToken, AzureClient, Endpoints, ErrorKind, RetryPolicy};

async fn serve(router: Router) -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    url::Url::parse(&format!("http://{addr}")).expect("url")
}

fn client(management: url::Url, attempts: u32) -> AzureClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy = RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    };
    AzureClient::new(
        Endpoints {
            login: management.clone(),
            management,
        },
        policy,
    )
    .expect("client")
}

fn token() -> AccessToken {
    AccessToken::from_parts("a.b.c".into(), time::OffsetDateTime::now_utc())
}

const ACCOUNT: &str = r#"{"name":"1234567","properties":{"agreementType":"EnterpriseAgreement","displayName":"Contoso"}}"#;

/// A server that fails `failures` times with `status` (and `Retry-After: 1`), then succeeds.
fn flaky(status: StatusCode, failures: usize, calls: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/providers/Microsoft.Billing/billingAccounts/{id}",
        get(move || {
            let calls = calls.clone();
            async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < failures {
                    (
                        status,
                        [("retry-after", "1"), ("x-ms-request-id", "req-failed")],
                        "{}",
                    )
                        .into_response()
                } else {
                    ([("x-ms-request-id", "req-ok")], ACCOUNT).into_response()
                }
            }
        }),
    )
}

#[tokio::test]
async fn throttling_is_retried_after_the_asked_delay() {
    let calls = Arc::new(AtomicUsize::new(0));
    let base = serve(flaky(StatusCode::TOO_MANY_REQUESTS, 1, calls.clone())).await;
    let started = std::time::Instant::now();
    let account = client(base, 3)
        .billing_account(&token(), "1234567")
        .await
        .expect("succeeds on the second try");
    assert!(account.is_enterprise_agreement());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let calls = Arc::new(AtomicUsize::new(0));
    let base = serve(flaky(StatusCode::SERVICE_UNAVAILABLE, 10, calls.clone())).await;
    let err = client(base, 2)
        .billing_account(&token(), "1234567")
        .await
        .expect_err("gives up");
    assert_eq!(err.kind, ErrorKind::ServiceUnavailable);
    assert_eq!(err.request_id.as_deref(), Some("req-failed"));
    assert_eq!(err.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "exactly the attempts allowed"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_not_waited_for() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let router = Router::new().route(
        "/providers/Microsoft.Billing/billingAccounts/{id}",
        get(move || {
            c.fetch_add(1, Ordering::SeqCst);
            async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "3600")],
                    "{}",
                )
            }
        }),
    );
    let base = serve(router).await;
    let started = std::time::Instant::now();
    let err = client(base, 5)
        .billing_account(&token(), "1")
        .await
        .expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_unreachable_host_is_classified() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let base = url::Url::parse(&format!("http://127.0.0.1:{port}")).expect("url");
    let err = client(base, 2)
        .billing_account(&token(), "1")
        .await
        .expect_err("nobody listens");
    assert_eq!(err.kind, ErrorKind::Unreachable);
    assert!(err.message.contains("after 2 attempts"), "{}", err.message);
}

#[tokio::test]
async fn next_links_off_the_arm_host_are_refused() {
    let router = Router::new().route(
        "/providers/Microsoft.Billing/billingAccounts",
        get(|| async { r#"{"value":[],"nextLink":"https://evil.example/steal"}"# }),
    );
    let base = serve(router).await;
    let err = client(base, 1)
        .billing_accounts(&token())
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::UnexpectedResponse);
}
