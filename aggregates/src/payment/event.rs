use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::AdviceKind;
use super::reference::PartnerReference;
use crate::values::{Amount, PartyId, TranId};

/// What happened to a payment. Immutable once stored: a change of shape is a new
/// `event_version` with an upcaster, never an edit of these variants' meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    QrIssued {
        message_id: String,
        tran_id: TranId,
        client_id: PartyId,
        terminal_id: String,
        amount: Option<Amount>,
        scheme: String,
        payload: String,
        /// Absent in payloads written before it existed; they decode as `None`.
        #[serde(default)]
        merchant_name: Option<String>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    PaymentRequested {
        message_id: String,
        amount: Amount,
        message: serde_json::Value,
        requested_at: DateTime<Utc>,
        respond_by: DateTime<Utc>,
        /// The POS's W3C `traceparent`, when it sent one (absent from older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traceparent: Option<String>,
    },
    ScanReceived {
        message_id: String,
        partner_id: PartyId,
        partner_payment_token: Option<String>,
        scanned_at: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    },
    /// A scan waited past its hold window with no payment request; a new scan may claim
    /// the QR.
    ScanLapsed {
        partner_id: PartyId,
        lapsed_at: DateTime<Utc>,
    },
    /// Scan and request are both present: the payment now belongs to `partner_id`.
    Matched {
        partner_id: PartyId,
        amount: Amount,
        matched_at: DateTime<Utc>,
    },
    /// The authorisation is on its way to the partner (recorded before the call).
    AuthorisationRequested {
        partner_id: PartyId,
        requested_at: DateTime<Utc>,
    },
    /// Version 2.0: `partner_reference` added. Stored 1.0 events are read through
    /// the `upcast` module, which takes it from `response`.
    Authorised {
        partner_id: PartyId,
        response: serde_json::Value,
        partner_reference: PartnerReference,
        authorised_at: DateTime<Utc>,
    },
    Declined {
        partner_id: PartyId,
        error: serde_json::Value,
        declined_at: DateTime<Utc>,
    },
    /// No final answer in time. `reason` says what was missing.
    TimedOut {
        waiting_for: WaitingFor,
        reason: String,
        timed_out_at: DateTime<Utc>,
    },
    /// The partner may have approved; it must be told to reverse (store-and-forward).
    TimeoutReversalQueued {
        partner_id: PartyId,
        reversal_id: String,
        queued_at: DateTime<Utc>,
    },
    /// The POS's advice, persisted before it is acknowledged.
    Advised {
        advice_id: String,
        advice: AdviceKind,
        request_id: String,
        message: serde_json::Value,
        advised_at: DateTime<Utc>,
    },
    /// Something must reach the partner, store-and-forward, until it answers finally.
    /// `message` is the advice to forward (the POS's, or null for our own timeout reversal).
    DeliveryScheduled {
        delivery_id: String,
        partner_id: PartyId,
        advice: AdviceKind,
        request_id: String,
        message: serde_json::Value,
        scheduled_at: DateTime<Utc>,
    },
    AdviceDelivered {
        delivery_id: String,
        status: u16,
        delivered_at: DateTime<Utc>,
    },
    /// The partner refused the advice for good (4xx): an exception for the back office.
    AdviceRefused {
        delivery_id: String,
        status: u16,
        reason: String,
        refused_at: DateTime<Utc>,
    },
    DeliveryParked {
        delivery_id: String,
        reason: String,
        parked_at: DateTime<Utc>,
    },
    DeliveryUnparked {
        delivery_id: String,
        unparked_at: DateTime<Utc>,
    },
    /// An operator asked for the next attempt now; the delivery stays pending.
    DeliveryRetryRequested {
        delivery_id: String,
        requested_at: DateTime<Utc>,
    },
    /// Outcome known, advice settled, every delivery acknowledged: ready for recon.
    Completed { completed_at: DateTime<Utc> },
    /// A PayShap credit arrived for this QR.
    PayShapCredited {
        uetr: String,
        amount: Amount,
        credited_at: DateTime<Utc>,
    },
    /// Money was received that must go back to the payer (a PayShap credit cannot be
    /// reversed through the scheme): an exception for the back office.
    RefundRequired {
        uetr: String,
        amount: Amount,
        reason: String,
        noticed_at: DateTime<Utc>,
    },
}

/// What a timed-out payment was still waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitingFor {
    Scan,
    Partner,
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            PaymentEvent::QrIssued { .. } => "QrIssued",
            PaymentEvent::PaymentRequested { .. } => "PaymentRequested",
            PaymentEvent::ScanReceived { .. } => "ScanReceived",
            PaymentEvent::ScanLapsed { .. } => "ScanLapsed",
            PaymentEvent::Matched { .. } => "Matched",
            PaymentEvent::AuthorisationRequested { .. } => "AuthorisationRequested",
            PaymentEvent::Authorised { .. } => "Authorised",
            PaymentEvent::Declined { .. } => "Declined",
            PaymentEvent::TimedOut { .. } => "TimedOut",
            PaymentEvent::TimeoutReversalQueued { .. } => "TimeoutReversalQueued",
            PaymentEvent::Advised { .. } => "Advised",
            PaymentEvent::DeliveryScheduled { .. } => "DeliveryScheduled",
            PaymentEvent::AdviceDelivered { .. } => "AdviceDelivered",
            PaymentEvent::AdviceRefused { .. } => "AdviceRefused",
            PaymentEvent::DeliveryParked { .. } => "DeliveryParked",
            PaymentEvent::DeliveryUnparked { .. } => "DeliveryUnparked",
            PaymentEvent::DeliveryRetryRequested { .. } => "DeliveryRetryRequested",
            PaymentEvent::Completed { .. } => "Completed",
            PaymentEvent::PayShapCredited { .. } => "PayShapCredited",
            PaymentEvent::RefundRequired { .. } => "RefundRequired",
        }
        .to_owned()
    }

    /// Kept in step with `current_version` of the `upcast` module, which a test checks.
    fn event_version(&self) -> String {
        match self {
            PaymentEvent::Authorised { .. } => "2.0",
            _ => "1.0",
        }
        .to_owned()
    }
}

impl PaymentEvent {
    /// The delivery this event schedules or answers, if it concerns one.
    pub fn delivery_id(&self) -> Option<&str> {
        match self {
            PaymentEvent::DeliveryScheduled { delivery_id, .. }
            | PaymentEvent::AdviceDelivered { delivery_id, .. }
            | PaymentEvent::AdviceRefused { delivery_id, .. }
            | PaymentEvent::DeliveryParked { delivery_id, .. }
            | PaymentEvent::DeliveryUnparked { delivery_id, .. }
            | PaymentEvent::DeliveryRetryRequested { delivery_id, .. } => Some(delivery_id),
            _ => None,
        }
    }
}
