//! # be-engine: rating on DataFusion
//!
//! Turns an organization's FOCUS rows of one billing period into rated rows, exactly as
//! `../shared/docs/engine.md` defines: strategies, allocation assignments (direct and split),
//! family and plan resolution, each plan's rules in order, and the new lines of upcharges,
//! discounts and fees. The only crate that depends on DataFusion.
//!
//! - The row-level work is one DataFusion plan of typed expressions ([`pipeline`]); user values
//!   enter it only as literals, never as SQL text. Money stays `Decimal128(38, 24)`; products go
//!   through `be_mul_ratio` (exact, half-even at 24 places); sums widen to `Decimal256(76, 24)`.
//! - The rated rows are written as Parquet parts into a run's own folder, with a `manifest.json`
//!   (stages, inputs, sums); a run never touches another run's folder, so a failed run leaves the
//!   previous rating in place.
//! - Every rated row keeps `BilledCost = ProviderCost + Σ effect columns` and its lineage
//!   (`x_SourceId`, `x_SourceRowId`, `x_SplitPath`, or `x_RuleId` for a new line).

mod error;
mod explain;
mod export;
mod filter;
mod input;
mod lines;
pub mod money;
mod pipeline;
mod pivot;
mod rate;
pub mod schema;
mod summary;
mod udf;

use std::path::{Path, PathBuf};

pub use error::{EngineError, Result};
pub use explain::{Explanation, LineFilter, LineId, LineSummary, SplitShare, StageEffect};
pub use export::{TableValues, table_parquet};
pub use input::SourceFile;
pub use lines::NewLine;
pub use money::Exact;
pub use pipeline::Stage;
pub use pivot::PivotQuery;
pub use rate::{FILTER_COLUMNS, InputVersion, Layout, Manifest, RateRequest};
pub use schema::StageKey;
pub use summary::{Group, PivotRow};

/// The rating engine: a DataFusion session per call, on its own threads.
#[derive(Clone)]
pub struct Engine {
    runtime: std::sync::Arc<EngineRuntime>,
    partitions: usize,
    layout: Layout,
}

/// The engine's threads. Shut down in the background when the last handle goes, so dropping an
/// engine inside an async context (a server stopping) does not block or panic.
struct EngineRuntime(Option<tokio::runtime::Runtime>);

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("partitions", &self.partitions)
            .finish()
    }
}

/// What a preview (what-if) computes: the sums a rating would store, without storing anything.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Preview {
    pub stages: Vec<Stage>,
    pub groups: Vec<Group>,
    pub new_lines: Vec<NewLine>,
}

impl Engine {
    /// An engine using `threads` worker threads (at least 1), each a DataFusion partition.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("be-engine")
            .enable_all()
            .build()?;
        Ok(Self {
            runtime: std::sync::Arc::new(EngineRuntime(Some(runtime))),
            partitions: threads,
            layout: Layout::default(),
        })
    }

    /// The same engine writing rated parts in another layout (benchmarks compare them).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    async fn on_engine<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let handle = self
            .runtime
            .0
            .as_ref()
            .expect("the runtime lives as long as the engine")
            .handle()
            .clone();
        handle.spawn(f).await.map_err(|e| EngineError::Query {
            context: "running on the engine's threads".into(),
            source: datafusion::error::DataFusionError::External(Box::new(e)),
        })?
    }

    /// Rate a period into `out_dir` (a new, empty folder for this run) and return its manifest.
    pub async fn rate(&self, req: RateRequest, out_dir: PathBuf) -> Result<Manifest> {
        let (partitions, layout) = (self.partitions, self.layout);
        self.on_engine(async move {
            let ctx = rate::session(partitions);
            rate::rate(&ctx, &req, &out_dir, layout).await
        })
        .await
    }

    /// What rating `req` would give, without writing anything.
    pub async fn preview(&self, req: RateRequest) -> Result<Preview> {
        let partitions = self.partitions;
        self.on_engine(async move {
            let ctx = rate::session(partitions);
            let (df, stages, _) = rate::plan(&ctx, &req).await?;
            let mut groups = summary::aggregate(df, &Manifest::summed_columns(&stages)).await?;
            let new_lines = lines::new_lines(&req.config, &groups, req.default_currency)?;
            groups.extend(new_lines.iter().map(rate::line_group));
            Ok(Preview {
                stages,
                groups,
                new_lines,
            })
        })
        .await
    }

    /// Rated lines of a stored run (new lines first).
    pub async fn lines(&self, dir: &Path, filter: LineFilter) -> Result<Vec<LineSummary>> {
        let (partitions, dir) = (self.partitions, dir.to_path_buf());
        self.on_engine(async move {
            explain::list_lines(&rate::session(partitions), &dir, &filter).await
        })
        .await
    }

    /// What rating `req` would give, grouped by `by` (rated columns such as an allocation key) and
    /// currency: ProviderCost, BilledCost and EffectiveCost per group. Nothing is written. New
    /// lines are not included (they belong to no source row).
    pub async fn preview_grouped(
        &self,
        req: RateRequest,
        by: Vec<String>,
    ) -> Result<Vec<PivotRow>> {
        let partitions = self.partitions;
        self.on_engine(async move {
            let ctx = rate::session(partitions);
            let (df, _, _) = rate::plan(&ctx, &req).await?;
            let measures: Vec<String> = [
                schema::PROVIDER_COST,
                schema::BILLED_COST,
                schema::EFFECTIVE_COST,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            summary::group_by(df, &by, &measures).await
        })
        .await
    }

    /// Group the rated data of one or more periods (analysis): exact sums per group and currency.
    pub async fn pivot(&self, query: PivotQuery) -> Result<Vec<PivotRow>> {
        let partitions = self.partitions;
        self.on_engine(async move { pivot::pivot(&rate::session(partitions), &query).await })
            .await
    }

    /// One rated line with its source row and each stage's effect, in order.
    pub async fn explain(&self, dir: &Path, line: LineId) -> Result<Explanation> {
        let (partitions, dir) = (self.partitions, dir.to_path_buf());
        self.on_engine(
            async move { explain::explain(&rate::session(partitions), &dir, &line).await },
        )
        .await
    }
}
