//! A stand-in rating engine for console tests (be-http cannot depend on be-engine): an import
//! writes an empty file per period of `PERIODS`; a rating "rates" it; `pivot` groups a small
//! fixed set of rated rows by any of their dimensions, per currency, like the engine does. The
//! real engine is exercised on the worked example in be-cli's tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use be_app::rating::{
    GroupTotals, GroupedRow, ImportOutcome, ImportedPeriod, LineExplanation, LinesQuery,
    PivotInput, Port, PortError, PortErrorKind, RateInput, RatedLine, RatedSummary, RatingPort,
};
use be_domain::{BillingPeriod, Exact};

/// One rated row of the stand-in dataset: its dimensions, currency and money.
pub struct StubRow {
    pub dims: &'static [(&'static str, &'static str)],
    pub currency: &'static str,
    pub provider: &'static str,
    pub billed: &'static str,
}

/// The rows every rated period holds.
pub const ROWS: &[StubRow] = &[
    StubRow {
        dims: &[
            ("BillingFamilyName", "Contoso"),
            ("SubAccountName", "web-prod"),
            ("ServiceName", "Virtual Machines"),
            ("ServiceCategory", "Compute"),
            ("CostCenter", "Web"),
        ],
        currency: "USD",
        provider: "1000",
        billed: "1234.5",
    },
    StubRow {
        dims: &[
            ("BillingFamilyName", "Contoso"),
            ("SubAccountName", "data-prod"),
            ("ServiceName", "Storage"),
            ("ServiceCategory", "Storage"),
            ("CostCenter", "Data"),
        ],
        currency: "USD",
        provider: "200",
        billed: "250.125",
    },
    StubRow {
        dims: &[
            ("BillingFamilyName", "Fabrikam"),
            ("SubAccountName", "fab-eu"),
            ("ServiceName", "Virtual Machines"),
            ("ServiceCategory", "Compute"),
        ],
        currency: "EUR",
        provider: "80",
        billed: "100",
    },
];

impl StubRow {
    /// The row's measures.
    fn sums(&self) -> [(&'static str, Exact); 5] {
        let profit = ex(self.billed)
            .checked_sub(ex(self.provider))
            .expect("fits");
        [
            ("ProviderCost", ex(self.provider)),
            ("BilledCost", ex(self.billed)),
            ("EffectiveCost", ex(self.provider)),
            ("ListCost", ex(self.provider)),
            ("Profit", profit),
        ]
    }

    fn dim(&self, name: &str) -> Option<String> {
        self.dims
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// Whether the row meets a filter (dimensions by label; the currency too).
    fn matches(&self, filter: &be_domain::pricing::Filter) -> bool {
        filter.matches(|d| {
            let label = d.label();
            if label == "BillingCurrency" {
                return Some(self.currency);
            }
            self.dims.iter().find(|(k, _)| *k == label).map(|(_, v)| *v)
        })
    }
}

pub struct StubEngine {
    pub periods: Vec<BillingPeriod>,
    /// How many pivots it computed.
    pub pivots: Arc<AtomicUsize>,
}

fn ex(s: &str) -> Exact {
    Exact::parse(s).expect("exact")
}

fn unsupported(what: &str) -> PortError {
    PortError {
        code: "stub_unsupported",
        message: format!("The stand-in engine does not {what}."),
        remedy: String::new(),
        kind: PortErrorKind::Failed,
        port: Port::Engine,
    }
}

fn summary() -> RatedSummary {
    RatedSummary {
        stages: vec![],
        groups: vec![],
        rows: ROWS.len() as u64,
        new_lines: 0,
        inputs: "[]".into(),
    }
}

/// The period of a run folder (`rated/{org}/{YYYY-MM}/{run}`).
fn period_of(dir: &Path) -> Option<String> {
    dir.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
}

#[async_trait::async_trait]
impl RatingPort for StubEngine {
    async fn rate(&self, _input: RateInput, out_dir: PathBuf) -> Result<RatedSummary, PortError> {
        std::fs::create_dir_all(&out_dir).map_err(|_| unsupported("write"))?;
        Ok(summary())
    }

    async fn preview(&self, _input: RateInput) -> Result<RatedSummary, PortError> {
        Ok(summary())
    }

    /// A run's totals, as a manifest holds them: one group per row of `ROWS`.
    async fn summary(&self, _run_dir: PathBuf) -> Result<RatedSummary, PortError> {
        let groups = ROWS
            .iter()
            .map(|r| GroupTotals {
                family: r.dim("BillingFamilyName"),
                sub_account_id: r.dim("SubAccountName"),
                sub_account_name: r.dim("SubAccountName"),
                billing_account_id: None,
                source_id: None,
                currency: Some(r.currency.to_string()),
                plan: None,
                rule_id: None,
                rows: 1,
                sums: r.sums().iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            })
            .collect();
        Ok(RatedSummary {
            groups,
            ..summary()
        })
    }

    async fn preview_grouped(
        &self,
        _input: RateInput,
        _by: Vec<String>,
    ) -> Result<Vec<GroupedRow>, PortError> {
        Err(unsupported("preview"))
    }

    async fn explain(
        &self,
        _run_dir: PathBuf,
        _line: String,
    ) -> Result<LineExplanation, PortError> {
        Err(unsupported("explain"))
    }

    async fn pivot(&self, q: PivotInput) -> Result<Vec<GroupedRow>, PortError> {
        self.pivots.fetch_add(1, Ordering::SeqCst);
        let mut acc: BTreeMap<(Vec<Option<String>>, String), GroupedRow> = BTreeMap::new();
        for dir in &q.runs {
            for row in ROWS.iter().filter(|r| r.matches(&q.filter)) {
                let mut keys: Vec<Option<String>> = vec![];
                if q.by_period {
                    keys.push(period_of(dir));
                }
                for d in &q.group_by {
                    let label = d.label();
                    keys.push(
                        row.dims
                            .iter()
                            .find(|(k, _)| *k == label)
                            .map(|(_, v)| v.to_string()),
                    );
                }
                let g = acc
                    .entry((keys.clone(), row.currency.to_string()))
                    .or_insert_with(|| GroupedRow {
                        keys,
                        currency: Some(row.currency.to_string()),
                        rows: 0,
                        sums: BTreeMap::new(),
                    });
                g.rows += 1;
                for (k, v) in row.sums() {
                    if q.sums.iter().any(|s| s == k) {
                        let slot = g.sums.entry(k.to_string()).or_default();
                        *slot = slot.checked_add(v).expect("fits");
                    }
                }
            }
        }
        Ok(acc.into_values().collect())
    }

    /// The rows of `ROWS` the query's filter accepts (dimensions by label), line IDs by position.
    async fn lines(
        &self,
        run_dir: PathBuf,
        query: LinesQuery,
    ) -> Result<Vec<RatedLine>, PortError> {
        let period = period_of(&run_dir).unwrap_or_default();
        Ok(ROWS
            .iter()
            .enumerate()
            .filter(|(_, row)| row.matches(&query.filter))
            .take(query.limit)
            .map(|(i, row)| {
                let dim = |k: &str| {
                    row.dims
                        .iter()
                        .find(|(n, _)| *n == k)
                        .map(|(_, v)| v.to_string())
                };
                RatedLine {
                    line_id: format!("{period}/stub/{i}"),
                    family: dim("BillingFamilyName"),
                    sub_account_id: dim("SubAccountName"),
                    service: dim("ServiceName"),
                    description: None,
                    currency: Some(row.currency.to_string()),
                    provider_cost: ex(row.provider),
                    billed_cost: ex(row.billed),
                }
            })
            .collect())
    }

    fn import_focus(
        &self,
        _file: &Path,
        _name: &str,
        dest: &(dyn Fn(BillingPeriod) -> PathBuf + Sync),
    ) -> Result<ImportOutcome, PortError> {
        for p in &self.periods {
            let path = dest(*p);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|_| unsupported("write"))?;
            }
            std::fs::write(&path, b"").map_err(|_| unsupported("write"))?;
        }
        Ok(ImportOutcome {
            format: "csv".into(),
            periods: self
                .periods
                .iter()
                .map(|p| ImportedPeriod {
                    period: *p,
                    rows: ROWS.len() as u64,
                    bytes: 0,
                    billed_total: Exact::ZERO,
                    effective_total: Exact::ZERO,
                    currency: Some("EUR".into()),
                })
                .collect(),
            missing_columns: vec![],
            extensions: vec![],
            ignored_columns: vec![],
            rounded_values: 0,
        })
    }
}

impl StubEngine {
    pub fn port(periods: Vec<BillingPeriod>) -> Arc<dyn RatingPort> {
        Self::counting(periods).0
    }

    /// The stand-in and its count of pivots computed.
    pub fn counting(periods: Vec<BillingPeriod>) -> (Arc<dyn RatingPort>, Arc<AtomicUsize>) {
        let pivots = Arc::new(AtomicUsize::new(0));
        let engine = StubEngine {
            periods,
            pivots: pivots.clone(),
        };
        (Arc::new(engine), pivots)
    }
}
