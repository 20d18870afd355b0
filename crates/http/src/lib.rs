#![recursion_limit = "512"]
//! Billing Engine's HTTP edge. The only crate that knows axum and templates.
//!
//! - `/api/v1/...`: the JSON API (bearer tokens), documented by `/api/v1/openapi.json`.
//! - `/...`: the server-rendered console (session cookie, CSRF token on every form).
//! - `/health`: liveness and database reachability.
//!
//! Every response carries an `x-request-id` (taken from the request or generated), and every
//! request is logged in a span carrying it.

mod access;
mod api;
mod console;
mod cookies;
mod error;
mod openapi;
mod openapi_invoicing;
mod openapi_rating;
mod openapi_users;

use std::{future::Future, sync::Arc, time::Duration};

use axum::http::{HeaderValue, header};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderName, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use be_app::App;
use tower_http::set_header::SetResponseHeaderLayer as Set;
use tower_http::{
    LatencyUnit,
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
};

pub use error::ApiError;
pub use openapi::document as openapi_document;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How the HTTP edge behaves (a slice of the configuration).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Mark console cookies `Secure`.
    pub secure_cookies: bool,
    /// Lifetime of a console session cookie.
    pub session_ttl: time::Duration,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub app: App,
    pub settings: Arc<HttpSettings>,
    /// Console forms already submitted ([`console::once`]).
    pub forms: Arc<console::once::Submitted>,
}

/// The whole HTTP surface: API, console, health, with request IDs, tracing and panic safety.
pub fn router(app: App, settings: HttpSettings) -> Router {
    let state = AppState {
        app,
        settings: Arc::new(settings),
        forms: Arc::default(),
    };
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api::router(state.clone()))
        .merge(console::router(state.clone()))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every answer: no inline script or style and no framing (CSP), no MIME sniffing, no
        // referrer to other sites, nothing cached unless the handler said so (static files do).
        .layer(Set::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(Set::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(Set::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(Set::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(Set::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            // The panic message is not echoed: it may name internal details.
            tracing::error!("a request handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                // One access-log line per request, at INFO, with status and latency.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::ERROR)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn health(State(state): State<AppState>) -> Response {
    if state.app.healthy().await {
        Json(serde_json::json!({"status": "ok", "database": "ok"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "degraded", "database": "unreachable"})),
        )
            .into_response()
    }
}

/// Limits on client connections (slow or idle clients cannot hold the server).
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A client must send a request's whole header within this time (else the connection ends).
    pub header_read_timeout: Duration,
    /// Connections open at once, at most; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// Serve until `shutdown` resolves, then stop accepting and let requests in flight finish for up
/// to `grace`, with the default [`ServeLimits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, grace, ServeLimits::default()).await
}

/// [`serve`] with explicit limits: each connection holds one of `max_connections` permits, and
/// HTTP/1 connections must send each request's header within `header_read_timeout`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ServeLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            _ = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr));
                req
            },
        );
        let conn = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
        }
    }
    Ok(())
}
