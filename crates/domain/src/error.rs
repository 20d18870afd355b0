use std::fmt;

/// A value that failed to parse: which field, a stable machine code, and a message a person can act
/// on. The code is part of the API contract (tests pin each one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, message: impl fmt::Display) -> Self {
        Self { field, code, message: message.to_string() }
    }
}

/// The domain crate's one error enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
}
