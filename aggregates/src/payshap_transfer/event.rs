use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::{Completion, CompletionOutcome};
use crate::values::Amount;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PayShapEvent {
    /// A completion message, recorded before it is acknowledged.
    CompletionReceived { completion: Completion },
    /// The money is ours: exactly once per transfer.
    Credited {
        uetr: String,
        amount: Amount,
        credited_at: DateTime<Utc>,
    },
    /// A credit for a QR payment that it could not pay: refund required.
    CreditUnapplied {
        uetr: String,
        reason: String,
        noticed_at: DateTime<Utc>,
    },
    /// A final outcome contradicting an earlier one: for the back office to resolve.
    OutcomeConflict {
        uetr: String,
        earlier: CompletionOutcome,
        later: CompletionOutcome,
        noticed_at: DateTime<Utc>,
    },
}

impl DomainEvent for PayShapEvent {
    fn event_type(&self) -> String {
        match self {
            PayShapEvent::CompletionReceived { .. } => "CompletionReceived",
            PayShapEvent::Credited { .. } => "Credited",
            PayShapEvent::OutcomeConflict { .. } => "OutcomeConflict",
            PayShapEvent::CreditUnapplied { .. } => "CreditUnapplied",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
