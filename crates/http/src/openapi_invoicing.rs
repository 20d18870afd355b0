//! The OpenAPI paths and schemas of invoicing (merged into [`crate::openapi`]).

use serde_json::{Map, Value, json};

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

fn limit() -> Value {
    json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}, "description": "At most this many."})
}

/// An operation with the errors every invoicing call can give, plus its own.
fn op(id: &str, summary: &str, params: Vec<Value>, request: Option<&str>, success: (&str, Value), errors: &[(&str, &str)]) -> Value {
    let mut responses = Map::new();
    responses.insert(success.0.into(), success.1);
    responses.insert("401".into(), error("No valid API token."));
    if request.is_some() {
        responses.insert("400".into(), error("The body is not acceptable JSON (`malformed_json`, `unknown_field`, `missing_field`, `invalid_field`)."));
        responses.insert("415".into(), error("The body is not JSON (`unsupported_media_type`)."));
    }
    for (status, description) in errors {
        responses.insert((*status).into(), error(description));
    }
    let mut o = json!({"operationId": id, "summary": summary, "parameters": params, "responses": responses});
    if let Some(schema) = request {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    o
}

fn file(description: &str, content_type: &str) -> Value {
    json!({"description": description, "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}})
}

const INVALID: &str = "A value is not valid; each problem names its field (`invalid_fields` lists several).";

pub(crate) fn paths() -> Map<String, Value> {
    let id = param("id", "The object's ID.");
    let template = (id.clone(), "No such template (`template_not_found`).");
    let run = (id.clone(), "No such run (`invoice_run_not_found`).");
    let invoice = (id.clone(), "No such invoice (`invoice_not_found`).");
    let period = param("period", "A billing period, YYYY-MM.");
    let mut m = Map::new();
    m.insert("/invoice-templates".into(), json!({
        "get": op("listInvoiceTemplates", "Invoice templates (the out-of-the-box one first)", vec![], None, ("200", ok("The templates.", "TemplateList")), &[]),
        "post": op("createInvoiceTemplate", "Create a template", vec![], Some("TemplateBody"), ("201", ok("The template.", "Template")), &[("409", "The name is taken (`template_name_taken`)."), ("422", INVALID)]),
    }));
    m.insert("/invoice-templates/{id}".into(), json!({
        "get": op("getInvoiceTemplate", "A template", vec![template.0.clone()], None, ("200", ok("The template.", "Template")), &[("404", template.1)]),
        "put": op("updateInvoiceTemplate", "Replace a template (the out-of-the-box one is copied, not edited)", vec![template.0.clone()], Some("TemplateBody"), ("200", ok("The template.", "Template")), &[("404", template.1), ("409", "Built in (`template_builtin`) or the name is taken."), ("422", INVALID)]),
        "delete": op("deleteInvoiceTemplate", "Delete a template", vec![template.0.clone()], None, ("204", json!({"description": "Deleted."})), &[("404", template.1), ("409", "Built in (`template_builtin`) or a schedule uses it (`template_in_use`).")]),
    }));
    m.insert("/invoice-templates/{id}/copy".into(), json!({
        "post": op("copyInvoiceTemplate", "Copy a template under a new name", vec![template.0.clone()], Some("NameInput"), ("201", ok("The copy.", "Template")), &[("404", template.1), ("409", "The name is taken."), ("422", INVALID)]),
    }));
    m.insert("/customers".into(), json!({
        "get": op("listCustomers", "Customers: one per family (or other grouping value), with billing details", vec![], None, ("200", ok("The customers.", "CustomerList")), &[]),
        "put": op("putCustomer", "Set a customer's billing details (by key: the family's name or the grouping value)", vec![], Some("CustomerInput"), ("200", ok("The customer.", "Customer")), &[("422", INVALID)]),
    }));
    m.insert("/customers/{key}".into(), json!({
        "delete": op("deleteCustomer", "Remove a customer's billing details", vec![param("key", "The customer's key.")], None, ("204", json!({"description": "Removed."})), &[("404", "No such customer (`customer_not_found`).")]),
    }));
    m.insert("/invoice-runs".into(), json!({
        "get": op("listInvoiceRuns", "Invoice runs, newest first", vec![limit()], None, ("200", ok("The runs.", "RunList")), &[]),
        "post": op("createInvoiceRun", "Draft a run: one invoice per grouping value and currency over rated periods; numbers are taken at finalization", vec![], Some("RunRequest"), ("201", ok("The draft run with each invoice's number-to-be.", "Run")), &[("404", "No such template."), ("409", "A period in the range is not rated yet (`rating_pending`)."), ("422", INVALID)]),
    }));
    m.insert("/invoice-runs/{id}".into(), json!({
        "get": op("getInvoiceRun", "A run", vec![run.0.clone()], None, ("200", ok("The run.", "Run")), &[("404", run.1)]),
    }));
    m.insert("/invoice-runs/{id}/finalize".into(), json!({
        "post": op("finalizeInvoiceRun", "Finalize a draft: number its invoices without gaps, lock its periods, freeze each document and its PDF's SHA-256", vec![run.0.clone()], None, ("200", ok("The final run.", "Run")), &[("404", run.1), ("409", "Not a draft (`invoice_run_not_draft`), nothing to finalize (`invoice_run_empty`), or the rating changed since the draft (`invoice_run_outdated`).")]),
    }));
    m.insert("/invoice-runs/{id}/discard".into(), json!({
        "post": op("discardInvoiceRun", "Discard a draft", vec![run.0.clone()], None, ("200", ok("The discarded run.", "Run")), &[("404", run.1), ("409", "Not a draft (`invoice_run_not_draft`).")]),
    }));
    m.insert("/invoices".into(), json!({
        "get": op("listInvoices", "Final invoices, credit and debit notes, newest first", vec![limit()], None, ("200", ok("The invoices.", "InvoiceList")), &[]),
    }));
    m.insert("/invoices/{id}".into(), json!({
        "get": op("getInvoice", "An invoice with its whole document (machine-readable), deliveries and notes", vec![invoice.0.clone()], None, ("200", ok("The invoice.", "Invoice")), &[("404", invoice.1)]),
    }));
    m.insert("/invoices/{id}/pdf".into(), json!({
        "get": op("invoicePdf", "The invoice as PDF (a final invoice's bytes match the SHA-256 stored at finalization)", vec![invoice.0.clone()], None, ("200", file("The PDF.", "application/pdf")), &[("404", invoice.1), ("409", "No renderer on this server (`documents_unavailable`).")]),
    }));
    m.insert("/invoices/{id}/csv".into(), json!({
        "get": op("invoiceCsv", "The invoice's lines as CSV (rounded and exact amounts)", vec![invoice.0.clone()], None, ("200", file("The CSV.", "text/csv")), &[("404", invoice.1), ("409", "No renderer on this server (`documents_unavailable`).")]),
    }));
    m.insert("/invoices/{id}/send".into(), json!({
        "post": op("sendInvoice", "E-mail a final invoice (PDF attached) to its customer's recipients or to the given ones; retried on transient failures", vec![invoice.0.clone()], Some("SendInput"), ("202", ok("The queued delivery.", "Delivery")), &[("404", invoice.1), ("409", "Not final (`invoice_not_final`) or no mail server (`mail_unavailable`)."), ("422", "No or invalid recipients (`recipients_missing`, `email_invalid`).")]),
    }));
    m.insert("/period-locks".into(), json!({
        "get": op("listPeriodLocks", "Locked periods, with changes waiting for a re-rate", vec![], None, ("200", ok("The locks.", "LockList")), &[]),
    }));
    m.insert("/period-locks/{period}".into(), json!({
        "put": op("lockPeriod", "Lock a period by hand: new data and configuration changes wait until it is re-rated", vec![period.clone()], None, ("200", ok("The lock.", "Lock")), &[("409", "Already locked (`period_locked`)."), ("422", "Not a period (`period_invalid`).")]),
        "delete": op("unlockPeriod", "Unlock a period (pending changes are rated then)", vec![period.clone()], None, ("204", json!({"description": "Unlocked."})), &[("404", "Not locked (`period_not_locked`)."), ("422", "Not a period.")]),
    }));
    m.insert("/periods/{period}/rerate".into(), json!({
        "post": op("reratePeriod", "Re-rate a locked period: per invoice the difference, issued as credit or debit notes (dry_run: only show it)", vec![period.clone()], Some("RerateInput"), ("200", ok("The differences and the notes issued.", "Rerate")), &[("409", "Not locked (`period_not_locked`) or no rating engine."), ("422", "Not a period.")]),
    }));
    m.insert("/periods/{period}/tie-out".into(), json!({
        "get": op("tieOut", "From the provider's total to the invoiced total, step by step, per currency", vec![period.clone()], None, ("200", ok("The tie-out.", "TieOut")), &[("404", "The period is not rated (`period_not_rated`)."), ("409", "A period is being rated (`rating_pending`)."), ("422", "Not a period.")]),
    }));
    m.insert("/invoice-schedules".into(), json!({
        "get": op("listInvoiceSchedules", "Monthly invoice runs", vec![], None, ("200", ok("The schedules.", "ScheduleList")), &[]),
        "post": op("createInvoiceSchedule", "Run a template every month on a day (1-28) for the month before; optionally finalize and e-mail", vec![], Some("ScheduleInput"), ("201", ok("The schedule.", "Schedule")), &[("404", "No such template."), ("409", "Sending needs a mail server (`mail_unavailable`)."), ("422", INVALID)]),
    }));
    m.insert("/invoice-schedules/{id}".into(), json!({
        "delete": op("deleteInvoiceSchedule", "Delete a schedule", vec![id.clone()], None, ("204", json!({"description": "Deleted."})), &[("404", "No such schedule (`schedule_not_found`).")]),
    }));
    m
}

pub(crate) fn schemas() -> Map<String, Value> {
    let mut m = Map::new();
    for (name, description) in [
        ("TemplateBody", "{name, invoice_by (dimension, default BillingFamilyName), line_by: [dimension], measure: BilledCost|EffectiveCost|ListCost, formulas: [{label, formula (e.g. `BilledCost * 0.2`), adds_to_total}], header_fields: [{label, value}], footer, issuer: {name, address: [line], tax_id, email, logo_base64}, paper: a4|letter, show_zero_lines, series, credit_series, debit_series, payment_terms_days}."),
        ("Template", "{id, builtin, updated_at, ...TemplateBody}."),
        ("TemplateList", "{items: [Template]}."),
        ("CustomerInput", "{key, billing_name, address: [line], emails: [address], tax_id, purchase_order, payment_terms_days}."),
        ("Customer", "{key, family (whether a family has this name), ...CustomerInput}."),
        ("CustomerList", "{items: [Customer]}."),
        ("RunRequest", "{template (ID or name; the out-of-the-box one when absent), from: YYYY-MM, to?: YYYY-MM, issue_date?: YYYY-MM-DD, parameters: [{label, value}]}."),
        ("Run", "{id, state: draft|final|discarded, template_id, template, period_from, period_to, issue_date, created_at, finalized_at, invoices: [InvoiceSummary with number_to_be on drafts], totals: [[currency, total]], outdated, uninvoiced}."),
        ("RunList", "{items: [Run]}."),
        ("InvoiceSummary", "{id, run_id, kind: invoice|credit_note|debit_note, state, number, number_to_be, customer_key, customer, currency, period_from, period_to, issue_date, total, exact_total, lines, pdf_sha256, related_invoice}."),
        ("InvoiceList", "{items: [InvoiceSummary]}."),
        ("Invoice", "{...InvoiceSummary, document: {kind, number, issue_date, due_date, period_from, period_to, currency, issuer, customer, header_fields, line_headings, lines: [{values, rule, amount, exact}], subtotal, formulas: [{label, formula, amount, adds_to_total}], total, exact_total, footer, paper, corrects, sources: {periods: [{period, rating_run, pricing_version, inputs_sha256}]}, measures}, deliveries: [Delivery], notes: [InvoiceSummary]}."),
        ("SendInput", "{to?: [address]} (the customer's recipients when empty)."),
        ("Delivery", "{id, invoice_id, recipients, state: pending|sent|failed, attempts, server_answer, next_attempt_at, created_at, sent_at}."),
        ("Lock", "{period, reason: invoiced|manual|provider_closed, locked_by, locked_at, pending_since}."),
        ("LockList", "{items: [Lock]}."),
        ("RerateInput", "{dry_run?: bool}."),
        ("Rerate", "{period, applied, pricing_version, changes: [{invoice_id, number, customer_key, customer, currency, before, after, difference, settled_by: credit_note|debit_note|invoice, lines: [{values, rule, before, after, difference}]}], issued: [InvoiceSummary]}."),
        ("TieOut", "{period, basis: final|draft, template, provider_reported, currencies: [{currency, provider_total, steps: [{label, kind: uninvoiced|stage|measure|rounding|formulas|unexplained, stage_kind, amount}], invoiced_total, invoices, reconciled}]}."),
        ("ScheduleInput", "{name, template?, day_of_month: 1-28, finalize, send}."),
        ("Schedule", "{id, name, template_id, day_of_month, finalize, send, next_run_at, last_run_id}."),
        ("ScheduleList", "{items: [Schedule]}."),
    ] {
        m.insert(name.into(), json!({"type": "object", "description": description}));
    }
    m
}
