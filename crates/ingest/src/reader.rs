//! Streaming reader of one Cost Details CSV.

use std::io::Read;
use std::sync::Arc;

use crate::columns::{Agreement, Col, ColumnMap, HeaderError, aliases_of};
use crate::date::parse_timestamp_micros;
use crate::decimal::Dec;
use crate::error::{IngestError, Position, Result};
use crate::warning::{Warning, Warnings};

const NOT_A_DATE_NULL: &str =
    "not a date in a known format (MM/DD/YYYY, YYYY-MM-DD, ISO 8601); stored as null";
use crate::scan::{
    CHUNK_BYTES, ChunkBuf, Chunker, Fields, ScanError, Scanner, last_record_end, malformed,
    utf8_error_position,
};

/// A streaming reader of one Cost Details CSV file (EA or MCA, any layout of azure-protocol.md
/// section 5). Holds one chunk of whole records at a time: memory does not depend on the file's
/// size. (The converter reads chunks on several threads; this reader is the sequential view.)
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
    chunker: Chunker<R>,
    map: Arc<ColumnMap>,
    chunk: Chunk,
    fields: Fields,
    rows: u64,
}

/// One chunk of whole records, UTF-8 checked, with the line its first record starts on.
#[derive(Default)]
struct Chunk {
    text: String,
    first_line: u64,
    pos: usize,
    line: u64,
}

impl Chunk {
    fn new(bytes: Vec<u8>, file: &str, first_line: u64, map: &ColumnMap) -> Result<Chunk> {
        check_utf8(&bytes, file, first_line, Some(map))?;
        Ok(Chunk {
            text: String::from_utf8(bytes).unwrap_or_default(),
            first_line,
            pos: 0,
            line: 1,
        })
    }
}

/// A chunk as text; the error names the line and field of the first byte that is not UTF-8.
pub(crate) fn check_utf8<'a>(
    bytes: &'a [u8],
    file: &str,
    first_line: u64,
    map: Option<&ColumnMap>,
) -> Result<&'a str> {
    simdutf8::compat::from_utf8(bytes).map_err(|e| {
        let (line, field) = utf8_error_position(bytes, e.valid_up_to());
        malformed(
            file,
            first_line + line - 1,
            field,
            field.and_then(|f| map.and_then(|m| m.name(f))),
            "invalid UTF-8",
        )
    })
}

/// A scan error as an [`IngestError`] at its absolute line.
pub(crate) fn scan_error(
    e: ScanError,
    file: &str,
    first_line: u64,
    map: Option<&ColumnMap>,
) -> IngestError {
    malformed(
        file,
        first_line + e.line - 1,
        e.field,
        e.field.and_then(|f| map.and_then(|m| m.name(f))),
        e.reason,
    )
}

/// Read and match a source's header line (a byte-order mark is skipped). Returns the column map,
/// the rest of the first chunk (whole records) and the line after the header.
pub(crate) fn read_header<R: Read>(
    name: &str,
    chunker: &mut Chunker<R>,
) -> Result<(ColumnMap, Vec<u8>, u64)> {
    let mut chunk = ChunkBuf::default();
    let empty = || malformed(name, 1, None, None, "the file is empty (no header line)");
    if !chunker.next_chunk(&mut chunk, name)? {
        return Err(empty());
    }
    let buf = chunk.bytes();
    let checked = check_utf8(
        &buf[..last_record_end(buf).unwrap_or(buf.len())],
        name,
        1,
        None,
    );
    let mut sc = match checked {
        Ok(t) => Scanner::on_text(t, 0, 1),
        Err(_) => Scanner::new(buf),
    };
    let mut f = Fields::default();
    let header_ok = sc
        .next_record(&mut f)
        .map_err(|e| scan_error(e, name, 1, None))?;
    if header_ok.is_none() {
        return Err(empty());
    }
    if let Ok(t) = &checked {
        f.unescape(t).map_err(|(field, reason)| {
            scan_error(
                ScanError {
                    line: 1,
                    field: Some(field),
                    reason,
                },
                name,
                1,
                None,
            )
        })?;
    }
    let end = sc.offset();
    let lines = sc.lines();
    check_utf8(&buf[..end], name, 1, None)?;
    let text = std::str::from_utf8(&buf[..end]).unwrap_or("");
    let names: Vec<&str> = (0..f.len())
        .map(|i| f.get(text, i).unwrap_or(""))
        .map(|h| h.trim_start_matches('\u{feff}'))
        .collect();
    let at = || Position {
        file: name.to_string(),
        line: 1,
        column: None,
        column_name: None,
    };
    let map = ColumnMap::from_header(names).map_err(|e| match e {
        HeaderError::Missing(missing) => IngestError::MissingColumn {
            at: at(),
            column: aliases_of(missing)[0],
            aliases: aliases_of(missing).join(", "),
        },
        HeaderError::Unsupported { layout, reason } => IngestError::UnsupportedLayout {
            at: at(),
            layout,
            reason: reason.to_string(),
        },
    })?;
    let rest = buf[end..].to_vec();
    Ok((map, rest, 1 + lines))
}

impl<R: Read> CostReader<R> {
    /// Read the header of `input` (a byte-order mark is skipped) and match it through the alias table.
    /// `name` is used in every error (the blob or file name).
    pub fn new(name: impl Into<String>, input: R) -> Result<Self> {
        let name = name.into();
        let mut chunker = Chunker::new(input, CHUNK_BYTES);
        let (map, rest, line) = read_header(&name, &mut chunker)?;
        let map = Arc::new(map);
        let chunk = Chunk::new(rest, &name, line, &map)?;
        Ok(CostReader {
            name,
            chunker,
            map,
            chunk,
            fields: Fields::default(),
            rows: 0,
        })
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        loop {
            let (got, pos, lines) = {
                let mut sc = Scanner::on_text(&self.chunk.text, self.chunk.pos, self.chunk.line);
                let got = sc.next_record(&mut self.fields).map_err(|e| {
                    scan_error(e, &self.name, self.chunk.first_line, Some(&self.map))
                })?;
                if let Some(line) = got {
                    self.fields
                        .unescape(&self.chunk.text)
                        .map_err(|(field, reason)| {
                            scan_error(
                                ScanError {
                                    line,
                                    field: Some(field),
                                    reason,
                                },
                                &self.name,
                                self.chunk.first_line,
                                Some(&self.map),
                            )
                        })?;
                }
                (got, sc.offset(), sc.lines())
            };
            self.chunk.pos = pos;
            self.chunk.line = lines + 1;
            if let Some(local) = got {
                self.rows += 1;
                let line = self.chunk.first_line + local - 1;
                check_width(&self.fields, &self.map, &self.name, line)?;
                return Ok(Some(Record {
                    text: &self.chunk.text,
                    fields: &self.fields,
                    map: &self.map,
                    file: &self.name,
                    line,
                }));
            }
            let next_line = self.chunk.first_line + self.chunk.line - 1;
            let mut bytes = ChunkBuf::from_vec(std::mem::take(&mut self.chunk.text).into_bytes());
            if !self.chunker.next_chunk(&mut bytes, &self.name)? {
                return Ok(None);
            }
            self.chunk = Chunk::new(bytes.into_vec(), &self.name, next_line, &self.map)?;
        }
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

/// Every record has as many fields as the header.
pub(crate) fn check_width(f: &Fields, map: &ColumnMap, file: &str, line: u64) -> Result<()> {
    if f.len() != map.width() {
        let expected = map.width();
        return Err(malformed(
            file,
            line,
            Some(f.len().min(expected)),
            map.name(f.len().min(expected)),
            format!("{} fields where the header has {expected}", f.len()),
        ));
    }
    Ok(())
}

impl CostReader<std::fs::File> {
    /// Open a file by path; its path is the name used in errors.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| IngestError::Read {
            file: name.clone(),
            source: e,
        })?;
        CostReader::new(name, f)
    }
}

/// One record of a Cost Details file, with its logical columns.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    text: &'a str,
    fields: &'a Fields,
    map: &'a ColumnMap,
    file: &'a str,
    line: u64,
}

impl<'a> Record<'a> {
    pub(crate) fn new(
        text: &'a str,
        fields: &'a Fields,
        map: &'a ColumnMap,
        file: &'a str,
        line: u64,
    ) -> Self {
        Record {
            text,
            fields,
            map,
            file,
            line,
        }
    }

    /// The raw text of a logical column (`""` if the file has no such column).
    #[inline]
    pub fn str(&self, c: Col) -> &'a str {
        match self.map.get(c) {
            Some(i) => self.fields.get(self.text, i).unwrap_or(""),
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
        IngestError::BadValue {
            at: self.position(c),
            value: self.str(c).chars().take(80).collect(),
            reason: reason.to_string(),
        }
    }

    /// A decimal column: empty is `None`; anything else must parse exactly.
    #[inline]
    pub fn decimal(&self, c: Col) -> Result<Option<Dec>> {
        let s = self.str(c);
        if s.is_empty() {
            return Ok(None);
        }
        Dec::parse(s)
            .map(Some)
            .map_err(|e| self.bad(c, e.message()))
    }

    /// A date column as UTC microseconds; empty is `None`.
    pub fn timestamp(&self, c: Col) -> Result<Option<i64>> {
        let s = self.str(c);
        if s.trim().is_empty() {
            return Ok(None);
        }
        parse_timestamp_micros(s).map(Some).ok_or_else(|| {
            self.bad(
                c,
                "not a date in a known format (MM/DD/YYYY, YYYY-MM-DD, ISO 8601)",
            )
        })
    }

    /// An optional date column that only feeds an `x_` extension: a value that does not parse is
    /// `None`, counted in `warnings`.
    pub fn optional_timestamp(&self, c: Col, warnings: &mut Warnings) -> Option<i64> {
        let s = self.str(c);
        if s.trim().is_empty() {
            return None;
        }
        let v = parse_timestamp_micros(s);
        if v.is_none() {
            self.warn(c, warnings, NOT_A_DATE_NULL);
        }
        v
    }

    /// An optional decimal column that only feeds an `x_` extension: a value that does not parse
    /// (or does not fit the stored scale) is `None`, counted in `warnings`. The second value says
    /// whether a valid value was rounded when stored.
    pub fn optional_stored_decimal(&self, c: Col, warnings: &mut Warnings) -> (Option<i128>, bool) {
        let s = self.str(c);
        if s.is_empty() {
            return (None, false);
        }
        match Dec::parse(s).map(|d| d.to_store()) {
            Ok(Ok((v, rounded))) => (Some(v), rounded),
            _ => {
                self.warn(c, warnings, "not a decimal number; stored as null");
                (None, false)
            }
        }
    }

    /// Count a value of column `c` that was not used.
    pub fn warn(&self, c: Col, warnings: &mut Warnings, reason: &str) {
        warnings.push(|| Warning::new(self.position(c), self.str(c), reason));
    }

    /// An error about this record's column `c`.
    pub fn error(&self, c: Col, reason: &str) -> IngestError {
        self.bad(c, reason)
    }
}
