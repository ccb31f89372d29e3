//! Issue and matching: the QR, the POS's payment request and the partner's scan, which may
//! arrive in either order; whichever comes second makes the pair (`Matched`), as long as
//! the scan is still inside its hold window.

use chrono::{DateTime, Utc};

use super::command::PaymentCommand;
use super::error::PaymentError;
use super::event::PaymentEvent;
use super::state::{IssuedQr, Payment, Stage};
use crate::values::{Amount, PartyId};

impl Payment {
    /// Decides the commands of this stage (routed here by `decide`).
    pub(super) fn decide_opening(
        &self,
        command: PaymentCommand,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
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
                traceparent,
            } => self.request_payment(
                message_id,
                &client_id,
                amount,
                message,
                (received_at, respond_by),
                traceparent,
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
            _ => unreachable!("decide routes only issue and matching commands here"),
        }
    }

    fn request_payment(
        &self,
        message_id: String,
        client_id: &PartyId,
        amount: Amount,
        message: serde_json::Value,
        (received_at, respond_by): (DateTime<Utc>, DateTime<Utc>),
        traceparent: Option<String>,
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
            traceparent,
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

    pub(super) fn check_new_message(&self, message_id: &str) -> Result<(), PaymentError> {
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
