//! The `ShortCode` aggregate: a number a customer can key in when the camera fails, claimed
//! by one payment while its QR is live. Its id is the code itself, so two live payments can
//! never hold the same code: the second claim is refused, and the switch draws another.

mod command;
mod error;
mod event;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::values::TranId;
pub use command::ShortCodeCommand;
pub use error::ShortCodeError;
pub use event::ShortCodeEvent;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShortCode {
    claim: Option<(TranId, DateTime<Utc>)>,
}

impl ShortCode {
    /// The payment holding the code at `now`, if its QR is still live.
    pub fn live_tran_id(&self, now: DateTime<Utc>) -> Option<&TranId> {
        self.claim
            .as_ref()
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(tran_id, _)| tran_id)
    }
}

impl Aggregate for ShortCode {
    const TYPE: &'static str = "ShortCode";
    type Command = ShortCodeCommand;
    type Event = ShortCodeEvent;
    type Error = ShortCodeError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let ShortCodeCommand::Claim {
            tran_id,
            expires_at,
            at,
        } = command;
        if expires_at <= at {
            return Err(ShortCodeError::AlreadyExpired);
        }
        match self.live_tran_id(at) {
            // The same payment again (a retried request): it holds the code already.
            Some(holder) if *holder == tran_id => return Ok(()),
            Some(_) => return Err(ShortCodeError::Taken),
            None => {}
        }
        let event = ShortCodeEvent::ShortCodeClaimed {
            tran_id,
            expires_at,
            claimed_at: at,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ShortCodeEvent::ShortCodeClaimed {
                tran_id,
                expires_at,
                ..
            } => self.claim = Some((tran_id, expires_at)),
        }
    }
}

#[cfg(test)]
mod tests;
