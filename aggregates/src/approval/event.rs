use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::MoneyAction;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApprovalEvent {
    ApprovalRequested {
        action: MoneyAction,
        maker: String,
        reason: String,
        expires_at: DateTime<Utc>,
        requested_at: DateTime<Utc>,
    },
    ApprovalGranted {
        approver: String,
        approved_at: DateTime<Utc>,
    },
    ApprovalRejected {
        approver: String,
        note: String,
        rejected_at: DateTime<Utc>,
    },
    ActionExecuted {
        detail: String,
        executed_at: DateTime<Utc>,
    },
    ActionFailed {
        reason: String,
        failed_at: DateTime<Utc>,
    },
}

impl DomainEvent for ApprovalEvent {
    fn event_type(&self) -> String {
        match self {
            ApprovalEvent::ApprovalRequested { .. } => "ApprovalRequested",
            ApprovalEvent::ApprovalGranted { .. } => "ApprovalGranted",
            ApprovalEvent::ApprovalRejected { .. } => "ApprovalRejected",
            ApprovalEvent::ActionExecuted { .. } => "ActionExecuted",
            ApprovalEvent::ActionFailed { .. } => "ActionFailed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
