use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::Received;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HeldMessageEvent {
    MessageHeld { message: Received },
}

impl DomainEvent for HeldMessageEvent {
    fn event_type(&self) -> String {
        "MessageHeld".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
