//! The administrative REST API under `/_sim` (see README.md for curl examples).

use crate::error::SimError;
use crate::faults::FaultSpec;
use crate::http_util::json_response;
use crate::sim::{AppUpdate, NewApp, NewBillingAccount, NewSecret, NewTenant, NewUser, Sim};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

fn error(e: SimError) -> Response {
    let status = match e {
        SimError::NotFound { .. } => StatusCode::NOT_FOUND,
        SimError::Conflict(_) => StatusCode::CONFLICT,
        SimError::Invalid { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_response(status, &json!({"error": e.to_string()}))
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, Response> {
    let body = if body.trim().is_empty() { "{}" } else { body };
    serde_json::from_str(body).map_err(|e| {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": format!("invalid JSON body: {e}")}),
        )
    })
}

fn ok<T: Serialize>(status: StatusCode, r: Result<T, SimError>) -> Response {
    match r {
        Ok(v) => json_response(status, &serde_json::to_value(v).unwrap_or(Value::Null)),
        Err(e) => error(e),
    }
}

macro_rules! body {
    ($t:ty, $b:expr) => {
        match parse::<$t>(&$b) {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

async fn health(State(sim): State<Sim>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "base_url": sim.base_url()}),
    )
}

async fn create_tenant(State(sim): State<Sim>, b: String) -> Response {
    ok(StatusCode::CREATED, sim.create_tenant(body!(NewTenant, b)))
}

async fn list_tenants(State(sim): State<Sim>) -> Response {
    let t = sim.state().tenants.clone();
    ok(StatusCode::OK, Ok(t))
}

async fn create_app(State(sim): State<Sim>, Path(tenant): Path<String>, b: String) -> Response {
    ok(
        StatusCode::CREATED,
        sim.create_app(&tenant, body!(NewApp, b)),
    )
}

async fn update_app(
    State(sim): State<Sim>,
    Path((tenant, client_id)): Path<(String, Uuid)>,
    b: String,
) -> Response {
    ok(
        StatusCode::OK,
        sim.update_app(&tenant, client_id, body!(AppUpdate, b)),
    )
}

async fn add_secret(
    State(sim): State<Sim>,
    Path((tenant, client_id)): Path<(String, Uuid)>,
    b: String,
) -> Response {
    ok(
        StatusCode::CREATED,
        sim.add_secret(&tenant, client_id, body!(NewSecret, b)),
    )
}

async fn create_user(State(sim): State<Sim>, Path(tenant): Path<String>, b: String) -> Response {
    ok(
        StatusCode::CREATED,
        sim.create_user(&tenant, body!(NewUser, b)),
    )
}

async fn user_token(State(sim): State<Sim>, Path(oid): Path<Uuid>) -> Response {
    ok(StatusCode::OK, sim.user_token(oid))
}

async fn app_token(State(sim): State<Sim>, Path(client_id): Path<Uuid>) -> Response {
    ok(StatusCode::OK, sim.app_token(client_id))
}

async fn mint(State(sim): State<Sim>, b: String) -> Response {
    let claims = body!(serde_json::Map<String, Value>, b);
    json_response(
        StatusCode::OK,
        &json!({"access_token": sim.mint_token(claims)}),
    )
}

async fn create_account(State(sim): State<Sim>, b: String) -> Response {
    ok(
        StatusCode::CREATED,
        sim.create_billing_account(body!(NewBillingAccount, b)),
    )
}

async fn get_account(State(sim): State<Sim>, Path(name): Path<String>) -> Response {
    ok(StatusCode::OK, sim.billing_account(&name))
}

#[derive(serde::Deserialize)]
struct AdminRef {
    user_object_id: Uuid,
}

async fn add_admin(State(sim): State<Sim>, Path(name): Path<String>, b: String) -> Response {
    let r = body!(AdminRef, b);
    ok(
        StatusCode::CREATED,
        sim.add_administrator(&name, r.user_object_id),
    )
}

async fn add_fault(State(sim): State<Sim>, b: String) -> Response {
    ok(
        StatusCode::CREATED,
        Ok::<_, SimError>(sim.add_fault(body!(FaultSpec, b))),
    )
}

async fn list_faults(State(sim): State<Sim>) -> Response {
    ok(StatusCode::OK, Ok::<_, SimError>(sim.faults()))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.clear_faults();
    json_response(StatusCode::OK, &json!({"cleared": true}))
}

async fn remove_fault(State(sim): State<Sim>, Path(id): Path<u64>) -> Response {
    ok(
        StatusCode::OK,
        sim.remove_fault(id).map(|_| json!({"removed": id})),
    )
}

fn now_json(sim: &Sim) -> Value {
    json!({"now": sim.clock().now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()})
}

async fn get_clock(State(sim): State<Sim>) -> Response {
    json_response(StatusCode::OK, &now_json(&sim))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ClockChange {
    advance_secs: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    set: Option<time::OffsetDateTime>,
}

async fn set_clock(State(sim): State<Sim>, b: String) -> Response {
    let c = body!(ClockChange, b);
    if let Some(t) = c.set {
        sim.clock().set(t);
    }
    if let Some(s) = c.advance_secs {
        sim.clock().advance(time::Duration::seconds(s));
    }
    json_response(StatusCode::OK, &now_json(&sim))
}

async fn seed_demo(State(sim): State<Sim>) -> Response {
    ok(StatusCode::CREATED, sim.seed_demo())
}

pub(crate) fn router() -> Router<Sim> {
    Router::new()
        .route("/health", get(health))
        .route("/tenants", post(create_tenant).get(list_tenants))
        .route("/tenants/{tenant}/apps", post(create_app))
        .route("/tenants/{tenant}/apps/{client_id}", patch(update_app))
        .route(
            "/tenants/{tenant}/apps/{client_id}/secrets",
            post(add_secret),
        )
        .route("/tenants/{tenant}/users", post(create_user))
        .route("/users/{oid}/token", post(user_token))
        .route("/apps/{client_id}/token", post(app_token))
        .route("/tokens", post(mint))
        .route("/billing-accounts", post(create_account))
        .route("/billing-accounts/{name}", get(get_account))
        .route("/billing-accounts/{name}/administrators", post(add_admin))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/faults/{id}", delete(remove_fault))
        .route("/clock", get(get_clock).post(set_clock))
        .route("/seed/demo", post(seed_demo))
}
