//! A table (an analysis) written as a Parquet file in memory: text columns as UTF-8, money as
//! `Decimal128(38, 24)` (the stored scale, so exports stay exact), counts as `Int64`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;

use crate::error::{EngineError, Result};

/// One column of an exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableValues {
    Text(Vec<Option<String>>),
    /// Units of 10^-24 (`be_domain::Exact::scaled`).
    Money(Vec<i128>),
    Count(Vec<i64>),
}

fn array(values: &TableValues) -> Result<(DataType, ArrayRef)> {
    Ok(match values {
        TableValues::Text(v) => (DataType::Utf8, Arc::new(StringArray::from(v.clone()))),
        TableValues::Money(v) => {
            let a = Decimal128Array::from(v.clone())
                .with_precision_and_scale(38, 24)
                .map_err(|e| {
                    EngineError::InvalidQuery(format!("a money value does not fit: {e}"))
                })?;
            (DataType::Decimal128(38, 24), Arc::new(a))
        }
        TableValues::Count(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
    })
}

/// The columns (equal lengths) as one Parquet file.
pub fn table_parquet(columns: &[(String, TableValues)]) -> Result<Vec<u8>> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (name, values) in columns {
        let (t, a) = array(values)?;
        fields.push(Field::new(name, t, true));
        arrays.push(a);
    }
    let schema = Arc::new(Schema::new(fields));
    let failed = |e: &dyn std::fmt::Display| EngineError::Write {
        path: "analysis.parquet".into(),
        source: std::io::Error::other(e.to_string()),
    };
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| failed(&e))?;
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, None).map_err(|e| failed(&e))?;
    w.write(&batch).map_err(|e| failed(&e))?;
    w.close().map_err(|e| failed(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Decimal128Type;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn a_table_round_trips_exactly() {
        let billed = 171_212_500_000_000_000_000_000_000i128; // 171.2125
        let bytes = table_parquet(&[
            (
                "CostCenter".into(),
                TableValues::Text(vec![None, Some("Web".into())]),
            ),
            (
                "BilledCost".into(),
                TableValues::Money(vec![billed, 66_000_000_000_000_000_000_000_000]),
            ),
            ("Rows".into(), TableValues::Count(vec![8, 1])),
        ])
        .expect("written");
        let mut file = tempfile::tempfile().expect("temp file");
        std::io::Write::write_all(&mut file, &bytes).expect("write");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .build()
            .expect("reader");
        let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        let b = &batches[0];
        assert_eq!(b.num_rows(), 2);
        assert_eq!(
            b.schema().field(1).data_type(),
            &DataType::Decimal128(38, 24)
        );
        assert_eq!(
            b.column(1).as_primitive::<Decimal128Type>().value(0),
            billed
        );
        assert_eq!(b.column(0).as_string::<i32>().value(1), "Web");
        assert!(b.column(0).is_null(0));
    }
}
