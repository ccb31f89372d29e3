use chrono::{DateTime, Utc};

use crate::values::{Amount, PartyId, TranId};

/// What the outside world asks of a payment. Each carries the time it was received so that
/// deciding is a pure function of state and command.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// Record a freshly minted QR code for a retailer's lane.
    IssueQr {
        tran_id: TranId,
        client_id: PartyId,
        terminal_id: String,
        amount: Option<Amount>,
        payload: String,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    /// The POS asks for payment of the amount due on this QR.
    RequestPayment {
        message_id: String,
        client_id: PartyId,
        amount: Amount,
        received_at: DateTime<Utc>,
    },
    /// A partner reports that its customer scanned this QR.
    ReceiveScan {
        message_id: String,
        partner_id: PartyId,
        partner_payment_token: Option<String>,
        received_at: DateTime<Utc>,
    },
}
