use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fee_schedule::FeeTerms;

/// What moves money, and so needs a second person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum MoneyAction {
    /// Apply a held credit (transfer `uetr`) after a fix.
    Apply { uetr: String, note: String },
    /// Attribute a held credit to a merchant or payment.
    Attribute {
        uetr: String,
        to: String,
        note: String,
    },
    /// Return a held credit to the payer (an outbound PayShap credit transfer).
    Refund { uetr: String },
    /// Credit a completion Electrum's extract for `day` lists and we never received.
    CreditFromRecon { day: String, uetr: String },
    /// Reverse an authorised QR payment the POS never advised (the reversal advice goes to
    /// the partner store-and-forward, as a POS's would).
    ManualReversal { tran_id: String, reason: String },
    /// Apply a held message (re-run after a fix; for one whose signature failed, vouched
    /// for by `note`, e.g. the recon line it matches).
    ApplyHeld { message_hash: String, note: String },
    /// Put new fee terms in force for a partner.
    FeeTerms { partner_id: String, terms: FeeTerms },
}

impl MoneyAction {
    /// What the action concerns: a transfer's UETR, a payment's tranId, a held message's
    /// hash, a partner's id.
    pub fn target(&self) -> &str {
        match self {
            MoneyAction::Apply { uetr, .. }
            | MoneyAction::Attribute { uetr, .. }
            | MoneyAction::Refund { uetr }
            | MoneyAction::CreditFromRecon { uetr, .. } => uetr,
            MoneyAction::ManualReversal { tran_id, .. } => tran_id,
            MoneyAction::ApplyHeld { message_hash, .. } => message_hash,
            MoneyAction::FeeTerms { partner_id, .. } => partner_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalCommand {
    Request {
        action: MoneyAction,
        maker: String,
        reason: String,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    Approve {
        approver: String,
        at: DateTime<Utc>,
    },
    Reject {
        approver: String,
        note: String,
        at: DateTime<Utc>,
    },
    /// How carrying out the approved action went: `Ok(detail)` or `Err(reason)`.
    RecordOutcome {
        outcome: Result<String, String>,
        at: DateTime<Utc>,
    },
}
