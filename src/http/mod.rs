//! What every HTTP surface shares: the JSON error type of the surfaces we own, and the
//! probes (`/health`, `/ready`, `/metrics`), and the refusal sets the API document gives each
//! operation. Routes are wired in `server`.

pub mod documented;
pub mod error;
pub mod health;

pub use error::{query_errors, with_retry_after, ApiError, RETRY_AFTER_S};
