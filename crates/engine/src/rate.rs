//! A rating run: build the plan, write the rated rows (one Parquet part per partition, in
//! parallel), sum them, add the new lines, and describe the output in `manifest.json`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use be_domain::pricing::PeriodConfig;
use be_domain::{BillingPeriod, Currency};
use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, RecordBatch, StringArray, TimestampMicrosecondArray, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr, expressions::col};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, execute_stream_partitioned};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::input::{SourceFile, read_sources};
use crate::lines::{NewLine, new_lines};
use crate::money::Exact;
use crate::pipeline::{Pipeline, Stage};
use crate::schema::{self, StageKey};
use crate::summary::{Group, aggregate};

/// What to rate.
#[derive(Debug, Clone)]
pub struct RateRequest {
    pub period: BillingPeriod,
    pub config: PeriodConfig,
    pub sources: Vec<SourceFile>,
    /// The currency of a fee when nothing else decides it.
    pub default_currency: Currency,
}

/// An input file as it was when rated (a later sync replaces it; explain notices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputVersion {
    pub source_id: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified_ns: i128,
}

impl InputVersion {
    pub fn of(f: &SourceFile) -> Result<Self> {
        let meta = std::fs::metadata(&f.path).map_err(|e| EngineError::BadInput {
            path: f.path.clone(),
            reason: e.to_string(),
        })?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        Ok(Self {
            source_id: f.source_id.clone(),
            path: f.path.clone(),
            bytes: meta.len(),
            modified_ns,
        })
    }

    /// Whether the file on disk is still the one rated.
    pub fn is_current(&self) -> bool {
        Self::of(&SourceFile {
            source_id: self.source_id.clone(),
            path: self.path.clone(),
        })
        .is_ok_and(|now| &now == self)
    }
}

/// The description of a rated period's output folder (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub period: BillingPeriod,
    /// The configuration rated with (the slice for this period).
    pub config: PeriodConfig,
    pub stages: Vec<Stage>,
    pub allocation_keys: Vec<String>,
    pub inputs: Vec<InputVersion>,
    /// Rated rows (split rows counted) and new lines.
    pub rows: u64,
    pub new_lines: u64,
    /// The Parquet files, relative to the folder.
    pub files: Vec<String>,
    /// Sums per family, sub-account, currency, plan and new-line rule.
    pub groups: Vec<Group>,
}

pub const MANIFEST: &str = "manifest.json";

impl Manifest {
    pub fn read(dir: &Path) -> Result<Self> {
        let unreadable = |reason: String| EngineError::RatedUnreadable {
            period: dir.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(dir.join(MANIFEST)).map_err(|e| unreadable(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))
    }

    fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_vec_pretty(self).map_err(|e| EngineError::Write {
            path: path.clone(),
            source: e.into(),
        })?;
        write_synced(&path, &text)
    }

    /// The stages' effect columns and basis columns, and the measures: what sums are kept.
    pub fn summed_columns(stages: &[Stage]) -> Vec<String> {
        let mut cols: Vec<String> = schema::MONEY.iter().map(|s| s.to_string()).collect();
        cols.push(schema::PROFIT.into());
        cols.extend(stages.iter().map(|s| s.column.clone()));
        cols.extend(stages.iter().filter_map(|s| s.basis_column.clone()));
        cols
    }
}

/// A file of the run's folder, created (or truncated) readable by this user only (0600 on Unix,
/// whatever the umask).
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = File::options();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let w = |e| EngineError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = private_file(path).map_err(w)?;
    std::io::Write::write_all(&mut f, bytes).map_err(w)?;
    f.sync_all().map_err(w)
}

/// How a run's parts are laid out. Measured in BENCHMARKS.md ("Analysis pivot: be-engine against
/// DuckDB"), which says why the default is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Statistics on timestamps and integers only; rows in the plan's order.
    #[default]
    Plain,
    /// Also min/max statistics and page indexes on the text columns analysis filters most
    /// ([`FILTER_COLUMNS`]).
    Statistics,
    /// `Statistics`, and each part's rows sorted by sub-account then service, so that a filter on
    /// them skips row groups.
    Sorted,
}

/// The text columns a [`Layout::Statistics`] part keeps statistics on.
pub const FILTER_COLUMNS: [&str; 5] = [
    "SubAccountId",
    "SubAccountName",
    "ServiceName",
    "ServiceCategory",
    schema::FAMILY,
];

/// Snappy, 128K-row groups, statistics on timestamps and integers (parquet 59 pins the buffers
/// of byte-array statistics until the file closes; see BENCHMARKS.md), and on the filter columns
/// when the layout asks for them.
fn writer_properties(schema: &Schema, layout: Layout) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_created_by(
            concat!("billing-engine be-engine ", env!("CARGO_PKG_VERSION")).to_string(),
        );
    for f in schema.fields() {
        let name = f.name().as_str();
        let kept = layout != Layout::Plain && FILTER_COLUMNS.contains(&name);
        if !kept && matches!(f.data_type(), DataType::Utf8 | DataType::Decimal128(_, _)) {
            b = b.set_column_statistics_enabled(ColumnPath::from(name), EnabledStatistics::None);
        }
    }
    b.build()
}

/// The plan to write: each partition sorted by sub-account and service for [`Layout::Sorted`].
async fn physical_plan(df: DataFrame, layout: Layout) -> Result<Arc<dyn ExecutionPlan>> {
    let plan = df
        .create_physical_plan()
        .await
        .map_err(EngineError::query("starting the rating"))?;
    if layout != Layout::Sorted {
        return Ok(plan);
    }
    let schema = plan.schema();
    let mut keys = Vec::new();
    for name in ["SubAccountId", "ServiceName"] {
        let e = col(name, &schema).map_err(EngineError::query("sorting rated rows"))?;
        keys.push(PhysicalSortExpr::new_default(e));
    }
    let Some(ordering) = LexOrdering::new(keys) else {
        return Ok(plan);
    };
    Ok(Arc::new(
        SortExec::new(ordering, plan).with_preserve_partitioning(true),
    ))
}

pub(crate) fn session(partitions: usize) -> SessionContext {
    let mut config = datafusion::prelude::SessionConfig::new()
        .with_target_partitions(partitions.max(1))
        .with_batch_size(8192);
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    SessionContext::new_with_config(config)
}

/// The period's input rows, or an empty table of the right shape when there is none.
async fn input(ctx: &SessionContext, req: &RateRequest) -> Result<DataFrame> {
    let extensions = extension_columns(&req.config);
    if let Some(df) = read_sources(ctx, &req.sources, &extensions).await? {
        return Ok(df);
    }
    let schema = crate::input::input_schema(&extensions);
    ctx.read_batch(RecordBatch::new_empty(schema))
        .map_err(EngineError::query("reading an empty period"))
}

/// The `x_` columns the configuration's conditions read.
fn extension_columns(cfg: &PeriodConfig) -> Vec<String> {
    let rule_dims = cfg
        .plans
        .iter()
        .flat_map(|p| p.rules.iter())
        .flat_map(|r| r.when.dimensions());
    let alloc_dims = cfg
        .allocations
        .iter()
        .flat_map(|a| a.entries.iter())
        .flat_map(|e| e.when.dimensions());
    let mut out: Vec<String> = rule_dims
        .chain(alloc_dims)
        .filter_map(|d| match d {
            be_domain::Dimension::Extension(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The row-level plan of a request.
pub(crate) async fn plan(
    ctx: &SessionContext,
    req: &RateRequest,
) -> Result<(DataFrame, Vec<Stage>, Vec<String>)> {
    let df = input(ctx, req).await?;
    let p = Pipeline::new(df, &req.config).build(ctx)?;
    Ok((p.df, p.stages, p.allocation_keys))
}

/// Rate a period into `out_dir` (a fresh folder of this run). Nothing outside it is touched.
pub(crate) async fn rate(
    ctx: &SessionContext,
    req: &RateRequest,
    out_dir: &Path,
    layout: Layout,
) -> Result<Manifest> {
    let inputs = req
        .sources
        .iter()
        .map(InputVersion::of)
        .collect::<Result<Vec<_>>>()?;
    be_ingest::store::private_dir_all(out_dir).map_err(|e| EngineError::Write {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let (df, stages, allocation_keys) = plan(ctx, req).await?;
    // Every rated column may be null (a new line has no source row; a row no rule touched).
    let schema: SchemaRef = Arc::new(Schema::new(
        df.schema()
            .as_arrow()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    let plan = physical_plan(df, layout).await?;
    let streams = execute_stream_partitioned(plan, ctx.task_ctx())
        .map_err(EngineError::query("starting the rating"))?;
    let (mut files, rows) = write_parts(streams, out_dir, &schema, layout).await?;
    let summed = Manifest::summed_columns(&stages);
    let mut groups = if files.is_empty() {
        vec![]
    } else {
        let written = ctx
            .read_parquet(
                out_dir.to_string_lossy().to_string(),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await
            .map_err(EngineError::query("reading the rated rows back"))?;
        aggregate(written, &summed).await?
    };
    let lines = new_lines(&req.config, &groups, req.default_currency)?;
    if !lines.is_empty() {
        let batch = lines_batch(&lines, &schema, req.period)?;
        let name = "lines.parquet";
        write_batch(&out_dir.join(name), &schema, &batch, layout)?;
        files.push(name.to_string());
        groups.extend(lines.iter().map(line_group));
    }
    let manifest = Manifest {
        period: req.period,
        config: req.config.clone(),
        stages,
        allocation_keys,
        inputs,
        rows,
        new_lines: lines.len() as u64,
        files,
        groups,
    };
    manifest.write(out_dir)?;
    Ok(manifest)
}

/// The sums a new line adds to the totals.
pub(crate) fn line_group(l: &NewLine) -> Group {
    let amount = Exact::from_scaled(l.amount);
    let mut sums = std::collections::BTreeMap::new();
    for col in [
        schema::PROVIDER_COST,
        schema::LIST_COST,
        schema::CONTRACTED_COST,
    ] {
        sums.insert(col.to_string(), Exact::ZERO);
    }
    for col in [schema::BILLED_COST, schema::EFFECTIVE_COST, schema::PROFIT] {
        sums.insert(col.to_string(), amount);
    }
    sums.insert(StageKey::Rule(l.rule_id).column(), amount);
    Group {
        family: l.family.clone(),
        family_id: l.family_id.clone(),
        source_id: None,
        billing_account_id: None,
        sub_account_id: l.sub_account_id.clone(),
        sub_account_name: l.sub_account_name.clone(),
        currency: Some(l.currency.clone()),
        plan_id: Some(l.plan_id.clone()),
        plan_name: Some(l.plan_name.clone()),
        rule_id: Some(l.rule_id.to_string()),
        rows: 1,
        sums,
    }
}

/// Write each partition's stream to its own part file, in parallel.
async fn write_parts(
    streams: Vec<datafusion::physical_plan::SendableRecordBatchStream>,
    dir: &Path,
    schema: &SchemaRef,
    layout: Layout,
) -> Result<(Vec<String>, u64)> {
    let mut tasks = Vec::new();
    for (i, mut stream) in streams.into_iter().enumerate() {
        let name = format!("part-{i:03}.parquet");
        let path = dir.join(&name);
        let schema = schema.clone();
        tasks.push(tokio::spawn(async move {
            let file = private_file(&path).map_err(|e| EngineError::Write {
                path: path.clone(),
                source: e,
            })?;
            let mut writer = ArrowWriter::try_new(
                file,
                schema.clone(),
                Some(writer_properties(&schema, layout)),
            )
            .map_err(|e| parquet_error(&path, e))?;
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(EngineError::query("rating rows"))?;
                let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                    .map_err(|e| EngineError::query("rating rows")(e.into()))?;
                rows += batch.num_rows() as u64;
                writer.write(&batch).map_err(|e| parquet_error(&path, e))?;
            }
            let file = writer.into_inner().map_err(|e| parquet_error(&path, e))?;
            file.sync_all().map_err(|e| EngineError::Write {
                path: path.clone(),
                source: e,
            })?;
            Ok::<_, EngineError>((name, rows))
        }));
    }
    let mut files = Vec::new();
    let mut total = 0;
    for t in tasks {
        let (name, rows) = t.await.map_err(|e| EngineError::Write {
            path: dir.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })??;
        total += rows;
        if rows == 0 {
            let _ = std::fs::remove_file(dir.join(&name));
        } else {
            files.push(name);
        }
    }
    Ok((files, total))
}

fn parquet_error(path: &Path, e: datafusion::parquet::errors::ParquetError) -> EngineError {
    EngineError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn write_batch(path: &Path, schema: &SchemaRef, batch: &RecordBatch, layout: Layout) -> Result<()> {
    let file = private_file(path).map_err(|e| EngineError::Write {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut writer = ArrowWriter::try_new(
        file,
        schema.clone(),
        Some(writer_properties(schema, layout)),
    )
    .map_err(|e| parquet_error(path, e))?;
    writer.write(batch).map_err(|e| parquet_error(path, e))?;
    let file = writer.into_inner().map_err(|e| parquet_error(path, e))?;
    file.sync_all().map_err(|e| EngineError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

/// New lines as rated rows: every column of the rated schema, null where a line has no value.
fn lines_batch(
    lines: &[NewLine],
    schema: &SchemaRef,
    period: BillingPeriod,
) -> Result<RecordBatch> {
    let n = lines.len();
    let text = |f: &dyn Fn(&NewLine) -> Option<String>| -> ArrayRef {
        Arc::new(lines.iter().map(f).collect::<StringArray>())
    };
    let money = |f: &dyn Fn(&NewLine) -> Option<i128>| -> Result<ArrayRef> {
        let a: Decimal128Array = lines.iter().map(f).collect();
        Ok(Arc::new(a.with_precision_and_scale(38, 24).map_err(
            |e| EngineError::query("building new lines")(e.into()),
        )?))
    };
    let stamp = |v: i64| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(vec![v; n]).with_timezone("UTC"))
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name().as_str();
        let column: ArrayRef = match name {
            schema::RULE_ID => text(&|l| Some(l.rule_id.to_string())),
            "ChargeCategory" => text(&|_| Some("Adjustment".into())),
            "ChargeDescription" => text(&|l| Some(l.rule_name.clone())),
            "ChargeFrequency" => text(&|l| Some(l.frequency.clone())),
            "BillingCurrency" => text(&|l| Some(l.currency.clone())),
            "SubAccountId" => text(&|l| l.sub_account_id.clone()),
            "SubAccountName" => text(&|l| l.sub_account_name.clone()),
            schema::FAMILY => text(&|l| l.family.clone()),
            schema::FAMILY_ID => text(&|l| l.family_id.clone()),
            schema::PLAN_ID => text(&|l| Some(l.plan_id.clone())),
            schema::PLAN_NAME => text(&|l| Some(l.plan_name.clone())),
            "BillingPeriodStart" | "ChargePeriodStart" => stamp(period.start_micros()),
            "BillingPeriodEnd" | "ChargePeriodEnd" => stamp(period.end_micros()),
            schema::PROVIDER_COST | schema::LIST_COST | schema::CONTRACTED_COST => {
                money(&|_| Some(0))?
            }
            schema::BILLED_COST | schema::EFFECTIVE_COST | schema::PROFIT => {
                money(&|l| Some(l.amount))?
            }
            other => match StageKey::of_column(other) {
                Some(StageKey::Rule(id)) => money(&|l| (l.rule_id == id).then_some(l.amount))?,
                _ => new_null_array(field.data_type(), n),
            },
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| EngineError::query("building new lines")(e.into()))
}
