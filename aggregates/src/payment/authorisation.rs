//! Authorisation: claimed before the partner is called (so only one caller ever calls it),
//! then its outcome, or a time-out, which queues a reversal in case the partner approved.

use chrono::{DateTime, Utc};

use super::command::{AdviceKind, AuthorisationOutcome, PaymentCommand};
use super::error::PaymentError;
use super::event::{PaymentEvent, WaitingFor};
use super::state::{Payment, Stage};
use crate::values::{PartyId, TranId};

impl Payment {
    /// Decides the commands of this stage (routed here by `decide`).
    pub(super) fn decide_authorisation(
        &self,
        command: PaymentCommand,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
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
            _ => unreachable!("decide routes only authorisation commands here"),
        }
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
                partner_reference: super::PartnerReference::from_response(&response),
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
}
