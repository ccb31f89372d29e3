//! The `Resolution` aggregate: one proxy resolution (identifier determination), keyed by its
//! UETR. It has no financial effect; it is recorded so that every answer given to the scheme
//! can be audited. A payer's bank may resolve several times for one payment, each time with
//! a new UETR; a request repeated with the same UETR changes nothing.

mod command;
mod error;
mod event;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::ResolutionCommand;
pub use error::ResolutionError;
pub use event::ResolutionEvent;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    recorded: bool,
}

impl Aggregate for Resolution {
    const TYPE: &'static str = "Resolution";
    type Command = ResolutionCommand;
    type Event = ResolutionEvent;
    type Error = ResolutionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let ResolutionCommand::Record {
            uetr,
            message_id,
            verification_id,
            proxy_id,
            reason_code,
            at,
        } = command;
        if self.recorded {
            return Err(ResolutionError::AlreadyRecorded);
        }
        let event = ResolutionEvent::IdentifierResolved {
            uetr,
            message_id,
            verification_id,
            proxy_id,
            reason_code,
            resolved_at: at,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ResolutionEvent::IdentifierResolved { .. } => self.recorded = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    fn record() -> ResolutionCommand {
        ResolutionCommand::Record {
            uetr: "f27a34ad-c5ab-4b70-a3f9-946d743eaeaa".into(),
            message_id: "m1".into(),
            verification_id: "1001".into(),
            proxy_id: "MOBILE|shop|27821234567".into(),
            reason_code: None,
            at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_resolution_is_recorded_once() {
        let ResolutionCommand::Record {
            uetr,
            message_id,
            verification_id,
            proxy_id,
            reason_code,
            at,
        } = record();
        let event = ResolutionEvent::IdentifierResolved {
            uetr,
            message_id,
            verification_id,
            proxy_id,
            reason_code,
            resolved_at: at,
        };
        TestFramework::<Resolution>::with(())
            .given_no_previous_events()
            .when(record())
            .then_expect_events(vec![event.clone()]);
        TestFramework::<Resolution>::with(())
            .given(vec![event])
            .when(record())
            .then_expect_error(ResolutionError::AlreadyRecorded);
    }
}
