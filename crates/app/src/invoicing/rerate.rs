//! Re-rating a locked period (an explicit act): rate it with the current configuration and data,
//! compare every final invoice covering it, line by line, with what it would bill now (the
//! invoice plus the notes already issued against it), and on confirmation issue credit notes
//! (billed less) and debit notes (billed more) linked to the originals, which never change.
//! A grouping value that had no invoice gets a new invoice.

use std::collections::{BTreeMap, BTreeSet};

use be_domain::invoicing::{
    CorrectedInvoice, DocumentKind, InvoiceDocument, InvoiceLine, InvoiceState, InvoiceTemplate,
};
use be_domain::{BillingPeriod, Currency, Exact, InvoiceRunId, OrganizationId};
use be_store::{InvoiceRecord, InvoiceRunRecord};
use serde::Serialize;

use super::InvoiceSummary;
use super::build::{self, LineKey};
use super::runs::{RatedPeriod, document_of, invoice_record, summary_of};
use crate::rating::{RateInput, SourceInput};
use crate::{App, AppError, Caller, Result};

/// One line's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineChange {
    pub values: Vec<String>,
    pub rule: Option<String>,
    pub before: Exact,
    pub after: Exact,
    pub difference: Exact,
}

/// What a re-rating changes on one invoice (or a new invoice for a value that had none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceChange {
    pub invoice_id: Option<String>,
    pub number: Option<String>,
    pub customer_key: String,
    pub customer: String,
    pub currency: String,
    /// What the invoice and its notes bill now.
    pub before: Exact,
    /// What the current rating bills.
    pub after: Exact,
    pub difference: Exact,
    pub lines: Vec<LineChange>,
    /// The document that settles it: a credit note, a debit note, or a new invoice.
    pub settled_by: DocumentKind,
}

/// The outcome of a re-rating (a dry run shows the same without issuing anything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rerate {
    pub period: String,
    pub applied: bool,
    pub pricing_version: i32,
    pub changes: Vec<InvoiceChange>,
    /// The notes (and new invoices) issued, when applied.
    pub issued: Vec<InvoiceSummary>,
}

/// One finalized run's documents covering the period, with the notes issued against them.
struct Covered {
    run: InvoiceRunRecord,
    template: InvoiceTemplate,
    originals: Vec<(InvoiceRecord, InvoiceDocument)>,
}

/// A document's lines and measures with its notes added.
#[derive(Default)]
struct Billed {
    lines: BTreeMap<LineKey, (Exact, Exact, InvoiceLine)>,
    measures: BTreeMap<String, Exact>,
    total: Exact,
}

impl Billed {
    fn add(&mut self, doc: &InvoiceDocument) {
        for l in &doc.lines {
            let slot = self
                .lines
                .entry(LineKey::of(l))
                .or_insert_with(|| (Exact::ZERO, Exact::ZERO, l.clone()));
            slot.0 = slot.0.checked_add(l.amount).unwrap_or(slot.0);
            slot.1 = slot.1.checked_add(l.exact).unwrap_or(slot.1);
        }
        for (m, v) in &doc.measures {
            let slot = self.measures.entry(m.clone()).or_default();
            *slot = slot.checked_add(*v).unwrap_or(*slot);
        }
        self.total = self.total.checked_add(doc.total).unwrap_or(self.total);
    }
}

fn diff(a: Exact, b: Exact) -> Exact {
    a.checked_sub(b).unwrap_or_default()
}

impl App {
    /// Re-rate a locked period; with `dry_run`, only show what would change.
    pub async fn rerate_period(
        &self,
        caller: &Caller,
        period: &str,
        dry_run: bool,
    ) -> Result<Rerate> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let org = caller.organization_id;
        let period = BillingPeriod::parse(period)?;
        if self.lock_of(org, period).await?.is_none() {
            return Err(AppError::Conflict {
                code: "period_not_locked",
                field: Some("period"),
                message: format!(
                    "{period} is not locked: it is rated automatically after every change, and has nothing to correct."
                ),
            });
        }
        let pricing_version = self.load_pricing(org).await?.version;
        let covered = self.covered_by_final_invoices(org, period).await?;
        let scratch = self
            .layout()
            .tmp_root()
            .join(format!("rerate-{}", uuid::Uuid::new_v4()));
        let fresh = if dry_run {
            Some(self.rate_to_scratch(org, period, &scratch).await?)
        } else {
            self.rate_locked_now(org, period).await?
        };
        let result = self.compare(org, period, &covered, fresh).await;
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        let changes = result?;
        let mut out = Rerate {
            period: period.key(),
            applied: !dry_run,
            pricing_version,
            changes: changes
                .iter()
                .flat_map(|(_, c)| c.iter().map(|(c, _)| c.clone()))
                .collect(),
            issued: vec![],
        };
        if !dry_run {
            for (group, docs) in changes {
                out.issued.extend(
                    self.issue_corrections(caller, &covered[group], docs)
                        .await?,
                );
            }
            self.store.clear_lock_pending(org, &period.key()).await?;
            tracing::info!(period = %period, issued = out.issued.len(), "locked period re-rated");
        }
        Ok(out)
    }

    /// Rate the period into a scratch folder (nothing recorded).
    async fn rate_to_scratch(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        dir: &std::path::Path,
    ) -> Result<RatedPeriod> {
        let pricing = self.load_pricing(org).await?;
        let sources: Vec<SourceInput> = self.period_sources(org, period).await?;
        let input = RateInput {
            period,
            config: pricing.config.for_period(period),
            sources,
            default_currency: self.settings.rating.default_currency,
        };
        let summary = self.engine()?.rate(input, dir.to_path_buf()).await?;
        Ok(RatedPeriod {
            period,
            dir: dir.to_path_buf(),
            source: be_domain::invoicing::SourcePeriod {
                period: period.key(),
                rating_run: "preview".into(),
                pricing_version: pricing.version,
                inputs_sha256: super::runs::sha256_hex(summary.inputs.as_bytes()),
            },
        })
    }

    /// Rate the period for good: its new rating becomes current. `None`: it read from the
    /// current rating as usual (see [`App::compare`]).
    async fn rate_locked_now(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
    ) -> Result<Option<RatedPeriod>> {
        let generation = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .find(|p| p.period == period.key())
            .map_or(0, |p| p.generation);
        if !self
            .rate_period(self.engine()?.as_ref(), org, period, generation)
            .await?
        {
            return Err(AppError::Conflict {
                code: "rating_failed",
                field: None,
                message: format!(
                    "{period} could not be rated; its rating page says why. Nothing was issued."
                ),
            });
        }
        Ok(None)
    }

    /// Final invoices covering the period, by the run that made them.
    async fn covered_by_final_invoices(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
    ) -> Result<Vec<Covered>> {
        let finals = self.store.list_final_invoices(org, 100_000).await?;
        let mut by_run: BTreeMap<InvoiceRunId, Covered> = BTreeMap::new();
        for r in finals.iter().filter(|r| r.kind == DocumentKind::Invoice) {
            let doc = document_of(r)?;
            if !(doc.period_from.as_str() <= period.key().as_str()
                && period.key().as_str() <= doc.period_to.as_str())
            {
                continue;
            }
            let covered = match by_run.entry(r.run_id) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let run = self
                        .store
                        .get_invoice_run(org, r.run_id)
                        .await?
                        .ok_or_else(super::runs::run_not_found)?;
                    let template =
                        serde_json::from_str(&run.template).map_err(AppError::internal)?;
                    e.insert(Covered {
                        run,
                        template,
                        originals: vec![],
                    })
                }
            };
            covered.originals.push((r.clone(), doc));
        }
        // Notes issued earlier count as billed.
        let notes: Vec<&InvoiceRecord> = finals
            .iter()
            .filter(|r| r.kind != DocumentKind::Invoice)
            .collect();
        for c in by_run.values_mut() {
            let ids: BTreeSet<_> = c.originals.iter().map(|(r, _)| r.id).collect();
            for n in notes
                .iter()
                .filter(|n| n.related_invoice.is_some_and(|i| ids.contains(&i)))
            {
                c.originals.push(((*n).clone(), document_of(n)?));
            }
        }
        Ok(by_run.into_values().collect())
    }

    /// Per covering run: each invoice's changes and the document that settles them.
    async fn compare(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        covered: &[Covered],
        fresh: Option<RatedPeriod>,
    ) -> Result<Vec<(usize, Vec<(InvoiceChange, InvoiceDocument)>)>> {
        let mut out = Vec::new();
        for (i, c) in covered.iter().enumerate() {
            let from = BillingPeriod::parse(&c.run.period_from)?;
            let to = BillingPeriod::parse(&c.run.period_to)?;
            let mut rated = self.rated_range(org, from, to).await?;
            if let Some(f) = &fresh {
                rated.retain(|r| r.period != period);
                rated.push(f.clone());
                rated.sort_by_key(|r| r.period);
            }
            let today = self.clock.now().date();
            let (now_docs, _) = self
                .build_documents(org, &c.template, (from, to), today, &[], &rated)
                .await?;
            out.push((i, corrections(c, &now_docs, today)));
        }
        Ok(out)
    }

    /// Issue the documents of one covering run as a finalized run of their own.
    async fn issue_corrections(
        &self,
        caller: &Caller,
        c: &Covered,
        docs: Vec<(InvoiceChange, InvoiceDocument)>,
    ) -> Result<Vec<InvoiceSummary>> {
        if docs.is_empty() {
            return Ok(vec![]);
        }
        let org = caller.organization_id;
        let now = self.clock.now();
        let run = InvoiceRunRecord {
            id: InvoiceRunId::new(),
            organization_id: org,
            template_id: c.run.template_id,
            template: c.run.template.clone(),
            period_from: c.run.period_from.clone(),
            period_to: c.run.period_to.clone(),
            issue_date: now.date(),
            state: InvoiceState::Draft,
            created_by: Some(caller.user_id),
            created_at: now,
            finalized_at: None,
        };
        let records: Vec<InvoiceRecord> = docs
            .iter()
            .enumerate()
            .map(|(i, (change, doc))| {
                invoice_record(
                    &run,
                    i,
                    doc,
                    &c.template,
                    change.invoice_id.as_deref().and_then(|id| id.parse().ok()),
                )
            })
            .collect::<Result<_>>()?;
        self.store.create_invoice_run(&run, &records).await?;
        let finals = self
            .store
            .finalize_invoice_run(org, run.id, now)
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for f in &finals {
            self.freeze_pdf(f).await;
            out.push(summary_of(f, &document_of(f)?, None));
        }
        Ok(out)
    }
}

/// The changes of one covering run's invoices against what the current rating bills.
fn corrections(
    c: &Covered,
    now_docs: &[InvoiceDocument],
    today: time::Date,
) -> Vec<(InvoiceChange, InvoiceDocument)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (record, original) in c
        .originals
        .iter()
        .filter(|(r, _)| r.kind == DocumentKind::Invoice)
    {
        let mut billed = Billed::default();
        billed.add(original);
        for (_, note) in c.originals.iter().filter(|(n, _)| {
            n.kind != DocumentKind::Invoice && n.related_invoice == Some(record.id)
        }) {
            billed.add(note);
        }
        let now = now_docs
            .iter()
            .find(|d| d.customer.key == original.customer.key && d.currency == original.currency);
        seen.insert((original.customer.key.clone(), original.currency));
        if let Some(change) = correction(&c.template, Some((record, original)), &billed, now, today)
        {
            out.push(change);
        }
    }
    for doc in now_docs
        .iter()
        .filter(|d| !seen.contains(&(d.customer.key.clone(), d.currency)))
    {
        if let Some(change) = correction(&c.template, None, &Billed::default(), Some(doc), today) {
            out.push(change);
        }
    }
    out
}

/// The document settling the difference between what is billed and what the rating bills now.
fn correction(
    template: &InvoiceTemplate,
    original: Option<(&InvoiceRecord, &InvoiceDocument)>,
    billed: &Billed,
    now: Option<&InvoiceDocument>,
    today: time::Date,
) -> Option<(InvoiceChange, InvoiceDocument)> {
    // The parties and sources as they are now; a value billed no more keeps the original's.
    let base = &match (now, original) {
        (Some(d), _) => d.clone(),
        (None, Some((_, o))) => InvoiceDocument {
            issue_date: today,
            due_date: today + (o.due_date - o.issue_date),
            ..o.clone()
        },
        (None, None) => return None,
    };
    let mut after: BTreeMap<LineKey, (Exact, Exact, InvoiceLine)> = BTreeMap::new();
    for l in now.map(|d| d.lines.as_slice()).unwrap_or_default() {
        after.insert(LineKey::of(l), (l.amount, l.exact, l.clone()));
    }
    let keys: BTreeSet<&LineKey> = billed.lines.keys().chain(after.keys()).collect();
    let mut lines = Vec::new();
    let mut changes = Vec::new();
    for key in keys {
        let (b, be, bl) = billed.lines.get(key).cloned().unzip3();
        let (a, ae, al) = after.get(key).cloned().unzip3();
        let (b, be, a, ae) = (
            b.unwrap_or_default(),
            be.unwrap_or_default(),
            a.unwrap_or_default(),
            ae.unwrap_or_default(),
        );
        if a == b {
            continue;
        }
        let line = al.or(bl).expect("a key comes from one side");
        changes.push(LineChange {
            values: line.values.clone(),
            rule: line.rule.clone(),
            before: b,
            after: a,
            difference: diff(a, b),
        });
        lines.push(InvoiceLine {
            amount: diff(a, b),
            exact: diff(ae, be),
            ..line
        });
    }
    if lines.is_empty() {
        return None;
    }
    let measures_now = now.map(|d| d.measures.clone()).unwrap_or_default();
    let names: BTreeSet<&String> = measures_now.keys().chain(billed.measures.keys()).collect();
    let measures: BTreeMap<String, Exact> = names
        .into_iter()
        .map(|m| {
            (
                m.clone(),
                diff(
                    measures_now.get(m).copied().unwrap_or_default(),
                    billed.measures.get(m).copied().unwrap_or_default(),
                ),
            )
        })
        .collect();
    let difference: Exact = lines.iter().map(|l| l.amount).sum();
    let kind = match original {
        None => DocumentKind::Invoice,
        Some(_) if difference.is_negative() => DocumentKind::CreditNote,
        Some(_) => DocumentKind::DebitNote,
    };
    let exact_total: Exact = lines.iter().map(|l| l.exact).sum();
    let doc = note_document(template, base, kind, lines, exact_total, measures, original);
    let after_total = now.map(|d| d.total).unwrap_or_default();
    let change = InvoiceChange {
        invoice_id: original.map(|(r, _)| r.id.to_string()),
        number: original.and_then(|(r, _)| r.number.clone()),
        customer_key: base.customer.key.clone(),
        customer: base.customer.billing_name.clone(),
        currency: base.currency.code().to_string(),
        before: billed.total,
        after: after_total,
        difference: diff(after_total, billed.total),
        lines: changes,
        settled_by: kind,
    };
    Some((change, doc))
}

/// A credit or debit note (or a new invoice) with the original's parties and the run's rules.
fn note_document(
    template: &InvoiceTemplate,
    base: &InvoiceDocument,
    kind: DocumentKind,
    lines: Vec<InvoiceLine>,
    exact_total: Exact,
    measures: BTreeMap<String, Exact>,
    original: Option<(&InvoiceRecord, &InvoiceDocument)>,
) -> InvoiceDocument {
    let currency: Currency = base.currency;
    let subtotal: Exact = lines.iter().map(|l| l.amount).sum();
    let formulas = build::formulas_of(template, currency.minor_units(), subtotal, &measures);
    let total = build::sum(
        std::iter::once(subtotal).chain(
            formulas
                .iter()
                .filter(|f| f.adds_to_total)
                .map(|f| f.amount),
        ),
    );
    InvoiceDocument {
        kind,
        number: None,
        lines,
        subtotal,
        formulas,
        total,
        exact_total,
        measures,
        corrects: original.map(|(r, d)| CorrectedInvoice {
            number: r.number.clone().unwrap_or_default(),
            issue_date: d.issue_date,
            total: d.total,
        }),
        ..base.clone()
    }
}

trait Unzip3<A, B, C> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>);
}

impl<A, B, C> Unzip3<A, B, C> for Option<(A, B, C)> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>) {
        match self {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        }
    }
}
