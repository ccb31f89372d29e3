//! The `Payment` aggregate: one QR code, its payment request, the scan that claims it and,
//! later, the authorisation and advices. Its id is the tranId.
//!
//! Scan and payment request may arrive in either order (the POS sends both while the QR is
//! shown); whichever arrives second completes the pair and the aggregate records `Matched`.

mod command;
mod error;
mod event;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::PaymentCommand;
pub use error::PaymentError;
pub use event::PaymentEvent;

use crate::values::{Amount, PartyId, TranId};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    issued: Option<IssuedQr>,
    request: Option<Request>,
    scan: Option<Scan>,
    matched: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssuedQr {
    tran_id: TranId,
    client_id: PartyId,
    amount: Option<Amount>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Request {
    amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scan {
    partner_id: PartyId,
}

impl Payment {
    pub fn tran_id(&self) -> Option<&TranId> {
        self.issued.as_ref().map(|qr| &qr.tran_id)
    }

    pub fn is_matched(&self) -> bool {
        self.matched
    }

    /// The business rules: what happens, if anything, when `command` meets the current state.
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::IssueQr {
                tran_id,
                client_id,
                terminal_id,
                amount,
                payload,
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
                    tran_id,
                    client_id,
                    terminal_id,
                    amount,
                    payload,
                    issued_at,
                    expires_at,
                }])
            }
            PaymentCommand::RequestPayment {
                message_id,
                client_id,
                amount,
                received_at,
            } => {
                let qr = self.issued_to(&client_id)?;
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
                    requested_at: received_at,
                }];
                if let Some(scan) = &self.scan {
                    events.push(PaymentEvent::Matched {
                        partner_id: scan.partner_id.clone(),
                        amount,
                        matched_at: received_at,
                    });
                }
                Ok(events)
            }
            PaymentCommand::ReceiveScan {
                message_id,
                partner_id,
                partner_payment_token,
                received_at,
            } => {
                let qr = self
                    .issued
                    .as_ref()
                    .ok_or(PaymentError::UnknownTransaction)?;
                if let Some(scan) = &self.scan {
                    return Err(PaymentError::AlreadyScanned {
                        by_same_partner: scan.partner_id == partner_id,
                    });
                }
                if received_at >= qr.expires_at {
                    return Err(PaymentError::QrExpired);
                }
                let mut events = vec![PaymentEvent::ScanReceived {
                    message_id,
                    partner_id: partner_id.clone(),
                    partner_payment_token,
                    scanned_at: received_at,
                }];
                if let Some(request) = &self.request {
                    events.push(PaymentEvent::Matched {
                        partner_id,
                        amount: request.amount,
                        matched_at: received_at,
                    });
                }
                Ok(events)
            }
        }
    }

    /// The QR this payment was issued as, if `client_id` is the retailer it was issued to.
    /// Another retailer's tranId must look exactly like an unknown one.
    fn issued_to(&self, client_id: &PartyId) -> Result<&IssuedQr, PaymentError> {
        match &self.issued {
            Some(qr) if &qr.client_id == client_id => Ok(qr),
            _ => Err(PaymentError::UnknownTransaction),
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
                tran_id,
                client_id,
                amount,
                expires_at,
                ..
            } => {
                self.issued = Some(IssuedQr {
                    tran_id,
                    client_id,
                    amount,
                    expires_at,
                });
            }
            PaymentEvent::PaymentRequested { amount, .. } => {
                self.request = Some(Request { amount });
            }
            PaymentEvent::ScanReceived { partner_id, .. } => {
                self.scan = Some(Scan { partner_id });
            }
            PaymentEvent::Matched { .. } => self.matched = true,
        }
    }
}

#[cfg(test)]
mod tests;
