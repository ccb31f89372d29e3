use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::RefundOrder;
use crate::payshap_transfer::CompletionOutcome;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RefundEvent {
    RefundRequested {
        order: RefundOrder,
    },
    /// Electrum accepted it (202): the result follows.
    RefundSent {
        attempts: u32,
        sent_at: DateTime<Utc>,
    },
    RefundParked {
        reason: String,
        attempts: u32,
        parked_at: DateTime<Utc>,
    },
    RefundUnparked {
        by: String,
        unparked_at: DateTime<Utc>,
    },
    RefundResultReceived {
        message_id: String,
        outcome: CompletionOutcome,
        reasons: Vec<String>,
        received_at: DateTime<Utc>,
    },
    /// The payer has the money back.
    RefundSettled {
        settled_at: DateTime<Utc>,
    },
    /// It did not reach the payer: the money is held again.
    RefundFailed {
        reason: String,
        failed_at: DateTime<Utc>,
    },
}

impl DomainEvent for RefundEvent {
    fn event_type(&self) -> String {
        match self {
            RefundEvent::RefundRequested { .. } => "RefundRequested",
            RefundEvent::RefundSent { .. } => "RefundSent",
            RefundEvent::RefundParked { .. } => "RefundParked",
            RefundEvent::RefundUnparked { .. } => "RefundUnparked",
            RefundEvent::RefundResultReceived { .. } => "RefundResultReceived",
            RefundEvent::RefundSettled { .. } => "RefundSettled",
            RefundEvent::RefundFailed { .. } => "RefundFailed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
