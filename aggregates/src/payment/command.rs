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
