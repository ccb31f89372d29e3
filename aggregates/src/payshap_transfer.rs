//! The `PayShapTransfer` aggregate: one inbound PayShap credit transfer, keyed by its UETR,
//! as the sponsor bank reports it (`inboundCreditTransferCompletion`). Completions are
//! must-deliver, so they are redelivered and may arrive out of order: every new message is
//! recorded, the money is credited exactly once (on the first APPROVED), and a final outcome
//! that contradicts an earlier one is recorded as a conflict for the back office.

mod command;
mod error;
mod event;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
}

impl PayShapTransfer {
    pub fn is_credited(&self) -> bool {
        self.credited
    }

    pub fn final_outcome(&self) -> Option<CompletionOutcome> {
        self.final_outcome
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
        let completion = match command {
            PayShapCommand::RecordCompletion { completion } => completion,
            PayShapCommand::MarkUnapplied { reason, at } => {
                if self.credited && !self.unapplied {
                    let uetr = self.uetr.clone();
                    sink.write(
                        PayShapEvent::CreditUnapplied {
                            uetr,
                            reason,
                            noticed_at: at,
                        },
                        self,
                    )
                    .await;
                }
                return Ok(());
            }
        };
        if self.message_ids.contains(&completion.message_id) {
            return Ok(()); // redelivered: acknowledged, nothing changes
        }
        let outcome = completion.outcome;
        let conflicting = match (self.final_outcome, outcome.is_final()) {
            (Some(earlier), true) => earlier != outcome,
            _ => false,
        };
        let credit = outcome == CompletionOutcome::Approved && !self.credited && !conflicting;
        let at = completion.received_at;
        let uetr = completion.uetr.clone();
        let amount = completion.amount;
        sink.write(PayShapEvent::CompletionReceived { completion }, self)
            .await;
        if credit {
            sink.write(
                PayShapEvent::Credited {
                    uetr: uetr.clone(),
                    amount,
                    credited_at: at,
                },
                self,
            )
            .await;
        }
        if conflicting {
            sink.write(
                PayShapEvent::OutcomeConflict {
                    uetr,
                    earlier: self.final_outcome.unwrap_or(outcome),
                    later: outcome,
                    noticed_at: at,
                },
                self,
            )
            .await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PayShapEvent::CompletionReceived { completion } => {
                self.uetr = completion.uetr;
                self.message_ids.insert(completion.message_id);
                if completion.outcome.is_final() && self.final_outcome.is_none() {
                    self.final_outcome = Some(completion.outcome);
                }
            }
            PayShapEvent::Credited { .. } => self.credited = true,
            PayShapEvent::OutcomeConflict { .. } => {}
            PayShapEvent::CreditUnapplied { .. } => self.unapplied = true,
        }
    }
}

#[cfg(test)]
mod tests;
