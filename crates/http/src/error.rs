//! The one place errors become HTTP answers. API errors are JSON:
//! `{"code": "<stable machine code>", "message": "<what to do>", "field": "<input field, if any>"}`.
//! 5xx bodies never say anything internal; the cause goes to the log with the request's ID.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use be_app::AppError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field that needs attention, when a request had several mistakes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            errors: vec![],
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side. It has been logged; try again.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address. See /api/v1/openapi.json.",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This address does not accept this method. See /api/v1/openapi.json.",
        )
    }
}

/// The HTTP status for each kind of use-case error.
pub fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::Invalid(_) | AppError::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Upstream {
            retryable: true, ..
        } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Upstream {
            retryable: false, ..
        } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Engine(e) => match e.kind {
            be_app::PortErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            be_app::PortErrorKind::NotFound => StatusCode::NOT_FOUND,
            be_app::PortErrorKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        },
    }
}

/// Log a server-side failure with its whole cause chain (never shown to the caller).
pub fn log_if_server_error(err: &AppError) {
    let engine_failed =
        matches!(err, AppError::Engine(e) if e.kind == be_app::PortErrorKind::Failed);
    if engine_failed || matches!(err, AppError::Internal(_) | AppError::Unavailable(_)) {
        tracing::error!(code = err.code(), error = %err.chain(), "request failed");
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        log_if_server_error(&err);
        ApiError {
            status: status_of(&err),
            code: err.code(),
            message: err.public_message(),
            field: err.field().map(str::to_string),
            retry_after: match &err {
                AppError::RateLimited {
                    retry_after_seconds,
                    ..
                } => Some(*retry_after_seconds),
                _ => None,
            },
            errors: match &err {
                AppError::InvalidFields(all) => all
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.to_string(),
                        code: e.code,
                        message: e.message.clone(),
                    })
                    .collect(),
                _ => vec![],
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        if let Some(v) = retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
