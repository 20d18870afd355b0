//! Reading a period's FOCUS rows from every source of the organization: each file is projected
//! onto the columns rating needs (a column a source lacks is null), then all are unioned.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::schema::{self, c};
use crate::udf::money_type;

/// One stored FOCUS period file of a source (a synced connection or an import source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The source's identifier (a connection or import source UUID), kept on every rated row.
    pub source_id: String,
    pub path: PathBuf,
}

/// Columns a file must have to be rated (engine.md 1).
const REQUIRED: [&str; 4] = [
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "SubAccountId",
];

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn typed_null(t: &DataType) -> Expr {
    lit(ScalarValue::try_from(t).unwrap_or(ScalarValue::Null))
}

/// The value of `name` cast to `t`, or a typed null when the file has no such column.
fn column_or_null(df: &DataFrame, name: &str, t: &DataType) -> Expr {
    let expr = if df.schema().has_column_with_unqualified_name(name) {
        cast(c(name), t.clone())
    } else {
        typed_null(t)
    };
    expr.alias(name)
}

/// The rating input's columns and types, in order.
fn input_fields(extensions: &[String]) -> Vec<(String, DataType)> {
    let mut out = vec![
        (schema::SOURCE_ID.to_string(), DataType::Utf8),
        (schema::ROW_ID.to_string(), DataType::Int64),
        (schema::SPLIT_PATH.to_string(), DataType::Utf8),
    ];
    out.extend(
        schema::text_columns()
            .into_iter()
            .chain(extensions.iter().map(String::as_str))
            .map(|n| (n.to_string(), DataType::Utf8)),
    );
    out.extend(
        schema::TIMESTAMPS
            .iter()
            .map(|n| (n.to_string(), timestamp_type())),
    );
    out.extend(
        [
            schema::PROVIDER_COST,
            schema::LIST_COST,
            schema::CONTRACTED_COST,
            schema::BILLED_COST,
            schema::EFFECTIVE_COST,
        ]
        .iter()
        .chain(schema::QUANTITIES.iter())
        .map(|n| (n.to_string(), money_type())),
    );
    out
}

/// The schema of the rating input (for a period without any file).
pub fn input_schema(extensions: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        input_fields(extensions)
            .into_iter()
            .map(|(n, t)| Field::new(n, t, true))
            .collect::<Vec<_>>(),
    ))
}

/// The projection of one file onto the rating input.
fn project(df: DataFrame, source_id: &str, extensions: &[String]) -> Result<DataFrame> {
    let exprs = input_fields(extensions)
        .into_iter()
        .map(|(name, t)| match name.as_str() {
            schema::SOURCE_ID => lit(source_id.to_string()).alias(name),
            schema::SPLIT_PATH => typed_null(&t).alias(name),
            schema::PROVIDER_COST => cast(c("BilledCost"), t).alias(name),
            _ => column_or_null(&df, &name, &t),
        })
        .collect::<Vec<_>>();
    df.select(exprs)
        .map_err(EngineError::query("projecting a source"))
}

/// Every file's rows, unioned; `None` when there is no file.
pub async fn read_sources(
    ctx: &SessionContext,
    files: &[SourceFile],
    extensions: &[String],
) -> Result<Option<DataFrame>> {
    let mut all: Option<DataFrame> = None;
    for f in files {
        let path = f.path.to_string_lossy().to_string();
        let df = ctx
            .read_parquet(path, ParquetReadOptions::default())
            .await
            .map_err(|e| EngineError::BadInput {
                path: f.path.clone(),
                reason: e.to_string(),
            })?;
        if let Some(missing) = REQUIRED
            .iter()
            .find(|n| !df.schema().has_column_with_unqualified_name(n))
        {
            return Err(EngineError::BadInput {
                path: f.path.clone(),
                reason: format!("it has no {missing} column"),
            });
        }
        let df = project(df, &f.source_id, extensions)?;
        all = Some(match all {
            None => df,
            Some(prev) => prev
                .union(df)
                .map_err(EngineError::query("combining sources"))?,
        });
    }
    Ok(all)
}
