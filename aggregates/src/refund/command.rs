use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::payshap_transfer::CompletionOutcome;
use crate::values::Amount;

/// What a refund sends: the held credit's amount back to the account it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOrder {
    pub refund_uetr: String,
    /// The inbound credit being returned.
    pub original_uetr: String,
    pub amount: Amount,
    pub payer_account: String,
    /// The payer's bank (BICFI).
    pub payer_agent: String,
    /// The payer's proxy the account was resolved from, when the completion named the
    /// payer by proxy only ([`crate::values::ProxyKey::id`]).
    #[serde(default)]
    pub payer_proxy: Option<String>,
    pub payer_name: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

/// How sending the refund to Electrum ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Accepted { attempts: u32 },
    Refused { reason: String, attempts: u32 },
    Parked { reason: String, attempts: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RefundCommand {
    Request {
        order: RefundOrder,
    },
    RecordSend {
        outcome: SendOutcome,
        at: DateTime<Utc>,
    },
    Unpark {
        by: String,
        at: DateTime<Utc>,
    },
    /// Electrum's `outboundCreditTransferResponse`, as it came.
    RecordResult {
        message_id: String,
        outcome: CompletionOutcome,
        reasons: Vec<String>,
        at: DateTime<Utc>,
    },
}
