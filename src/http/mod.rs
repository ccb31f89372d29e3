//! What every HTTP surface shares: the JSON error type of the surfaces we own, and the
//! probes (`/health`, `/ready`, `/metrics`). Routes are wired in `server`.

pub mod error;
pub mod health;

pub use error::{with_retry_after, ApiError, RETRY_AFTER_S};
