use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::values::{Amount, PartyId, TranId};

/// What happened to a payment. Immutable once stored: a change of shape is a new
/// `event_version` with an upcaster, never an edit of these variants' meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    QrIssued {
        tran_id: TranId,
        client_id: PartyId,
        terminal_id: String,
        amount: Option<Amount>,
        payload: String,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    PaymentRequested {
        message_id: String,
        amount: Amount,
        requested_at: DateTime<Utc>,
    },
    ScanReceived {
        message_id: String,
        partner_id: PartyId,
        partner_payment_token: Option<String>,
        scanned_at: DateTime<Utc>,
    },
    /// Scan and request are both present: the payment now belongs to `partner_id`.
    Matched {
        partner_id: PartyId,
        amount: Amount,
        matched_at: DateTime<Utc>,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            PaymentEvent::QrIssued { .. } => "QrIssued",
            PaymentEvent::PaymentRequested { .. } => "PaymentRequested",
            PaymentEvent::ScanReceived { .. } => "ScanReceived",
            PaymentEvent::Matched { .. } => "Matched",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
