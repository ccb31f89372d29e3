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
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeldMessageCommand {
    /// Keep a message that could not be applied.
    Hold { message: Received },
}
