//! Forms that create something are submitted once: each rendering carries a fresh `form_token`,
//! and a second POST with the same token (a double click, a reload, a retried request) does not run
//! the action again but lands where the first one went (the account or draft it created).
//!
//! The first submission holds the token's lock while it runs, so a second one arriving meanwhile
//! waits for it and then follows its redirect. Only redirects are remembered: a form refused with
//! its errors can be submitted again. Tokens are kept 30 minutes, per user, in this server's memory.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use be_domain::UserId;

const KEEP: Duration = Duration::from_secs(30 * 60);
const MOST: usize = 10_000;

type Slot = Arc<tokio::sync::Mutex<Option<String>>>;

/// The tokens submitted recently and where each submission landed.
#[derive(Default)]
pub(crate) struct Submitted {
    slots: Mutex<HashMap<(UserId, String), (Instant, Slot)>>,
}

/// A new token for a form being rendered.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Submitted {
    fn slot(&self, user: UserId, token: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if slots.len() >= MOST {
            slots.retain(|_, (at, _)| now.duration_since(*at) < KEEP);
        }
        slots
            .entry((user, token.to_string()))
            .or_insert_with(|| (now, Slot::default()))
            .1
            .clone()
    }

    /// Run `action` once per (user, token): a repeated submission is redirected where the first
    /// one was. Without a token (an old page) the action simply runs.
    pub(crate) async fn once<Fut>(&self, user: UserId, token: &str, action: Fut) -> Response
    where
        Fut: Future<Output = Response>,
    {
        let token = token.trim();
        if token.is_empty() || token.len() > 64 {
            return action.await;
        }
        let slot = self.slot(user, token);
        let mut landed = slot.lock().await;
        if let Some(location) = landed.as_deref() {
            return Redirect::to(location).into_response();
        }
        let response = action.await;
        if response.status().is_redirection()
            && let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
        {
            *landed = Some(location.to_string());
        }
        response
    }
}
