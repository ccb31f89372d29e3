//! The `HeldMessage` aggregate: an authentic inbound message that the switch could not apply
//! (a PayShap completion it cannot parse, for an unknown proxy, or for a payment it cannot
//! pay), kept exactly as it came so that nothing must-deliver is ever lost. Its id is the
//! SHA-256 of the body, so a redelivery of the same bytes is the same held message.
//!
//! A completion whose signature fails is kept too, marked unverified (its id prefixed
//! `unverified-`): it is applied once, when a key added later verifies it or, through four
//! eyes, a user vouches for it with the recon line it matches, and never again. One that
//! is nobody's money is closed with a reason instead.

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
    #[serde(default)]
    applied: bool,
    #[serde(default)]
    closed: bool,
}

impl HeldMessage {
    pub fn is_held(&self) -> bool {
        self.held
    }

    pub fn is_applied(&self) -> bool {
        self.applied
    }

    /// Held, and neither applied nor closed.
    pub fn open(&self) -> Result<(), HeldMessageError> {
        match (self.held, self.applied, self.closed) {
            (false, _, _) => Err(HeldMessageError::NotHeld),
            (_, true, _) => Err(HeldMessageError::AlreadyApplied),
            (_, _, true) => Err(HeldMessageError::Closed),
            _ => Ok(()),
        }
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
        let message = match command {
            HeldMessageCommand::Hold { message } => message,
            HeldMessageCommand::Close {
                reason_code,
                note,
                by,
                at,
            } => {
                self.open()?;
                let step = crate::case::CaseStep::Close { reason_code, note };
                crate::case::CaseStatus::Open.after(&step)?;
                let crate::case::CaseStep::Close { reason_code, note } = step else {
                    return Ok(());
                };
                let event = HeldMessageEvent::MessageClosed {
                    reason_code,
                    note,
                    by,
                    closed_at: at,
                };
                sink.write(event, self).await;
                return Ok(());
            }
            HeldMessageCommand::Apply { how, at } => {
                self.open()?;
                if self.applied {
                    return Err(HeldMessageError::AlreadyApplied);
                }
                if how.trim().is_empty() {
                    return Err(HeldMessageError::NoReason);
                }
                let how = how.chars().take(REASON_MAX_CHARS).collect();
                let event = HeldMessageEvent::MessageApplied {
                    how,
                    applied_at: at,
                };
                sink.write(event, self).await;
                return Ok(());
            }
        };
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
            HeldMessageEvent::MessageApplied { .. } => self.applied = true,
            HeldMessageEvent::MessageClosed { .. } => self.closed = true,
        }
    }
}

#[cfg(test)]
mod tests;
