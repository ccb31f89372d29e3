//! The `FeeSchedule` aggregate: what the switch charges per transaction a partner settles,
//! one aggregate per partner (id = partner id). Terms are events so that a fee recorded
//! months ago can be explained by the terms in force when it was charged, and a rebuilt
//! report charges exactly what the live one did.
//!
//! The fee of an amount is `fixed + basis points of the amount`, the percentage part rounded
//! half up to whole minor units, then held between the minimum and the maximum, and never
//! more than the amount itself (a fee cannot make a retailer owe money on a sale).

mod command;
mod error;
mod event;
mod terms;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::FeeScheduleCommand;
pub use error::FeeScheduleError;
pub use event::FeeScheduleEvent;
pub use terms::{FeeTerms, BASIS_POINTS_PER_WHOLE};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeeSchedule {
    terms: Option<FeeTerms>,
    version: u32,
    /// The terms the configuration last put in force. An approved change stays in force
    /// across restarts until the configured terms themselves change.
    #[serde(default)]
    configured: Option<FeeTerms>,
}

impl FeeSchedule {
    pub fn terms(&self) -> Option<FeeTerms> {
        self.terms
    }

    pub fn version(&self) -> u32 {
        self.version
    }
}

impl Aggregate for FeeSchedule {
    const TYPE: &'static str = "FeeSchedule";
    type Command = FeeScheduleCommand;
    type Event = FeeScheduleEvent;
    type Error = FeeScheduleError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let FeeScheduleCommand::SetTerms {
            partner_id,
            terms,
            at,
            approved_by,
        } = command;
        terms.check()?;
        let unchanged = match approved_by {
            // Every instance sets the configured terms at start: only a changed
            // configuration changes anything.
            None => self.configured.or(self.terms) == Some(terms),
            Some(_) => self.terms == Some(terms),
        };
        if unchanged {
            return Ok(());
        }
        sink.write(
            FeeScheduleEvent::TermsSet {
                partner_id,
                terms,
                version: self.version + 1,
                effective_at: at,
                approved_by,
            },
            self,
        )
        .await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            FeeScheduleEvent::TermsSet {
                terms,
                version,
                approved_by,
                ..
            } => {
                if approved_by.is_none() {
                    self.configured = Some(terms);
                }
                self.terms = Some(terms);
                self.version = version;
            }
        }
    }
}

#[cfg(test)]
mod tests;
