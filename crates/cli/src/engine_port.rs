//! The app's rating port, implemented with `be-engine` (DataFusion) and `be-ingest` (FOCUS file
//! imports). Errors keep their code, message and remedy across the port.

use std::path::{Path, PathBuf};

use be_app::rating::{
    ExportValues, GroupTotals, GroupedRow, ImportOutcome, ImportedPeriod, LineExplanation,
    LinesQuery, PivotInput, Port, PortError, PortErrorKind, RateInput, RatedLine, RatedSummary,
    RatingPort, SplitShare, StageEffect, StageInfo,
};
use be_domain::{BillingPeriod, Exact};
use be_engine::{Engine, EngineError, Manifest, Preview, RateRequest, SourceFile};
use be_ingest::IngestError;

pub struct EnginePort {
    engine: Engine,
}

impl EnginePort {
    pub fn new(threads: usize) -> std::io::Result<Self> {
        Ok(Self {
            engine: Engine::new(threads)?,
        })
    }
}

fn engine_error(e: EngineError) -> PortError {
    let kind = match &e {
        EngineError::LineNotFound(_) => PortErrorKind::NotFound,
        EngineError::InvalidQuery(_) => PortErrorKind::Invalid,
        _ => PortErrorKind::Failed,
    };
    if kind == PortErrorKind::Failed {
        tracing::error!(code = e.code(), error = %chain(&e), "rating engine failure");
    }
    PortError {
        code: e.code(),
        message: e.to_string(),
        remedy: e.remedy().to_string(),
        kind,
        port: Port::Engine,
    }
}

fn ingest_error(e: IngestError) -> PortError {
    let kind = match &e {
        IngestError::Write { .. }
        | IngestError::Parquet { .. }
        | IngestError::Arrow { .. }
        | IngestError::Internal(_) => PortErrorKind::Failed,
        _ => PortErrorKind::Invalid,
    };
    if kind == PortErrorKind::Failed {
        tracing::error!(code = e.code(), error = %chain(&e), "FOCUS import failure");
    }
    PortError {
        code: e.code(),
        message: e.to_string(),
        remedy: e.remedy().to_string(),
        kind,
        port: Port::Engine,
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn exact(v: be_engine::Exact) -> Result<Exact, PortError> {
    v.scaled().map(Exact::from_scaled).ok_or_else(|| {
        engine_error(EngineError::Overflow {
            what: format!("the sum {v}"),
        })
    })
}

fn request(input: RateInput) -> RateRequest {
    RateRequest {
        period: input.period,
        config: input.config,
        sources: input
            .sources
            .into_iter()
            .map(|s| SourceFile {
                source_id: s.source_id,
                path: s.path,
            })
            .collect(),
        default_currency: input.default_currency,
    }
}

fn stages(stages: &[be_engine::Stage]) -> Vec<StageInfo> {
    stages
        .iter()
        .map(|s| StageInfo {
            column: s.column.clone(),
            label: s.label.clone(),
            kind: s.kind.clone(),
            plan: s.plan.clone(),
            rule: s.rule.clone(),
        })
        .collect()
}

fn groups(groups: &[be_engine::Group]) -> Result<Vec<GroupTotals>, PortError> {
    groups
        .iter()
        .map(|g| {
            Ok(GroupTotals {
                family: g.family.clone(),
                sub_account_id: g.sub_account_id.clone(),
                sub_account_name: g.sub_account_name.clone(),
                billing_account_id: g.billing_account_id.clone(),
                source_id: g.source_id.clone(),
                currency: g.currency.clone(),
                plan: g.plan_name.clone(),
                rule_id: g.rule_id.clone(),
                rows: g.rows,
                sums: g
                    .sums
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), exact(*v)?)))
                    .collect::<Result<_, PortError>>()?,
            })
        })
        .collect()
}

fn summary(m: &Manifest) -> Result<RatedSummary, PortError> {
    Ok(RatedSummary {
        stages: stages(&m.stages),
        groups: groups(&m.groups)?,
        rows: m.rows,
        new_lines: m.new_lines,
        inputs: serde_json::to_string(&m.inputs).unwrap_or_default(),
    })
}

fn preview_summary(p: &Preview) -> Result<RatedSummary, PortError> {
    Ok(RatedSummary {
        stages: stages(&p.stages),
        groups: groups(&p.groups)?,
        rows: 0,
        new_lines: p.new_lines.len() as u64,
        inputs: String::new(),
    })
}

#[async_trait::async_trait]
impl RatingPort for EnginePort {
    async fn rate(&self, input: RateInput, out_dir: PathBuf) -> Result<RatedSummary, PortError> {
        let m = self
            .engine
            .rate(request(input), out_dir)
            .await
            .map_err(engine_error)?;
        summary(&m)
    }

    async fn preview(&self, input: RateInput) -> Result<RatedSummary, PortError> {
        let p = self
            .engine
            .preview(request(input))
            .await
            .map_err(engine_error)?;
        preview_summary(&p)
    }

    async fn summary(&self, run_dir: PathBuf) -> Result<RatedSummary, PortError> {
        let m = tokio::task::spawn_blocking(move || Manifest::read(&run_dir))
            .await
            .map_err(|e| {
                engine_error(EngineError::RatedUnreadable {
                    period: String::new(),
                    reason: e.to_string(),
                })
            })?
            .map_err(engine_error)?;
        summary(&m)
    }

    async fn preview_grouped(
        &self,
        input: RateInput,
        by: Vec<String>,
    ) -> Result<Vec<GroupedRow>, PortError> {
        let rows = self
            .engine
            .preview_grouped(request(input), by)
            .await
            .map_err(engine_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(GroupedRow {
                    keys: r.keys,
                    currency: r.currency,
                    rows: r.rows,
                    sums: r
                        .sums
                        .iter()
                        .map(|(k, v)| Ok((k.clone(), exact(*v)?)))
                        .collect::<Result<_, PortError>>()?,
                })
            })
            .collect()
    }

    async fn pivot(&self, q: PivotInput) -> Result<Vec<GroupedRow>, PortError> {
        let query = be_engine::PivotQuery {
            runs: q.runs,
            group_by: q.group_by,
            filter: q.filter,
            sums: q.sums,
            by_period: q.by_period,
        };
        let rows = self.engine.pivot(query).await.map_err(engine_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(GroupedRow {
                    keys: r.keys,
                    currency: r.currency,
                    rows: r.rows,
                    sums: r
                        .sums
                        .iter()
                        .map(|(k, v)| Ok((k.clone(), exact(*v)?)))
                        .collect::<Result<_, PortError>>()?,
                })
            })
            .collect()
    }

    async fn explain(&self, run_dir: PathBuf, line: String) -> Result<LineExplanation, PortError> {
        let id: be_engine::LineId = line.parse().map_err(engine_error)?;
        let e = self
            .engine
            .explain(&run_dir, id)
            .await
            .map_err(engine_error)?;
        Ok(LineExplanation {
            line_id: e.line_id,
            period: e.period,
            rated: e.rated,
            source: e.source,
            source_note: e.source_note,
            provider_cost: exact(e.provider_cost)?,
            billed_cost: exact(e.billed_cost)?,
            effective_cost: exact(e.effective_cost)?,
            splits: e
                .splits
                .into_iter()
                .map(|s| SplitShare {
                    key: s.key,
                    value: s.value,
                    percent: s.percent,
                })
                .collect(),
            stages: e
                .stages
                .into_iter()
                .map(|s| {
                    Ok(StageEffect {
                        label: s.label,
                        kind: s.kind,
                        effect: s.effect.map(exact).transpose()?,
                        billed_after: exact(s.billed_after)?,
                    })
                })
                .collect::<Result<_, PortError>>()?,
        })
    }

    async fn lines(
        &self,
        run_dir: PathBuf,
        query: LinesQuery,
    ) -> Result<Vec<RatedLine>, PortError> {
        let filter = be_engine::LineFilter {
            family: query.family,
            sub_account_id: query.sub_account_id,
            new_lines_only: query.new_lines_only,
            limit: query.limit,
            filter: query.filter,
        };
        let lines = self
            .engine
            .lines(&run_dir, filter)
            .await
            .map_err(engine_error)?;
        lines
            .into_iter()
            .map(|l| {
                Ok(RatedLine {
                    line_id: l.line_id,
                    family: l.family,
                    sub_account_id: l.sub_account_id,
                    service: l.service,
                    description: l.description,
                    currency: l.currency,
                    provider_cost: exact(l.provider_cost)?,
                    billed_cost: exact(l.billed_cost)?,
                })
            })
            .collect()
    }

    fn table_parquet(&self, columns: Vec<(String, ExportValues)>) -> Result<Vec<u8>, PortError> {
        let columns: Vec<(String, be_engine::TableValues)> = columns
            .into_iter()
            .map(|(name, v)| {
                let v = match v {
                    ExportValues::Text(t) => be_engine::TableValues::Text(t),
                    ExportValues::Money(m) => {
                        be_engine::TableValues::Money(m.into_iter().map(|x| x.scaled()).collect())
                    }
                    ExportValues::Count(c) => be_engine::TableValues::Count(c),
                };
                (name, v)
            })
            .collect();
        be_engine::table_parquet(&columns).map_err(engine_error)
    }

    fn import_focus(
        &self,
        file: &Path,
        name: &str,
        dest: &(dyn Fn(BillingPeriod) -> PathBuf + Sync),
    ) -> Result<ImportOutcome, PortError> {
        let r = be_ingest::import_focus(file, name, dest).map_err(ingest_error)?;
        let sum = |s: &be_ingest::ExactSum| {
            Exact::parse(&s.to_string()).ok_or_else(|| {
                engine_error(EngineError::Overflow {
                    what: format!("the total {s}"),
                })
            })
        };
        Ok(ImportOutcome {
            format: serde_json::to_value(r.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            periods: r
                .periods
                .iter()
                .map(|p| {
                    Ok(ImportedPeriod {
                        period: p.period,
                        rows: p.rows,
                        bytes: p.bytes,
                        billed_total: sum(&p.billed_cost)?,
                        effective_total: sum(&p.effective_cost)?,
                        currency: p.currency.clone(),
                    })
                })
                .collect::<Result<_, PortError>>()?,
            missing_columns: r.missing_columns.iter().map(|s| s.to_string()).collect(),
            extensions: r.extensions,
            ignored_columns: r.ignored_columns,
            rounded_values: r.rounded_values,
        })
    }
}
