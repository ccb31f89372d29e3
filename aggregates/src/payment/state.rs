//! What a payment is at any moment: the state its events leave, and what callers may read
//! of it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command::AdviceKind;
use super::event::WaitingFor;
use crate::values::{Amount, PartyId, TranId};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub(super) issued: Option<IssuedQr>,
    pub(super) request: Option<Request>,
    pub(super) scan: Option<Scan>,
    pub(super) stage: Stage,
    pub(super) outcome: Option<Outcome>,
    /// Every contract message id seen for this payment: a reuse is a duplicate.
    pub(super) message_ids: BTreeSet<String>,
    /// The first advice from the POS; it decides the payment's fate.
    pub(super) advice: Option<Advice>,
    /// Every advice id seen (a POS resends from its SAF queue; a repeat has no effect).
    pub(super) advice_ids: BTreeSet<String>,
    /// What must reach, or has reached, the partner.
    pub(super) deliveries: BTreeMap<String, Delivery>,
    /// The first advice as the POS sent it, forwarded once the partner approved.
    pub(super) advice_message: Option<Arc<serde_json::Value>>,
    /// A PayShap credit received for this QR (it authorises the payment by itself).
    pub(super) payshap_credit: Option<PayShapCredit>,
    pub(super) refund_recorded: bool,
    pub(super) completed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayShapCredit {
    pub uetr: String,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub advice_id: String,
    pub kind: AdviceKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub partner_id: PartyId,
    pub kind: AdviceKind,
    pub status: DeliveryStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    Pending,
    Parked,
    Delivered,
    Refused,
}

/// Where the payment is on its way to an outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// No QR yet (an empty aggregate).
    #[default]
    New,
    /// QR issued; waiting for the scan and the request.
    Open,
    /// Scan and request matched; the authorisation has not been sent yet.
    Matched,
    /// The authorisation was sent to the partner.
    Authorising,
    /// Final: see [`Payment::outcome`].
    Final,
}

/// The final answer of a payment, as the POS receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Authorised { response: Arc<serde_json::Value> },
    Declined { error: Arc<serde_json::Value> },
    TimedOut { waiting_for: WaitingFor },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedQr {
    pub tran_id: TranId,
    pub client_id: PartyId,
    pub terminal_id: String,
    pub amount: Option<Amount>,
    pub scheme: String,
    pub payload: String,
    pub merchant_name: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub message_id: String,
    pub amount: Amount,
    pub message: Arc<serde_json::Value>,
    pub respond_by: DateTime<Utc>,
    /// The POS's W3C `traceparent`, if it sent one.
    #[serde(default)]
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub partner_id: PartyId,
    pub partner_payment_token: Option<String>,
    pub hold_until: DateTime<Utc>,
}

impl Payment {
    pub fn tran_id(&self) -> Option<&TranId> {
        self.issued.as_ref().map(|qr| &qr.tran_id)
    }

    pub fn qr(&self) -> Option<&IssuedQr> {
        self.issued.as_ref()
    }

    pub fn request(&self) -> Option<&Request> {
        self.request.as_ref()
    }

    pub fn scan(&self) -> Option<&Scan> {
        self.scan.as_ref()
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    pub fn advice(&self) -> Option<&Advice> {
        self.advice.as_ref()
    }

    pub fn delivery(&self, delivery_id: &str) -> Option<&Delivery> {
        self.deliveries.get(delivery_id)
    }

    pub fn is_completed(&self) -> bool {
        self.completed
    }

    /// Whether `client_id` may see this payment: another retailer's tranId looks unknown.
    pub fn belongs_to(&self, client_id: &PartyId) -> bool {
        self.issued
            .as_ref()
            .is_some_and(|qr| &qr.client_id == client_id)
    }

    pub fn payshap_credit(&self) -> Option<&PayShapCredit> {
        self.payshap_credit.as_ref()
    }
}
