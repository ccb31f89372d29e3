//! The console's one error type: what went wrong, answered as a page with its status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;

use super::html;
use crate::http::ApiError;
use crate::security::party::Forbidden;

/// What went wrong, as a page with the status: 400 for bad input (nothing was changed),
/// 403 for a role that may not, 404, 409 for an action the state does not allow.
#[derive(Debug)]
pub struct ConsoleError {
    status: StatusCode,
    message: String,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is nothing here.")
    }

    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side; the server log has the details.",
        )
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl From<Forbidden> for ConsoleError {
    fn from(_: Forbidden) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Your role may not open this page or do this.",
        )
    }
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        Self::new(error.status_code(), error.message().to_owned())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            main {
                h1 { (self.status.as_u16()) " " (title) }
                p.error role="alert" { (self.message) }
                p {
                    a href="/backoffice/" { "Back to the console" }
                    @if self.status == StatusCode::FORBIDDEN {
                        " · " a href="/backoffice/login" { "Sign in as another user" }
                    }
                }
            }
        };
        html::respond(self.status, html::document(title, body))
    }
}
