use be_domain::FieldError;
use be_store::StoreError;

/// The app crate's one error enum. Every variant a user can cause carries a stable machine `code`
/// (part of the API contract) and a message a person can act on; [`AppError::Internal`] carries the
/// cause for the logs only and is shown to people as a generic message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An input value did not parse.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// Several input values did not parse (a form with several fields).
    #[error("{} fields need attention: {}", .0.len(), .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    InvalidFields(Vec<FieldError>),
    /// Azure refused or could not answer; `message` says what is wrong and what to do.
    #[error("{message}")]
    Upstream {
        code: &'static str,
        message: String,
        retryable: bool,
    },
    /// The request conflicts with existing data (a taken name).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// The thing does not exist, or exists in another organization (indistinguishable on purpose).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// No valid credentials.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// Too many attempts; try again later.
    #[error("{message}")]
    RateLimited {
        code: &'static str,
        message: String,
        retry_after_seconds: u64,
    },
    /// The rating engine or the FOCUS importer refused or failed; its code, message and remedy
    /// are kept as it gave them.
    #[error("{0}")]
    Engine(crate::rating::PortError),
    /// The state could not be read or written (database unreachable and the like).
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] StoreError),
    /// A bug or an unexpected failure.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(e) => e.code,
            AppError::InvalidFields(_) => "invalid_fields",
            AppError::Upstream { code, .. } => code,
            AppError::RateLimited { code, .. } => code,
            AppError::Conflict { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Unauthenticated { code, .. } => code,
            AppError::Engine(e) => e.code,
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// Every field error, for forms that show each beside its field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid(e) => vec![e.clone()],
            AppError::InvalidFields(all) => all.clone(),
            AppError::Conflict {
                code,
                field: Some(f),
                message,
            } => vec![FieldError::new(*f, code, message)],
            _ => vec![],
        }
    }

    /// The input field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid(e) => Some(&e.field),
            AppError::Conflict { field, .. } => *field,
            _ => None,
        }
    }

    /// What a person is shown. Internal failures say nothing internal.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unavailable(_) => {
                "The service is temporarily unavailable. Try again in a moment.".into()
            }
            AppError::Internal(_) => {
                "Something went wrong on our side. It has been logged; try again.".into()
            }
            AppError::Engine(e) if e.kind == crate::rating::PortErrorKind::Failed => {
                format!("{} could not finish ({}): {}", e.port.what(), e.code, e.remedy)
            }
            AppError::Engine(e) => format!("{} {}", e.message, capitalized(&e.remedy)),
            other => other.to_string(),
        }
    }

    /// The error and every cause beneath it, for the logs (never shown to people).
    pub fn chain(&self) -> String {
        let mut chain = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        chain
    }

    pub(crate) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(e))
    }

    /// No credentials, or none that name a live session or token.
    pub fn unauthenticated() -> Self {
        AppError::Unauthenticated {
            code: "unauthenticated",
            message: "Sign in, or send an API token as 'Authorization: Bearer <token>'.".into(),
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

impl From<crate::rating::PortError> for AppError {
    fn from(e: crate::rating::PortError) -> Self {
        AppError::Engine(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            AppError::Unavailable(e)
        } else {
            AppError::internal(e)
        }
    }
}
