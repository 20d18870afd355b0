//! FOCUS files brought by the user (engine.md section 1), and the overview of every data source
//! and sub-account of the organization.

use std::collections::BTreeMap;
use std::path::Path;

use be_domain::{BillingPeriod, ImportSourceId, OrganizationId};
use be_store::{Conflict, ImportSourceRecord, ImportedPeriodRecord, StoreError, SubAccountRecord};
use serde::Serialize;
use time::OffsetDateTime;

use super::port::ImportOutcome;
use crate::{App, AppError, Caller, Result};

/// The name a source gets when the user gives none.
pub const DEFAULT_SOURCE: &str = "FOCUS import";

/// A data source and its stored periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceView {
    pub id: String,
    /// `azure` (a synced connection) or `focus_import`.
    pub kind: &'static str,
    pub name: String,
    pub periods: Vec<SourcePeriod>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcePeriod {
    pub period: String,
    pub rows: i64,
    pub billed_total: String,
    /// The billing currency of the period's rows (synced periods; none when unknown or mixed).
    pub currency: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub stored_at: OffsetDateTime,
}

/// Every source, and every sub-account seen in the data with its family in the current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcesOverview {
    pub sources: Vec<SourceView>,
    pub sub_accounts: Vec<SubAccountView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubAccountView {
    pub sub_account_id: String,
    pub name: Option<String>,
    pub billing_account_id: Option<String>,
    pub source: String,
    pub first_period: String,
    pub last_period: String,
    /// The family in the current period, if any.
    pub family: Option<String>,
    pub family_id: Option<String>,
}

fn source_name_invalid() -> AppError {
    AppError::Invalid(be_domain::FieldError::new(
        "source",
        "source_name_invalid",
        "A source name is 1 to 100 visible characters, such as \"AWS\".",
    ))
}

impl App {
    /// Names of the organization's sources, by ID (accounts' names for connections).
    pub(crate) async fn source_names(
        &self,
        org: OrganizationId,
    ) -> Result<BTreeMap<String, String>> {
        let accounts: BTreeMap<_, _> = self
            .store
            .list_accounts(org)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name.to_string()))
            .collect();
        let mut out: BTreeMap<String, String> = self
            .store
            .list_connections(org)
            .await?
            .into_iter()
            .map(|c| {
                (
                    c.id.to_string(),
                    accounts.get(&c.account_id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        out.extend(
            self.store
                .list_import_sources(org)
                .await?
                .into_iter()
                .map(|s| (s.id.to_string(), s.name)),
        );
        Ok(out)
    }

    async fn import_source(&self, caller: &Caller, name: &str) -> Result<ImportSourceRecord> {
        let name = be_domain::pricing::Name::parse(name, "source")
            .map_err(|_| source_name_invalid())?
            .to_string();
        let existing = self
            .store
            .list_import_sources(caller.organization_id)
            .await?;
        if let Some(s) = existing
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(&name))
        {
            return Ok(s);
        }
        let record = ImportSourceRecord {
            id: ImportSourceId::new(),
            organization_id: caller.organization_id,
            name,
            created_at: self.clock.now(),
        };
        match self.store.create_import_source(&record).await {
            Ok(()) => Ok(record),
            // Another import created it at the same moment: use that one.
            Err(StoreError::Conflict(Conflict::ImportSourceName)) => {
                let all = self
                    .store
                    .list_import_sources(caller.organization_id)
                    .await?;
                all.into_iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&record.name))
                    .ok_or_else(|| {
                        AppError::internal(StoreError::Corrupt("import source vanished".into()))
                    })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Import a FOCUS file (CSV, gzip CSV or Parquet) received at `file` as source `source` (created
    /// when new). Each period in it replaces that source's period atomically; the periods are then
    /// rated. `original_name` is how errors name the file.
    pub async fn import_focus(
        &self,
        caller: &Caller,
        source: Option<&str>,
        file: &Path,
        original_name: &str,
    ) -> Result<(String, ImportOutcome)> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let engine = self.engine()?;
        let source = self
            .import_source(caller, source.unwrap_or(DEFAULT_SOURCE))
            .await?;
        let (layout, id, path, name) = (
            self.layout(),
            source.id,
            file.to_path_buf(),
            original_name.to_string(),
        );
        let outcome = tokio::task::spawn_blocking(move || {
            engine.import_focus(&path, &name, &|p: BillingPeriod| {
                layout.import_period(id, p)
            })
        })
        .await
        .map_err(AppError::internal)??;
        let now = self.clock.now();
        for p in &outcome.periods {
            self.store
                .upsert_imported_period(&ImportedPeriodRecord {
                    organization_id: caller.organization_id,
                    source_id: source.id,
                    period: p.period.key(),
                    rows_stored: p.rows as i64,
                    billed_total: p.billed_total.to_string(),
                    effective_total: p.effective_total.to_string(),
                    file_name: original_name.to_string(),
                    bytes: p.bytes as i64,
                    imported_at: now,
                    billing_currency: p.currency.clone(),
                })
                .await?;
        }
        let periods: Vec<BillingPeriod> = outcome.periods.iter().map(|p| p.period).collect();
        tracing::info!(org = %caller.organization_id, source = %source.id, periods = periods.len(), "FOCUS file imported");
        self.data_changed(caller.organization_id, &periods).await?;
        Ok((source.name, outcome))
    }

    /// Delete an import source with its stored periods; its periods are rated again without it.
    pub async fn delete_import_source(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let not_found = || AppError::NotFound {
            code: "source_not_found",
            message: "There is no such import source.".into(),
        };
        let id: ImportSourceId = id.trim().parse().map_err(|_| not_found())?;
        let periods: Vec<BillingPeriod> = self
            .store
            .list_imported_periods(caller.organization_id)
            .await?
            .into_iter()
            .filter(|p| p.source_id == id)
            .filter_map(|p| BillingPeriod::parse(&p.period).ok())
            .collect();
        if !self
            .store
            .delete_import_source(caller.organization_id, id)
            .await?
        {
            return Err(not_found());
        }
        let _ = tokio::fs::remove_dir_all(self.layout().import_dir(id)).await;
        self.data_changed(caller.organization_id, &periods).await
    }

    pub async fn sources(&self, caller: &Caller) -> Result<SourcesOverview> {
        caller.require(be_domain::Permission::Read)?;
        let org = caller.organization_id;
        let names = self.source_names(org).await?;
        let mut sources = Vec::new();
        for c in self.store.list_connections(org).await? {
            let periods = self.store.list_periods(org, c.id).await?;
            sources.push(SourceView {
                id: c.id.to_string(),
                kind: "azure",
                name: names.get(&c.id.to_string()).cloned().unwrap_or_default(),
                periods: periods
                    .into_iter()
                    .map(|p| SourcePeriod {
                        period: p.period,
                        rows: p.rows_stored,
                        billed_total: p.focus_total,
                        currency: p.billing_currency,
                        stored_at: p.pulled_at,
                    })
                    .collect(),
            });
        }
        let imported = self.store.list_imported_periods(org).await?;
        for s in self.store.list_import_sources(org).await? {
            let periods = imported
                .iter()
                .filter(|p| p.source_id == s.id)
                .map(|p| SourcePeriod {
                    period: p.period.clone(),
                    rows: p.rows_stored,
                    billed_total: p.billed_total.clone(),
                    currency: p.billing_currency.clone(),
                    stored_at: p.imported_at,
                })
                .collect();
            sources.push(SourceView {
                id: s.id.to_string(),
                kind: "focus_import",
                name: s.name,
                periods,
            });
        }
        let config = self.load_pricing(org).await?.config;
        let now = self.current_period();
        let sub_accounts = self
            .store
            .list_sub_accounts(org)
            .await?
            .into_iter()
            .map(|s| sub_view(s, &config, now))
            .collect();
        Ok(SourcesOverview {
            sources,
            sub_accounts,
        })
    }
}

fn sub_view(
    s: SubAccountRecord,
    config: &be_domain::pricing::PricingConfig,
    now: BillingPeriod,
) -> SubAccountView {
    let family = be_domain::pricing::SubAccountId::parse(&s.sub_account_id)
        .ok()
        .and_then(|id| {
            config
                .family_of(&id, now)
                .map(|f| (f.name.to_string(), f.id.to_string()))
        });
    SubAccountView {
        sub_account_id: s.sub_account_id,
        name: s.name,
        billing_account_id: s.billing_account_id,
        source: s.source_name,
        first_period: s.first_period,
        last_period: s.last_period,
        family_id: family.as_ref().map(|f| f.1.clone()),
        family: family.map(|f| f.0),
    }
}
