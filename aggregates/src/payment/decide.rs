//! What a command decides: routed to its stage, then what the decided events make due
//! (forwarding an advice, a credit's authorisation, completion).

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::command::{AdviceKind, PaymentCommand};
use super::error::PaymentError;
use super::event::PaymentEvent;
use super::state::{DeliveryStatus, Outcome, Payment};

impl Payment {
    /// The business rules: what happens, if anything, when `command` meets the current state,
    /// and what follows from that (deliveries due, completion).
    pub(super) fn decide(
        &self,
        command: PaymentCommand,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        let at = command.received_at();
        let events = match command {
            command @ (PaymentCommand::IssueQr { .. }
            | PaymentCommand::RequestPayment { .. }
            | PaymentCommand::ReceiveScan { .. }) => self.decide_opening(command),
            command @ (PaymentCommand::StartAuthorisation { .. }
            | PaymentCommand::RecordAuthorisation { .. }
            | PaymentCommand::TimeOut { .. }) => self.decide_authorisation(command),
            command @ (PaymentCommand::Advise { .. }
            | PaymentCommand::RecordDelivery { .. }
            | PaymentCommand::ParkDelivery { .. }
            | PaymentCommand::UnparkDelivery { .. }
            | PaymentCommand::RetryDelivery { .. }) => self.decide_advice(command),
            PaymentCommand::ReceivePayShapCredit {
                uetr,
                partner_id,
                amount,
                at,
            } => self.receive_payshap_credit(uetr, partner_id, amount, at),
        }?;
        Ok(self.with_consequences(events, at))
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
        next.authorise_by_credit(&mut events, at);
        next.forward_advice(&mut events, at);
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
}
