//! Tie-out: for a period, the sum of its invoices (and notes) against the provider's cost, with
//! the variance explained step by step: costs outside every invoice (sub-accounts in no family),
//! each strategy's and rule's effect (hidden credits, unshared commitments, markups, discounts,
//! fees), rounding to the currency's minor unit, and formula lines that add to what is due. What
//! the steps do not explain is shown, never hidden (it is zero when everything reconciles).

use std::collections::BTreeMap;

use be_domain::invoicing::{DocumentKind, InvoiceMeasure, InvoiceState, InvoiceTemplate};
use be_domain::{BillingPeriod, Currency, Exact, OrganizationId};
use serde::Serialize;

use super::build;
use super::runs::{document_of, RatedPeriod};
use crate::rating::{GroupedRow, PivotInput};
use crate::{App, AppError, Caller, Result};

/// One step from the provider's cost to the invoiced total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TieOutStep {
    pub label: String,
    pub kind: StepKind,
    /// For a stage: `strategy` or the rule's kind.
    pub stage_kind: Option<String>,
    pub amount: Exact,
}

/// What a tie-out step accounts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Costs outside every invoice (sub-accounts in no family).
    Uninvoiced,
    /// A strategy's or a rule's effect on the invoiced costs.
    Stage,
    /// The invoiced measure differs from ProviderCost (EffectiveCost, ListCost invoices).
    Measure,
    Rounding,
    /// Formula lines that add to the totals (taxes).
    Formulas,
    /// What nothing above explains (a change not re-rated yet): shown, never hidden.
    Unexplained,
}

fn step(label: impl Into<String>, kind: StepKind, amount: Exact) -> TieOutStep {
    TieOutStep { label: label.into(), kind, stage_kind: None, amount }
}

/// The tie-out of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TieOutCurrency {
    pub currency: String,
    /// The sum of ProviderCost over every rated row of the period.
    pub provider_total: Exact,
    pub steps: Vec<TieOutStep>,
    /// The sum of the invoices' and notes' totals.
    pub invoiced_total: Exact,
    pub invoices: usize,
    /// The steps explain the whole difference.
    pub reconciled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TieOut {
    pub period: String,
    /// `final`: the period's finalized invoices and notes; `draft`: no invoice is final yet, so
    /// the figures are those a run with the default template would bill.
    pub basis: InvoiceState,
    pub template: String,
    pub currencies: Vec<TieOutCurrency>,
    /// Azure's own total for the period at its last pull (ActualCost), per connection summed.
    pub provider_reported: Option<Exact>,
}

/// The invoiced side: per currency, totals, subtotals, exact totals, formula additions, count.
#[derive(Default)]
struct Invoiced {
    total: Exact,
    subtotal: Exact,
    exact: Exact,
    formulas: Exact,
    count: usize,
}

fn plus(a: Exact, b: Exact) -> Exact {
    a.checked_add(b).unwrap_or(a)
}

impl App {
    pub async fn tie_out(&self, caller: &Caller, period: &str) -> Result<TieOut> {
        let org = caller.organization_id;
        let period = BillingPeriod::parse(period)?;
        let rated = self.rated_range(org, period, period).await?;
        let Some(rp) = rated.first() else {
            return Err(AppError::NotFound { code: "period_not_rated", message: format!("{period} has no rated cost to tie out.") });
        };
        let (basis, template, docs) = self.period_documents(org, period, &rated).await?;
        let mut invoiced: BTreeMap<String, Invoiced> = BTreeMap::new();
        for d in &docs {
            let i = invoiced.entry(d.currency.code().to_string()).or_default();
            i.total = plus(i.total, d.total);
            i.subtotal = plus(i.subtotal, d.subtotal);
            i.exact = plus(i.exact, d.exact_total);
            i.formulas = plus(i.formulas, d.formulas.iter().filter(|f| f.adds_to_total).map(|f| f.amount).sum());
            i.count += 1;
        }
        let stages = self.engine()?.summary(rp.dir.clone()).await?.stages;
        let mut sums = vec!["ProviderCost".to_string(), template.measure.column().to_string()];
        sums.extend(stages.iter().map(|s| s.column.clone()));
        let rows = self
            .engine()?
            .pivot(PivotInput { runs: vec![rp.dir.clone()], group_by: vec![template.invoice_by.clone()], filter: Default::default(), sums, by_period: false })
            .await?;
        let mut currencies = Vec::new();
        let mut codes: Vec<String> = invoiced.keys().cloned().collect();
        for r in &rows {
            let code = build::currency_of(r, self.settings.rating.default_currency)?.code().to_string();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes.sort();
        for code in codes {
            let currency = Currency::parse(&code)?;
            let of_currency: Vec<&GroupedRow> =
                rows.iter().filter(|r| build::currency_of(r, self.settings.rating.default_currency).is_ok_and(|c| c == currency)).collect();
            let inv = invoiced.remove(&code).unwrap_or_default();
            currencies.push(tie_out_currency(&code, &template, &stages, &of_currency, &inv));
        }
        Ok(TieOut {
            period: period.key(),
            basis,
            template: template.name.to_string(),
            currencies,
            provider_reported: self.provider_reported(org, period).await?,
        })
    }

    /// The period's final invoices and notes (those of runs over exactly this period), or what
    /// the default template would bill when none is final.
    async fn period_documents(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        rated: &[RatedPeriod],
    ) -> Result<(InvoiceState, InvoiceTemplate, Vec<be_domain::invoicing::InvoiceDocument>)> {
        let key = period.key();
        let mut docs = Vec::new();
        let mut template = None;
        for r in self.store.list_final_invoices(org, 100_000).await? {
            let doc = document_of(&r)?;
            if doc.period_from != key || doc.period_to != key {
                continue;
            }
            if template.is_none() && r.kind == DocumentKind::Invoice {
                let run = self.store.get_invoice_run(org, r.run_id).await?.ok_or_else(super::runs::run_not_found)?;
                template = Some(serde_json::from_str::<InvoiceTemplate>(&run.template).map_err(AppError::internal)?);
            }
            docs.push(doc);
        }
        if let Some(t) = template {
            return Ok((InvoiceState::Final, t, docs));
        }
        let t = super::templates::decode(&self.template_by(org, None).await?)?;
        let (docs, _) = self.build_documents(org, &t, (period, period), self.clock.now().date(), &[], rated).await?;
        Ok((InvoiceState::Draft, t, docs))
    }

    async fn provider_reported(&self, org: OrganizationId, period: BillingPeriod) -> Result<Option<Exact>> {
        let mut total: Option<Exact> = None;
        for c in self.store.list_connections(org).await? {
            for p in self.store.list_periods(org, c.id).await?.into_iter().filter(|p| p.period == period.key()) {
                if let Some(v) = Exact::parse(&p.source_total) {
                    total = Some(plus(total.unwrap_or_default(), v));
                }
            }
        }
        Ok(total)
    }
}

/// The steps of one currency, from the provider's cost to the invoiced total.
fn tie_out_currency(code: &str, t: &InvoiceTemplate, stages: &[crate::rating::StageInfo], rows: &[&GroupedRow], inv: &Invoiced) -> TieOutCurrency {
    let sum_of = |rows: &mut dyn Iterator<Item = &&GroupedRow>, col: &str| -> Exact { rows.map(|r| r.sums.get(col).copied().unwrap_or_default()).sum() };
    let provider_total = sum_of(&mut rows.iter(), "ProviderCost");
    let outside: Vec<&&GroupedRow> = rows.iter().filter(|r| r.keys.first().cloned().flatten().is_none()).collect();
    let inside: Vec<&&GroupedRow> = rows.iter().filter(|r| r.keys.first().cloned().flatten().is_some()).collect();
    let mut steps = Vec::new();
    let uninvoiced = sum_of(&mut outside.iter().copied(), "ProviderCost");
    if !uninvoiced.is_zero() {
        steps.push(step(format!("Costs outside every invoice (no {})", t.invoice_by.label()), StepKind::Uninvoiced, Exact::ZERO.checked_sub(uninvoiced).unwrap_or_default()));
    }
    let measure = t.measure.column();
    let change = sum_of(&mut inside.iter().copied(), measure).checked_sub(sum_of(&mut inside.iter().copied(), "ProviderCost")).unwrap_or_default();
    let mut explained = Exact::ZERO;
    if t.measure == InvoiceMeasure::BilledCost {
        for s in stages {
            let effect = sum_of(&mut inside.iter().copied(), &s.column);
            if !effect.is_zero() {
                explained = plus(explained, effect);
                steps.push(TieOutStep { label: s.label.clone(), kind: StepKind::Stage, stage_kind: Some(s.kind.clone()), amount: effect });
            }
        }
    } else if !change.is_zero() {
        explained = change;
        steps.push(step(format!("{measure} instead of ProviderCost"), StepKind::Measure, change));
    }
    let rated_other = change.checked_sub(explained).unwrap_or_default();
    if !rated_other.is_zero() {
        steps.push(step("Rated differences no stage explains", StepKind::Unexplained, rated_other));
    }
    let rounding = inv.subtotal.checked_sub(inv.exact).unwrap_or_default();
    if !rounding.is_zero() {
        steps.push(step("Rounding of each line to the currency's minor unit", StepKind::Rounding, rounding));
    }
    if !inv.formulas.is_zero() {
        steps.push(step("Formula lines added to the totals (taxes)", StepKind::Formulas, inv.formulas));
    }
    // What the invoices bill against the rated cost inside them: an invoice made before a change
    // that was not re-rated, a value billed twice or not at all.
    let expected_exact = sum_of(&mut inside.iter().copied(), measure);
    let billing_gap = inv.exact.checked_sub(expected_exact).unwrap_or_default();
    if !billing_gap.is_zero() {
        steps.push(step("Invoiced amounts that differ from the current rating (a change not re-rated yet)", StepKind::Unexplained, billing_gap));
    }
    let reached: Exact = std::iter::once(provider_total).chain(steps.iter().map(|s| s.amount)).sum();
    TieOutCurrency {
        currency: code.to_string(),
        provider_total,
        reconciled: reached == inv.total && steps.iter().all(|s| s.kind != StepKind::Unexplained),
        steps,
        invoiced_total: inv.total,
        invoices: inv.count,
    }
}
