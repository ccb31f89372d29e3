//! The `Refund` aggregate: money we held, going back to the payer as an outbound PayShap
//! credit transfer, keyed by its own UETR (one per refund, so it is never sent twice). It
//! is sent until Electrum accepts it (202) or refuses it for good, parked after a bounded
//! number of tries (ops may unpark it), and ends with Electrum's result, which is
//! must-deliver and so may come more than once: the first final result settles or fails it.

mod command;
mod event;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub use command::{RefundCommand, RefundOrder, SendOutcome};
pub use event::RefundEvent;

use crate::payshap_transfer::CompletionOutcome;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    #[default]
    None,
    /// To be sent (again).
    Requested,
    /// Accepted by Electrum; its result is awaited.
    Sent,
    /// Not accepted after the tries allowed: waits for ops.
    Parked,
    Settled,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("only a parked refund can be sent again")]
    NotParked,
    #[error("no such refund")]
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    order: Option<RefundOrder>,
    status: RefundStatus,
    results: BTreeSet<String>,
}

impl Refund {
    pub fn order(&self) -> Option<&RefundOrder> {
        self.order.as_ref()
    }

    pub fn status(&self) -> RefundStatus {
        self.status
    }

    fn ended(&self) -> bool {
        matches!(self.status, RefundStatus::Settled | RefundStatus::Failed)
    }

    fn after_send(
        &self,
        outcome: SendOutcome,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<RefundEvent> {
        if self.status != RefundStatus::Requested {
            return None; // sent already, or its result came first
        }
        Some(match outcome {
            SendOutcome::Accepted { attempts } => RefundEvent::RefundSent {
                attempts,
                sent_at: at,
            },
            SendOutcome::Refused { reason, attempts } => RefundEvent::RefundFailed {
                reason: format!("refused by Electrum after {attempts} tries: {reason}"),
                failed_at: at,
            },
            SendOutcome::Parked { reason, attempts } => RefundEvent::RefundParked {
                reason,
                attempts,
                parked_at: at,
            },
        })
    }
}

impl Aggregate for Refund {
    const TYPE: &'static str = "Refund";
    type Command = RefundCommand;
    type Event = RefundEvent;
    type Error = RefundError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = match command {
            RefundCommand::Request { order } if self.order.is_none() => {
                vec![RefundEvent::RefundRequested { order }]
            }
            RefundCommand::Request { .. } => vec![], // the same refund again
            RefundCommand::RecordSend { outcome, at } => {
                self.after_send(outcome, at).into_iter().collect()
            }
            RefundCommand::Unpark { by, at } => {
                if self.status != RefundStatus::Parked {
                    return Err(RefundError::NotParked);
                }
                vec![RefundEvent::RefundUnparked {
                    by,
                    unparked_at: at,
                }]
            }
            RefundCommand::RecordResult {
                message_id,
                outcome,
                reasons,
                at,
            } => {
                if self.order.is_none() {
                    return Err(RefundError::Unknown);
                }
                if self.results.contains(&message_id) {
                    return Ok(()); // redelivered: acknowledged, nothing changes
                }
                let mut events = vec![RefundEvent::RefundResultReceived {
                    message_id,
                    outcome,
                    reasons: reasons.clone(),
                    received_at: at,
                }];
                if !self.ended() && outcome.is_final() {
                    events.push(match outcome {
                        CompletionOutcome::Approved => {
                            RefundEvent::RefundSettled { settled_at: at }
                        }
                        _ => RefundEvent::RefundFailed {
                            reason: format!("{} {}", outcome.as_str(), reasons.join("; "))
                                .trim()
                                .to_owned(),
                            failed_at: at,
                        },
                    });
                }
                events
            }
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            RefundEvent::RefundRequested { order } => {
                self.order = Some(order);
                self.status = RefundStatus::Requested;
            }
            RefundEvent::RefundSent { .. } => self.status = RefundStatus::Sent,
            RefundEvent::RefundParked { .. } => self.status = RefundStatus::Parked,
            RefundEvent::RefundUnparked { .. } => self.status = RefundStatus::Requested,
            RefundEvent::RefundResultReceived { message_id, .. } => {
                self.results.insert(message_id);
            }
            RefundEvent::RefundSettled { .. } => self.status = RefundStatus::Settled,
            RefundEvent::RefundFailed { .. } => self.status = RefundStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests;
