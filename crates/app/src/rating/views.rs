//! What people look at: the rating state of each period, totals per family, sub-account or rule
//! (with one column per rule on request), a line explained, and what-if previews.

use std::collections::BTreeMap;

use be_domain::pricing::file::{ConfigFile, RuleFile};
use be_domain::pricing::{Member, PricingConfig, RuleKind, SubAccountId, Validity};
use be_domain::{BillingPeriod, Currency, Exact, FieldError, Percent, RatingRunId, RatingRunState};
use be_store::RatingRunRecord;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::port::{
    GroupTotals, LineExplanation, LinesQuery, RateInput, RatedLine, RatedSummary, StageInfo,
};
use crate::{App, AppError, Caller, Result};

/// A rating run, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub id: String,
    pub state: RatingRunState,
    pub pricing_version: i32,
    pub rows_rated: i64,
    pub new_lines: i64,
    pub billed_total: Option<String>,
    pub provider_total: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl From<RatingRunRecord> for RunView {
    fn from(r: RatingRunRecord) -> Self {
        Self {
            id: r.id.to_string(),
            state: r.state,
            pricing_version: r.pricing_version,
            rows_rated: r.rows_rated,
            new_lines: r.new_lines,
            billed_total: r.billed_total,
            provider_total: r.provider_total,
            error_code: r.error_code,
            error_message: r.error_message,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// A period with data and where its rating stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodRating {
    pub period: BillingPeriod,
    /// A change (sync, import, configuration) waits for a rating.
    pub pending: bool,
    pub current: Option<RunView>,
    /// The latest run, when it is not the current one (a failure, or one in progress).
    pub latest: Option<RunView>,
}

/// What totals are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TotalsBy {
    Family,
    SubAccount,
    Rule,
}

impl TotalsBy {
    pub fn parse(raw: &str) -> std::result::Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "family" | "families" => Ok(Self::Family),
            "sub_account" | "sub_accounts" | "subaccount" => Ok(Self::SubAccount),
            "rule" | "rules" => Ok(Self::Rule),
            _ => Err(FieldError::new(
                "by",
                "totals_by_invalid",
                "Totals are by family, sub-account or rule.",
            )),
        }
    }

    fn key_columns(self) -> Vec<&'static str> {
        match self {
            Self::Family => vec!["family"],
            Self::SubAccount => vec!["sub_account_id", "sub_account_name", "family"],
            Self::Rule => vec!["stage", "kind", "plan"],
        }
    }
}

/// One row of totals: its key, its currency (never summed across currencies), and values aligned
/// with the table's `value_columns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotalsRow {
    pub key: Vec<Option<String>>,
    pub currency: Option<String>,
    pub values: Vec<Exact>,
    /// Profit over BilledCost, in percent (family and sub-account rows).
    pub margin: Option<String>,
}

impl TotalsRow {
    pub fn value(&self, table: &TotalsTable, column: &str) -> Option<Exact> {
        table
            .value_columns
            .iter()
            .position(|c| c == column)
            .map(|i| self.values[i])
    }

    pub fn currency(&self) -> Option<Currency> {
        self.currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotalsTable {
    pub period: BillingPeriod,
    pub by: TotalsBy,
    pub key_columns: Vec<String>,
    pub value_columns: Vec<String>,
    pub stages: Vec<StageInfo>,
    pub rows: Vec<TotalsRow>,
    /// One total row per currency.
    pub totals: Vec<TotalsRow>,
    pub run: RunView,
}

const MEASURES: [&str; 5] = [
    "ProviderCost",
    "ListCost",
    "BilledCost",
    "EffectiveCost",
    "Profit",
];

/// The sum of a column over every group.
pub(crate) fn total(summary: &RatedSummary, column: &str) -> Exact {
    summary.groups.iter().map(|g| g.sum(column)).sum()
}

fn add_into(acc: &mut [Exact], values: &[Exact]) {
    for (a, v) in acc.iter_mut().zip(values) {
        *a = a.checked_add(*v).expect("rated sums fit 38 digits");
    }
}

fn margin(values: &[Exact], columns: &[String]) -> Option<String> {
    let at = |c: &str| columns.iter().position(|x| x == c).map(|i| values[i]);
    at("Profit")?.percent_of(at("BilledCost")?)
}

/// Totals being added up: (key, currency) to values.
type Accumulator = BTreeMap<(Vec<Option<String>>, Option<String>), Vec<Exact>>;

/// Group `summary` by `by`; `show_rules` adds one column per stage.
pub(crate) fn totals_of(
    summary: &RatedSummary,
    by: TotalsBy,
    show_rules: bool,
) -> (Vec<String>, Vec<TotalsRow>, Vec<TotalsRow>) {
    let mut value_columns: Vec<String> = match by {
        TotalsBy::Rule => vec!["Effect".to_string()],
        _ => MEASURES.iter().map(|s| s.to_string()).collect(),
    };
    if show_rules && by != TotalsBy::Rule {
        value_columns.extend(summary.stages.iter().map(|s| s.label.clone()));
    }
    let mut rows: Accumulator = BTreeMap::new();
    let mut add = |key: Vec<Option<String>>, currency: Option<String>, values: Vec<Exact>| {
        let slot = rows
            .entry((key, currency))
            .or_insert_with(|| vec![Exact::ZERO; values.len()]);
        add_into(slot, &values);
    };
    for g in &summary.groups {
        let measures = || -> Vec<Exact> {
            let mut v: Vec<Exact> = MEASURES.iter().map(|m| g.sum(m)).collect();
            if show_rules {
                v.extend(summary.stages.iter().map(|s| g.sum(&s.column)));
            }
            v
        };
        match by {
            TotalsBy::Family => add(vec![g.family.clone()], g.currency.clone(), measures()),
            TotalsBy::SubAccount => add(
                vec![
                    g.sub_account_id.clone(),
                    g.sub_account_name.clone(),
                    g.family.clone(),
                ],
                g.currency.clone(),
                measures(),
            ),
            TotalsBy::Rule => {
                for s in summary
                    .stages
                    .iter()
                    .filter(|s| g.sums.contains_key(&s.column))
                {
                    add(
                        vec![Some(s.label.clone()), Some(s.kind.clone()), s.plan.clone()],
                        g.currency.clone(),
                        vec![g.sum(&s.column)],
                    );
                }
            }
        }
    }
    let with_margin = |(key, currency): (Vec<Option<String>>, Option<String>),
                       values: Vec<Exact>| {
        let margin = if by == TotalsBy::Rule {
            None
        } else {
            margin(&values, &value_columns)
        };
        TotalsRow {
            key,
            currency,
            values,
            margin,
        }
    };
    let mut per_currency: BTreeMap<Option<String>, Vec<Exact>> = BTreeMap::new();
    for ((_, currency), values) in &rows {
        add_into(
            per_currency
                .entry(currency.clone())
                .or_insert_with(|| vec![Exact::ZERO; values.len()]),
            values,
        );
    }
    let mut table: Vec<TotalsRow> = rows.into_iter().map(|(k, v)| with_margin(k, v)).collect();
    if by == TotalsBy::Rule {
        let order = |r: &TotalsRow| {
            summary
                .stages
                .iter()
                .position(|s| Some(&s.label) == r.key[0].as_ref())
                .unwrap_or(usize::MAX)
        };
        table.sort_by_key(|r| (order(r), r.currency.clone()));
    }
    let key_len = by.key_columns().len();
    let totals = per_currency
        .into_iter()
        .map(|(c, v)| with_margin((vec![None; key_len], c), v))
        .collect();
    (value_columns, table, totals)
}

/// One change to preview.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WhatIfChange {
    /// A whole configuration (rules as code).
    Config(Box<ConfigFile>),
    /// A rule's percent (markup, markdown, or an upcharge or discount by percent).
    RulePercent { rule_id: String, percent: String },
    /// A new rule at the end of a plan.
    AddRule { plan_id: String, rule: RuleFile },
    /// A sub-account into another family (or none) for the period.
    MoveSubAccount {
        sub_account_id: String,
        family_id: Option<String>,
    },
}

/// Before and after, per key and currency (BilledCost; the profit changes by the same amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIfRow {
    pub key: Vec<Option<String>>,
    pub currency: Option<String>,
    pub before: Exact,
    pub after: Exact,
    pub difference: Exact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    pub period: BillingPeriod,
    pub by_family: Vec<WhatIfRow>,
    pub by_sub_account: Vec<WhatIfRow>,
    pub by_rule: Vec<WhatIfRow>,
    pub before_total: Vec<WhatIfRow>,
}

fn not_rated(period: BillingPeriod) -> AppError {
    AppError::NotFound {
        code: "period_not_rated",
        message: format!(
            "{period} has no rating yet: it has no data, or its first rating is still running."
        ),
    }
}

fn apply(config: &mut PricingConfig, change: &WhatIfChange, period: BillingPeriod) -> Result<()> {
    let bad = |m: &str| AppError::Invalid(FieldError::new("changes", "what_if_invalid", m));
    match change {
        WhatIfChange::Config(file) => {
            *config = (**file)
                .clone()
                .into_config(config, period)
                .map_err(AppError::InvalidFields)?
        }
        WhatIfChange::RulePercent { rule_id, percent } => {
            let p = Percent::parse(percent, "percent")?;
            let id = rule_id.parse().map_err(|_| bad("There is no such rule."))?;
            let rule = config
                .plans
                .iter_mut()
                .flat_map(|pl| pl.rules.iter_mut())
                .find(|r| r.id == id)
                .ok_or_else(|| bad("There is no such rule."))?;
            match &mut rule.kind {
                RuleKind::Markup { percent } | RuleKind::Markdown { percent } => *percent = p,
                RuleKind::Upcharge(ch) | RuleKind::Discount(ch) => {
                    ch.rate = be_domain::pricing::Rate::Percent(p)
                }
                _ => {
                    return Err(bad(
                        "Only markups, markdowns, upcharges and discounts have a percent.",
                    ));
                }
            }
        }
        WhatIfChange::AddRule { plan_id, rule } => {
            let keys: Vec<String> = config
                .allocations
                .iter()
                .map(|a| a.key.to_string())
                .collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let new = rule
                .into_rule(&keys, period)
                .map_err(AppError::InvalidFields)?;
            let id = plan_id.parse().map_err(|_| bad("There is no such plan."))?;
            config
                .plans
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or_else(|| bad("There is no such plan."))?
                .rules
                .push(new);
        }
        WhatIfChange::MoveSubAccount {
            sub_account_id,
            family_id,
        } => {
            let sub = SubAccountId::parse(sub_account_id)?;
            for f in &mut config.families {
                f.members
                    .retain(|m| !(m.sub_account_id == sub && m.valid.covers(period)));
            }
            if let Some(fid) = family_id {
                let fid = fid.parse().map_err(|_| bad("There is no such family."))?;
                let f = config
                    .families
                    .iter_mut()
                    .find(|f| f.id == fid)
                    .ok_or_else(|| bad("There is no such family."))?;
                f.members.push(Member {
                    sub_account_id: sub,
                    valid: Validity {
                        from: period,
                        to: Some(period),
                    },
                });
            }
        }
    }
    Ok(())
}

/// Before/after per key of `by`.
fn compare(before: &RatedSummary, after: &RatedSummary, by: TotalsBy) -> Vec<WhatIfRow> {
    let pick = |s: &RatedSummary| -> BTreeMap<(Vec<Option<String>>, Option<String>), Exact> {
        let (cols, rows, _) = totals_of(s, by, false);
        let i = cols
            .iter()
            .position(|c| c == "BilledCost" || c == "Effect")
            .unwrap_or(0);
        rows.into_iter()
            .map(|r| ((r.key, r.currency), r.values[i]))
            .collect()
    };
    let (b, a) = (pick(before), pick(after));
    let keys: std::collections::BTreeSet<_> = b.keys().chain(a.keys()).cloned().collect();
    keys.into_iter()
        .map(|k| {
            let (before, after) = (
                b.get(&k).copied().unwrap_or_default(),
                a.get(&k).copied().unwrap_or_default(),
            );
            WhatIfRow {
                key: k.0,
                currency: k.1,
                before,
                after,
                difference: after.checked_sub(before).expect("fits"),
            }
        })
        .filter(|r| !r.difference.is_zero() || by != TotalsBy::Rule)
        .collect()
}

impl App {
    /// Every period with data, and its rating.
    pub async fn rating_status(&self, caller: &Caller) -> Result<Vec<PeriodRating>> {
        caller.require(be_domain::Permission::Read)?;
        let org = caller.organization_id;
        let mut out = Vec::new();
        for p in self.store.list_rated_periods(org).await?.into_iter().rev() {
            let runs = self.store.list_rating_runs(org, &p.period, 1).await?;
            let current = match p.current_run {
                Some(id) => self.store.get_rating_run(org, id).await?.map(RunView::from),
                None => None,
            };
            let latest = runs
                .into_iter()
                .next()
                .filter(|r| Some(r.id) != p.current_run)
                .map(RunView::from);
            out.push(PeriodRating {
                period: BillingPeriod::parse(&p.period)?,
                pending: p.stale,
                current,
                latest,
            });
        }
        Ok(out)
    }

    pub async fn period_rating(&self, caller: &Caller, period: &str) -> Result<PeriodRating> {
        caller.require(be_domain::Permission::Read)?;
        let period = BillingPeriod::parse(period)?;
        self.rating_status(caller)
            .await?
            .into_iter()
            .find(|p| p.period == period)
            .ok_or_else(|| not_rated(period))
    }

    /// Rate a period now (also when nothing changed); returns once it is queued.
    pub async fn rate_now(&self, caller: &Caller, period: &str) -> Result<PeriodRating> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let period = BillingPeriod::parse(period)?;
        if !self
            .data_periods(caller.organization_id)
            .await?
            .contains(&period)
        {
            return Err(AppError::NotFound {
                code: "period_without_data",
                message: format!(
                    "{period} has no data: sync a connection or import a FOCUS file first."
                ),
            });
        }
        self.engine()?;
        self.store
            .mark_periods_stale(caller.organization_id, &[period.key()], self.clock.now())
            .await?;
        self.enqueue_by(
            caller.organization_id,
            be_domain::JobSubject::Organization,
            be_domain::JobKind::Rate,
            self.clock.now(),
        )
        .await?;
        self.period_rating(caller, &period.key()).await
    }

    /// The current run of a period and its folder.
    async fn current_run(
        &self,
        caller: &Caller,
        period: BillingPeriod,
    ) -> Result<(RatingRunRecord, std::path::PathBuf)> {
        let org = caller.organization_id;
        let state = self
            .store
            .list_rated_periods(org)
            .await?
            .into_iter()
            .find(|p| p.period == period.key())
            .ok_or_else(|| not_rated(period))?;
        let id: RatingRunId = state.current_run.ok_or_else(|| not_rated(period))?;
        let run = self
            .store
            .get_rating_run(org, id)
            .await?
            .ok_or_else(|| not_rated(period))?;
        Ok((run, self.layout().rated_run_dir(org, period, id)))
    }

    pub async fn totals(
        &self,
        caller: &Caller,
        period: &str,
        by: TotalsBy,
        show_rules: bool,
    ) -> Result<TotalsTable> {
        caller.require(be_domain::Permission::Read)?;
        let period = BillingPeriod::parse(period)?;
        let (run, dir) = self.current_run(caller, period).await?;
        let summary = self.engine()?.summary(dir).await?;
        let (value_columns, rows, totals) = totals_of(&summary, by, show_rules);
        Ok(TotalsTable {
            period,
            by,
            key_columns: by.key_columns().into_iter().map(String::from).collect(),
            value_columns,
            stages: summary.stages,
            rows,
            totals,
            run: run.into(),
        })
    }

    /// A rated line with its source row and each stage's effect. The line ID names its period.
    pub async fn explain_line(&self, caller: &Caller, line: &str) -> Result<LineExplanation> {
        caller.require(be_domain::Permission::Read)?;
        let period = line.split('/').next().and_then(|p| BillingPeriod::parse(p).ok()).ok_or_else(|| {
            AppError::Invalid(FieldError::new("line", "line_id_invalid", format!("{line:?} is not a line ID: it looks like 2026-10/3f2a1b4c/17 or 2026-10/new/0.")))
        })?;
        let (_, dir) = self.current_run(caller, period).await?;
        Ok(self.engine()?.explain(dir, line.trim().to_string()).await?)
    }

    pub async fn rated_lines(
        &self,
        caller: &Caller,
        period: &str,
        query: LinesQuery,
    ) -> Result<Vec<RatedLine>> {
        caller.require(be_domain::Permission::Read)?;
        let period = BillingPeriod::parse(period)?;
        let (_, dir) = self.current_run(caller, period).await?;
        let query = LinesQuery {
            limit: query.limit.clamp(1, 1000),
            ..query
        };
        Ok(self.engine()?.lines(dir, query).await?)
    }

    /// Preview changes on a real period: the differences per family, sub-account and rule against
    /// its current rating. Nothing is stored.
    pub async fn what_if(
        &self,
        caller: &Caller,
        period: &str,
        changes: &[WhatIfChange],
    ) -> Result<WhatIf> {
        caller.require(be_domain::Permission::Read)?;
        let period = BillingPeriod::parse(period)?;
        let engine = self.engine()?;
        let pricing = self.load_pricing(caller.organization_id).await?;
        let mut config = pricing.config.clone();
        for c in changes {
            apply(&mut config, c, period)?;
        }
        let config = config.validated().map_err(AppError::InvalidFields)?;
        let sources = self.period_sources(caller.organization_id, period).await?;
        if sources.is_empty() {
            return Err(not_rated(period));
        }
        let input = |config: &PricingConfig| RateInput {
            period,
            config: config.for_period(period),
            sources: sources.clone(),
            default_currency: self.settings.rating.default_currency,
        };
        let before = engine.preview(input(&pricing.config)).await?;
        let after = engine.preview(input(&config)).await?;
        let totals = |s: &RatedSummary| -> RatedSummary {
            RatedSummary {
                groups: s
                    .groups
                    .iter()
                    .map(|g| GroupTotals {
                        family: None,
                        sub_account_id: None,
                        sub_account_name: None,
                        ..g.clone()
                    })
                    .collect(),
                ..s.clone()
            }
        };
        Ok(WhatIf {
            period,
            by_family: compare(&before, &after, TotalsBy::Family),
            by_sub_account: compare(&before, &after, TotalsBy::SubAccount),
            by_rule: compare(&before, &after, TotalsBy::Rule),
            before_total: compare(&totals(&before), &totals(&after), TotalsBy::Family),
        })
    }
}

/// What an allocation assignment would give on a period's data, before it is saved: the cost each
/// value receives and the cost left unallocated, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationPreview {
    pub period: BillingPeriod,
    pub key: String,
    pub rows: Vec<AllocationPreviewRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationPreviewRow {
    /// `None`: unallocated.
    pub value: Option<String>,
    pub currency: Option<String>,
    pub rows: i64,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
    pub effective_cost: Exact,
}

impl App {
    /// Preview an allocation assignment (new, or a change of one with the same key) on a period
    /// (default: the current month, so far). Nothing is saved.
    pub async fn allocation_preview(
        &self,
        caller: &Caller,
        allocation: &be_domain::pricing::file::AllocationFile,
        period: Option<&str>,
    ) -> Result<AllocationPreview> {
        caller.require(be_domain::Permission::Read)?;
        let period = match period {
            Some(p) => BillingPeriod::parse(p)?,
            None => self.current_period(),
        };
        let engine = self.engine()?;
        let mut config = self.load_pricing(caller.organization_id).await?.config;
        let at = config
            .allocations
            .iter()
            .position(|x| x.key.as_str().eq_ignore_ascii_case(allocation.key.trim()));
        let earlier: Vec<String> = config.allocations[..at.unwrap_or(config.allocations.len())]
            .iter()
            .map(|x| x.key.to_string())
            .collect();
        let new = allocation
            .into_allocation(&config, &earlier, period)
            .map_err(|e| {
                if e.len() == 1 {
                    AppError::Invalid(e.into_iter().next().expect("one"))
                } else {
                    AppError::InvalidFields(e)
                }
            })?;
        let key = new.key.to_string();
        match at {
            Some(i) => config.allocations[i] = new,
            None => config.allocations.push(new),
        }
        let config = config.validated().map_err(AppError::InvalidFields)?;
        let sources = self.period_sources(caller.organization_id, period).await?;
        if sources.is_empty() {
            return Err(AppError::NotFound {
                code: "period_without_data",
                message: format!(
                    "{period} has no data to preview on: sync a connection or import a FOCUS file first."
                ),
            });
        }
        let input = RateInput {
            period,
            config: config.for_period(period),
            sources,
            default_currency: self.settings.rating.default_currency,
        };
        let grouped = engine.preview_grouped(input, vec![key.clone()]).await?;
        let rows = grouped
            .into_iter()
            .map(|g| AllocationPreviewRow {
                value: g.keys.into_iter().next().flatten(),
                currency: g.currency,
                rows: g.rows,
                provider_cost: g.sums.get("ProviderCost").copied().unwrap_or_default(),
                billed_cost: g.sums.get("BilledCost").copied().unwrap_or_default(),
                effective_cost: g.sums.get("EffectiveCost").copied().unwrap_or_default(),
            })
            .collect();
        Ok(AllocationPreview { period, key, rows })
    }
}
