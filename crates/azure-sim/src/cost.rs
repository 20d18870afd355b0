//! `Microsoft.CostManagement`: generateCostDetailsReport and its operation results
//! (azure-protocol.md section 4).

use crate::arm::{self, ArmRequest, COST_VERSIONS, Caller, arm_error, can_read};
use crate::clock::azure_datetime;
use crate::faults::{FaultEndpoint, FaultKind};
use crate::generator::{
    Agreement, Metric, Request, ScopeFilter, month_bounds, parse_billing_period,
};
use crate::http_util::{json_response, set_header};
use crate::model::{BlobPart, EmptyAnswer, Report, ReportState};
use crate::sim::Sim;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::{Date, Duration};
use uuid::Uuid;

/// The account and rows a scope designates.
struct ResolvedScope {
    account: String,
    agreement: Agreement,
    filter: ScopeFilter,
}

fn scope_error(scope: &str) -> Response {
    arm_error(
        400,
        "BadRequest",
        format!("The scope '{scope}' is not supported by the Cost Details API."),
    )
}

/// Map the scope segments to an account; Err is the answer to give.
fn resolve_scope(sim: &Sim, segs: &[String]) -> Result<ResolvedScope, Response> {
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    let st = sim.state();
    let scope = segs.join("/");
    let not_found = || {
        arm_error(
            404,
            "NotFound",
            format!("The scope '{scope}' was not found."),
        )
    };
    let by_name = |name: &str, filter: ScopeFilter| -> Result<ResolvedScope, Response> {
        match arm::find_account(&st, name) {
            Some(a) => Ok(ResolvedScope {
                account: a.name.clone(),
                agreement: a.agreement,
                filter,
            }),
            // An unknown enrollment looks like one the caller cannot see.
            None if name.bytes().all(|b| b.is_ascii_digit()) => Err(no_claims()),
            None => Err(not_found()),
        }
    };
    match l.as_slice() {
        ["subscriptions", _] => {
            let sub = &segs[1];
            st.accounts
                .values()
                .find(|a| {
                    a.generator
                        .universe()
                        .subscription_ids()
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(sub))
                })
                .map(|a| ResolvedScope {
                    account: a.name.clone(),
                    agreement: a.agreement,
                    filter: ScopeFilter::Subscription(sub.to_ascii_lowercase()),
                })
                .ok_or_else(|| {
                    arm_error(
                        404,
                        "SubscriptionNotFound",
                        format!("The subscription '{sub}' could not be found."),
                    )
                })
        }
        ["providers", "microsoft.billing", "billingaccounts", _] => {
            by_name(&segs[3], ScopeFilter::All)
        }
        [
            "providers",
            "microsoft.billing",
            "billingaccounts",
            _,
            "departments",
            _,
        ] => by_name(&segs[3], ScopeFilter::Section(segs[5].clone())),
        [
            "providers",
            "microsoft.billing",
            "billingaccounts",
            _,
            "enrollmentaccounts",
            _,
        ] => by_name(&segs[3], ScopeFilter::EnrollmentAccount(segs[5].clone())),
        [
            "providers",
            "microsoft.billing",
            "billingaccounts",
            _,
            "billingprofiles",
            _,
        ] => by_name(&segs[3], ScopeFilter::BillingProfile(segs[5].clone())),
        [
            "providers",
            "microsoft.billing",
            "billingaccounts",
            _,
            "billingprofiles",
            _,
            "invoicesections",
            _,
        ] => by_name(&segs[3], ScopeFilter::Section(segs[7].clone())),
        ["providers", "microsoft.billing", "departments", _] => st
            .accounts
            .values()
            .find(|a| {
                a.agreement == Agreement::Ea
                    && a.generator
                        .universe()
                        .sections()
                        .iter()
                        .any(|s| s.0 == segs[3])
            })
            .map(|a| ResolvedScope {
                account: a.name.clone(),
                agreement: a.agreement,
                filter: ScopeFilter::Section(segs[3].clone()),
            })
            .ok_or_else(no_claims),
        ["providers", "microsoft.billing", "enrollmentaccounts", _] => st
            .accounts
            .values()
            .find(|a| {
                a.agreement == Agreement::Ea
                    && a.generator
                        .universe()
                        .enrollment_accounts()
                        .iter()
                        .any(|s| s.0 == segs[3])
            })
            .map(|a| ResolvedScope {
                account: a.name.clone(),
                agreement: a.agreement,
                filter: ScopeFilter::EnrollmentAccount(segs[3].clone()),
            })
            .ok_or_else(no_claims),
        ["providers", "microsoft.management", "managementgroups", _] => Err(arm_error(
            400,
            "BadRequest",
            "The Cost Details API doesn't support management groups.",
        )),
        _ => Err(scope_error(&scope)),
    }
}

/// Cost Management's answer to a principal without an EA role (HTTP 401, not 403).
fn no_claims() -> Response {
    arm_error(401, "401", "No claims present for the caller in the system")
}

fn denied(agreement: Agreement, caller: &Caller, scope: &str) -> Response {
    match agreement {
        Agreement::Ea => no_claims(),
        Agreement::Mca => arm_error(
            403,
            "RBACAccessDenied",
            format!(
                "The client '{}' with object id '{}' does not have authorization to perform action 'Microsoft.CostManagement/generateCostDetailsReport/action' over scope '/{scope}' or the scope is invalid.",
                caller.display(),
                caller.oid
            ),
        ),
    }
}

pub(crate) async fn handle(sim: &Sim, req: &ArmRequest, cm_index: usize) -> Response {
    let scope_segs = &req.segs[..cm_index];
    let rest: Vec<String> = req.segs[cm_index + 2..]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let scope = scope_segs.join("/");
    let (ep, op) = match (&req.method, rest.as_slice()) {
        (&Method::POST, ["generatecostdetailsreport"]) => {
            (FaultEndpoint::GenerateCostDetailsReport, None)
        }
        (
            &Method::GET,
            [
                "costdetailsoperationresults" | "costdetailsoperationstatus",
                _,
            ],
        ) => (
            FaultEndpoint::CostDetailsOperationResults,
            Some(req.segs[cm_index + 3].clone()),
        ),
        (
            _,
            ["generatecostdetailsreport"]
            | [
                "costdetailsoperationresults" | "costdetailsoperationstatus",
                _,
            ],
        ) => {
            return arm_error(
                405,
                "MethodNotAllowed",
                format!(
                    "The requested method '{}' is not allowed on this resource.",
                    req.method
                ),
            );
        }
        _ => {
            return arm_error(
                404,
                "NotFound",
                "The requested Cost Management resource is not simulated.",
            );
        }
    };
    let resource_type = if op.is_some() {
        "costDetailsOperationResults"
    } else {
        "generateCostDetailsReport"
    };
    let api = match arm::api_version(
        &req.query,
        COST_VERSIONS,
        "Microsoft.CostManagement",
        resource_type,
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let caller = match arm::authenticate(sim, &req.headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let resolved = match resolve_scope(sim, scope_segs) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let allowed = {
        let st = sim.state();
        st.accounts
            .get(&resolved.account)
            .map(|a| can_read(a, &caller))
            .unwrap_or(false)
    };
    if !allowed {
        return denied(resolved.agreement, &caller, &scope);
    }
    let report_failed = {
        let mut st = sim.state();
        let peek = st.faults.iter().any(|f| {
            f.spec.kind == FaultKind::ReportFailed
                && (f.spec.endpoint == ep || f.spec.endpoint == FaultEndpoint::Any)
                && f.spec
                    .billing_account
                    .as_deref()
                    .is_none_or(|a| a.eq_ignore_ascii_case(&resolved.account))
        });
        if peek {
            crate::faults::take(&mut st.faults, ep, Some(&resolved.account)).is_some()
        } else {
            false
        }
    };
    let body_fault = match arm::check_fault(sim, ep, Some(&resolved.account)).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let resp = match op {
        None => generate(sim, req, &api, &scope, resolved, report_failed),
        Some(id) => poll(sim, &api, &scope, &id),
    };
    match body_fault {
        Some(k) => crate::faults::apply_to_body(resp, &k),
        None => resp,
    }
}

const INVALID_PAYLOAD: &str = "Invalid Request Payload. Request payload provided is not in a json format or had an invalid member not accepted in the request payload.";

fn bad(message: impl Into<String>) -> Response {
    arm_error(400, "BadRequest", message)
}

fn location(sim: &Sim, scope: &str, id: Uuid, api: &str) -> String {
    format!(
        "{}/{scope}/providers/Microsoft.CostManagement/costDetailsOperationResults/{id}?api-version={api}",
        sim.base_url()
    )
}

fn accepted(sim: &Sim, scope: &str, id: Uuid, api: &str) -> Response {
    let mut r = StatusCode::ACCEPTED.into_response();
    set_header(r.headers_mut(), "location", &location(sim, scope, id, api));
    set_header(
        r.headers_mut(),
        "retry-after",
        &sim.settings().report_retry_after_secs.to_string(),
    );
    r
}

fn add_months(d: Date, n: i32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).unwrap_or(time::Month::January);
    let day = d.day().min(month.length(y));
    Date::from_calendar_date(y, month, day).unwrap_or(d)
}

fn parse_date(s: &str) -> Option<Date> {
    let s = s.get(..10).unwrap_or(s);
    Date::parse(
        s,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn generate(
    sim: &Sim,
    req: &ArmRequest,
    api: &str,
    scope: &str,
    resolved: ResolvedScope,
    report_failed: bool,
) -> Response {
    let now = sim.now();
    // Rate limit (per billing account, per minute), when configured.
    {
        let mut st = sim.state();
        if let Some(acct) = st.accounts.get_mut(&resolved.account)
            && let Some(limit) = acct.data.rate_limit_per_minute
        {
            while acct
                .calls
                .front()
                .is_some_and(|t| now - *t >= Duration::minutes(1))
            {
                acct.calls.pop_front();
            }
            if acct.calls.len() as u32 >= limit {
                let oldest = acct.calls.front().copied().unwrap_or(now);
                let wait = (Duration::minutes(1) - (now - oldest))
                    .whole_seconds()
                    .max(1) as u64;
                return arm::throttled(wait, true);
            }
            acct.calls.push_back(now);
        }
    }
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return bad(INVALID_PAYLOAD),
        }
    };
    let Some(obj) = body.as_object() else {
        return bad(INVALID_PAYLOAD);
    };
    if obj.keys().any(|k| {
        !["metric", "timePeriod", "billingPeriod", "invoiceId"]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(k))
    }) {
        return bad(INVALID_PAYLOAD);
    }
    let field = |k: &str| {
        obj.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let metric = match field("metric").map(|v| v.as_str()) {
        None => Metric::ActualCost,
        Some(Some(m)) if m.eq_ignore_ascii_case("ActualCost") => Metric::ActualCost,
        Some(Some(m)) if m.eq_ignore_ascii_case("AmortizedCost") => Metric::AmortizedCost,
        _ => return bad(INVALID_PAYLOAD),
    };
    let (tp, bp, inv) = (
        field("timePeriod"),
        field("billingPeriod"),
        field("invoiceId"),
    );
    if [tp.is_some(), bp.is_some(), inv.is_some()]
        .iter()
        .filter(|x| **x)
        .count()
        > 1
    {
        return bad(
            "Invalid request payload: can only have either timePeriod or invoiceId or billingPeriod.",
        );
    }
    let today = now.date();
    let earliest = add_months(today, -13);
    let mut echo = json!({"metric": metric.as_str()});
    let (from, to) = if let Some(tp) = tp {
        let (Some(s), Some(e)) = (
            tp.get("start").and_then(Value::as_str).and_then(parse_date),
            tp.get("end").and_then(Value::as_str).and_then(parse_date),
        ) else {
            return bad(INVALID_PAYLOAD);
        };
        if e < s {
            return bad(INVALID_PAYLOAD);
        }
        echo["timePeriod"] = json!({"start": s.to_string(), "end": e.to_string()});
        (s, e)
    } else if let Some(bp) = bp {
        let Some(m) = bp.as_str().and_then(parse_billing_period) else {
            return bad(INVALID_PAYLOAD);
        };
        if resolved.agreement != Agreement::Ea {
            return bad(
                "Invalid request payload: billingPeriod is only supported for Enterprise Agreement scopes.",
            );
        }
        echo["billingPeriod"] = json!(bp);
        month_bounds(m)
    } else if let Some(inv) = inv {
        let Some(id) = inv.as_str() else {
            return bad(INVALID_PAYLOAD);
        };
        if resolved.agreement != Agreement::Mca {
            return bad(
                "Invalid request payload: invoiceId is only supported for Microsoft Customer Agreement scopes.",
            );
        }
        echo["invoiceId"] = json!(id);
        match find_invoice(sim, &resolved, id, today) {
            Some(m) => month_bounds(m),
            None => {
                return bad(format!(
                    "Invalid request payload: invoice '{id}' was not found."
                ));
            }
        }
    } else {
        (month_bounds(today).0, today)
    };
    if from < earliest {
        return bad(format!(
            "Start date must be after {earliest}. API only allows data to be pulled no older than 13 months from now."
        ));
    }
    if to >= add_months(from, 1) {
        return bad(
            "The maximum allowed date range is 1 months. API only allows data to be pulled for 1 month or less.",
        );
    }
    let (generator, data) = {
        let st = sim.state();
        match st.accounts.get(&resolved.account) {
            Some(a) => (a.generator.clone(), a.data.clone()),
            None => return arm::bare_not_found(),
        }
    };
    let request = Request {
        metric,
        from,
        to,
        filter: resolved.filter.clone(),
        until: today,
    };
    let empty = generator.is_empty(&request);
    if empty && data.empty_answer == EmptyAnswer::NoContent && !report_failed {
        return StatusCode::NO_CONTENT.into_response();
    }
    let id = Uuid::new_v4();
    let report = Report {
        id,
        account: resolved.account.clone(),
        scope: scope.to_string(),
        api_version: api.to_string(),
        request_body: echo,
        ready_at: now + Duration::seconds(sim.settings().report_processing_secs),
        state: if report_failed {
            ReportState::Failed {
                code: "InternalServerError".into(),
                message: "The report generation failed. Please try again.".into(),
            }
        } else if empty {
            ReportState::NoData
        } else {
            ReportState::Running
        },
    };
    let running = matches!(report.state, ReportState::Running);
    sim.state().reports.insert(id, report);
    if running {
        let sim2 = sim.clone();
        let per_blob = data.rows_per_blob;
        tokio::task::spawn_blocking(move || {
            let parts = split(&generator, &request, per_blob);
            let valid_till = sim2.now() + Duration::seconds(sim2.settings().report_valid_secs);
            let mut st = sim2.state();
            if let Some(r) = st.reports.get_mut(&id) {
                r.state = if parts.is_empty() {
                    ReportState::NoData
                } else {
                    ReportState::Completed { parts, valid_till }
                };
            }
        });
    }
    accepted(sim, scope, id, api)
}

/// The counting pass: where each blob starts and how big it is.
fn split(
    generator: &crate::generator::Generator,
    request: &Request,
    per_blob: u64,
) -> Vec<BlobPart> {
    let header = generator.header_bytes().len() as u64;
    let mut it = generator.rows(request);
    let mut parts = Vec::new();
    let mut buf = Vec::with_capacity(1024);
    loop {
        let cursor = it.clone();
        let (mut rows, mut bytes) = (0u64, header);
        while rows < per_blob {
            let Some(row) = it.next() else { break };
            buf.clear();
            generator.write_row(&row, &mut buf);
            bytes += buf.len() as u64;
            rows += 1;
        }
        if rows == 0 {
            break;
        }
        parts.push(BlobPart {
            cursor,
            rows,
            bytes,
        });
        if rows < per_blob {
            break;
        }
    }
    parts
}

/// The month an MCA invoice id stands for (ids are generated per billing profile and month).
fn find_invoice(sim: &Sim, resolved: &ResolvedScope, id: &str, today: Date) -> Option<Date> {
    let generator = sim
        .state()
        .accounts
        .get(&resolved.account)?
        .generator
        .clone();
    let u = generator.universe();
    let (first, _) = month_bounds(today);
    (1..=13)
        .map(|back| add_months(first, -back))
        .find(|m| (0..u.billing_profiles().len()).any(|p| u.invoice_id(p, *m) == id))
}

fn poll(sim: &Sim, api: &str, scope: &str, id: &str) -> Response {
    let now = sim.now();
    let not_found = || {
        arm_error(
            404,
            "NotFound",
            format!("The operation '{id}' was not found."),
        )
    };
    let Ok(uid) = Uuid::parse_str(id) else {
        return not_found();
    };
    let st = sim.state();
    let Some(r) = st
        .reports
        .get(&uid)
        .filter(|r| r.scope.eq_ignore_ascii_case(scope))
    else {
        return not_found();
    };
    let base = json!({
        "id": format!("{}/providers/Microsoft.CostManagement/costDetailsOperationResults/{}", r.scope, r.id),
        "name": r.id.to_string(),
    });
    if now < r.ready_at {
        let advance = sim.settings().report_poll_advances_secs;
        if advance > 0 {
            sim.clock().advance(Duration::seconds(advance));
        }
        return accepted(sim, &r.scope, r.id, api);
    }
    match &r.state {
        ReportState::Running => accepted(sim, &r.scope, r.id, api),
        ReportState::NoData => {
            let mut b = base;
            b["status"] = json!("NoDataFound");
            json_response(StatusCode::OK, &b)
        }
        ReportState::Failed { code, message } => {
            let mut b = base;
            b["status"] = json!("Failed");
            b["error"] = json!({"code": code, "message": message});
            json_response(StatusCode::OK, &b)
        }
        ReportState::Completed { parts, valid_till } => {
            let blobs: Vec<Value> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| json!({"blobLink": crate::blob::signed_url(sim, r.id, i, *valid_till), "byteCount": p.bytes}))
                .collect();
            let total: u64 = parts.iter().map(|p| p.bytes).sum();
            let mut b = base;
            b["status"] = json!("Completed");
            b["manifest"] = json!({
                "manifestVersion": r.api_version,
                "dataFormat": "Csv",
                "blobCount": parts.len(),
                "byteCount": total,
                "compressData": false,
                "requestContext": {"requestScope": r.scope, "requestBody": r.request_body},
                "blobs": blobs,
            });
            b["validTill"] = json!(azure_datetime(*valid_till));
            json_response(StatusCode::OK, &b)
        }
    }
}
