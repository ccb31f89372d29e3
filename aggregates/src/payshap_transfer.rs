//! The `PayShapTransfer` aggregate: one inbound PayShap credit transfer, keyed by its UETR,
//! as the sponsor bank reports it (`inboundCreditTransferCompletion`). Completions are
//! must-deliver, so they are redelivered and may arrive out of order: every new message is
//! recorded, the money is credited exactly once (on the first APPROVED), and a final outcome
//! that contradicts an earlier one is recorded as a conflict for the back office.
//!
//! Under partner-auth Electrum first asks us to authorise the credit: the request and our
//! decision are recorded here, then how delivering it ended. An approval binds us; after a
//! refusal (or, where we authorise, without an approval) an approved completion is
//! recorded as refused for the back office and never credited.

mod authorisation;
mod command;
mod error;
mod event;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::case::CaseStatus;
pub use authorisation::{AuthorisationRequest, Decision, DecisionDelivery};
pub use command::{Completion, CompletionOutcome, PayShapCommand};
pub use error::PayShapError;
pub use event::PayShapEvent;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PayShapTransfer {
    uetr: String,
    message_ids: BTreeSet<String>,
    final_outcome: Option<CompletionOutcome>,
    credited: bool,
    unapplied: bool,
    /// Partner-auth: our decision, and whether delivering it has ended.
    #[serde(default)]
    request: Option<AuthorisationRequest>,
    #[serde(default)]
    decision: Option<Decision>,
    #[serde(default)]
    decision_settled: bool,
    /// Money we hold but could not apply (unknown proxy, unapplied, refused): a case.
    #[serde(default)]
    held: bool,
    #[serde(default)]
    case: CaseStatus,
    /// Whether the registry knew the proxy of the last completion recorded.
    #[serde(default)]
    last_proxy_known: bool,
    /// What the first completion said of the money: where a refund would go.
    #[serde(default)]
    credit: Option<Completion>,
    /// Recon differences recorded (`day:kind`), each once.
    #[serde(default)]
    recon_flags: std::collections::BTreeSet<String>,
}

impl PayShapTransfer {
    pub fn is_credited(&self) -> bool {
        self.credited
    }

    pub fn final_outcome(&self) -> Option<CompletionOutcome> {
        self.final_outcome
    }

    /// Our partner-auth decision, if Electrum asked for one.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// Whether this is money we hold but could not apply, and where its case stands.
    pub fn case(&self) -> Option<CaseStatus> {
        self.held.then_some(self.case)
    }

    /// The first completion recorded (amount, payer), if any.
    pub fn first_completion(&self) -> Option<&Completion> {
        self.credit.as_ref()
    }

    /// Electrum's authorisation request, if it sent one.
    pub fn authorisation_request(&self) -> Option<&AuthorisationRequest> {
        self.request.as_ref()
    }

    /// Whether a decision waits to be delivered.
    pub fn decision_pending(&self) -> bool {
        self.decision.is_some() && !self.decision_settled
    }

    /// Why an approved completion must not be credited, if it must not.
    fn refusal_of_credit(&self, authorisation_required: bool) -> Option<String> {
        match &self.decision {
            Some(decision) if !decision.approved => Some(format!(
                "completion after our refusal ({})",
                decision.reason_code.as_deref().unwrap_or("REJECTED")
            )),
            None if authorisation_required => {
                Some("completion without our authorisation (partner-auth)".to_owned())
            }
            _ => None,
        }
    }

    async fn record_completion(
        &mut self,
        completion: Completion,
        authorisation_required: bool,
        sink: &EventSink<Self>,
    ) {
        if self.message_ids.contains(&completion.message_id) {
            return; // redelivered: acknowledged, nothing changes
        }
        let outcome = completion.outcome;
        let conflicting = match (self.final_outcome, outcome.is_final()) {
            (Some(earlier), true) => earlier != outcome,
            _ => false,
        };
        let approved = outcome == CompletionOutcome::Approved && !self.credited && !conflicting;
        let refused = approved
            .then(|| self.refusal_of_credit(authorisation_required))
            .flatten();
        let (at, uetr, amount) = (
            completion.received_at,
            completion.uetr.clone(),
            completion.amount,
        );
        sink.write(PayShapEvent::CompletionReceived { completion }, self)
            .await;
        if let Some(reason) = refused {
            let event = PayShapEvent::CompletionRefused {
                uetr,
                reason,
                noticed_at: at,
            };
            sink.write(event, self).await;
        } else if approved {
            let event = PayShapEvent::Credited {
                uetr,
                amount,
                credited_at: at,
            };
            sink.write(event, self).await;
        } else if conflicting {
            let event = PayShapEvent::OutcomeConflict {
                uetr,
                earlier: self.final_outcome.unwrap_or(outcome),
                later: outcome,
                noticed_at: at,
            };
            sink.write(event, self).await;
        }
    }

    /// The first decision binds: a repeated or second request changes nothing (the
    /// decision in force is delivered again while it is pending).
    async fn authorise(
        &mut self,
        request: AuthorisationRequest,
        decision: Decision,
        sink: &EventSink<Self>,
    ) {
        if self.decision.is_some() {
            return;
        }
        let uetr = request.uetr.clone();
        sink.write(PayShapEvent::AuthorisationRequested { request }, self)
            .await;
        sink.write(PayShapEvent::AuthorisationDecided { uetr, decision }, self)
            .await;
    }

    async fn record_delivery(
        &mut self,
        delivery: DecisionDelivery,
        at: chrono::DateTime<chrono::Utc>,
        sink: &EventSink<Self>,
    ) {
        if !self.decision_pending() {
            return;
        }
        let uetr = self.uetr.clone();
        let event = match delivery {
            DecisionDelivery::Acknowledged { attempts } => PayShapEvent::DecisionDelivered {
                uetr,
                attempts,
                delivered_at: at,
            },
            DecisionDelivery::Undelivered { reason, attempts } => {
                PayShapEvent::DecisionUndelivered {
                    uetr,
                    reason,
                    attempts,
                    noticed_at: at,
                }
            }
        };
        sink.write(event, self).await;
    }
}

impl Aggregate for PayShapTransfer {
    const TYPE: &'static str = "PayShapTransfer";
    type Command = PayShapCommand;
    type Event = PayShapEvent;
    type Error = PayShapError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            PayShapCommand::RecordCompletion {
                completion,
                authorisation_required,
            } => {
                self.record_completion(completion, authorisation_required, sink)
                    .await
            }
            PayShapCommand::MarkUnapplied { reason, at } => {
                if self.credited && !self.unapplied {
                    let uetr = self.uetr.clone();
                    let event = PayShapEvent::CreditUnapplied {
                        uetr,
                        reason,
                        noticed_at: at,
                    };
                    sink.write(event, self).await;
                }
            }
            PayShapCommand::Authorise { request, decision } => {
                self.authorise(request, decision, sink).await
            }
            PayShapCommand::RecordDecisionDelivery { delivery, at } => {
                self.record_delivery(delivery, at, sink).await
            }
            PayShapCommand::FlagFromRecon {
                day,
                difference,
                at,
            } => {
                // Once per finding; an open case stays as it is.
                let seen = self.recon_flags.contains(&format!("{day}:{difference}"));
                if seen || self.uetr.is_empty() {
                    return Ok(());
                }
                let event = PayShapEvent::ReconDifferenceFound {
                    uetr: self.uetr.clone(),
                    day,
                    difference,
                    found_at: at,
                };
                sink.write(event, self).await;
            }
            PayShapCommand::WorkCase { step, by, at } => {
                if !self.held {
                    return Err(PayShapError::NotACase);
                }
                self.case.after(&step)?;
                let event = PayShapEvent::CaseStepTaken {
                    uetr: self.uetr.clone(),
                    step,
                    by,
                    taken_at: at,
                };
                sink.write(event, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PayShapEvent::CompletionReceived { completion } => {
                self.uetr = completion.uetr.clone();
                self.last_proxy_known = completion.proxy_known || completion.tran_id.is_some();
                self.message_ids.insert(completion.message_id.clone());
                if completion.outcome.is_final() && self.final_outcome.is_none() {
                    self.final_outcome = Some(completion.outcome);
                }
                self.credit.get_or_insert(completion);
            }
            PayShapEvent::Credited { .. } => {
                self.credited = true;
                self.held |= !self.last_proxy_known;
            }
            PayShapEvent::OutcomeConflict { .. } => {}
            PayShapEvent::CompletionRefused { .. } => self.held = true,
            PayShapEvent::CreditUnapplied { .. } => {
                self.unapplied = true;
                self.held = true;
            }
            PayShapEvent::ReconDifferenceFound {
                day, difference, ..
            } => {
                self.recon_flags.insert(format!("{day}:{difference}"));
                self.held = true;
            }
            PayShapEvent::CaseStepTaken { step, .. } => {
                // Checked when the step was taken; an event is history.
                self.case = self.case.after(&step).unwrap_or(self.case);
            }
            PayShapEvent::AuthorisationRequested { request } => {
                self.uetr = request.uetr.clone();
                self.request = Some(request);
            }
            PayShapEvent::AuthorisationDecided { decision, .. } => self.decision = Some(decision),
            PayShapEvent::DecisionDelivered { .. } | PayShapEvent::DecisionUndelivered { .. } => {
                self.decision_settled = true
            }
        }
    }
}

#[cfg(test)]
mod tests;
