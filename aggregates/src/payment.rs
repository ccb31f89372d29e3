//! The `Payment` aggregate: one QR code, its payment request, the scan that claims it, the
//! authorisation by that partner and its outcome. Its id is the tranId.
//!
//! Scan and payment request may arrive in either order (the POS sends both while the QR is
//! shown); whichever arrives second completes the pair and the aggregate records `Matched`,
//! as long as the scan is still inside its hold window. The authorisation is claimed with
//! `StartAuthorisation` before the partner is called, so only one caller ever calls it.

mod command;
mod error;
mod event;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{AdviceKind, AuthorisationOutcome, DeliveryResult, PaymentCommand};
pub use error::PaymentError;
pub use event::{PaymentEvent, WaitingFor};

use crate::values::{Amount, PartyId, TranId};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    issued: Option<IssuedQr>,
    request: Option<Request>,
    scan: Option<Scan>,
    stage: Stage,
    outcome: Option<Outcome>,
    /// Every contract message id seen for this payment: a reuse is a duplicate.
    message_ids: BTreeSet<String>,
    /// The first advice from the POS; it decides the payment's fate.
    advice: Option<Advice>,
    /// Every advice id seen (a POS resends from its SAF queue; a repeat has no effect).
    advice_ids: BTreeSet<String>,
    /// What must reach, or has reached, the partner.
    deliveries: BTreeMap<String, Delivery>,
    /// The first advice as the POS sent it, forwarded once the partner approved.
    advice_message: Option<Arc<serde_json::Value>>,
    /// A PayShap credit received for this QR (it authorises the payment by itself).
    payshap_credit: Option<PayShapCredit>,
    refund_recorded: bool,
    completed: bool,
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

    /// The business rules: what happens, if anything, when `command` meets the current state,
    /// and what follows from that (deliveries due, completion).
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        let at = command.received_at();
        let events = self.decide_directly(command)?;
        Ok(self.with_consequences(events, at))
    }

    fn decide_directly(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::IssueQr {
                message_id,
                tran_id,
                client_id,
                terminal_id,
                amount,
                scheme,
                payload,
                merchant_name,
                issued_at,
                expires_at,
            } => {
                if self.issued.is_some() {
                    return Err(PaymentError::QrAlreadyIssued);
                }
                if expires_at <= issued_at {
                    return Err(PaymentError::ExpiryNotAfterIssue);
                }
                Ok(vec![PaymentEvent::QrIssued {
                    message_id,
                    tran_id,
                    client_id,
                    terminal_id,
                    amount,
                    scheme,
                    payload,
                    merchant_name,
                    issued_at,
                    expires_at,
                }])
            }
            PaymentCommand::RequestPayment {
                message_id,
                client_id,
                amount,
                message,
                received_at,
                respond_by,
            } => self.request_payment(
                message_id,
                &client_id,
                amount,
                message,
                received_at,
                respond_by,
            ),
            PaymentCommand::ReceiveScan {
                message_id,
                partner_id,
                partner_payment_token,
                received_at,
                hold_until,
            } => self.receive_scan(
                message_id,
                partner_id,
                partner_payment_token,
                received_at,
                hold_until,
            ),
            PaymentCommand::StartAuthorisation { at } => {
                let scan = self.scan.as_ref().filter(|_| self.stage == Stage::Matched);
                let scan = scan.ok_or(PaymentError::NotAwaitingAuthorisation)?;
                Ok(vec![PaymentEvent::AuthorisationRequested {
                    partner_id: scan.partner_id.clone(),
                    requested_at: at,
                }])
            }
            PaymentCommand::RecordAuthorisation { outcome, at } => {
                self.record_authorisation(outcome, at)
            }
            PaymentCommand::TimeOut { at } => self.time_out(at),
            PaymentCommand::Advise {
                advice_id,
                advice,
                request_id,
                client_id,
                message,
                received_at,
            } => self.advise(
                advice_id,
                advice,
                request_id,
                client_id.as_ref(),
                message,
                received_at,
            ),
            PaymentCommand::RecordDelivery {
                delivery_id,
                result,
                at,
            } => {
                let delivery = self.delivery_or_err(&delivery_id)?;
                if matches!(
                    delivery.status,
                    DeliveryStatus::Delivered | DeliveryStatus::Refused
                ) {
                    return Ok(vec![]); // already final: a repeated answer changes nothing
                }
                Ok(vec![match result {
                    DeliveryResult::Acknowledged { status } => PaymentEvent::AdviceDelivered {
                        delivery_id,
                        status,
                        delivered_at: at,
                    },
                    DeliveryResult::Refused { status, reason } => PaymentEvent::AdviceRefused {
                        delivery_id,
                        status,
                        reason,
                        refused_at: at,
                    },
                }])
            }
            PaymentCommand::ParkDelivery {
                delivery_id,
                reason,
                at,
            } => {
                if self.delivery_or_err(&delivery_id)?.status != DeliveryStatus::Pending {
                    return Err(PaymentError::DeliveryNotInState(delivery_id));
                }
                Ok(vec![PaymentEvent::DeliveryParked {
                    delivery_id,
                    reason,
                    parked_at: at,
                }])
            }
            PaymentCommand::ReceivePayShapCredit {
                uetr,
                partner_id,
                amount,
                at,
            } => self.receive_payshap_credit(uetr, partner_id, amount, at),
            PaymentCommand::UnparkDelivery { delivery_id, at } => {
                if self.delivery_or_err(&delivery_id)?.status != DeliveryStatus::Parked {
                    return Err(PaymentError::DeliveryNotInState(delivery_id));
                }
                Ok(vec![PaymentEvent::DeliveryUnparked {
                    delivery_id,
                    unparked_at: at,
                }])
            }
        }
    }

    fn receive_payshap_credit(
        &self,
        uetr: String,
        partner_id: PartyId,
        amount: Amount,
        at: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        let qr = self
            .issued
            .as_ref()
            .ok_or(PaymentError::UnknownTransaction)?;
        if self.payshap_credit.as_ref().is_some_and(|c| c.uetr == uetr) {
            return Ok(vec![]); // the same credit again
        }
        if self.stage == Stage::Final || self.payshap_credit.is_some() {
            return Err(PaymentError::AlreadyFinal);
        }
        if let Some(due) = qr.amount.or(self.request.as_ref().map(|r| r.amount)) {
            if due != amount {
                return Err(PaymentError::AmountMismatch {
                    qr: due,
                    requested: amount,
                });
            }
        }
        let mut events = Vec::new();
        match &self.scan {
            Some(scan) if scan.partner_id == partner_id => {}
            Some(scan) if self.request.is_some() || at <= scan.hold_until => {
                return Err(PaymentError::AlreadyScanned {
                    by_same_partner: false,
                });
            }
            other => {
                if let Some(lapsed) = other {
                    events.push(PaymentEvent::ScanLapsed {
                        partner_id: lapsed.partner_id.clone(),
                        lapsed_at: at,
                    });
                }
                events.push(PaymentEvent::ScanReceived {
                    message_id: format!("payshap-{uetr}"),
                    partner_id: partner_id.clone(),
                    partner_payment_token: None,
                    scanned_at: at,
                    // The credit is final: it waits for the POS as long as the QR lives.
                    hold_until: qr.expires_at,
                });
                if let Some(request) = &self.request {
                    events.push(PaymentEvent::Matched {
                        partner_id,
                        amount: request.amount,
                        matched_at: at,
                    });
                }
            }
        }
        events.insert(
            0,
            PaymentEvent::PayShapCredited {
                uetr,
                amount,
                credited_at: at,
            },
        );
        Ok(events)
    }

    fn refund_required(&self, reason: &str, at: DateTime<Utc>) -> PaymentEvent {
        let credit = self.payshap_credit.clone();
        PaymentEvent::RefundRequired {
            uetr: credit.as_ref().map(|c| c.uetr.clone()).unwrap_or_default(),
            amount: credit.map_or_else(
                || self.request.as_ref().map_or_else(zero_rand, |r| r.amount),
                |c| c.amount,
            ),
            reason: reason.to_owned(),
            noticed_at: at,
        }
    }

    fn delivery_or_err(&self, delivery_id: &str) -> Result<&Delivery, PaymentError> {
        self.deliveries
            .get(delivery_id)
            .ok_or_else(|| PaymentError::UnknownDelivery(delivery_id.to_owned()))
    }

    fn advise(
        &self,
        advice_id: String,
        advice: AdviceKind,
        request_id: String,
        client_id: Option<&PartyId>,
        message: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        let request = match (&self.issued, &self.request) {
            (Some(qr), Some(request))
                if client_id.is_none_or(|c| c == &qr.client_id)
                    && request.message_id == request_id =>
            {
                request
            }
            _ => return Err(PaymentError::UnknownTransaction),
        };
        if self.advice_ids.contains(&advice_id) {
            return Ok(vec![]); // the POS resent it: accepted, no second effect
        }
        if self.message_ids.contains(&advice_id) {
            return Err(PaymentError::DuplicateMessage(advice_id));
        }
        if let Some(first) = &self.advice {
            return match (&first.kind, &advice) {
                (AdviceKind::Confirmation, AdviceKind::Confirmation)
                | (AdviceKind::Reversal { .. }, AdviceKind::Reversal { .. }) => Ok(vec![]),
                (AdviceKind::Confirmation, _) => Err(PaymentError::AdviceConflict("confirmed")),
                (AdviceKind::Reversal { .. }, _) => Err(PaymentError::AdviceConflict("reversed")),
            };
        }
        if advice == AdviceKind::Confirmation
            && matches!(
                self.outcome,
                Some(Outcome::Declined { .. } | Outcome::TimedOut { .. })
            )
        {
            return Err(PaymentError::NotApproved);
        }
        Ok(vec![PaymentEvent::Advised {
            advice_id,
            advice,
            request_id: request.message_id.clone(),
            message,
            advised_at: at,
        }])
    }

    /// Appends what `events` make due: forwarding the POS's advice once the partner approved,
    /// and `Completed` once the outcome is known, the advice settled and every delivery
    /// acknowledged.
    fn with_consequences(
        &self,
        mut events: Vec<PaymentEvent>,
        at: DateTime<Utc>,
    ) -> Vec<PaymentEvent> {
        if events.is_empty() {
            return events;
        }
        let mut next = self.clone();
        for event in &events {
            next.apply(event.clone());
        }
        // A PayShap credit authorises a matched payment by itself: no partner to ask.
        if let (Some(credit), Stage::Matched, Some(request), Some(scan)) =
            (&next.payshap_credit, next.stage, &next.request, &next.scan)
        {
            let decided = if credit.amount == request.amount {
                PaymentEvent::Authorised {
                    partner_id: scan.partner_id.clone(),
                    response: serde_json::json!({
                        "payshapUetr": credit.uetr,
                        "approvedAmount": {
                            "amount": credit.amount.minor_units(),
                            "currency": credit.amount.currency().as_str(),
                        },
                    }),
                    authorised_at: at,
                }
            } else {
                PaymentEvent::Declined {
                    partner_id: scan.partner_id.clone(),
                    error: serde_json::json!({
                        "errorType": "INVALID_AMOUNT",
                        "errorMessage": "PayShap credit differs from the amount due",
                    }),
                    declined_at: at,
                }
            };
            next.apply(decided.clone());
            events.push(decided);
            if matches!(next.outcome, Some(Outcome::Declined { .. })) {
                let refund = next.refund_required("PayShap credit differs from the amount due", at);
                next.apply(refund.clone());
                events.push(refund);
            }
        }
        if let (Some(advice), Some(Outcome::Authorised { .. }), Some(scan), Some(request)) =
            (&next.advice, &next.outcome, &next.scan, &next.request)
        {
            if next.payshap_credit.is_some() {
                // PayShap: the credit cannot be pulled back, so a reversal means a refund.
                if matches!(advice.kind, AdviceKind::Reversal { .. }) && !next.refund_recorded {
                    let refund =
                        next.refund_required("reversal of an approved PayShap payment", at);
                    next.apply(refund.clone());
                    events.push(refund);
                }
            } else if !next.deliveries.contains_key(&advice.advice_id) {
                let scheduled = PaymentEvent::DeliveryScheduled {
                    delivery_id: advice.advice_id.clone(),
                    partner_id: scan.partner_id.clone(),
                    advice: advice.kind.clone(),
                    request_id: request.message_id.clone(),
                    message: next
                        .advice_message
                        .as_deref()
                        .cloned()
                        .unwrap_or(serde_json::Value::Null),
                    scheduled_at: at,
                };
                next.apply(scheduled.clone());
                events.push(scheduled);
            }
        }
        if !next.completed && next.is_settled() {
            events.push(PaymentEvent::Completed { completed_at: at });
        }
        events
    }

    /// Nothing more to do for this payment.
    fn is_settled(&self) -> bool {
        let all_delivered = self
            .deliveries
            .values()
            .all(|d| d.status == DeliveryStatus::Delivered);
        let timeout_reversal = self
            .deliveries
            .values()
            .any(|d| matches!(d.kind, AdviceKind::Reversal { .. }));
        let advice_settled = match (&self.advice, &self.outcome) {
            (_, None) => false,
            (None, Some(_)) => timeout_reversal,
            (Some(_), Some(Outcome::Authorised { .. })) if self.payshap_credit.is_some() => true,
            (Some(a), Some(Outcome::Authorised { .. })) => {
                self.deliveries.contains_key(&a.advice_id)
            }
            (Some(a), Some(_)) => matches!(a.kind, AdviceKind::Reversal { .. }),
        };
        advice_settled && all_delivered
    }

    fn request_payment(
        &self,
        message_id: String,
        client_id: &PartyId,
        amount: Amount,
        message: serde_json::Value,
        received_at: DateTime<Utc>,
        respond_by: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        let qr = self.issued_to(client_id)?;
        self.check_new_message(&message_id)?;
        if self.request.is_some() {
            return Err(PaymentError::PaymentAlreadyRequested);
        }
        if received_at >= qr.expires_at {
            return Err(PaymentError::QrExpired);
        }
        if let Some(qr_amount) = qr.amount {
            if qr_amount != amount {
                return Err(PaymentError::AmountMismatch {
                    qr: qr_amount,
                    requested: amount,
                });
            }
        }
        let mut events = vec![PaymentEvent::PaymentRequested {
            message_id,
            amount,
            message,
            requested_at: received_at,
            respond_by,
        }];
        if let Some(scan) = &self.scan {
            if received_at <= scan.hold_until {
                events.push(PaymentEvent::Matched {
                    partner_id: scan.partner_id.clone(),
                    amount,
                    matched_at: received_at,
                });
            } else {
                events.push(PaymentEvent::ScanLapsed {
                    partner_id: scan.partner_id.clone(),
                    lapsed_at: received_at,
                });
            }
        }
        Ok(events)
    }

    fn receive_scan(
        &self,
        message_id: String,
        partner_id: PartyId,
        partner_payment_token: Option<String>,
        received_at: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        let qr = self
            .issued
            .as_ref()
            .ok_or(PaymentError::UnknownTransaction)?;
        self.check_new_message(&message_id)?;
        if self.stage == Stage::Final {
            return Err(PaymentError::AlreadyFinal);
        }
        let mut events = Vec::new();
        if let Some(scan) = &self.scan {
            let lapsed = self.request.is_none() && received_at > scan.hold_until;
            if !lapsed {
                return Err(PaymentError::AlreadyScanned {
                    by_same_partner: scan.partner_id == partner_id,
                });
            }
            events.push(PaymentEvent::ScanLapsed {
                partner_id: scan.partner_id.clone(),
                lapsed_at: received_at,
            });
        }
        if received_at >= qr.expires_at {
            return Err(PaymentError::QrExpired);
        }
        events.push(PaymentEvent::ScanReceived {
            message_id,
            partner_id: partner_id.clone(),
            partner_payment_token,
            scanned_at: received_at,
            hold_until,
        });
        if let Some(request) = &self.request {
            events.push(PaymentEvent::Matched {
                partner_id,
                amount: request.amount,
                matched_at: received_at,
            });
        }
        Ok(events)
    }

    fn record_authorisation(
        &self,
        outcome: AuthorisationOutcome,
        at: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        match self.stage {
            Stage::Authorising => {}
            Stage::Final => return Err(PaymentError::AlreadyFinal),
            _ => return Err(PaymentError::NotAwaitingAuthorisation),
        }
        let partner_id = self.matched_partner()?;
        Ok(match outcome {
            AuthorisationOutcome::Approved { response } => vec![PaymentEvent::Authorised {
                partner_id,
                response,
                authorised_at: at,
            }],
            AuthorisationOutcome::Declined { error } => vec![PaymentEvent::Declined {
                partner_id,
                error,
                declined_at: at,
            }],
            AuthorisationOutcome::Unknown { reason } => {
                self.partner_timeout_events(partner_id, reason, at)
            }
        })
    }

    fn time_out(&self, at: DateTime<Utc>) -> Result<Vec<PaymentEvent>, PaymentError> {
        match self.stage {
            Stage::Final => Err(PaymentError::AlreadyFinal),
            Stage::New => Err(PaymentError::UnknownTransaction),
            Stage::Open if self.request.is_none() => Err(PaymentError::NothingWaiting),
            Stage::Open => Ok(vec![PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Scan,
                reason: "no scan received".to_owned(),
                timed_out_at: at,
            }]),
            // Matched but never sent: the partner knows nothing, so nothing to reverse.
            Stage::Matched => Ok(vec![PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Partner,
                reason: "authorisation never sent".to_owned(),
                timed_out_at: at,
            }]),
            Stage::Authorising => Ok(self.partner_timeout_events(
                self.matched_partner()?,
                "no answer from the partner in time".to_owned(),
                at,
            )),
        }
    }

    /// The partner may have approved: time out and queue a reversal for it.
    fn partner_timeout_events(
        &self,
        partner_id: PartyId,
        reason: String,
        at: DateTime<Utc>,
    ) -> Vec<PaymentEvent> {
        let tran_id = self.tran_id().map(TranId::as_str).unwrap_or_default();
        // Deterministic, so a replay or a retry names the same reversal.
        let reversal_id = format!("{tran_id}-timeout-reversal");
        let request_id = self
            .request
            .as_ref()
            .map(|r| r.message_id.clone())
            .unwrap_or_default();
        vec![
            PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Partner,
                reason,
                timed_out_at: at,
            },
            PaymentEvent::TimeoutReversalQueued {
                partner_id: partner_id.clone(),
                reversal_id: reversal_id.clone(),
                queued_at: at,
            },
            PaymentEvent::DeliveryScheduled {
                delivery_id: reversal_id,
                partner_id,
                advice: AdviceKind::Reversal {
                    reason: "TIMEOUT".to_owned(),
                },
                request_id,
                message: serde_json::Value::Null,
                scheduled_at: at,
            },
        ]
    }

    fn matched_partner(&self) -> Result<PartyId, PaymentError> {
        self.scan
            .as_ref()
            .map(|scan| scan.partner_id.clone())
            .ok_or(PaymentError::NotAwaitingAuthorisation)
    }

    fn check_new_message(&self, message_id: &str) -> Result<(), PaymentError> {
        if self.message_ids.contains(message_id) {
            return Err(PaymentError::DuplicateMessage(message_id.to_owned()));
        }
        Ok(())
    }

    /// The QR this payment was issued as, if `client_id` is the retailer it was issued to.
    fn issued_to(&self, client_id: &PartyId) -> Result<&IssuedQr, PaymentError> {
        match &self.issued {
            Some(qr) if &qr.client_id == client_id => Ok(qr),
            _ => Err(PaymentError::UnknownTransaction),
        }
    }
}

fn zero_rand() -> Amount {
    Amount::new(0, crate::values::Currency::ZAR).unwrap_or_else(|_| unreachable!("0 is in range"))
}

impl Payment {
    pub fn payshap_credit(&self) -> Option<&PayShapCredit> {
        self.payshap_credit.as_ref()
    }

    fn set_delivery_status(&mut self, delivery_id: &str, status: DeliveryStatus) {
        if let Some(delivery) = self.deliveries.get_mut(delivery_id) {
            delivery.status = status;
        }
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PaymentEvent::QrIssued {
                message_id,
                tran_id,
                client_id,
                terminal_id,
                amount,
                scheme,
                payload,
                merchant_name,
                issued_at,
                expires_at,
            } => {
                self.message_ids.insert(message_id);
                self.stage = Stage::Open;
                self.issued = Some(IssuedQr {
                    tran_id,
                    client_id,
                    terminal_id,
                    amount,
                    scheme,
                    payload,
                    merchant_name,
                    issued_at,
                    expires_at,
                });
            }
            PaymentEvent::PaymentRequested {
                message_id,
                amount,
                message,
                respond_by,
                ..
            } => {
                self.message_ids.insert(message_id.clone());
                self.request = Some(Request {
                    message_id,
                    amount,
                    message: Arc::new(message),
                    respond_by,
                });
            }
            PaymentEvent::ScanReceived {
                message_id,
                partner_id,
                partner_payment_token,
                hold_until,
                ..
            } => {
                self.message_ids.insert(message_id);
                self.scan = Some(Scan {
                    partner_id,
                    partner_payment_token,
                    hold_until,
                });
            }
            PaymentEvent::ScanLapsed { .. } => self.scan = None,
            PaymentEvent::Matched { .. } => self.stage = Stage::Matched,
            PaymentEvent::AuthorisationRequested { .. } => self.stage = Stage::Authorising,
            PaymentEvent::Authorised { response, .. } => {
                self.stage = Stage::Final;
                self.outcome = Some(Outcome::Authorised {
                    response: Arc::new(response),
                });
            }
            PaymentEvent::Declined { error, .. } => {
                self.stage = Stage::Final;
                self.outcome = Some(Outcome::Declined {
                    error: Arc::new(error),
                });
            }
            PaymentEvent::TimedOut { waiting_for, .. } => {
                self.stage = Stage::Final;
                self.outcome = Some(Outcome::TimedOut { waiting_for });
            }
            PaymentEvent::TimeoutReversalQueued { .. } => {}
            PaymentEvent::Advised {
                advice_id,
                advice,
                message,
                ..
            } => {
                self.advice_ids.insert(advice_id.clone());
                if self.advice.is_none() {
                    self.advice = Some(Advice {
                        advice_id,
                        kind: advice,
                    });
                    self.advice_message = Some(Arc::new(message));
                }
            }
            PaymentEvent::DeliveryScheduled {
                delivery_id,
                partner_id,
                advice,
                ..
            } => {
                self.deliveries.insert(
                    delivery_id,
                    Delivery {
                        partner_id,
                        kind: advice,
                        status: DeliveryStatus::Pending,
                    },
                );
            }
            PaymentEvent::AdviceDelivered { delivery_id, .. } => {
                self.set_delivery_status(&delivery_id, DeliveryStatus::Delivered);
            }
            PaymentEvent::AdviceRefused { delivery_id, .. } => {
                self.set_delivery_status(&delivery_id, DeliveryStatus::Refused);
            }
            PaymentEvent::DeliveryParked { delivery_id, .. } => {
                self.set_delivery_status(&delivery_id, DeliveryStatus::Parked);
            }
            PaymentEvent::DeliveryUnparked { delivery_id, .. } => {
                self.set_delivery_status(&delivery_id, DeliveryStatus::Pending);
            }
            PaymentEvent::Completed { .. } => self.completed = true,
            PaymentEvent::PayShapCredited { uetr, amount, .. } => {
                self.payshap_credit = Some(PayShapCredit { uetr, amount });
            }
            PaymentEvent::RefundRequired { .. } => self.refund_recorded = true,
        }
    }
}

#[cfg(test)]
mod tests;
