#![recursion_limit = "512"]
//! Billing Engine's HTTP edge. The only crate that knows axum and templates.
//!
//! - `/api/v1/...`: the JSON API (bearer tokens), documented by `/api/v1/openapi.json`.
//! - `/...`: the server-rendered console (session cookie, CSRF token on every form).
//! - `/health`: liveness and database reachability.
//!
//! Every response carries an `x-request-id` (taken from the request or generated), and every
//! request is logged in a span carrying it.

mod api;
mod console;
mod cookies;
mod error;
mod openapi;
mod openapi_invoicing;
mod openapi_rating;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderName, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use be_app::App;
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
}

/// The whole HTTP surface: API, console, health, with request IDs, tracing and panic safety.
pub fn router(app: App, settings: HttpSettings) -> Router {
    let state = AppState {
        app,
        settings: Arc::new(settings),
    };
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api::router())
        .merge(console::router(state.clone()))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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

/// Serve until `shutdown` resolves, then stop accepting and let requests in flight finish for up
/// to `grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let signalled = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        let _ = tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signalled);
    let server = std::pin::pin!(server.into_future());
    tokio::select! {
        done = server => done,
        _ = async { let _ = rx.await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
            Ok(())
        }
    }
}
