//! The crate's one error type.

use std::net::SocketAddr;

/// Errors of the simulator's Rust API (not of its HTTP answers: those are Azure's shapes).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listener could not be bound.
    #[error("cannot bind the simulator to {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Another I/O failure (reading the bound address, writing a report).
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Something referenced by an administrative call does not exist.
    #[error("{kind} '{id}' not found")]
    NotFound { kind: &'static str, id: String },
    /// An administrative call conflicts with existing state.
    #[error("{0}")]
    Conflict(String),
    /// An administrative call carries an invalid value.
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl SimError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        SimError::Invalid {
            field,
            message: message.into(),
        }
    }
    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        SimError::NotFound {
            kind,
            id: id.into(),
        }
    }
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;
