//! Rating (engine.md section 5): a persistent job per organization rates every period marked
//! stale (by a sync, an import or a configuration change), newest first. Each run writes into its
//! own folder; only a successful run becomes the period's current rating, so a failed run keeps
//! the previous one and says why. The engine itself sits behind [`RatingPort`].

mod analysis;
mod dashboard;
mod imports;
mod pivot_cache;
mod port;
mod saved;
mod views;

use std::collections::BTreeSet;
use std::sync::Arc;

use be_domain::pricing::PricingConfig;
use be_domain::{
    BillingPeriod, Currency, JobKind, JobSubject, OrganizationId, RatingRunId, RatingRunState,
};
use be_store::{RatingRunRecord, SubAccountRecord};

pub use analysis::{AnalysisQuery, AnalysisRow, AnalysisTable, MEASURES};
pub use dashboard::{Dashboard, Freshness, MonthFigures, TopRow};
pub use imports::{SourcePeriod, SourcesOverview};
pub(crate) use pivot_cache::PivotCache;
pub use port::{
    ExportValues, GroupTotals, GroupedRow, ImportOutcome, ImportedPeriod, LineExplanation,
    LinesQuery, PivotInput, Port, PortError, PortErrorKind, RateInput, RatedLine, RatedSummary,
    RatingPort, SourceInput, SplitShare, StageEffect, StageInfo,
};
pub use saved::{AssetGroupInput, SavedView};
pub use views::{
    AllocationPreview, AllocationPreviewRow, PeriodRating, RunView, TotalsBy, TotalsRow,
    TotalsTable, WhatIf, WhatIfChange, WhatIfRow,
};

use crate::jobs::{JobControl, Stop};
use crate::{App, AppError, Result};

/// How rating behaves.
#[derive(Clone)]
pub struct RatingSettings {
    /// The engine; without it, rating jobs fail with `rating_unavailable`.
    pub engine: Option<Arc<dyn RatingPort>>,
    /// How long after a change the rating starts (changes in a burst are rated once).
    pub debounce: time::Duration,
    /// The currency of a fee when nothing else decides it.
    pub default_currency: Currency,
}

impl std::fmt::Debug for RatingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RatingSettings")
            .field("engine", &self.engine.is_some())
            .field("debounce", &self.debounce)
            .finish()
    }
}

impl Default for RatingSettings {
    fn default() -> Self {
        Self {
            engine: None,
            debounce: time::Duration::seconds(2),
            default_currency: Currency::parse("USD").expect("USD"),
        }
    }
}

fn unavailable() -> AppError {
    AppError::Conflict {
        code: "rating_unavailable",
        field: None,
        message: "Rating is not available in this server (no engine configured).".into(),
    }
}

impl App {
    pub(crate) fn engine(&self) -> Result<Arc<dyn RatingPort>> {
        self.settings.rating.engine.clone().ok_or_else(unavailable)
    }

    /// Every period with data of the organization: synced periods and imported periods.
    pub(crate) async fn data_periods(
        &self,
        org: OrganizationId,
    ) -> Result<BTreeSet<BillingPeriod>> {
        let mut out = BTreeSet::new();
        for c in self.store.list_connections(org).await? {
            for p in self.store.list_periods(org, c.id).await? {
                out.insert(BillingPeriod::parse(&p.period)?);
            }
        }
        for p in self.store.list_imported_periods(org).await? {
            out.insert(BillingPeriod::parse(&p.period)?);
        }
        Ok(out)
    }

    /// The source files of a period.
    pub(crate) async fn period_sources(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
    ) -> Result<Vec<SourceInput>> {
        let layout = self.layout();
        let mut out = Vec::new();
        for c in self.store.list_connections(org).await? {
            if self
                .store
                .list_periods(org, c.id)
                .await?
                .iter()
                .any(|p| p.period == period.key())
            {
                out.push(SourceInput {
                    source_id: c.id.to_string(),
                    path: layout.connection_period(c.id, period),
                });
            }
        }
        for p in self
            .store
            .list_imported_periods(org)
            .await?
            .into_iter()
            .filter(|p| p.period == period.key())
        {
            out.push(SourceInput {
                source_id: p.source_id.to_string(),
                path: layout.import_period(p.source_id, period),
            });
        }
        Ok(out)
    }

    /// Data of these periods changed (a sync, an import, a deletion): rate them again; a locked
    /// period is only marked as having a change pending.
    pub(crate) async fn data_changed(
        &self,
        org: OrganizationId,
        periods: &[BillingPeriod],
    ) -> Result<()> {
        let periods = self.hold_locked(org, periods).await?;
        if periods.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = periods.iter().map(|p| p.key()).collect();
        self.store
            .mark_periods_stale(org, &keys, self.clock.now())
            .await?;
        self.queue_rating(org).await
    }

    /// The configuration changed: rate again every period with data whose configuration differs.
    pub(crate) async fn pricing_changed(
        &self,
        org: OrganizationId,
        old: &PricingConfig,
        new: &PricingConfig,
    ) -> Result<()> {
        let affected: Vec<BillingPeriod> = self
            .data_periods(org)
            .await?
            .into_iter()
            .filter(|p| old.for_period(*p) != new.for_period(*p))
            .collect();
        self.data_changed(org, &affected).await
    }

    async fn queue_rating(&self, org: OrganizationId) -> Result<()> {
        let when = self.clock.now() + self.settings.rating.debounce;
        self.enqueue_by(org, JobSubject::Organization, JobKind::Rate, when)
            .await?;
        Ok(())
    }

    /// The rating job: every stale period of the organization, newest first.
    pub(crate) async fn run_rating(
        &self,
        job: &be_store::JobRecord,
        control: &JobControl,
    ) -> std::result::Result<(), Stop> {
        let org = job.organization_id;
        let engine = self.engine()?;
        let mut stale: Vec<_> = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .filter(|p| p.stale)
            .collect();
        stale.sort_by(|a, b| b.period.cmp(&a.period));
        let mut failed = 0;
        for p in stale {
            control.check()?;
            let period = BillingPeriod::parse(&p.period).map_err(AppError::from)?;
            if self.lock_of(org, period).await?.is_some() {
                // Locked after the change was queued: keep the rating, show the change as pending.
                self.hold_locked(org, &[period]).await?;
                self.store
                    .finish_period_rating(org, &p.period, None, p.generation)
                    .await?;
                continue;
            }
            if !self
                .rate_period(engine.as_ref(), org, period, p.generation)
                .await?
            {
                failed += 1;
            }
        }
        if failed > 0 {
            return Err(Stop::Failed(AppError::Conflict {
                code: "rating_failed",
                field: None,
                message: format!(
                    "{failed} period(s) could not be rated; each keeps its previous rating and says why on its page."
                ),
            }));
        }
        Ok(())
    }

    /// Rate one period; `false` when the run failed (recorded with its cause; the previous rating
    /// stays current).
    pub(crate) async fn rate_period(
        &self,
        engine: &dyn RatingPort,
        org: OrganizationId,
        period: BillingPeriod,
        generation: i64,
    ) -> Result<bool> {
        let sources = self.period_sources(org, period).await?;
        if sources.is_empty() {
            self.store
                .delete_rated_period(org, period.key().as_str())
                .await?;
            return Ok(true);
        }
        let pricing = self.load_pricing(org).await?;
        let mut run = RatingRunRecord {
            id: RatingRunId::new(),
            organization_id: org,
            period: period.key(),
            state: RatingRunState::Running,
            pricing_version: pricing.version,
            inputs: serde_json::to_string(&sources).map_err(AppError::internal)?,
            rows_rated: 0,
            new_lines: 0,
            billed_total: None,
            provider_total: None,
            error_code: None,
            error_message: None,
            started_at: self.clock.now(),
            finished_at: None,
        };
        self.store.create_rating_run(&run).await?;
        let input = RateInput {
            period,
            config: pricing.config.for_period(period),
            sources,
            default_currency: self.settings.rating.default_currency,
        };
        let out_dir = self.layout().rated_run_dir(org, period, run.id);
        let outcome = engine.rate(input, out_dir.clone()).await;
        run.finished_at = Some(self.clock.now());
        let ok = match outcome {
            Ok(summary) => {
                run.state = RatingRunState::Succeeded;
                run.inputs = summary.inputs.clone();
                run.rows_rated = summary.rows as i64;
                run.new_lines = summary.new_lines as i64;
                run.billed_total = Some(views::total(&summary, "BilledCost").to_string());
                run.provider_total = Some(views::total(&summary, "ProviderCost").to_string());
                self.store.finish_rating_run(&run).await?;
                self.store
                    .finish_period_rating(org, &period.key(), Some(run.id), generation)
                    .await?;
                self.discover_sub_accounts(org, period, &summary).await?;
                self.remove_old_runs(org, period, run.id).await;
                tracing::info!(org = %org, period = %period, rows = summary.rows, new_lines = summary.new_lines, "period rated");
                true
            }
            Err(e) => {
                tracing::error!(org = %org, period = %period, code = e.code, error = %e.message, "rating failed; the previous rating stays");
                run.state = RatingRunState::Failed;
                run.error_code = Some(e.code.to_string());
                run.error_message = Some(AppError::Engine(e).public_message());
                self.store.finish_rating_run(&run).await?;
                self.store
                    .finish_period_rating(org, &period.key(), None, generation)
                    .await?;
                let _ = tokio::fs::remove_dir_all(&out_dir).await;
                false
            }
        };
        Ok(ok)
    }

    /// Record the sub-accounts a rating saw (names, billing account, source, period).
    async fn discover_sub_accounts(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        summary: &RatedSummary,
    ) -> Result<()> {
        let names = self.source_names(org).await?;
        let mut seen: std::collections::BTreeMap<String, SubAccountRecord> = Default::default();
        for g in summary.groups.iter().filter(|g| g.rule_id.is_none()) {
            let Some(sub) = g.sub_account_id.clone().filter(|s| !s.is_empty()) else {
                continue;
            };
            let source_id = g.source_id.clone().unwrap_or_default();
            let entry = seen.entry(sub.clone()).or_insert_with(|| SubAccountRecord {
                organization_id: org,
                sub_account_id: sub,
                name: None,
                billing_account_id: None,
                source_name: names.get(&source_id).cloned().unwrap_or_default(),
                source_id,
                first_period: period.key(),
                last_period: period.key(),
                updated_at: self.clock.now(),
            });
            entry.name = entry.name.take().or_else(|| g.sub_account_name.clone());
            entry.billing_account_id = entry
                .billing_account_id
                .take()
                .or_else(|| g.billing_account_id.clone());
        }
        let records: Vec<SubAccountRecord> = seen.into_values().collect();
        Ok(self.store.upsert_sub_accounts(&records).await?)
    }

    /// Keep the current run and the one before it; older run folders go.
    async fn remove_old_runs(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        current: RatingRunId,
    ) {
        let Ok(runs) = self.store.list_rating_runs(org, &period.key(), 50).await else {
            return;
        };
        let keep: Vec<RatingRunId> = runs
            .iter()
            .filter(|r| r.state == RatingRunState::Succeeded)
            .map(|r| r.id)
            .take(2)
            .chain([current])
            .collect();
        let dir = self.layout().rated_period_dir(org, period);
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            return;
        };
        while let Ok(Some(e)) = entries.next_entry().await {
            let name = e.file_name().to_string_lossy().to_string();
            if name
                .parse::<RatingRunId>()
                .is_ok_and(|id| !keep.contains(&id))
            {
                let _ = tokio::fs::remove_dir_all(e.path()).await;
            }
        }
    }
}
