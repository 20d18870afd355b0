//! The crate's one error type.

use std::path::PathBuf;

/// Where in a source file something went wrong. Lines and columns are 1-based; the header is line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file's name as the caller gave it (a blob name or a path).
    pub file: String,
    pub line: u64,
    /// 1-based field number in the record, when the problem is in one field.
    pub column: Option<u64>,
    /// The header name of that column, when known.
    pub column_name: Option<String>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
            if let Some(n) = &self.column_name {
                write!(f, " ({n})")?;
            }
        }
        Ok(())
    }
}

/// Everything that can fail in ingestion. [`IngestError::code`] is stable (stored with the sync run
/// and shown to users); messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The CSV is not well formed (unbalanced quotes, wrong number of fields, bad UTF-8).
    #[error("{at}: malformed CSV: {reason}")]
    MalformedCsv { at: Position, reason: String },

    /// A required column is missing from the header.
    #[error(
        "{at}: the header has no {column} column (looked for: {aliases}); this is not a Cost Details file in a known layout"
    )]
    MissingColumn {
        at: Position,
        column: &'static str,
        aliases: String,
    },

    /// The header is of a layout this version recognizes but cannot convert without guessing.
    #[error("{at}: {layout}: {reason}")]
    UnsupportedLayout {
        at: Position,
        layout: &'static str,
        reason: String,
    },

    /// A currency code that is not ISO 4217 (or none) where FOCUS needs one.
    #[error("{at}: {reason}: {value:?}")]
    BadCurrency {
        at: Position,
        value: String,
        reason: &'static str,
    },

    /// A value of an imported FOCUS file is not of its column's type, or not allowed there.
    #[error("{at}: {reason}: {value:?}")]
    ImportBadValue {
        at: Position,
        value: String,
        reason: String,
    },

    /// A FOCUS file lacks a column rating needs.
    #[error(
        "{file}: the file has no {column} column; rating needs it (every FOCUS 1.0, 1.1 and 1.2 file has one)"
    )]
    MissingFocusColumn { file: String, column: &'static str },

    /// A field does not hold a value of its column's type.
    #[error("{at}: {reason}: {value:?}")]
    BadValue {
        at: Position,
        value: String,
        reason: String,
    },

    /// An actual-cost and an amortized-cost file disagree on the agreement type (EA vs MCA).
    #[error("the files mix agreement types: {first} is {first_kind}, {second} is {second_kind}")]
    MixedAgreements {
        first: String,
        first_kind: &'static str,
        second: String,
        second_kind: &'static str,
    },

    /// Reading a source failed.
    #[error("reading {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// Writing the Parquet file (or its temporary file) failed; the previous file is untouched.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The Parquet or Arrow library refused the data.
    #[error("{context}: {source}")]
    Parquet {
        context: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("{context}: {source}")]
    Arrow {
        context: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// A stored Parquet file does not have the FOCUS schema this crate writes.
    #[error("{path}: not a FOCUS period file written by this version: {reason}")]
    NotAFocusFile { path: PathBuf, reason: String },

    /// The converted period's totals differ from the source files' (or rows were lost): it was not
    /// stored, the previous file of the period stays.
    #[error("the period was not stored: {}", .0.summary())]
    NotReconciled(Box<crate::reconcile::Reconciliation>),

    /// A worker thread panicked (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl IngestError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::MalformedCsv { .. } => "ingest_malformed_csv",
            IngestError::MissingColumn { .. } => "ingest_missing_column",
            IngestError::UnsupportedLayout { .. } => "ingest_unsupported_layout",
            IngestError::BadCurrency { .. } => "ingest_bad_currency",
            IngestError::MissingFocusColumn { .. } => "import_missing_column",
            IngestError::ImportBadValue { .. } => "import_bad_value",
            IngestError::BadValue { .. } => "ingest_bad_value",
            IngestError::MixedAgreements { .. } => "ingest_mixed_agreements",
            IngestError::Read { .. } => "ingest_read_failed",
            IngestError::Write { .. } => "ingest_write_failed",
            IngestError::Parquet { .. } => "ingest_parquet_failed",
            IngestError::Arrow { .. } => "ingest_arrow_failed",
            IngestError::NotAFocusFile { .. } => "ingest_not_a_focus_file",
            IngestError::NotReconciled(_) => "reconciliation_mismatch",
            IngestError::Internal(_) => "ingest_internal",
        }
    }

    /// A remedy a person can act on.
    pub fn remedy(&self) -> &'static str {
        match self {
            IngestError::MalformedCsv { .. } | IngestError::BadValue { .. } => {
                "the file Azure served is damaged or in an unknown format; the period keeps its previous data. Retry the sync; if it fails again, report the file, line and column."
            }
            IngestError::MissingColumn { .. } => {
                "the Cost Details file has a layout this version does not know; the period keeps its previous data. Report the header line."
            }
            IngestError::UnsupportedLayout { .. } => {
                "export the costs again as Cost Details (Cost Management, Exports or the Cost Details API: any current layout); nothing of this file was stored."
            }
            IngestError::BadCurrency { .. } => {
                "the costs of that row cannot be billed without an ISO 4217 currency (USD, EUR, JPY...); the period keeps its previous data. Report the file, line and column with the value."
            }
            IngestError::ImportBadValue { .. } => {
                "correct the value at the file, line and column named, then import the file again; nothing was imported."
            }
            IngestError::MissingFocusColumn { .. } => {
                "export the data in FOCUS format (1.0, 1.1 or 1.2) with every mandatory column, then import it again; nothing was imported."
            }
            IngestError::MixedAgreements { .. } => {
                "the actual and amortized reports must come from the same billing account."
            }
            IngestError::Read { .. } => "the download was interrupted; retry the sync.",
            IngestError::Write { .. } | IngestError::Parquet { .. } | IngestError::Arrow { .. } => {
                "check free disk space and permissions of the data directory; the period keeps its previous data."
            }
            IngestError::NotAFocusFile { .. } => {
                "the stored period file is from another version or damaged; re-sync the period."
            }
            IngestError::NotReconciled(_) => {
                "the period keeps its previous data and is pulled again at the next sync; if the difference stays, report it with the period and the connection ID."
            }
            IngestError::Internal(_) => "this is a bug; report it with the log.",
        }
    }

    /// The same error with its line moved down by `lines` (for errors found in a chunk, whose
    /// lines count from the chunk's first line).
    pub(crate) fn on_line_after(mut self, lines: u64) -> Self {
        if let IngestError::MalformedCsv { at, .. }
        | IngestError::MissingColumn { at, .. }
        | IngestError::BadCurrency { at, .. }
        | IngestError::BadValue { at, .. } = &mut self
        {
            at.line += lines;
        }
        self
    }

    /// The position in a source file, for errors that have one.
    pub fn position(&self) -> Option<&Position> {
        match self {
            IngestError::MalformedCsv { at, .. }
            | IngestError::MissingColumn { at, .. }
            | IngestError::BadValue { at, .. }
            | IngestError::BadCurrency { at, .. }
            | IngestError::UnsupportedLayout { at, .. }
            | IngestError::ImportBadValue { at, .. } => Some(at),
            _ => None,
        }
    }
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
