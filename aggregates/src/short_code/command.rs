use chrono::{DateTime, Utc};

use crate::values::TranId;

#[derive(Debug, Clone, PartialEq)]
pub enum ShortCodeCommand {
    /// Hold the code for `tran_id` until its QR expires.
    Claim {
        tran_id: TranId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}
