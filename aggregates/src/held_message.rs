//! The `HeldMessage` aggregate: an authentic inbound message that the switch could not apply
//! (a PayShap completion it cannot parse, for an unknown proxy, or for a payment it cannot
//! pay), kept exactly as it came so that nothing must-deliver is ever lost. Its id is the
//! SHA-256 of the body, so a redelivery of the same bytes is the same held message.

mod command;
mod error;
mod event;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{HeldMessageCommand, Received};
pub use error::HeldMessageError;
pub use event::HeldMessageEvent;

/// Longest reason kept, in characters: enough for a parse error with its path.
pub const REASON_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldMessage {
    held: bool,
    redeliveries: u32,
}

impl HeldMessage {
    pub fn is_held(&self) -> bool {
        self.held
    }
}

impl Aggregate for HeldMessage {
    const TYPE: &'static str = "HeldMessage";
    type Command = HeldMessageCommand;
    type Event = HeldMessageEvent;
    type Error = HeldMessageError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let HeldMessageCommand::Hold { message } = command;
        if message.body.is_empty() {
            return Err(HeldMessageError::EmptyBody);
        }
        if message.reason.trim().is_empty() {
            return Err(HeldMessageError::NoReason);
        }
        if self.held {
            // The same bytes again: kept once, the sender's retry changes nothing.
            return Ok(());
        }
        let mut message = message;
        message.reason = message.reason.chars().take(REASON_MAX_CHARS).collect();
        sink.write(HeldMessageEvent::MessageHeld { message }, self)
            .await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            HeldMessageEvent::MessageHeld { .. } => self.held = true,
        }
    }
}

#[cfg(test)]
mod tests;
