//! Streaming reader of one Cost Details CSV.

use std::io::Read;

use crate::columns::{Agreement, Col, ColumnMap, aliases_of};
use crate::date::parse_timestamp_micros;
use crate::decimal::Dec;
use crate::error::{IngestError, Position, Result};

/// Read buffer size: large reads keep the parser busy.
const BUF: usize = 1 << 20;

/// A streaming reader of one Cost Details CSV file (EA or MCA, any layout of azure-protocol.md
/// section 5). Holds one record at a time: memory does not depend on the file's size.
///
/// ```no_run
/// # fn f() -> be_ingest::Result<()> {
/// let file = std::fs::File::open("actual.csv").map_err(|e| be_ingest::IngestError::Read { file: "actual.csv".into(), source: e })?;
/// let mut r = be_ingest::CostReader::new("actual.csv", file)?;
/// while let Some(rec) = r.next_record()? {
///     let cost = rec.decimal(be_ingest::Col::CostInBillingCurrency)?;
///     # let _ = cost;
/// }
/// # Ok(()) }
/// ```
pub struct CostReader<R> {
    name: String,
    csv: csv::Reader<R>,
    map: ColumnMap,
    record: csv::StringRecord,
    rows: u64,
}

impl<R: Read> CostReader<R> {
    /// Read the header of `input` (a byte-order mark is skipped) and match it through the alias table.
    /// `name` is used in every error (the blob or file name).
    pub fn new(name: impl Into<String>, input: R) -> Result<Self> {
        let name = name.into();
        let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(false).buffer_capacity(BUF).from_reader(input);
        let mut header = csv::StringRecord::new();
        let got = csv.read_record(&mut header).map_err(|e| csv_error(&name, e, None))?;
        if !got {
            return Err(IngestError::MalformedCsv { at: Position { file: name, line: 1, column: None, column_name: None }, reason: "the file is empty (no header line)".into() });
        }
        let fields: Vec<&str> = header.iter().enumerate().map(|(i, h)| if i == 0 { h.trim_start_matches('\u{feff}') } else { h }).collect();
        let map = ColumnMap::from_header(fields).map_err(|missing| IngestError::MissingColumn {
            at: Position { file: name.clone(), line: 1, column: None, column_name: None },
            column: aliases_of(missing)[0],
            aliases: aliases_of(missing).join(", "),
        })?;
        Ok(CostReader { name, csv, map, record: csv::StringRecord::new(), rows: 0 })
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        let got = self.csv.read_record(&mut self.record).map_err(|e| csv_error(&self.name, e, Some(&self.map)))?;
        if !got {
            return Ok(None);
        }
        self.rows += 1;
        let line = self.record.position().map(|p| p.line()).unwrap_or(self.rows + 1);
        Ok(Some(Record { rec: &self.record, map: &self.map, file: &self.name, line }))
    }

    pub fn columns(&self) -> &ColumnMap {
        &self.map
    }

    pub fn agreement(&self) -> Agreement {
        self.map.agreement()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

impl CostReader<std::fs::File> {
    /// Open a file by path; its path is the name used in errors.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| IngestError::Read { file: name.clone(), source: e })?;
        CostReader::new(name, f)
    }
}

fn csv_error(file: &str, e: csv::Error, map: Option<&ColumnMap>) -> IngestError {
    let at = |line: u64, column: Option<u64>| Position {
        file: file.to_string(),
        line,
        column,
        column_name: column.and_then(|c| map.and_then(|m| m.name(c as usize - 1)).map(str::to_string)),
    };
    let reason = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Read { file: file.to_string(), source },
        csv::ErrorKind::Utf8 { pos, err } => IngestError::MalformedCsv {
            at: at(pos.as_ref().map(|p| p.line()).unwrap_or(0), Some(err.field() as u64 + 1)),
            reason: "invalid UTF-8".into(),
        },
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => IngestError::MalformedCsv {
            at: at(pos.as_ref().map(|p| p.line()).unwrap_or(0), Some(len.min(expected_len) + 1)),
            reason: format!("{len} fields where the header has {expected_len}"),
        },
        _ => IngestError::MalformedCsv { at: at(0, None), reason },
    }
}

/// One record of a Cost Details file, with its logical columns.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    rec: &'a csv::StringRecord,
    map: &'a ColumnMap,
    file: &'a str,
    line: u64,
}

impl<'a> Record<'a> {
    /// The raw text of a logical column (`""` if the file has no such column).
    #[inline]
    pub fn str(&self, c: Col) -> &'a str {
        match self.map.get(c) {
            Some(i) => self.rec.get(i).unwrap_or(""),
            None => "",
        }
    }

    /// Whether the file has this logical column at all.
    pub fn has(&self, c: Col) -> bool {
        self.map.has(c)
    }

    /// The line this record starts on (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The error position of a logical column in this record.
    pub fn position(&self, c: Col) -> Position {
        let i = self.map.get(c);
        Position {
            file: self.file.to_string(),
            line: self.line,
            column: i.map(|i| i as u64 + 1),
            column_name: i.and_then(|i| self.map.name(i)).map(str::to_string),
        }
    }

    fn bad(&self, c: Col, reason: &str) -> IngestError {
        IngestError::BadValue { at: self.position(c), value: self.str(c).chars().take(80).collect(), reason: reason.to_string() }
    }

    /// A decimal column: empty is `None`; anything else must parse exactly.
    #[inline]
    pub fn decimal(&self, c: Col) -> Result<Option<Dec>> {
        let s = self.str(c);
        if s.is_empty() {
            return Ok(None);
        }
        Dec::parse(s).map(Some).map_err(|e| self.bad(c, e.message()))
    }

    /// A date column as UTC microseconds; empty is `None`.
    pub fn timestamp(&self, c: Col) -> Result<Option<i64>> {
        let s = self.str(c);
        if s.trim().is_empty() {
            return Ok(None);
        }
        parse_timestamp_micros(s).map(Some).ok_or_else(|| self.bad(c, "not a date in a known format (MM/DD/YYYY, YYYY-MM-DD, ISO 8601)"))
    }

    /// An error about this record's column `c`.
    pub fn error(&self, c: Col, reason: &str) -> IngestError {
        self.bad(c, reason)
    }
}
