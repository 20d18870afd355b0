//! The audit trail: every change, with who made it, when, from which address, and the changed
//! thing before and after (JSON; never a secret's value). Append-only in the store.

use be_domain::{AuditAction, AuditEventId, AuditKind, Permission};
use be_store::{AuditFilter, AuditRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{App, AppError, Caller, Result};

/// One audit event as the API and the console show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub address: Option<String>,
    pub kind: AuditKind,
    pub action: AuditAction,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The filters of a listing, as a request gives them (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub action: Option<String>,
    /// The actor's e-mail address.
    pub actor: Option<String>,
    pub target: Option<String>,
    /// RFC 3339 times or dates (YYYY-MM-DD): from (included) and to (excluded).
    pub from: Option<String>,
    pub to: Option<String>,
    /// At most this many, newest first (default 200, at most 5000).
    pub limit: Option<i64>,
}

fn instant(raw: &str, field: &'static str) -> Result<OffsetDateTime> {
    let raw = raw.trim();
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(raw, &rfc) {
        return Ok(t);
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, day)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            be_domain::FieldError::new(
                field,
                "audit_time_invalid",
                "Give a date (2026-01-31) or an RFC 3339 time (2026-01-31T08:00:00Z).",
            )
            .into()
        })
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter> {
        let limit = self.limit.unwrap_or(200);
        if !(1..=5000).contains(&limit) {
            return Err(be_domain::FieldError::new(
                "limit",
                "limit_invalid",
                "`limit` is a whole number from 1 to 5000.",
            )
            .into());
        }
        Ok(AuditFilter {
            kind: blank(&self.kind).map(AuditKind::parse).transpose()?,
            action: blank(&self.action).map(AuditAction::parse).transpose()?,
            actor: blank(&self.actor).map(str::to_lowercase),
            target: blank(&self.target).map(str::to_string),
            from: blank(&self.from).map(|s| instant(s, "from")).transpose()?,
            to: blank(&self.to).map(|s| instant(s, "to")).transpose()?,
            limit,
        })
    }
}

fn view(r: AuditRecord) -> AuditEvent {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    AuditEvent {
        id: r.id,
        at: r.at,
        actor: r.actor_email,
        address: r.address,
        kind: r.kind,
        action: r.action,
        target: r.target,
        before: json(r.before),
        after: json(r.after),
    }
}

impl App {
    /// Record a change. A failure to record is logged with its cause and does not undo the
    /// change (which has happened).
    pub(crate) async fn audit(
        &self,
        caller: &Caller,
        kind: AuditKind,
        action: AuditAction,
        target: impl ToString,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        let event = AuditRecord {
            id: AuditEventId::new(),
            organization_id: caller.organization_id,
            at: self.clock.now(),
            actor_id: Some(caller.user_id),
            actor_email: caller.email.to_string(),
            address: caller.address.clone(),
            kind,
            action,
            target: target.to_string(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        };
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::error!(error = %AppError::from(e).chain(), kind = kind.as_str(), "audit event not recorded");
        }
    }

    /// The audit trail, newest first, filtered.
    pub async fn audit_events(
        &self,
        caller: &Caller,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        caller.require(Permission::ReadAudit)?;
        let filter = query.filter()?;
        let rows = self
            .store
            .list_audit(caller.organization_id, &filter)
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// The same listing as CSV (one row per event; before and after as JSON text).
    pub async fn audit_csv(&self, caller: &Caller, query: &AuditQuery) -> Result<Vec<u8>> {
        caller.require(Permission::Export)?;
        let events = self.audit_events(caller, query).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "at", "actor", "address", "kind", "action", "target", "before", "after",
        ])
        .map_err(AppError::internal)?;
        let text = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
        for e in &events {
            let at =
                e.at.format(&time::format_description::well_known::Rfc3339)
                    .map_err(AppError::internal)?;
            w.write_record([
                at.as_str(),
                &e.actor,
                e.address.as_deref().unwrap_or(""),
                e.kind.as_str(),
                e.action.as_str(),
                &e.target,
                &text(&e.before),
                &text(&e.after),
            ])
            .map_err(AppError::internal)?;
        }
        w.into_inner()
            .map_err(|e| AppError::internal(e.into_error()))
    }
}

/// One audit event per item of a list section that was created, changed or removed, items told
/// apart by `key` (an `id` field, or another field for items without one).
pub(crate) fn diff_items(
    before: &[Value],
    after: &[Value],
    key: &str,
) -> Vec<(AuditAction, String, Option<Value>, Option<Value>)> {
    let id = |v: &Value| match &v[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = vec![];
    for b in before {
        match after.iter().find(|a| id(a) == id(b)) {
            None => out.push((AuditAction::Delete, id(b), Some(b.clone()), None)),
            Some(a) if a != b => {
                out.push((AuditAction::Update, id(b), Some(b.clone()), Some(a.clone())))
            }
            Some(_) => {}
        }
    }
    for a in after {
        if !before.iter().any(|b| id(b) == id(a)) {
            out.push((AuditAction::Create, id(a), None, Some(a.clone())));
        }
    }
    out
}

impl App {
    /// One event per family, plan, rule, strategy set and allocation a pricing change touched.
    pub(crate) async fn audit_pricing(
        &self,
        caller: &Caller,
        before: &be_domain::pricing::PricingConfig,
        after: &be_domain::pricing::PricingConfig,
    ) {
        let (Ok(b), Ok(a)) = (serde_json::to_value(before), serde_json::to_value(after)) else {
            tracing::error!("a pricing configuration did not serialize for the audit trail");
            return;
        };
        let list = |v: &Value, k: &str| v[k].as_array().cloned().unwrap_or_default();
        let without_rules = |plans: Vec<Value>| -> Vec<Value> {
            plans
                .into_iter()
                .map(|mut p| {
                    if let Some(o) = p.as_object_mut() {
                        o.remove("rules");
                    }
                    p
                })
                .collect()
        };
        let rules = |v: &Value| -> Vec<Value> {
            list(v, "plans")
                .iter()
                .flat_map(|p| list(p, "rules"))
                .collect()
        };
        let sections = [
            (
                AuditKind::Family,
                list(&b, "families"),
                list(&a, "families"),
                "id",
            ),
            (
                AuditKind::Plan,
                without_rules(list(&b, "plans")),
                without_rules(list(&a, "plans")),
                "id",
            ),
            (AuditKind::Rule, rules(&b), rules(&a), "id"),
            (
                AuditKind::Strategy,
                list(&b, "strategies"),
                list(&a, "strategies"),
                "from",
            ),
            (
                AuditKind::Allocation,
                list(&b, "allocations"),
                list(&a, "allocations"),
                "id",
            ),
        ];
        for (kind, before, after, key) in sections {
            for (action, target, b, a) in diff_items(&before, &after, key) {
                self.audit(caller, kind, action, target, b, a).await;
            }
        }
    }
}

impl App {
    /// An invoice run created (draft), finalized (update) or discarded (delete).
    pub(crate) async fn audit_invoice_run(
        &self,
        caller: &Caller,
        action: AuditAction,
        run: &crate::invoicing::RunView,
    ) {
        let after = serde_json::to_value(run).ok();
        self.audit(caller, AuditKind::Invoice, action, &run.id, None, after)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn items_are_diffed_by_key() {
        let before = [json!({"id": "a", "n": 1}), json!({"id": "b", "n": 1})];
        let after = [json!({"id": "b", "n": 2}), json!({"id": "c", "n": 1})];
        let d = diff_items(&before, &after, "id");
        let summary: Vec<(AuditAction, &str)> =
            d.iter().map(|(a, k, _, _)| (*a, k.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (AuditAction::Delete, "a"),
                (AuditAction::Update, "b"),
                (AuditAction::Create, "c")
            ]
        );
    }
}
