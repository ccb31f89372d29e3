//! What each event does to the state: `Payment` as a `cqrs-es` aggregate. Replaying the
//! events in order rebuilds the state exactly; deciding is `decide`'s.

use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use super::command::PaymentCommand;
use super::error::PaymentError;
use super::event::PaymentEvent;
use super::state::{
    Advice, Delivery, DeliveryStatus, IssuedQr, Outcome, PayShapCredit, Payment, Request, Scan,
    Stage,
};

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
            event @ (PaymentEvent::QrIssued { .. }
            | PaymentEvent::PaymentRequested { .. }
            | PaymentEvent::ScanReceived { .. }
            | PaymentEvent::ScanLapsed { .. }
            | PaymentEvent::Matched { .. }) => self.apply_opening(event),
            event @ (PaymentEvent::AuthorisationRequested { .. }
            | PaymentEvent::Authorised { .. }
            | PaymentEvent::Declined { .. }
            | PaymentEvent::TimedOut { .. }
            | PaymentEvent::TimeoutReversalQueued { .. }) => self.apply_outcome(event),
            event @ (PaymentEvent::Advised { .. }
            | PaymentEvent::DeliveryScheduled { .. }
            | PaymentEvent::AdviceDelivered { .. }
            | PaymentEvent::AdviceRefused { .. }
            | PaymentEvent::DeliveryParked { .. }
            | PaymentEvent::DeliveryUnparked { .. }
            | PaymentEvent::DeliveryRetryRequested { .. }
            | PaymentEvent::Completed { .. }) => self.apply_advice(event),
            PaymentEvent::PayShapCredited { uetr, amount, .. } => {
                self.payshap_credit = Some(PayShapCredit { uetr, amount });
            }
            PaymentEvent::RefundRequired { .. } => self.refund_recorded = true,
        }
    }
}

impl Payment {
    /// The QR, the request and the scan.
    fn apply_opening(&mut self, event: PaymentEvent) {
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
                traceparent,
                ..
            } => {
                self.message_ids.insert(message_id.clone());
                self.request = Some(Request {
                    message_id,
                    amount,
                    message: Arc::new(message),
                    respond_by,
                    traceparent,
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
            _ => unreachable!("apply routes only this stage's events here"),
        }
    }

    /// The authorisation and its outcome.
    fn apply_outcome(&mut self, event: PaymentEvent) {
        match event {
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
            _ => unreachable!("apply routes only this stage's events here"),
        }
    }

    /// Advices, deliveries and completion.
    fn apply_advice(&mut self, event: PaymentEvent) {
        match event {
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
            // Changes no state: the dispatcher's schedule is operational, not the payment's.
            PaymentEvent::DeliveryRetryRequested { .. } => {}
            _ => unreachable!("apply routes only this stage's events here"),
        }
    }

    fn set_delivery_status(&mut self, delivery_id: &str, status: DeliveryStatus) {
        if let Some(delivery) = self.deliveries.get_mut(delivery_id) {
            delivery.status = status;
        }
    }
}
