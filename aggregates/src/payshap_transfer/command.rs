use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::Amount;

#[derive(Debug, Clone, PartialEq)]
pub enum PayShapCommand {
    RecordCompletion {
        completion: Completion,
    },
    /// The credit could not pay the QR payment it names (closed, another amount, held by
    /// another partner): the money must go back to the payer.
    MarkUnapplied {
        reason: String,
        at: DateTime<Utc>,
    },
}

/// `status.outcome` of a `PaymentStatusReport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionOutcome {
    Approved,
    Cancelled,
    Pending,
    Rejected,
}

impl CompletionOutcome {
    /// PENDING says nothing final; the others do.
    pub fn is_final(self) -> bool {
        self != CompletionOutcome::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompletionOutcome::Approved => "APPROVED",
            CompletionOutcome::Cancelled => "CANCELLED",
            CompletionOutcome::Pending => "PENDING",
            CompletionOutcome::Rejected => "REJECTED",
        }
    }
}

/// What the switch keeps of one credit transfer completion message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub message_id: String,
    pub uetr: String,
    pub end_to_end_id: Option<String>,
    pub outcome: CompletionOutcome,
    /// Reason codes and descriptions as sent.
    pub reasons: Vec<String>,
    pub amount: Amount,
    /// The creditor proxy or account named ([`crate::values::ProxyKey::id`]), if any.
    pub proxy_id: Option<String>,
    /// Whether the registry knew that proxy when the completion arrived.
    pub proxy_known: bool,
    /// The QR payment this credit pays, when its proxy is a QR's.
    pub tran_id: Option<String>,
    pub debtor_name: Option<String>,
    pub received_at: DateTime<Utc>,
}
