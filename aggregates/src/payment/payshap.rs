//! A PayShap credit for a QR: it pays the payment by itself (no partner to ask), and where
//! it cannot stand (a decline, a reversal) it becomes a refund to make.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::error::PaymentError;
use super::event::PaymentEvent;
use super::state::{Outcome, Payment, Stage};
use crate::values::{Amount, PartyId};

impl Payment {
    pub(super) fn receive_payshap_credit(
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

    /// A PayShap credit authorises a matched payment by itself: no partner to ask. Called on
    /// the state after this command's events, adding what follows to them.
    pub(super) fn authorise_by_credit(
        &mut self,
        events: &mut Vec<PaymentEvent>,
        at: DateTime<Utc>,
    ) {
        if let (Some(credit), Stage::Matched, Some(request), Some(scan)) =
            (&self.payshap_credit, self.stage, &self.request, &self.scan)
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
                    partner_reference: super::PartnerReference {
                        payshap_uetr: Some(credit.uetr.clone()),
                        ..Default::default()
                    },
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
            self.apply(decided.clone());
            events.push(decided);
            if matches!(self.outcome, Some(Outcome::Declined { .. })) {
                let refund = self.refund_required("PayShap credit differs from the amount due", at);
                self.apply(refund.clone());
                events.push(refund);
            }
        }
    }

    pub(super) fn refund_required(&self, reason: &str, at: DateTime<Utc>) -> PaymentEvent {
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
}

fn zero_rand() -> Amount {
    Amount::new(0, crate::values::Currency::ZAR).unwrap_or_else(|_| unreachable!("0 is in range"))
}
