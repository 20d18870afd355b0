//! Explain a rated line (engine.md 3, lineage): its source row, its split shares, and each stage's
//! effect on its rated BilledCost, in order, from ProviderCost to BilledCost.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use be_domain::BillingPeriod;
use be_domain::pricing::Filter;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::starts_with;
use datafusion::logical_expr::lit;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::filter::filter_expr;
use crate::money::{self, Exact};
use crate::rate::Manifest;
use crate::schema::{self, c};

/// A rated line's identity: `2026-10/3f2a1b4c/17` (period, source, row), with `/0.1` per split it
/// went through (entry and share), or `2026-10/new/2` for the third new line of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineId {
    Row {
        period: BillingPeriod,
        source: String,
        row: i64,
        split: Vec<(usize, usize)>,
    },
    New {
        period: BillingPeriod,
        index: usize,
    },
}

impl LineId {
    pub fn period(&self) -> BillingPeriod {
        match self {
            Self::Row { period, .. } | Self::New { period, .. } => *period,
        }
    }

    /// The ID of a rated row from its lineage columns.
    pub fn of_row(
        period: BillingPeriod,
        source_id: &str,
        row: i64,
        split_path: Option<&str>,
    ) -> Self {
        let split = split_path
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|seg| {
                let mut parts = seg.rsplitn(3, ':');
                let o = parts.next()?.parse().ok()?;
                let e = parts.next()?.parse().ok()?;
                Some((e, o))
            })
            .collect();
        Self::Row {
            period,
            source: source_id.chars().take(8).collect(),
            row,
            split,
        }
    }
}

impl fmt::Display for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Row {
                period,
                source,
                row,
                split,
            } => {
                write!(f, "{period}/{source}/{row}")?;
                for (e, o) in split {
                    write!(f, "/{e}.{o}")?;
                }
                Ok(())
            }
            Self::New { period, index } => write!(f, "{period}/new/{index}"),
        }
    }
}

impl FromStr for LineId {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            EngineError::LineNotFound(format!(
                "{s:?} is not a line ID: it looks like 2026-10/3f2a1b4c/17 or 2026-10/new/0."
            ))
        };
        let parts: Vec<&str> = s.trim().split('/').collect();
        if parts.len() < 3 {
            return Err(bad());
        }
        let period = BillingPeriod::parse(parts[0]).map_err(|_| bad())?;
        if parts[1] == "new" {
            let index = parts[2].parse().map_err(|_| bad())?;
            return if parts.len() == 3 {
                Ok(Self::New { period, index })
            } else {
                Err(bad())
            };
        }
        let source = parts[1].to_ascii_lowercase();
        if source.is_empty() || !source.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(bad());
        }
        let row = parts[2].parse().map_err(|_| bad())?;
        let split = parts[3..]
            .iter()
            .map(|seg| {
                let (e, o) = seg.split_once('.').ok_or_else(bad)?;
                Ok((e.parse().map_err(|_| bad())?, o.parse().map_err(|_| bad())?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::Row {
            period,
            source,
            row,
            split,
        })
    }
}

/// One stage's effect on the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEffect {
    pub label: String,
    pub kind: String,
    /// The change to BilledCost; `None` where the stage did not apply.
    pub effect: Option<Exact>,
    /// BilledCost after this stage.
    pub billed_after: Exact,
}

/// A split the line went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitShare {
    pub key: String,
    pub value: String,
    pub percent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub line_id: String,
    pub period: BillingPeriod,
    /// Every column of the rated line (money as exact decimals).
    pub rated: Vec<(String, Option<String>)>,
    /// The source row as stored, when it is still the version rated.
    pub source: Option<Vec<(String, Option<String>)>>,
    pub source_note: Option<String>,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
    pub effective_cost: Exact,
    pub splits: Vec<SplitShare>,
    pub stages: Vec<StageEffect>,
}

fn cell(a: &dyn Array, row: usize) -> Option<String> {
    if a.is_null(row) {
        return None;
    }
    match a.data_type() {
        DataType::Decimal128(_, 24) => {
            Some(money::format(a.as_primitive::<Decimal128Type>().value(row)))
        }
        _ => array_value_to_string(a, row).ok(),
    }
}

fn row_cells(b: &RecordBatch, row: usize) -> Vec<(String, Option<String>)> {
    b.schema()
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, a)| (f.name().clone(), cell(a.as_ref(), row)))
        .collect()
}

fn value<'a>(cells: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    cells
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.as_deref())
}

fn exact(cells: &[(String, Option<String>)], name: &str) -> Option<Exact> {
    value(cells, name).and_then(Exact::parse)
}

async fn collect(
    ctx: &SessionContext,
    path: &Path,
    filter: datafusion::logical_expr::Expr,
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let unreadable = |e: datafusion::error::DataFusionError| EngineError::RatedUnreadable {
        period: path.display().to_string(),
        reason: e.to_string(),
    };
    ctx.read_parquet(
        path.to_string_lossy().to_string(),
        ParquetReadOptions::default(),
    )
    .await
    .map_err(unreadable)?
    .filter(filter)
    .map_err(EngineError::query(what.to_string()))?
    .collect()
    .await
    .map_err(EngineError::query(what.to_string()))
}

/// The rated line's cells.
async fn rated_line(
    ctx: &SessionContext,
    dir: &Path,
    m: &Manifest,
    line: &LineId,
) -> Result<Vec<(String, Option<String>)>> {
    let not_found = || {
        EngineError::LineNotFound(format!(
            "There is no line {line} in the rating of {}.",
            m.period
        ))
    };
    match line {
        LineId::New { index, .. } => {
            if !m.files.iter().any(|f| f == "lines.parquet") {
                return Err(not_found());
            }
            let batches = collect(
                ctx,
                &dir.join("lines.parquet"),
                lit(true),
                "reading new lines",
            )
            .await?;
            let mut seen = 0;
            for b in &batches {
                if *index < seen + b.num_rows() {
                    return Ok(row_cells(b, index - seen));
                }
                seen += b.num_rows();
            }
            Err(not_found())
        }
        LineId::Row { source, row, .. } => {
            let filter = starts_with(c(schema::SOURCE_ID), lit(source.clone()))
                .and(c(schema::ROW_ID).eq(lit(*row)));
            let batches = collect(ctx, dir, filter, "finding the line").await?;
            let mut found = Vec::new();
            for b in &batches {
                for r in 0..b.num_rows() {
                    let cells = row_cells(b, r);
                    let id = LineId::of_row(
                        m.period,
                        value(&cells, schema::SOURCE_ID).unwrap_or_default(),
                        *row,
                        value(&cells, schema::SPLIT_PATH),
                    );
                    if &id == line {
                        found.push(cells);
                    }
                }
            }
            match found.len() {
                1 => Ok(found.remove(0)),
                0 => Err(not_found()),
                _ => Err(EngineError::LineNotFound(format!(
                    "{line} matches lines of several sources; give more characters of the source ID."
                ))),
            }
        }
    }
}

pub(crate) async fn explain(
    ctx: &SessionContext,
    dir: &Path,
    line: &LineId,
) -> Result<Explanation> {
    let m = Manifest::read(dir)?;
    if m.period != line.period() {
        return Err(EngineError::LineNotFound(format!(
            "{line} is not a line of {}.",
            m.period
        )));
    }
    let rated = rated_line(ctx, dir, &m, line).await?;
    let (source, source_note) = source_row(ctx, &m, &rated).await?;
    let provider = exact(&rated, schema::PROVIDER_COST).unwrap_or(Exact::ZERO);
    let mut billed = provider;
    let stages = m
        .stages
        .iter()
        .map(|s| {
            let effect = exact(&rated, &s.column);
            if let Some(e) = effect {
                billed += e;
            }
            StageEffect {
                label: s.label.clone(),
                kind: s.kind.clone(),
                effect,
                billed_after: billed,
            }
        })
        .collect();
    Ok(Explanation {
        line_id: line.to_string(),
        period: m.period,
        splits: splits(&m, &rated),
        provider_cost: provider,
        billed_cost: exact(&rated, schema::BILLED_COST).unwrap_or(Exact::ZERO),
        effective_cost: exact(&rated, schema::EFFECTIVE_COST).unwrap_or(Exact::ZERO),
        rated,
        source,
        source_note,
        stages,
    })
}

/// The split shares named by `x_SplitPath` (`CostCenter:0:1`), with their values and percents.
fn splits(m: &Manifest, rated: &[(String, Option<String>)]) -> Vec<SplitShare> {
    let path = value(rated, schema::SPLIT_PATH).unwrap_or_default();
    path.split(',')
        .filter_map(|seg| {
            let mut parts = seg.rsplitn(3, ':');
            let o: usize = parts.next()?.parse().ok()?;
            let e: usize = parts.next()?.parse().ok()?;
            let key = parts.next()?;
            let share = m
                .config
                .allocations
                .iter()
                .find(|a| a.key.as_str() == key)?
                .entries
                .get(e)?
                .values
                .get(o)?;
            Some(SplitShare {
                key: key.to_string(),
                value: share.value.clone(),
                percent: share.percent.to_string(),
            })
        })
        .collect()
}

/// The source row, if the source file is still the version rated.
async fn source_row(
    ctx: &SessionContext,
    m: &Manifest,
    rated: &[(String, Option<String>)],
) -> Result<(Option<Vec<(String, Option<String>)>>, Option<String>)> {
    let (Some(source_id), Some(row)) = (
        value(rated, schema::SOURCE_ID),
        value(rated, schema::ROW_ID).and_then(|r| r.parse::<i64>().ok()),
    ) else {
        return Ok((
            None,
            Some("A rule made this line; it has no source row.".into()),
        ));
    };
    let Some(input) = m.inputs.iter().find(|i| i.source_id == source_id) else {
        return Ok((
            None,
            Some("The source of this line is no longer known.".into()),
        ));
    };
    if !input.is_current() {
        return Ok((None, Some("The source period has been synced or imported again since this rating; rate the period again to see its current rows.".into())));
    }
    let batches = collect(
        ctx,
        &input.path,
        c(schema::ROW_ID).eq(lit(row)),
        "reading the source row",
    )
    .await?;
    let cells = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| row_cells(b, 0));
    Ok((cells, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_round_trip() {
        let p = BillingPeriod::parse("2026-10").expect("p");
        let id = LineId::of_row(
            p,
            "3f2a1b4c-0000-4000-8000-000000000000",
            17,
            Some("CostCenter:0:1,Team:2:0"),
        );
        assert_eq!(id.to_string(), "2026-10/3f2a1b4c/17/0.1/2.0");
        assert_eq!(id.to_string().parse::<LineId>().expect("parse"), id);
        let new: LineId = "2026-10/new/2".parse().expect("new");
        assert_eq!(
            new,
            LineId::New {
                period: p,
                index: 2
            }
        );
        for bad in [
            "",
            "2026-10",
            "2026-10/x y/1",
            "2026-13/ab/1",
            "2026-10/ab/one",
            "2026-10/ab/1/0",
        ] {
            assert!(bad.parse::<LineId>().is_err(), "{bad}");
        }
    }
}

/// A rated line in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSummary {
    pub line_id: String,
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    pub service: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub provider_cost: Exact,
    pub billed_cost: Exact,
}

/// Which lines to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineFilter {
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    pub new_lines_only: bool,
    pub limit: usize,
    /// Conditions as rules write them (an analysis cell's drill-down); empty: every line.
    pub filter: Filter,
}

/// A rated file's rows with every column the filter reads (missing ones as nulls), filtered.
fn with_filter(mut df: DataFrame, filter: &Filter) -> datafusion::error::Result<DataFrame> {
    if filter.is_empty() {
        return Ok(df);
    }
    for d in filter.dimensions() {
        let col = crate::pivot::column_of(d).unwrap_or_else(|| "Tags".into());
        if !df.schema().has_column_with_unqualified_name(&col) {
            df = df.with_column(&col, lit(ScalarValue::Utf8(None)))?;
        }
    }
    df.filter(filter_expr(filter))
}

/// Rated lines of a run, new lines first, then source rows in their order.
pub(crate) async fn list_lines(
    ctx: &SessionContext,
    dir: &Path,
    filter: &LineFilter,
) -> Result<Vec<LineSummary>> {
    let m = Manifest::read(dir)?;
    let mut out = Vec::new();
    if m.files.iter().any(|f| f == "lines.parquet") {
        let batches = collect(
            ctx,
            &dir.join("lines.parquet"),
            lit(true),
            "listing new lines",
        )
        .await?;
        let mut index = 0;
        for b in &batches {
            for r in 0..b.num_rows() {
                let cells = row_cells(b, r);
                if !new_line_matches(&filter.filter, &cells) {
                    index += 1;
                    continue;
                }
                out.push(summary_of(
                    &cells,
                    LineId::New {
                        period: m.period,
                        index,
                    }
                    .to_string(),
                ));
                index += 1;
            }
        }
    }
    if !filter.new_lines_only {
        let parts: Vec<String> = m
            .files
            .iter()
            .filter(|f| f.starts_with("part-"))
            .cloned()
            .collect();
        for part in parts {
            if out.len() >= filter.limit.max(1) * 4 {
                break;
            }
            let mut cond = c(schema::ROW_ID).is_not_null();
            if let Some(f) = &filter.family {
                cond = cond.and(c(schema::FAMILY).eq(lit(f.clone())));
            }
            if let Some(s) = &filter.sub_account_id {
                cond = cond.and(c("SubAccountId").eq(lit(s.clone())));
            }
            let df = ctx
                .read_parquet(
                    dir.join(&part).to_string_lossy().to_string(),
                    ParquetReadOptions::default(),
                )
                .await
                .map_err(|e| EngineError::RatedUnreadable {
                    period: m.period.to_string(),
                    reason: e.to_string(),
                })?
                .filter(cond)
                .and_then(|df| with_filter(df, &filter.filter))
                .and_then(|df| df.limit(0, Some(filter.limit.max(1))))
                .map_err(EngineError::query("listing lines"))?;
            for b in &df
                .collect()
                .await
                .map_err(EngineError::query("listing lines"))?
            {
                for r in 0..b.num_rows() {
                    let cells = row_cells(b, r);
                    let row = value(&cells, schema::ROW_ID)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let id = LineId::of_row(
                        m.period,
                        value(&cells, schema::SOURCE_ID).unwrap_or_default(),
                        row,
                        value(&cells, schema::SPLIT_PATH),
                    );
                    out.push(summary_of(&cells, id.to_string()));
                }
            }
        }
    }
    let keep = |l: &LineSummary| {
        filter
            .family
            .as_ref()
            .is_none_or(|f| l.family.as_ref() == Some(f))
            && filter
                .sub_account_id
                .as_ref()
                .is_none_or(|s| l.sub_account_id.as_ref() == Some(s))
    };
    Ok(out
        .into_iter()
        .filter(keep)
        .take(filter.limit.max(1))
        .collect())
}

/// Whether a new line (a handful per run, read whole) meets the filter; tags are not on them.
fn new_line_matches(filter: &Filter, cells: &[(String, Option<String>)]) -> bool {
    filter.matches(|d| {
        crate::pivot::column_of(d)
            .and_then(|col| value(cells, &col))
            .filter(|v| !v.is_empty())
    })
}

fn summary_of(cells: &[(String, Option<String>)], line_id: String) -> LineSummary {
    let text = |n: &str| value(cells, n).map(str::to_string);
    LineSummary {
        line_id,
        family: text(schema::FAMILY),
        sub_account_id: text("SubAccountId"),
        service: text("ServiceName"),
        description: text("ChargeDescription"),
        currency: text("BillingCurrency"),
        provider_cost: exact(cells, schema::PROVIDER_COST).unwrap_or(Exact::ZERO),
        billed_cost: exact(cells, schema::BILLED_COST).unwrap_or(Exact::ZERO),
    }
}
