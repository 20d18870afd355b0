//! The rating engine as the app sees it: a port the binary implements with `be-engine` (DataFusion)
//! and `be-ingest` (FOCUS imports), so the app knows neither. Errors cross it with their code,
//! message and remedy intact ([`PortError`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use be_domain::pricing::PeriodConfig;
use be_domain::{BillingPeriod, Currency, Exact};
use serde::{Deserialize, Serialize};

/// A failure on the other side of the port, as the engine or the importer described it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    pub code: &'static str,
    pub message: String,
    pub remedy: String,
    pub kind: PortErrorKind,
    /// Which adapter failed (decides how a failure is worded).
    pub port: Port,
}

/// The adapters behind the app's ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The rating engine and the FOCUS importer.
    Engine,
    /// The PDF and CSV renderer of invoices.
    Documents,
    /// The SMTP mailer.
    Mail,
}

impl Port {
    /// The adapter, for people: "The rating engine could not finish".
    pub fn what(self) -> &'static str {
        match self {
            Self::Engine => "The rating engine",
            Self::Documents => "The invoice renderer",
            Self::Mail => "The mail server",
        }
    }
}

/// Who is at fault, which decides the HTTP status and whether the cause is logged as a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortErrorKind {
    /// The input a person gave (a file, a line ID, a query) is not acceptable.
    Invalid,
    /// What was asked for does not exist.
    NotFound,
    /// A resource or a bug (disk full, a query engine failure).
    Failed,
}

/// A source file of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInput {
    /// The connection or import source ID.
    pub source_id: String,
    pub path: PathBuf,
}

/// What to rate.
#[derive(Debug, Clone)]
pub struct RateInput {
    pub period: BillingPeriod,
    pub config: PeriodConfig,
    pub sources: Vec<SourceInput>,
    pub default_currency: Currency,
}

/// A stage that can change a row's rated BilledCost: a strategy or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageInfo {
    /// The effect column in the rated data (and the key of [`GroupTotals::sums`]).
    pub column: String,
    pub label: String,
    /// `strategy`, or the rule kind.
    pub kind: String,
    pub plan: Option<String>,
    pub rule: Option<String>,
}

/// Exact sums of one group of rated rows (family, sub-account, currency, plan; new lines apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTotals {
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    pub sub_account_name: Option<String>,
    pub billing_account_id: Option<String>,
    pub source_id: Option<String>,
    pub currency: Option<String>,
    pub plan: Option<String>,
    /// Set on the new lines a rule made.
    pub rule_id: Option<String>,
    pub rows: i64,
    /// By column: the measures (`ProviderCost`, `ListCost`, `BilledCost`, `EffectiveCost`,
    /// `Profit`) and each stage's effect column.
    pub sums: BTreeMap<String, Exact>,
}

impl GroupTotals {
    pub fn sum(&self, column: &str) -> Exact {
        self.sums.get(column).copied().unwrap_or(Exact::ZERO)
    }
}

/// A rated (or previewed) period, summarized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedSummary {
    pub stages: Vec<StageInfo>,
    pub groups: Vec<GroupTotals>,
    pub rows: u64,
    pub new_lines: u64,
    /// The input files as rated (JSON), stored with the run.
    pub inputs: String,
}

/// One stage's effect on an explained line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEffect {
    pub label: String,
    pub kind: String,
    pub effect: Option<Exact>,
    pub billed_after: Exact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitShare {
    pub key: String,
    pub value: String,
    pub percent: String,
}

/// A rated line with its source row and each stage's effect, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineExplanation {
    pub line_id: String,
    pub period: BillingPeriod,
    pub rated: Vec<(String, Option<String>)>,
    pub source: Option<Vec<(String, Option<String>)>>,
    pub source_note: Option<String>,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
    pub effective_cost: Exact,
    pub splits: Vec<SplitShare>,
    pub stages: Vec<StageEffect>,
}

/// A rated line in a listing (to pick one to explain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedLine {
    pub line_id: String,
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    pub service: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
}

/// Which rated lines to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinesQuery {
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    /// New lines only.
    pub new_lines_only: bool,
    pub limit: usize,
    /// Conditions as rules write them (an analysis cell's rows); empty: every line.
    pub filter: be_domain::pricing::Filter,
}

/// Sums of one group of a grouping by columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupedRow {
    pub keys: Vec<Option<String>>,
    pub currency: Option<String>,
    pub rows: i64,
    pub sums: BTreeMap<String, Exact>,
}

/// A grouping of rated periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotInput {
    /// Run folders (one per period).
    pub runs: Vec<PathBuf>,
    pub group_by: Vec<be_domain::Dimension>,
    pub filter: be_domain::pricing::Filter,
    /// Measure and effect columns to sum.
    pub sums: Vec<String>,
    pub by_period: bool,
}

/// One billing period written by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedPeriod {
    pub period: BillingPeriod,
    pub rows: u64,
    pub bytes: u64,
    pub billed_total: Exact,
    pub effective_total: Exact,
    /// The billing currency of the period's rows; absent when they have several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// `csv`, `csv_gzip` or `parquet`.
    pub format: String,
    pub periods: Vec<ImportedPeriod>,
    pub missing_columns: Vec<String>,
    pub extensions: Vec<String>,
    pub ignored_columns: Vec<String>,
    pub rounded_values: u64,
}

/// One column of a table to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportValues {
    Text(Vec<Option<String>>),
    Money(Vec<Exact>),
    Count(Vec<i64>),
}

/// The engine, as the app uses it.
#[async_trait::async_trait]
pub trait RatingPort: Send + Sync + 'static {
    /// Rate a period into `out_dir` (a new folder of this run).
    async fn rate(&self, input: RateInput, out_dir: PathBuf) -> Result<RatedSummary, PortError>;
    /// What rating would give, without writing anything.
    async fn preview(&self, input: RateInput) -> Result<RatedSummary, PortError>;
    /// The summary of a stored run.
    async fn summary(&self, run_dir: PathBuf) -> Result<RatedSummary, PortError>;
    /// What rating would give, grouped by rated columns (an allocation key) and currency:
    /// ProviderCost, BilledCost and EffectiveCost. Nothing is written.
    async fn preview_grouped(
        &self,
        input: RateInput,
        by: Vec<String>,
    ) -> Result<Vec<GroupedRow>, PortError>;
    async fn explain(&self, run_dir: PathBuf, line: String) -> Result<LineExplanation, PortError>;
    /// Group rated periods (their run folders) by dimensions and currency, filtered; exact sums
    /// of `sums` (measure and effect columns) per group.
    /// With `by_period`, the first key of each row is its period (`YYYY-MM`).
    async fn pivot(&self, query: PivotInput) -> Result<Vec<GroupedRow>, PortError>;
    async fn lines(&self, run_dir: PathBuf, query: LinesQuery)
    -> Result<Vec<RatedLine>, PortError>;
    /// A table (an analysis) as a Parquet file: money exact at the stored scale. Adapters that
    /// write no Parquet say so.
    fn table_parquet(&self, columns: Vec<(String, ExportValues)>) -> Result<Vec<u8>, PortError> {
        let _ = columns;
        Err(PortError {
            code: "export_unavailable",
            message: "This server cannot write Parquet.".into(),
            remedy: "Export as CSV.".into(),
            kind: PortErrorKind::Failed,
            port: Port::Engine,
        })
    }
    /// Import a FOCUS file; each period's rows go to `dest(period)`, replaced atomically.
    /// Blocking work: call it off the async threads.
    fn import_focus(
        &self,
        file: &Path,
        name: &str,
        dest: &(dyn Fn(BillingPeriod) -> PathBuf + Sync),
    ) -> Result<ImportOutcome, PortError>;
}
