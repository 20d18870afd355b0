//! The engine's one error enum. Every variant has a stable code and a remedy a person can act on;
//! DataFusion's own errors are kept as the source (for the logs), never shown raw.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A stored period file cannot be read as FOCUS data.
    #[error("{path} cannot be read as a FOCUS period: {reason}")]
    BadInput { path: PathBuf, reason: String },
    /// A rated period's files are missing or unreadable.
    #[error("the rated data of {period} is not readable: {reason}")]
    RatedUnreadable { period: String, reason: String },
    /// A value outside what the stored scale holds (a sum beyond 14 integral digits).
    #[error("{what} does not fit the stored decimal type")]
    Overflow { what: String },
    /// The line the user asked to explain does not exist.
    #[error("{0}")]
    LineNotFound(String),
    /// A query the user built is not valid (an unknown column, a bad grouping).
    #[error("{0}")]
    InvalidQuery(String),
    /// Writing the rated output failed (disk full, permissions).
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// DataFusion failed: a bug or a resource problem.
    #[error("the query engine failed while {context}")]
    Query {
        context: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
}

impl EngineError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput { .. } => "rating_input_unreadable",
            Self::RatedUnreadable { .. } => "rated_data_unreadable",
            Self::Overflow { .. } => "rating_overflow",
            Self::LineNotFound(_) => "line_not_found",
            Self::InvalidQuery(_) => "query_invalid",
            Self::Write { .. } => "rating_write_failed",
            Self::Query { .. } => "rating_failed",
        }
    }

    /// What a person can do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            Self::BadInput { .. } => {
                "Sync or import the period again; if it repeats, report it with the period."
            }
            Self::RatedUnreadable { .. } => "Rate the period again.",
            Self::Overflow { .. } => "Check the source data for an implausibly large amount.",
            Self::LineNotFound(_) => {
                "Copy the line ID from a rated period's lines (console, API or CLI) and try again."
            }
            Self::InvalidQuery(_) => "Correct the query as the message says.",
            Self::Write { .. } => {
                "Check the data directory's free space and permissions, then rate again."
            }
            Self::Query { .. } => "Rate again; if it repeats, report it with the period.",
        }
    }

    pub(crate) fn query(
        context: impl Into<String>,
    ) -> impl FnOnce(datafusion::error::DataFusionError) -> Self {
        let context = context.into();
        move |source| Self::Query { context, source }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
