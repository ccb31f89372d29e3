//! The error of every non-QR endpoint: a stable machine-readable code and a message safe to
//! show. Internal causes are logged here and never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// What a client told 503 is asked to wait before trying again, in seconds: every 503 of
/// every surface says it, so a well-behaved client backs off whether we are overloaded or
/// our database is away.
pub const RETRY_AFTER_S: u64 = 1;

/// `response` with `Retry-After` when it is a 503.
pub fn with_retry_after(mut response: HttpResponse) -> HttpResponse {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(RETRY_AFTER_S),
        );
    }
    response
}

/// A query string that does not read is a 400 in this error's shape, not actix's text.
pub fn query_errors() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|error, _| ApiError::bad_request(error.to_string()).into())
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// The body of every error on the surfaces we own (`/qr/v1` keeps Electrum's `ErrorDetail`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable and machine-readable: `BAD_REQUEST`, `UNAUTHENTICATED`, `FORBIDDEN`,
    /// `NOT_FOUND`, `CONFLICT`, `TOO_MANY_FAILED_ATTEMPTS`, `OVERLOADED`, `UNAVAILABLE`, ...
    #[schema(example = "NOT_FOUND")]
    pub code: &'a str,
    /// Safe to show; never an internal cause.
    #[schema(example = "no such resource")]
    pub message: &'a str,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST",
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            code: "CONFLICT",
            message: message.into(),
        }
    }

    /// 401 or 429 from the authentication layer.
    pub fn unauthenticated(status: StatusCode) -> Self {
        Self {
            status,
            code: if status == StatusCode::TOO_MANY_REQUESTS {
                "TOO_MANY_FAILED_ATTEMPTS"
            } else {
                "UNAUTHENTICATED"
            },
            message: "authentication required".to_owned(),
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "FORBIDDEN",
            message: "not allowed for this user".to_owned(),
        }
    }

    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "NOT_FOUND",
            message: "no such resource".to_owned(),
        }
    }

    /// 503: the request is fine but cannot be answered correctly right now.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code,
            message: message.into(),
        }
    }

    /// 408: the request did not arrive in time.
    pub fn timed_out(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "REQUEST_TIMEOUT",
            message: message.into(),
        }
    }

    /// 413: a body over the stated limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "TOO_LARGE",
            message: message.into(),
        }
    }

    /// Logs `cause` with context and answers 500 with nothing of it.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL_ERROR",
            message: "internal error; see the server log for this request id".to_owned(),
        }
    }
}

impl ApiError {
    /// What the caller is told: the console shows it on its error page.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        with_retry_after(HttpResponse::build(self.status).json(ErrorBody {
            code: self.code,
            message: &self.message,
        }))
    }
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _request: &actix_web::HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

impl From<crate::security::party::Forbidden> for ApiError {
    fn from(_: crate::security::party::Forbidden) -> Self {
        Self::forbidden()
    }
}
