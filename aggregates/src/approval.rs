//! The `Approval` aggregate: four eyes on every money-moving action. A maker requests the
//! action with a reason; a different user with the approver role approves or rejects it
//! before it expires; only then is it carried out, and how that went is recorded too.
//! Self-approval, a second decision, and a decision after expiry are refused.

mod command;
mod error;
mod event;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{ApprovalCommand, MoneyAction};
pub use error::ApprovalError;
pub use event::ApprovalEvent;

/// Longest reason or note kept, in characters.
pub const REASON_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    #[default]
    None,
    Pending,
    Approved,
    Rejected,
    Executed,
    Failed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    status: ApprovalStatus,
    action: Option<MoneyAction>,
    maker: String,
    expires_at: Option<DateTime<Utc>>,
}

impl Approval {
    pub fn status(&self) -> ApprovalStatus {
        self.status
    }

    pub fn action(&self) -> Option<&MoneyAction> {
        self.action.as_ref()
    }

    pub fn maker(&self) -> &str {
        &self.maker
    }

    /// Checks a decision by `approver` at `at`.
    fn decidable(&self, approver: &str, at: DateTime<Utc>) -> Result<(), ApprovalError> {
        if self.status != ApprovalStatus::Pending {
            return Err(ApprovalError::NotPending);
        }
        if self.expires_at.is_some_and(|expiry| at >= expiry) {
            return Err(ApprovalError::Expired);
        }
        if approver == self.maker {
            return Err(ApprovalError::SelfApproval);
        }
        Ok(())
    }
}

fn kept(text: &str) -> Result<String, ApprovalError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApprovalError::NoReason);
    }
    Ok(text.chars().take(REASON_MAX_CHARS).collect())
}

impl Aggregate for Approval {
    const TYPE: &'static str = "Approval";
    type Command = ApprovalCommand;
    type Event = ApprovalEvent;
    type Error = ApprovalError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ApprovalCommand::Request {
                action,
                maker,
                reason,
                expires_at,
                at,
            } => {
                if self.status != ApprovalStatus::None {
                    return Err(ApprovalError::AlreadyRequested);
                }
                ApprovalEvent::ApprovalRequested {
                    action,
                    maker,
                    reason: kept(&reason)?,
                    expires_at,
                    requested_at: at,
                }
            }
            ApprovalCommand::Approve { approver, at } => {
                self.decidable(&approver, at)?;
                ApprovalEvent::ApprovalGranted {
                    approver,
                    approved_at: at,
                }
            }
            ApprovalCommand::Reject { approver, note, at } => {
                self.decidable(&approver, at)?;
                ApprovalEvent::ApprovalRejected {
                    approver,
                    note: kept(&note)?,
                    rejected_at: at,
                }
            }
            ApprovalCommand::RecordOutcome { outcome, at } => {
                if self.status != ApprovalStatus::Approved {
                    return Err(ApprovalError::NotApproved);
                }
                match outcome {
                    Ok(detail) => ApprovalEvent::ActionExecuted {
                        detail,
                        executed_at: at,
                    },
                    Err(reason) => ApprovalEvent::ActionFailed {
                        reason,
                        failed_at: at,
                    },
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ApprovalEvent::ApprovalRequested {
                action,
                maker,
                expires_at,
                ..
            } => {
                self.status = ApprovalStatus::Pending;
                self.action = Some(action);
                self.maker = maker;
                self.expires_at = Some(expires_at);
            }
            ApprovalEvent::ApprovalGranted { .. } => self.status = ApprovalStatus::Approved,
            ApprovalEvent::ApprovalRejected { .. } => self.status = ApprovalStatus::Rejected,
            ApprovalEvent::ActionExecuted { .. } => self.status = ApprovalStatus::Executed,
            ApprovalEvent::ActionFailed { .. } => self.status = ApprovalStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests;
