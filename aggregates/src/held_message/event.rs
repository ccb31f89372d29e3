use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::Received;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HeldMessageEvent {
    MessageHeld {
        message: Received,
    },
    /// Applied once, after all.
    MessageApplied {
        how: String,
        applied_at: DateTime<Utc>,
    },
    /// Closed without applying it: why (a close reason code and a note), and who.
    MessageClosed {
        reason_code: String,
        note: String,
        by: String,
        closed_at: DateTime<Utc>,
    },
}

impl DomainEvent for HeldMessageEvent {
    fn event_type(&self) -> String {
        match self {
            HeldMessageEvent::MessageHeld { .. } => "MessageHeld",
            HeldMessageEvent::MessageApplied { .. } => "MessageApplied",
            HeldMessageEvent::MessageClosed { .. } => "MessageClosed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
