use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One inbound message as it reached us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The path it was sent to, e.g. `/transactions/inbound/credit-transfer-completion`.
    pub endpoint: String,
    /// The body as received: UTF-8 text, or `base64:` and the bytes when it was not text.
    pub body: String,
    /// The headers that matter to an investigation (signature, trace context, type).
    pub headers: BTreeMap<String, String>,
    /// Who sent it, as authenticated.
    pub party: String,
    /// The UETR and message id, where they could be read from it.
    pub uetr: Option<String>,
    pub message_id: Option<String>,
    /// Why it could not be applied.
    pub reason: String,
    pub received_at: DateTime<Utc>,
    /// Kept although its signature did not verify (answered 401): never applied until a
    /// key verifies it or an operator vouches for it.
    #[serde(default)]
    pub unverified: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeldMessageCommand {
    /// Keep a message that could not be applied.
    Hold { message: Received },
    /// It has been applied after all: `how` says why it may be (the key that verified it,
    /// or the recon line an operator attached it to, and who).
    Apply { how: String, at: DateTime<Utc> },
    /// Closed with one of [`crate::case::CLOSE_REASONS`] and a note, by `by`: nothing of it
    /// is applied, ever.
    Close {
        reason_code: String,
        note: String,
        by: String,
        at: DateTime<Utc>,
    },
}
