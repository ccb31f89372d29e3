//! Advices and their delivery: the POS's confirmation or reversal (the first one decides),
//! forwarded to the partner once it approved, and each delivery's answer.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::command::{AdviceKind, DeliveryResult, PaymentCommand};
use super::error::PaymentError;
use super::event::PaymentEvent;
use super::state::{Delivery, DeliveryStatus, Outcome, Payment};
use crate::values::PartyId;

impl Payment {
    /// Decides the commands of this stage (routed here by `decide`).
    pub(super) fn decide_advice(
        &self,
        command: PaymentCommand,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
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
            } => self.record_delivery(delivery_id, result, at),
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
            PaymentCommand::UnparkDelivery { delivery_id, at } => {
                if self.delivery_or_err(&delivery_id)?.status != DeliveryStatus::Parked {
                    return Err(PaymentError::DeliveryNotInState(delivery_id));
                }
                Ok(vec![PaymentEvent::DeliveryUnparked {
                    delivery_id,
                    unparked_at: at,
                }])
            }
            PaymentCommand::RetryDelivery { delivery_id, at } => {
                if self.delivery_or_err(&delivery_id)?.status != DeliveryStatus::Pending {
                    return Err(PaymentError::DeliveryNotInState(delivery_id));
                }
                Ok(vec![PaymentEvent::DeliveryRetryRequested {
                    delivery_id,
                    requested_at: at,
                }])
            }
            _ => unreachable!("decide routes only advice and delivery commands here"),
        }
    }

    fn record_delivery(
        &self,
        delivery_id: String,
        result: DeliveryResult,
        at: DateTime<Utc>,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
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

    /// Forwards the POS's advice once the partner approved (for PayShap, where a credit
    /// cannot be pulled back, a reversal becomes a refund). Called on the state after this
    /// command's events, adding what follows to them.
    pub(super) fn forward_advice(&mut self, events: &mut Vec<PaymentEvent>, at: DateTime<Utc>) {
        if let (Some(advice), Some(Outcome::Authorised { .. }), Some(scan), Some(request)) =
            (&self.advice, &self.outcome, &self.scan, &self.request)
        {
            if self.payshap_credit.is_some() {
                // PayShap: the credit cannot be pulled back, so a reversal means a refund.
                if matches!(advice.kind, AdviceKind::Reversal { .. }) && !self.refund_recorded {
                    let refund =
                        self.refund_required("reversal of an approved PayShap payment", at);
                    self.apply(refund.clone());
                    events.push(refund);
                }
            } else if !self.deliveries.contains_key(&advice.advice_id) {
                let scheduled = PaymentEvent::DeliveryScheduled {
                    delivery_id: advice.advice_id.clone(),
                    partner_id: scan.partner_id.clone(),
                    advice: advice.kind.clone(),
                    request_id: request.message_id.clone(),
                    message: self
                        .advice_message
                        .as_deref()
                        .cloned()
                        .unwrap_or(serde_json::Value::Null),
                    scheduled_at: at,
                };
                self.apply(scheduled.clone());
                events.push(scheduled);
            }
        }
    }
}
