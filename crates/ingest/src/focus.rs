//! Importing FOCUS files that another tool wrote (engine.md section 1): Microsoft's FOCUS cost
//! export, AWS Data Exports (FOCUS 1.0/1.2), Google's FOCUS export saved as CSV or Parquet, a FinOps
//! hub's files. FOCUS 1.0, 1.1 and 1.2 column sets; CSV, gzip CSV or Parquet (told apart by their
//! first bytes, not their names).
//!
//! Columns are matched by name (case-insensitively); a FOCUS column the file lacks is null; `x_`
//! columns are kept as text; other columns are ignored and reported. A file without a column rating
//! needs ([`REQUIRED`]) is refused naming it; a bad value is refused with its file, line (or row)
//! and column. Money becomes exact `Decimal128(38, 24)` (floating-point Parquet values are taken at
//! their shortest exact decimal form, as any reader would print them).
//!
//! Rows go to one Parquet file per billing period (`BillingPeriodStart`), each numbered
//! (`x_SourceRowId`) and replaced atomically; a failure leaves every previous period untouched.
//! Memory is bounded by a batch per period, whatever the file's size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use be_domain::{BillingPeriod, Currency, FOCUS_COLUMNS, FocusType, focus_column_ci};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::date::parse_timestamp_micros;
use crate::decimal::{Dec, ExactSum, STORE_PRECISION, STORE_SCALE};
use crate::error::{IngestError, Position, Result};
use crate::schema::SOURCE_ROW_ID;
use crate::store::{commit, temp_path};

/// The columns rating needs (engine.md 1); a file without one of them is refused.
pub const REQUIRED: [&str; 10] = [
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "SubAccountId",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
];

/// Columns that must have a value on every row (FOCUS: not null). `SubAccountId` may be empty.
const NOT_NULL: [&str; 9] = [
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
];

const CHARGE_CATEGORIES: [&str; 5] = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"];

/// Rows per batch written.
const BATCH_ROWS: usize = 8192;

/// How a file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FocusFormat {
    Csv,
    CsvGzip,
    Parquet,
}

/// One billing period written by an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportedPeriod {
    pub period: BillingPeriod,
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    pub billed_cost: ExactSum,
    pub effective_cost: ExactSum,
    /// The BillingCurrency of every row, when the period has one currency (`None`: several).
    pub currency: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FocusImport {
    pub format: FocusFormat,
    pub periods: Vec<ImportedPeriod>,
    /// FOCUS 1.2 columns the file does not have (null in the stored rows).
    pub missing_columns: Vec<&'static str>,
    /// `x_` columns kept.
    pub extensions: Vec<String>,
    /// Columns that are neither FOCUS nor `x_` (not kept).
    pub ignored_columns: Vec<String>,
    /// Values with more than 24 decimal places, rounded half-even when stored.
    pub rounded_values: u64,
}

/// Tell the encoding from the first bytes: gzip (`1f 8b`), Parquet (`PAR1`), otherwise CSV.
pub fn detect_format(path: &Path) -> Result<FocusFormat> {
    let mut head = [0u8; 4];
    let mut f = File::open(path).map_err(|e| IngestError::Read {
        file: path.display().to_string(),
        source: e,
    })?;
    let n = f.read(&mut head).map_err(|e| IngestError::Read {
        file: path.display().to_string(),
        source: e,
    })?;
    Ok(match &head[..n] {
        [0x1f, 0x8b, ..] => FocusFormat::CsvGzip,
        b"PAR1" => FocusFormat::Parquet,
        _ => FocusFormat::Csv,
    })
}

/// Import the FOCUS file at `path` (`name` is how errors name it); each period's rows are written
/// to `dest(period)`, replacing that file atomically.
pub fn import_focus(
    path: &Path,
    name: &str,
    dest: &dyn Fn(BillingPeriod) -> PathBuf,
) -> Result<FocusImport> {
    let format = detect_format(path)?;
    let open = || {
        File::open(path).map_err(|e| IngestError::Read {
            file: name.to_string(),
            source: e,
        })
    };
    let mut out = match format {
        FocusFormat::Csv => import_csv(BufReader::with_capacity(1 << 20, open()?), name, dest)?,
        FocusFormat::CsvGzip => import_csv(
            BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(open()?)),
            name,
            dest,
        )?,
        FocusFormat::Parquet => import_parquet(open()?, name, dest)?,
    };
    out.format = format;
    Ok(out)
}

/// Where each FOCUS column of the output comes from, and the `x_` columns kept.
struct Mapping {
    /// For each FOCUS column (in [`FOCUS_COLUMNS`] order): the index of the file's column.
    focus: Vec<Option<usize>>,
    /// (file column index, name) of each kept `x_` column.
    extensions: Vec<(usize, String)>,
    ignored: Vec<String>,
    schema: SchemaRef,
}

fn arrow_type(t: FocusType) -> DataType {
    match t {
        FocusType::Text | FocusType::Json => DataType::Utf8,
        FocusType::Decimal => DataType::Decimal128(STORE_PRECISION, STORE_SCALE as i8),
        FocusType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

impl Mapping {
    fn new(header: &[String], file: &str) -> Result<Self> {
        let focus: Vec<Option<usize>> = FOCUS_COLUMNS
            .iter()
            .map(|(n, _)| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
            .collect();
        if let Some(missing) = REQUIRED
            .iter()
            .find(|r| focus[FOCUS_COLUMNS.iter().position(|(n, _)| n == *r).unwrap_or(0)].is_none())
        {
            return Err(IngestError::MissingFocusColumn {
                file: file.to_string(),
                column: missing,
            });
        }
        let mut extensions = Vec::new();
        let mut ignored = Vec::new();
        for (i, h) in header.iter().enumerate() {
            let h = h.trim();
            if focus_column_ci(h).is_some() || h.eq_ignore_ascii_case(SOURCE_ROW_ID) {
                continue;
            }
            if h.len() > 2 && h[..2].eq_ignore_ascii_case("x_") {
                extensions.push((i, h.to_string()));
            } else if !h.is_empty() {
                ignored.push(h.to_string());
            }
        }
        let mut fields: Vec<Field> = FOCUS_COLUMNS
            .iter()
            .map(|(n, t)| Field::new(*n, arrow_type(*t), true))
            .collect();
        fields.extend(
            extensions
                .iter()
                .map(|(_, n)| Field::new(n, DataType::Utf8, true)),
        );
        fields.push(Field::new(SOURCE_ROW_ID, DataType::Int64, false));
        let mut md = std::collections::HashMap::new();
        md.insert("focus_version".to_string(), "1.2".to_string());
        md.insert(
            "generator".to_string(),
            concat!(
                "billing-engine be-ingest focus import ",
                env!("CARGO_PKG_VERSION")
            )
            .to_string(),
        );
        Ok(Self {
            focus,
            extensions,
            ignored,
            schema: Arc::new(Schema::new_with_metadata(fields, md)),
        })
    }

    fn missing(&self) -> Vec<&'static str> {
        FOCUS_COLUMNS
            .iter()
            .zip(&self.focus)
            .filter(|(_, i)| i.is_none())
            .map(|((n, _), _)| *n)
            .collect()
    }
}

/// A value of one output column.
#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Money(Option<i128>),
    Time(Option<i64>),
}

/// One period's output: rows buffered into columns, flushed to its temporary Parquet file.
struct PeriodSink {
    schema: SchemaRef,
    tmp: PathBuf,
    final_path: PathBuf,
    writer: ArrowWriter<File>,
    columns: Vec<Vec<Cell>>,
    rows: u64,
    billed: ExactSum,
    effective: ExactSum,
    currencies: Currencies,
}

/// The billing currencies seen in a period's rows.
#[derive(Debug, Default)]
enum Currencies {
    #[default]
    None,
    One(String),
    Several,
}

impl Currencies {
    fn see(&mut self, cell: &Cell) {
        let Cell::Text(Some(code)) = cell else {
            return;
        };
        match self {
            Currencies::None => *self = Currencies::One(code.clone()),
            Currencies::One(seen) if seen != code => *self = Currencies::Several,
            _ => {}
        }
    }

    fn single(self) -> Option<String> {
        match self {
            Currencies::One(code) => Some(code),
            _ => None,
        }
    }
}

/// Where BillingCurrency is in a row's cells (the FOCUS columns come first, in their order).
fn billing_currency_cell() -> usize {
    FOCUS_COLUMNS
        .iter()
        .position(|(c, _)| *c == "BillingCurrency")
        .expect("BillingCurrency is a FOCUS column")
}

fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(64 * 1024));
    b = b.set_statistics_enabled(EnabledStatistics::None);
    b.build()
}

impl PeriodSink {
    fn open(final_path: PathBuf, schema: &SchemaRef) -> Result<Self> {
        let tmp = temp_path(&final_path)?;
        let file = crate::store::private_new_file()
            .open(&tmp)
            .map_err(|e| IngestError::Write {
                path: tmp.clone(),
                source: e,
            })?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties()))
            .map_err(|e| IngestError::Parquet {
                context: format!("writing {}", tmp.display()),
                source: e,
            })?;
        Ok(Self {
            schema: schema.clone(),
            tmp,
            final_path,
            writer,
            columns: vec![Vec::new(); schema.fields().len() - 1],
            rows: 0,
            billed: ExactSum::ZERO,
            effective: ExactSum::ZERO,
            currencies: Currencies::None,
        })
    }

    fn push(&mut self, row: Vec<Cell>, billed: i128, effective: i128) -> Result<()> {
        if let Some(cell) = row.get(billing_currency_cell()) {
            self.currencies.see(cell);
        }
        for (col, cell) in self.columns.iter_mut().zip(row) {
            col.push(cell);
        }
        self.billed.add_store(billed);
        self.effective.add_store(effective);
        if self.columns[0].len() >= BATCH_ROWS {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<()> {
        let n = self.columns.first().map(Vec::len).unwrap_or(0);
        if n == 0 {
            return Ok(());
        }
        let schema = self.schema.clone();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for (field, cells) in schema.fields().iter().zip(self.columns.iter_mut()) {
            arrays.push(to_array(field.data_type(), std::mem::take(cells))?);
        }
        let first = self.rows as i64;
        arrays.push(Arc::new(Int64Array::from_iter_values(
            first..first + n as i64,
        )));
        self.rows += n as u64;
        let batch = RecordBatch::try_new(schema, arrays).map_err(|e| IngestError::Arrow {
            context: "assembling imported rows".into(),
            source: e,
        })?;
        self.writer.write(&batch).map_err(|e| IngestError::Parquet {
            context: format!("writing {}", self.tmp.display()),
            source: e,
        })
    }

    fn finish(mut self, period: BillingPeriod) -> Result<(PathBuf, PathBuf, ImportedPeriod)> {
        self.flush()?;
        let file = self.writer.into_inner().map_err(|e| IngestError::Parquet {
            context: format!("writing {}", self.tmp.display()),
            source: e,
        })?;
        file.sync_all().map_err(|e| IngestError::Write {
            path: self.tmp.clone(),
            source: e,
        })?;
        let imported = ImportedPeriod {
            period,
            path: self.final_path.clone(),
            rows: self.rows,
            bytes: 0,
            billed_cost: self.billed,
            effective_cost: self.effective,
            currency: std::mem::take(&mut self.currencies).single(),
        };
        Ok((self.tmp, self.final_path, imported))
    }
}

fn to_array(t: &DataType, cells: Vec<Cell>) -> Result<ArrayRef> {
    let arrow = |e| IngestError::Arrow {
        context: "assembling imported rows".into(),
        source: e,
    };
    Ok(match t {
        DataType::Decimal128(p, s) => Arc::new(
            cells
                .into_iter()
                .map(|c| if let Cell::Money(v) = c { v } else { None })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(*p, *s)
                .map_err(arrow)?,
        ),
        DataType::Timestamp(_, _) => Arc::new(
            cells
                .into_iter()
                .map(|c| if let Cell::Time(v) = c { v } else { None })
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        _ => Arc::new(
            cells
                .into_iter()
                .map(|c| if let Cell::Text(v) = c { v } else { None })
                .collect::<StringArray>(),
        ),
    })
}

/// All periods of one import; on error every temporary file is removed and nothing is replaced.
struct Sinks<'a> {
    schema: SchemaRef,
    dest: &'a dyn Fn(BillingPeriod) -> PathBuf,
    open: BTreeMap<BillingPeriod, PeriodSink>,
    rounded: u64,
}

impl Sinks<'_> {
    fn sink(&mut self, p: BillingPeriod) -> Result<&mut PeriodSink> {
        if !self.open.contains_key(&p) {
            let sink = PeriodSink::open((self.dest)(p), &self.schema)?;
            self.open.insert(p, sink);
        }
        Ok(self.open.get_mut(&p).expect("inserted above"))
    }

    fn abort(self) {
        for s in self.open.into_values() {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }

    /// Close every period's file, then replace the stored periods.
    fn commit(self) -> Result<Vec<ImportedPeriod>> {
        let mut done = Vec::new();
        let mut pending = Vec::new();
        let mut failure = None;
        for (p, s) in self.open {
            match failure {
                Some(_) => pending.push(s.tmp.clone()),
                None => match s.finish(p) {
                    Ok(x) => done.push(x),
                    Err(e) => failure = Some(e),
                },
            }
        }
        if let Some(e) = failure {
            for (tmp, _, _) in &done {
                let _ = std::fs::remove_file(tmp);
            }
            for tmp in pending {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(e);
        }
        let mut out = Vec::new();
        for (tmp, final_path, mut imported) in done {
            imported.bytes = commit(&tmp, &final_path)?;
            out.push(imported);
        }
        Ok(out)
    }
}

fn bad(
    file: &str,
    line: u64,
    column: usize,
    name: &str,
    value: &str,
    reason: impl Into<String>,
) -> IngestError {
    IngestError::ImportBadValue {
        at: Position {
            file: file.to_string(),
            line,
            column: Some(column as u64 + 1),
            column_name: Some(name.to_string()),
        },
        value: value.chars().take(80).collect(),
        reason: reason.into(),
    }
}

/// One field's value, parsed to its column's type. `line` and `column` locate errors.
fn parse_cell(
    t: FocusType,
    name: &str,
    raw: &str,
    at: (&str, u64, usize),
    rounded: &mut u64,
) -> Result<Cell> {
    let (file, line, column) = at;
    let value = raw.trim();
    if value.is_empty() {
        return Ok(match t {
            FocusType::Decimal => Cell::Money(None),
            FocusType::Timestamp => Cell::Time(None),
            _ => Cell::Text(None),
        });
    }
    Ok(match t {
        FocusType::Decimal => {
            let d =
                Dec::parse(value).map_err(|e| bad(file, line, column, name, raw, e.message()))?;
            let (v, was_rounded) = d
                .to_store()
                .map_err(|e| bad(file, line, column, name, raw, e.message()))?;
            *rounded += u64::from(was_rounded);
            Cell::Money(Some(v))
        }
        FocusType::Timestamp => {
            Cell::Time(Some(parse_timestamp_micros(value).ok_or_else(|| {
                bad(file, line, column, name, raw, "not a date or date-time")
            })?))
        }
        FocusType::Text | FocusType::Json => Cell::Text(Some(
            normalize_text(name, value)
                .map_err(|reason| bad(file, line, column, name, raw, reason))?,
        )),
    })
}

/// Values FOCUS restricts: the currency code and the charge category.
fn normalize_text(name: &str, value: &str) -> std::result::Result<String, String> {
    match name {
        "BillingCurrency" | "PricingCurrency" => Currency::parse(value)
            .map(|c| c.to_string())
            .map_err(|e| e.message),
        "ChargeCategory" => CHARGE_CATEGORIES
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .map(|c| c.to_string())
            .ok_or_else(|| {
                format!(
                    "a ChargeCategory is one of {}",
                    CHARGE_CATEGORIES.join(", ")
                )
            }),
        _ => Ok(value.to_string()),
    }
}

/// Check a row's mandatory values; returns its period, BilledCost and EffectiveCost.
fn row_essentials(
    cells: &[Cell],
    at: (&str, u64),
    column_of: &dyn Fn(usize) -> usize,
) -> Result<(BillingPeriod, i128, i128)> {
    let idx = |n: &str| {
        FOCUS_COLUMNS
            .iter()
            .position(|(c, _)| *c == n)
            .expect("a FOCUS column")
    };
    for n in NOT_NULL {
        let i = idx(n);
        let empty = matches!(
            &cells[i],
            Cell::Text(None) | Cell::Money(None) | Cell::Time(None)
        );
        if empty {
            return Err(bad(
                at.0,
                at.1,
                column_of(i),
                n,
                "",
                format!("{n} must have a value on every row"),
            ));
        }
    }
    let start = match &cells[idx("BillingPeriodStart")] {
        Cell::Time(Some(t)) => *t,
        _ => 0,
    };
    let period = BillingPeriod::of_micros(start).ok_or_else(|| {
        bad(
            at.0,
            at.1,
            column_of(idx("BillingPeriodStart")),
            "BillingPeriodStart",
            "",
            "not a usable date",
        )
    })?;
    let money = |n: &str| match &cells[idx(n)] {
        Cell::Money(Some(v)) => *v,
        _ => 0,
    };
    Ok((period, money("BilledCost"), money("EffectiveCost")))
}

fn import_csv<R: Read>(
    input: R,
    name: &str,
    dest: &dyn Fn(BillingPeriod) -> PathBuf,
) -> Result<FocusImport> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let csv_err = |line: u64| {
        move |e: csv::Error| IngestError::MalformedCsv {
            at: Position {
                file: name.to_string(),
                line,
                column: None,
                column_name: None,
            },
            reason: e.to_string(),
        }
    };
    if !csv.read_record(&mut record).map_err(csv_err(1))? {
        return Err(IngestError::MalformedCsv {
            at: Position {
                file: name.to_string(),
                line: 1,
                column: None,
                column_name: None,
            },
            reason: "the file is empty (no header line)".into(),
        });
    }
    let header: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 0 {
                h.trim_start_matches('\u{feff}').to_string()
            } else {
                h.to_string()
            }
        })
        .collect();
    let map = Mapping::new(&header, name)?;
    let mut sinks = Sinks {
        schema: map.schema.clone(),
        dest,
        open: BTreeMap::new(),
        rounded: 0,
    };
    // Lines are counted here, not taken from the csv crate (its record positions are one short on
    // CRLF files): a record starts one line after the previous one plus its quoted line breaks.
    let mut next_line = lines_after(1, &record);
    let result = (|| -> Result<()> {
        while csv.read_record(&mut record).map_err(csv_err(next_line))? {
            let line = next_line;
            next_line = lines_after(line, &record);
            let mut cells = Vec::with_capacity(map.schema.fields().len());
            for ((n, t), src) in FOCUS_COLUMNS.iter().zip(&map.focus) {
                cells.push(match src {
                    Some(i) => parse_cell(
                        *t,
                        n,
                        record.get(*i).unwrap_or_default(),
                        (name, line, *i),
                        &mut sinks.rounded,
                    )?,
                    None => parse_cell(*t, n, "", (name, line, 0), &mut sinks.rounded)?,
                });
            }
            for (i, _) in &map.extensions {
                let v = record.get(*i).unwrap_or_default();
                cells.push(Cell::Text((!v.is_empty()).then(|| v.to_string())));
            }
            let column_of = |focus_index: usize| map.focus[focus_index].unwrap_or(0);
            let (period, billed, effective) = row_essentials(&cells, (name, line), &column_of)?;
            sinks.sink(period)?.push(cells, billed, effective)?;
        }
        Ok(())
    })();
    finish(result, sinks, &map)
}

/// The line the record after `record` starts on, `record` starting on `line`: one more, plus the
/// line breaks inside its quoted fields (LF, CRLF and mixed endings alike).
fn lines_after(line: u64, record: &csv::StringRecord) -> u64 {
    line + 1
        + record
            .iter()
            .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
            .sum::<u64>()
}

fn finish(result: Result<()>, sinks: Sinks<'_>, map: &Mapping) -> Result<FocusImport> {
    if let Err(e) = result {
        sinks.abort();
        return Err(e);
    }
    let rounded = sinks.rounded;
    let periods = sinks.commit()?;
    Ok(FocusImport {
        format: FocusFormat::Csv,
        periods,
        missing_columns: map.missing(),
        extensions: map.extensions.iter().map(|(_, n)| n.clone()).collect(),
        ignored_columns: map.ignored.clone(),
        rounded_values: rounded,
    })
}

/// A Parquet column's value at `row` as the text it stands for (`None` when null).
fn parquet_text(a: &dyn Array, row: usize) -> Option<String> {
    if a.is_null(row) {
        return None;
    }
    match a.data_type() {
        DataType::Float64 => Some(format!(
            "{}",
            a.as_primitive::<arrow::datatypes::Float64Type>().value(row)
        )),
        DataType::Float32 => Some(format!(
            "{}",
            a.as_primitive::<arrow::datatypes::Float32Type>().value(row)
        )),
        DataType::Timestamp(unit, _) => {
            use arrow::datatypes::{
                TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                TimestampSecondType,
            };
            let micros = match unit {
                TimeUnit::Second => a
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .checked_mul(1_000_000)?,
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .value(row)
                    .checked_mul(1000)?,
                TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => {
                    a.as_primitive::<TimestampNanosecondType>().value(row) / 1000
                }
            };
            Some(format_micros(micros))
        }
        DataType::Map(_, _) => Some(map_json(a.as_map(), row)),
        _ => arrow::util::display::array_value_to_string(a, row).ok(),
    }
}

fn format_micros(micros: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A `Map<Utf8, Utf8>` entry (AWS and Google write tags this way) as a JSON object.
fn map_json(m: &arrow::array::MapArray, row: usize) -> String {
    let entries = m.value(row);
    let mut obj = serde_json::Map::new();
    for i in 0..entries.len() {
        let k = parquet_text(entries.column(0).as_ref(), i).unwrap_or_default();
        let v = parquet_text(entries.column(1).as_ref(), i)
            .map(serde_json::Value::String)
            .unwrap_or(serde_json::Value::Null);
        obj.insert(k, v);
    }
    serde_json::Value::Object(obj).to_string()
}

fn import_parquet(
    file: File,
    name: &str,
    dest: &dyn Fn(BillingPeriod) -> PathBuf,
) -> Result<FocusImport> {
    let pq = |e| IngestError::Parquet {
        context: format!("reading {name}"),
        source: e,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let header: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let map = Mapping::new(&header, name)?;
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(pq)?;
    let mut sinks = Sinks {
        schema: map.schema.clone(),
        dest,
        open: BTreeMap::new(),
        rounded: 0,
    };
    let mut row_number = 0u64;
    let result = (|| -> Result<()> {
        for batch in reader {
            let batch = batch.map_err(|e| IngestError::Arrow {
                context: format!("reading {name}"),
                source: e,
            })?;
            for r in 0..batch.num_rows() {
                row_number += 1;
                let mut cells = Vec::with_capacity(map.schema.fields().len());
                for ((n, t), src) in FOCUS_COLUMNS.iter().zip(&map.focus) {
                    let raw = src
                        .and_then(|i| parquet_text(batch.column(i).as_ref(), r))
                        .unwrap_or_default();
                    cells.push(parse_cell(
                        *t,
                        n,
                        &raw,
                        (name, row_number, src.unwrap_or(0)),
                        &mut sinks.rounded,
                    )?);
                }
                for (i, _) in &map.extensions {
                    cells.push(Cell::Text(
                        parquet_text(batch.column(*i).as_ref(), r).filter(|v| !v.is_empty()),
                    ));
                }
                let column_of = |focus_index: usize| map.focus[focus_index].unwrap_or(0);
                let (period, billed, effective) =
                    row_essentials(&cells, (name, row_number), &column_of)?;
                sinks.sink(period)?.push(cells, billed, effective)?;
            }
        }
        Ok(())
    })();
    finish(result, sinks, &map)
}
