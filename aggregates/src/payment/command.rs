use chrono::{DateTime, Utc};

use crate::values::{Amount, PartyId, TranId};

/// What the outside world asks of a payment. Each carries the time it was received (and any
/// deadline derived from configuration) so that deciding is a pure function.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// Record a freshly minted QR code for a retailer's lane.
    IssueQr {
        message_id: String,
        tran_id: TranId,
        client_id: PartyId,
        terminal_id: String,
        amount: Option<Amount>,
        scheme: String,
        payload: String,
        /// The name payers see (EMV tag 59), shown again when a PayShap bank resolves the QR.
        merchant_name: Option<String>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    /// The POS asks for payment; it waits for the answer until `respond_by`.
    RequestPayment {
        message_id: String,
        client_id: PartyId,
        amount: Amount,
        /// The POS's `PaymentRequest` as received, forwarded to the partner that scans.
        message: serde_json::Value,
        received_at: DateTime<Utc>,
        respond_by: DateTime<Utc>,
        /// The POS's W3C `traceparent`, so that the partner's authorisation joins its trace
        /// whichever request or instance notices the match.
        traceparent: Option<String>,
    },
    /// A partner reports that its customer scanned this QR. The scan waits for the POS's
    /// request until `hold_until`.
    ReceiveScan {
        message_id: String,
        partner_id: PartyId,
        partner_payment_token: Option<String>,
        received_at: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    },
    /// Claim the right to send the authorisation to the matched partner. Only one caller
    /// wins, so the partner is asked once however many instances notice the match.
    StartAuthorisation { at: DateTime<Utc> },
    /// The partner's answer to the authorisation.
    RecordAuthorisation {
        outcome: AuthorisationOutcome,
        at: DateTime<Utc>,
    },
    /// The POS's wait ran out (or the deadline sweeper found it overdue).
    TimeOut { at: DateTime<Utc> },
    /// The POS's confirmation or reversal advice (idempotent per `advice_id`).
    Advise {
        advice_id: String,
        advice: AdviceKind,
        /// The `id` of the `PaymentRequest` the advice is about.
        request_id: String,
        /// The retailer that sent it, when known: another retailer's payment looks unknown.
        client_id: Option<PartyId>,
        /// The advice as received, forwarded to the partner.
        message: serde_json::Value,
        received_at: DateTime<Utc>,
    },
    /// The partner's final answer to one delivery.
    RecordDelivery {
        delivery_id: String,
        result: DeliveryResult,
        at: DateTime<Utc>,
    },
    /// Stop retrying a delivery (too old, or by an operator); it becomes an exception.
    ParkDelivery {
        delivery_id: String,
        reason: String,
        at: DateTime<Utc>,
    },
    /// Put a parked delivery back in the queue.
    UnparkDelivery {
        delivery_id: String,
        at: DateTime<Utc>,
    },
    /// An operator asks for a pending delivery to be tried now rather than after its
    /// backoff: recorded, so that the payment's story says who hurried it.
    RetryDelivery {
        delivery_id: String,
        at: DateTime<Utc>,
    },
    /// An approved PayShap credit to this QR's proxy: it pays the payment by itself.
    ReceivePayShapCredit {
        uetr: String,
        /// The party PayShap payments are attributed to (`[payshap] partner_id`).
        partner_id: PartyId,
        amount: Amount,
        at: DateTime<Utc>,
    },
}

/// Which advice the POS sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AdviceKind {
    Confirmation,
    /// With the contract's `reversalReason` (`TIMEOUT`, `CANCELLED`, `RESPONSE_NOT_FINAL`).
    Reversal {
        reason: String,
    },
}

/// A final answer from the partner to an advice (unknown answers are retried, not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// 2xx: the partner has it.
    Acknowledged { status: u16 },
    /// 4xx: the partner refuses it for good.
    Refused { status: u16, reason: String },
}

/// How a partner answered `pay`.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorisationOutcome {
    /// 201 with a `PaymentResponse`.
    Approved { response: serde_json::Value },
    /// A 4xx with an `ErrorDetail`: a final refusal.
    Declined { error: serde_json::Value },
    /// 5xx, 504, a timeout or no connection: the partner may or may not have approved.
    Unknown { reason: String },
}

impl PaymentCommand {
    /// When the command was received: the time of anything it causes.
    pub fn received_at(&self) -> DateTime<Utc> {
        match self {
            PaymentCommand::IssueQr { issued_at, .. } => *issued_at,
            PaymentCommand::RequestPayment { received_at, .. }
            | PaymentCommand::ReceiveScan { received_at, .. }
            | PaymentCommand::Advise { received_at, .. } => *received_at,
            PaymentCommand::StartAuthorisation { at }
            | PaymentCommand::RecordAuthorisation { at, .. }
            | PaymentCommand::TimeOut { at }
            | PaymentCommand::RecordDelivery { at, .. }
            | PaymentCommand::ParkDelivery { at, .. }
            | PaymentCommand::UnparkDelivery { at, .. }
            | PaymentCommand::RetryDelivery { at, .. }
            | PaymentCommand::ReceivePayShapCredit { at, .. } => *at,
        }
    }
}
