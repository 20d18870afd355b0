//! Invoice runs: a template over a range of rated periods makes a draft (one invoice per
//! grouping value and currency, numbers still to be taken); finalizing numbers every invoice
//! without gaps, locks the periods and freezes each document with the SHA-256 of its PDF.

use std::collections::BTreeMap;
use std::path::PathBuf;

use be_domain::invoicing::{
    DocumentKind, InvoiceDocument, InvoiceSources, InvoiceState, InvoiceTemplate, LockReason,
    SourcePeriod, document_number,
};
use be_domain::{BillingPeriod, FieldError, InvoiceId, InvoiceRunId, OrganizationId, RatingRunId};
use be_store::{InvoiceRecord, InvoiceRunRecord, PeriodLockRecord, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::OffsetDateTime;

use super::build::{self, Context, Grouped};
use super::templates::{self, HeaderField};
use crate::rating::PivotInput;
use crate::{App, AppError, Caller, Result};

/// What to invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// A template's ID or name; the out-of-the-box one when absent.
    #[serde(default)]
    pub template: Option<String>,
    /// First billing period (`2026-10`).
    pub from: String,
    /// Last billing period; `from` when absent.
    #[serde(default)]
    pub to: Option<String>,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub issue_date: Option<String>,
    /// Header fields of this run (a contract reference), after the template's.
    #[serde(default)]
    pub parameters: Vec<HeaderField>,
}

/// An invoice in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub run_id: String,
    pub kind: DocumentKind,
    pub state: InvoiceState,
    /// Set at finalization.
    pub number: Option<String>,
    /// For a draft: the number it would take if finalized now.
    pub number_to_be: Option<String>,
    pub customer_key: String,
    pub customer: String,
    pub currency: String,
    pub period_from: String,
    pub period_to: String,
    #[serde(with = "be_domain::invoicing::iso_date")]
    pub issue_date: time::Date,
    pub total: be_domain::Exact,
    pub exact_total: be_domain::Exact,
    pub lines: usize,
    pub pdf_sha256: Option<String>,
    /// The invoice a credit or debit note corrects.
    pub related_invoice: Option<String>,
}

/// An invoice with its whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceView {
    #[serde(flatten)]
    pub summary: InvoiceSummary,
    pub document: InvoiceDocument,
    pub deliveries: Vec<super::delivery::DeliveryView>,
    /// Credit and debit notes issued against this invoice.
    pub notes: Vec<InvoiceSummary>,
}

/// A value of the grouping no invoice bills (rows outside every family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uninvoiced {
    pub currency: Option<String>,
    pub amount: be_domain::Exact,
    pub rows: i64,
}

/// A run and its invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub id: String,
    pub state: InvoiceState,
    pub template_id: String,
    pub template: String,
    pub period_from: String,
    pub period_to: String,
    #[serde(with = "be_domain::invoicing::iso_date")]
    pub issue_date: time::Date,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finalized_at: Option<OffsetDateTime>,
    pub invoices: Vec<InvoiceSummary>,
    /// Per currency: the sum of the invoices' totals.
    pub totals: Vec<(String, be_domain::Exact)>,
    /// For a draft: the rating changed since it was made (make it again before finalizing).
    pub outdated: bool,
}

pub(crate) fn run_not_found() -> AppError {
    AppError::NotFound {
        code: "invoice_run_not_found",
        message: "There is no such invoice run.".into(),
    }
}

pub(crate) fn invoice_not_found() -> AppError {
    AppError::NotFound {
        code: "invoice_not_found",
        message: "There is no such invoice.".into(),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn document_of(r: &InvoiceRecord) -> Result<InvoiceDocument> {
    let mut doc: InvoiceDocument =
        serde_json::from_str(&r.document).map_err(|e| corrupt("invoice document", e))?;
    doc.number = r.number.clone();
    Ok(doc)
}

pub(crate) fn summary_of(
    r: &InvoiceRecord,
    doc: &InvoiceDocument,
    number_to_be: Option<String>,
) -> InvoiceSummary {
    InvoiceSummary {
        id: r.id.to_string(),
        run_id: r.run_id.to_string(),
        kind: r.kind,
        state: r.state,
        number: r.number.clone(),
        number_to_be,
        customer_key: r.customer_key.clone(),
        customer: doc.customer.billing_name.clone(),
        currency: r.currency.clone(),
        period_from: doc.period_from.clone(),
        period_to: doc.period_to.clone(),
        issue_date: doc.issue_date,
        total: doc.total,
        exact_total: doc.exact_total,
        lines: doc.lines.len(),
        pdf_sha256: r.pdf_sha256.clone(),
        related_invoice: r.related_invoice.map(|i| i.to_string()),
    }
}

fn parse_date(raw: &str, field: &'static str) -> std::result::Result<time::Date, FieldError> {
    time::Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        FieldError::new(
            field,
            "date_invalid",
            format!("{raw:?} is not a date; write it as YYYY-MM-DD."),
        )
    })
}

/// The range of a request, at most 36 months.
pub(crate) fn parse_range(from: &str, to: Option<&str>) -> Result<(BillingPeriod, BillingPeriod)> {
    let from = BillingPeriod::parse(from).map_err(|e| e.under("from"))?;
    let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => BillingPeriod::parse(t).map_err(|e| e.under("to"))?,
        None => from,
    };
    if to < from {
        return Err(FieldError::new(
            "to",
            "period_range_invalid",
            format!("The range ends ({to}) before it starts ({from})."),
        )
        .into());
    }
    if from.months_until(to) >= 36 {
        return Err(FieldError::new(
            "to",
            "period_range_too_long",
            "An invoice covers at most 36 months.",
        )
        .into());
    }
    Ok((from, to))
}

/// A rated period an invoice reads: its run folder and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct RatedPeriod {
    pub period: BillingPeriod,
    pub dir: PathBuf,
    pub source: SourcePeriod,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl App {
    /// The current rating of every period of a range with data; fails when one is not rated yet
    /// (or its last rating failed), since an invoice must not leave costs out silently.
    pub(crate) async fn rated_range(
        &self,
        org: OrganizationId,
        from: BillingPeriod,
        to: BillingPeriod,
    ) -> Result<Vec<RatedPeriod>> {
        let states: BTreeMap<String, be_store::RatedPeriodRecord> = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .map(|p| (p.period.clone(), p))
            .collect();
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for period in BillingPeriod::range(from, to) {
            let Some(state) = states.get(&period.key()) else {
                continue;
            };
            match state.current_run {
                Some(run) if !state.stale => out.push(self.rated_period(org, period, run).await?),
                _ => pending.push(period.key()),
            }
        }
        if !pending.is_empty() {
            return Err(AppError::Conflict {
                code: "rating_pending",
                field: None,
                message: format!(
                    "{} not rated with the latest data and configuration yet (or its last rating failed); \
                     wait for the rating to finish, or look at the period's rating page.",
                    pending.join(", ")
                ),
            });
        }
        Ok(out)
    }

    pub(crate) async fn rated_period(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        run: RatingRunId,
    ) -> Result<RatedPeriod> {
        let record = self
            .store
            .get_rating_run(org, run)
            .await?
            .ok_or_else(|| corrupt("rated period", format!("{period} has no run {run}")))?;
        Ok(RatedPeriod {
            period,
            dir: self.layout().rated_run_dir(org, period, run),
            source: SourcePeriod {
                period: period.key(),
                rating_run: run.to_string(),
                pricing_version: record.pricing_version,
                inputs_sha256: sha256_hex(record.inputs.as_bytes()),
            },
        })
    }

    /// Rule IDs to names, from the configuration versions the periods were rated with (a rule
    /// deleted since keeps the name it had).
    async fn rule_names(
        &self,
        org: OrganizationId,
        rated: &[RatedPeriod],
    ) -> Result<BTreeMap<String, String>> {
        let mut names = BTreeMap::new();
        let mut versions: Vec<i32> = rated.iter().map(|r| r.source.pricing_version).collect();
        versions.sort_unstable();
        versions.dedup();
        for v in versions {
            let Some(record) = self.store.get_pricing_version(org, v).await? else {
                continue;
            };
            let config: be_domain::pricing::PricingConfig = serde_json::from_str(&record.document)
                .map_err(|e| corrupt("pricing version", e))?;
            for rule in config.plans.iter().flat_map(|p| &p.rules) {
                names.insert(rule.id.to_string(), rule.name.to_string());
            }
        }
        Ok(names)
    }

    /// The documents a template gives over rated periods, and the rows no invoice bills.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn build_documents(
        &self,
        org: OrganizationId,
        template: &InvoiceTemplate,
        (from, to): (BillingPeriod, BillingPeriod),
        issue_date: time::Date,
        parameters: &[(String, String)],
        rated: &[RatedPeriod],
    ) -> Result<(Vec<InvoiceDocument>, Grouped)> {
        let rows = if rated.is_empty() {
            vec![]
        } else {
            self.engine()?
                .pivot(PivotInput {
                    runs: rated.iter().map(|r| r.dir.clone()).collect(),
                    group_by: build::pivot_dimensions(template),
                    filter: Default::default(),
                    sums: build::pivot_sums(),
                    by_period: false,
                })
                .await?
        };
        let customers = self.customer_map(org).await?;
        let rule_names = self.rule_names(org, rated).await?;
        let sources = InvoiceSources {
            periods: rated.iter().map(|r| r.source.clone()).collect(),
        };
        let ctx = Context {
            template,
            customers: &customers,
            rule_names: &rule_names,
            issue_date,
            from,
            to,
            parameters,
            sources: &sources,
            default_currency: self.settings.rating.default_currency,
        };
        let grouped = build::group(&ctx, &rows)?;
        Ok((build::invoices(&ctx, &grouped), grouped))
    }

    /// Make a draft run.
    pub async fn create_invoice_run(
        &self,
        caller: &Caller,
        request: RunRequest,
    ) -> Result<RunView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let id = self
            .draft_run(caller.organization_id, Some(caller.user_id), request)
            .await?;
        let view = self.run_view(caller.organization_id, id).await?;
        self.audit_invoice_run(caller, be_domain::AuditAction::Create, &view)
            .await;
        Ok(view)
    }

    /// Draft a run for an organization (by a user, or by a schedule).
    pub(crate) async fn draft_run(
        &self,
        org: OrganizationId,
        by: Option<be_domain::UserId>,
        request: RunRequest,
    ) -> Result<InvoiceRunId> {
        let range = parse_range(&request.from, request.to.as_deref())?;
        let issue_date = match request
            .issue_date
            .as_deref()
            .filter(|d| !d.trim().is_empty())
        {
            Some(d) => parse_date(d, "issue_date")?,
            None => self.clock.now().date(),
        };
        let parameters: Vec<(String, String)> = request
            .parameters
            .iter()
            .filter(|p| !p.label.trim().is_empty())
            .map(|p| (p.label.trim().to_string(), p.value.trim().to_string()))
            .collect();
        let record = self.template_by(org, request.template.as_deref()).await?;
        let template = templates::decode(&record)?;
        let rated = self.rated_range(org, range.0, range.1).await?;
        let (docs, _) = self
            .build_documents(org, &template, range, issue_date, &parameters, &rated)
            .await?;
        let now = self.clock.now();
        let run = InvoiceRunRecord {
            id: InvoiceRunId::new(),
            organization_id: org,
            template_id: record.id,
            template: record.document.clone(),
            period_from: range.0.key(),
            period_to: range.1.key(),
            issue_date,
            state: InvoiceState::Draft,
            created_by: by,
            created_at: now,
            finalized_at: None,
        };
        let invoices: Vec<InvoiceRecord> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| invoice_record(&run, i, d, &template, None))
            .collect::<Result<_>>()?;
        self.store.create_invoice_run(&run, &invoices).await?;
        tracing::info!(run = %run.id, invoices = invoices.len(), from = %range.0, to = %range.1, "invoice run drafted");
        Ok(run.id)
    }

    pub async fn invoice_runs(&self, caller: &Caller, limit: i64) -> Result<Vec<RunView>> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let org = caller.organization_id;
        let mut out = Vec::new();
        for run in self
            .store
            .list_invoice_runs(org, limit.clamp(1, 200))
            .await?
        {
            out.push(self.run_view(org, run.id).await?);
        }
        Ok(out)
    }

    pub async fn invoice_run(&self, caller: &Caller, id: &str) -> Result<RunView> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let id: InvoiceRunId = id.parse().map_err(|_| run_not_found())?;
        self.run_view(caller.organization_id, id).await
    }

    pub async fn discard_invoice_run(&self, caller: &Caller, id: &str) -> Result<RunView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let org = caller.organization_id;
        let id: InvoiceRunId = id.parse().map_err(|_| run_not_found())?;
        if !self.store.discard_invoice_run(org, id).await? {
            let run = self
                .store
                .get_invoice_run(org, id)
                .await?
                .ok_or_else(run_not_found)?;
            return Err(not_draft(run.state));
        }
        let view = self.run_view(org, id).await?;
        self.audit_invoice_run(caller, be_domain::AuditAction::Delete, &view)
            .await;
        Ok(view)
    }

    /// Finalize a draft: lock its periods, number its invoices, freeze their PDFs.
    pub async fn finalize_invoice_run(&self, caller: &Caller, id: &str) -> Result<RunView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let org = caller.organization_id;
        let id: InvoiceRunId = id.parse().map_err(|_| run_not_found())?;
        self.finalize_run(org, id, Some(caller.user_id)).await?;
        let view = self.run_view(org, id).await?;
        self.audit_invoice_run(caller, be_domain::AuditAction::Update, &view)
            .await;
        Ok(view)
    }

    /// Finalize a draft run (by a user, or by a schedule); returns its final invoices.
    pub(crate) async fn finalize_run(
        &self,
        org: OrganizationId,
        id: InvoiceRunId,
        by: Option<be_domain::UserId>,
    ) -> Result<Vec<InvoiceRecord>> {
        let run = self
            .store
            .get_invoice_run(org, id)
            .await?
            .ok_or_else(run_not_found)?;
        if run.state != InvoiceState::Draft {
            return Err(not_draft(run.state));
        }
        let invoices = self.store.list_run_invoices(org, id).await?;
        if invoices.is_empty() {
            return Err(AppError::Conflict {
                code: "invoice_run_empty",
                field: None,
                message: "This run has no invoice to finalize (no rated cost in its periods); discard it.".into(),
            });
        }
        if self.run_outdated(org, &run, &invoices).await? {
            return Err(AppError::Conflict {
                code: "invoice_run_outdated",
                field: None,
                message: "The rating of these periods changed since this draft was made; discard it and make the run again.".into(),
            });
        }
        self.lock_range(org, &run, by).await?;
        let Some(finals) = self
            .store
            .finalize_invoice_run(org, id, self.clock.now())
            .await?
        else {
            let run = self
                .store
                .get_invoice_run(org, id)
                .await?
                .ok_or_else(run_not_found)?;
            return Err(not_draft(run.state));
        };
        for invoice in &finals {
            self.freeze_pdf(invoice).await;
        }
        tracing::info!(run = %id, invoices = finals.len(), "invoice run finalized");
        Ok(finals)
    }

    /// Store the SHA-256 of a final invoice's PDF. A renderer failure leaves it to the first
    /// download (the document itself is already frozen).
    pub(crate) async fn freeze_pdf(&self, invoice: &InvoiceRecord) {
        let result = async {
            let pdf = self.render_pdf(&document_of(invoice)?).await?;
            self.store
                .set_invoice_pdf_hash(invoice.organization_id, invoice.id, &sha256_hex(&pdf))
                .await?;
            Ok::<_, AppError>(())
        };
        if let Err(e) = result.await {
            tracing::error!(invoice = %invoice.id, error = %e.chain(), "cannot render the PDF of a final invoice; it is made at its first download");
        }
    }

    async fn run_outdated(
        &self,
        org: OrganizationId,
        run: &InvoiceRunRecord,
        invoices: &[InvoiceRecord],
    ) -> Result<bool> {
        let from = BillingPeriod::parse(&run.period_from)?;
        let to = BillingPeriod::parse(&run.period_to)?;
        let current: Vec<SourcePeriod> = match self.rated_range(org, from, to).await {
            Ok(rated) => rated.into_iter().map(|r| r.source).collect(),
            Err(AppError::Conflict {
                code: "rating_pending",
                ..
            }) => return Ok(true),
            Err(e) => return Err(e),
        };
        let drafted = document_of(&invoices[0])?.sources.periods;
        Ok(drafted != current)
    }

    /// Lock every period of a finalized run that is not locked yet.
    async fn lock_range(
        &self,
        org: OrganizationId,
        run: &InvoiceRunRecord,
        by: Option<be_domain::UserId>,
    ) -> Result<()> {
        let locked = self.store.list_period_locks(org).await?;
        let from = BillingPeriod::parse(&run.period_from)?;
        let to = BillingPeriod::parse(&run.period_to)?;
        for period in BillingPeriod::range(from, to) {
            if locked.iter().any(|l| l.period == period.key()) {
                continue;
            }
            self.store
                .lock_period(&PeriodLockRecord {
                    organization_id: org,
                    period: period.key(),
                    reason: LockReason::Invoiced,
                    locked_by: by,
                    locked_at: self.clock.now(),
                    pending_since: None,
                })
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn run_view(&self, org: OrganizationId, id: InvoiceRunId) -> Result<RunView> {
        let run = self
            .store
            .get_invoice_run(org, id)
            .await?
            .ok_or_else(run_not_found)?;
        let template: InvoiceTemplate =
            serde_json::from_str(&run.template).map_err(|e| corrupt("run template", e))?;
        let records = self.store.list_run_invoices(org, id).await?;
        let mut next: BTreeMap<String, i64> = BTreeMap::new();
        let mut invoices = Vec::new();
        let mut totals: BTreeMap<String, be_domain::Exact> = BTreeMap::new();
        for r in &records {
            let doc = document_of(r)?;
            let to_be = if r.state == InvoiceState::Draft {
                let n = match next.get(&r.series) {
                    Some(n) => *n,
                    None => self.store.next_invoice_number(org, &r.series).await?,
                };
                next.insert(r.series.clone(), n + 1);
                Some(document_number(&r.series, n))
            } else {
                None
            };
            let slot = totals.entry(r.currency.clone()).or_default();
            *slot = slot.checked_add(doc.total).unwrap_or(*slot);
            invoices.push(summary_of(r, &doc, to_be));
        }
        let outdated = run.state == InvoiceState::Draft
            && !records.is_empty()
            && self.run_outdated(org, &run, &records).await?;
        Ok(RunView {
            id: run.id.to_string(),
            state: run.state,
            template_id: run.template_id.to_string(),
            template: template.name.to_string(),
            period_from: run.period_from,
            period_to: run.period_to,
            issue_date: run.issue_date,
            created_at: run.created_at,
            finalized_at: run.finalized_at,
            invoices,
            totals: totals.into_iter().collect(),
            outdated,
        })
    }

    /// Final invoices and notes, newest first.
    pub async fn invoices(&self, caller: &Caller, limit: i64) -> Result<Vec<InvoiceSummary>> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        self.store
            .list_final_invoices(caller.organization_id, limit.clamp(1, 1000))
            .await?
            .iter()
            .map(|r| Ok(summary_of(r, &document_of(r)?, None)))
            .collect()
    }

    pub(crate) async fn invoice_record(
        &self,
        org: OrganizationId,
        id: &str,
    ) -> Result<InvoiceRecord> {
        let id: InvoiceId = id.parse().map_err(|_| invoice_not_found())?;
        self.store
            .get_invoice(org, id)
            .await?
            .ok_or_else(invoice_not_found)
    }

    pub async fn invoice(&self, caller: &Caller, id: &str) -> Result<InvoiceView> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let org = caller.organization_id;
        let record = self.invoice_record(org, id).await?;
        let document = document_of(&record)?;
        let notes = self
            .store
            .list_final_invoices(org, 1000)
            .await?
            .iter()
            .filter(|n| n.related_invoice == Some(record.id))
            .map(|n| Ok(summary_of(n, &document_of(n)?, None)))
            .collect::<Result<Vec<_>>>()?;
        Ok(InvoiceView {
            summary: summary_of(&record, &document, None),
            document,
            deliveries: self.deliveries_of(org, record.id).await?,
            notes,
        })
    }

    /// The PDF of an invoice (a draft's says so). A final invoice's bytes are checked against
    /// the SHA-256 stored at finalization.
    pub async fn invoice_pdf(&self, caller: &Caller, id: &str) -> Result<(String, Vec<u8>)> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let record = self.invoice_record(caller.organization_id, id).await?;
        let pdf = self.render_pdf(&document_of(&record)?).await?;
        if record.state == InvoiceState::Final {
            let hash = sha256_hex(&pdf);
            match &record.pdf_sha256 {
                None => {
                    self.store
                        .set_invoice_pdf_hash(record.organization_id, record.id, &hash)
                        .await?
                }
                Some(stored) if *stored != hash => {
                    tracing::error!(invoice = %record.id, stored = %stored, rendered = %hash, "a final invoice's PDF renders differently than at finalization");
                }
                Some(_) => {}
            }
        }
        Ok((file_name(&record, "pdf"), pdf))
    }

    pub async fn invoice_csv(&self, caller: &Caller, id: &str) -> Result<(String, Vec<u8>)> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let record = self.invoice_record(caller.organization_id, id).await?;
        let csv = self
            .documents()?
            .render_csv(&document_of(&record)?)
            .map_err(AppError::Engine)?;
        Ok((file_name(&record, "csv"), csv))
    }

    /// Render on the blocking pool: a long invoice takes a CPU for a while.
    pub(crate) async fn render_pdf(&self, doc: &InvoiceDocument) -> Result<Vec<u8>> {
        let port = self.documents()?;
        let doc = doc.clone();
        tokio::task::spawn_blocking(move || port.render_pdf(&doc))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::Engine)
    }

    fn documents(&self) -> Result<std::sync::Arc<dyn super::DocumentPort>> {
        self.settings
            .invoicing
            .documents
            .clone()
            .ok_or_else(|| AppError::Conflict {
                code: "documents_unavailable",
                field: None,
                message: "This server cannot render invoices (no renderer configured).".into(),
            })
    }
}

fn not_draft(state: InvoiceState) -> AppError {
    AppError::Conflict {
        code: "invoice_run_not_draft",
        field: None,
        message: format!(
            "This run is {}; only a draft can be finalized or discarded.",
            state.as_str()
        ),
    }
}

/// `INV-000042.pdf`; a draft: `draft-Contoso-USD.pdf`.
fn file_name(r: &InvoiceRecord, ext: &str) -> String {
    let stem = r
        .number
        .clone()
        .unwrap_or_else(|| format!("draft-{}-{}", r.customer_key, r.currency));
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.{ext}")
}

/// The stored record of a drafted document.
pub(crate) fn invoice_record(
    run: &InvoiceRunRecord,
    position: usize,
    doc: &InvoiceDocument,
    template: &InvoiceTemplate,
    related: Option<InvoiceId>,
) -> Result<InvoiceRecord> {
    let series = match doc.kind {
        DocumentKind::Invoice => &template.series,
        DocumentKind::CreditNote => &template.credit_series,
        DocumentKind::DebitNote => &template.debit_series,
    };
    Ok(InvoiceRecord {
        id: InvoiceId::new(),
        organization_id: run.organization_id,
        run_id: run.id,
        kind: doc.kind,
        state: InvoiceState::Draft,
        series: series.clone(),
        number: None,
        position: position as i32,
        customer_key: doc.customer.key.clone(),
        currency: doc.currency.code().to_string(),
        total: doc.total.to_string(),
        exact_total: doc.exact_total.to_string(),
        document: serde_json::to_string(doc).map_err(AppError::internal)?,
        pdf_sha256: None,
        related_invoice: related,
        created_at: run.created_at,
        finalized_at: None,
    })
}
