//! Partner-auth: Electrum asks us to authorise an inbound credit during clearing, before
//! money moves. What we keep of the request, our decision, and how delivering it ended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::Amount;

/// What the switch keeps of one `inboundCreditTransferAuthorisation` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisationRequest {
    pub message_id: String,
    pub uetr: String,
    pub end_to_end_id: Option<String>,
    pub amount: Amount,
    /// The creditor proxy or account named ([`crate::values::ProxyKey::id`]), if any.
    pub proxy_id: Option<String>,
    /// The QR payment the credit would pay, when its proxy is a QR's.
    pub tran_id: Option<String>,
    pub debtor_name: Option<String>,
    /// `messageIdentifiers.creationDateTime` as sent.
    pub created_at: String,
    pub received_at: DateTime<Utc>,
}

/// Our answer: binding once approved (the completion that follows must be credited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub approved: bool,
    /// The ISO 20022 reason of a refusal (BE23, AC04, AG03, FF10, ...).
    pub reason_code: Option<String>,
    pub reason: String,
    pub decided_at: DateTime<Utc>,
}

impl Decision {
    pub fn outcome(&self) -> &'static str {
        if self.approved {
            "APPROVED"
        } else {
            "REJECTED"
        }
    }
}

/// How delivering a decision to Electrum ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionDelivery {
    /// Electrum answered 2xx: it has our decision.
    Acknowledged { attempts: u32 },
    /// Electrum refused it for good (4xx), or the scheme's deadline passed first: Electrum
    /// declines the credit itself, and the back office sees why.
    Undelivered { reason: String, attempts: u32 },
}
