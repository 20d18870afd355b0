use std::{borrow::Cow, fmt};

/// A value that failed to parse: which field, a stable machine code, and a message a person can act
/// on. The code is part of the API contract (tests pin each one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The input at fault: a form field (`name`), or a path into a document
    /// (`plans[0].rules[2].percent`).
    pub field: Cow<'static, str>,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: &'static str,
        message: impl fmt::Display,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.to_string(),
        }
    }

    /// The same error, located under `prefix` (`rules[2]` + `percent` = `rules[2].percent`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if prefix.is_empty() {
            self.field
        } else {
            Cow::Owned(format!("{prefix}.{}", self.field))
        };
        self
    }
}

/// The domain crate's one error enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
}
