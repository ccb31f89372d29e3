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

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::FeeScheduleCommand;
pub use error::FeeScheduleError;
pub use event::FeeScheduleEvent;

/// One basis point is a hundredth of a percent.
pub const BASIS_POINTS_PER_WHOLE: i64 = 10_000;

/// The terms of one partner's schedule. All amounts are minor units of the transaction's
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTerms {
    pub basis_points: u32,
    pub fixed_minor: i64,
    pub minimum_minor: i64,
    /// No cap when absent.
    pub maximum_minor: Option<i64>,
}

impl FeeTerms {
    /// No fee at all: what a partner without a schedule pays.
    pub const FREE: FeeTerms = FeeTerms {
        basis_points: 0,
        fixed_minor: 0,
        minimum_minor: 0,
        maximum_minor: None,
    };

    pub fn check(&self) -> Result<(), FeeScheduleError> {
        let invalid = |reason: &str| Err(FeeScheduleError::InvalidTerms(reason.to_owned()));
        if i64::from(self.basis_points) > BASIS_POINTS_PER_WHOLE {
            return invalid("basis_points must be at most 10000 (100 %)");
        }
        if self.fixed_minor < 0 || self.minimum_minor < 0 {
            return invalid("fixed_minor and minimum_minor must not be negative");
        }
        if let Some(maximum) = self.maximum_minor {
            if maximum < self.minimum_minor {
                return invalid("maximum_minor must not be below minimum_minor");
            }
        }
        Ok(())
    }

    /// The fee charged on `amount_minor` (non-negative minor units).
    pub fn fee_for(&self, amount_minor: i64) -> i64 {
        let amount = i128::from(amount_minor.max(0));
        let percentage = (amount * i128::from(self.basis_points)
            + i128::from(BASIS_POINTS_PER_WHOLE / 2))
            / i128::from(BASIS_POINTS_PER_WHOLE);
        let mut fee = i128::from(self.fixed_minor) + percentage;
        fee = fee.max(i128::from(self.minimum_minor));
        if let Some(maximum) = self.maximum_minor {
            fee = fee.min(i128::from(maximum));
        }
        // Bounded by the amount, which is an i64: the conversion cannot fail.
        i64::try_from(fee.min(amount)).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeeSchedule {
    terms: Option<FeeTerms>,
    version: u32,
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
        } = command;
        terms.check()?;
        if self.terms == Some(terms) {
            return Ok(()); // unchanged: every instance sets the configured terms at start
        }
        sink.write(
            FeeScheduleEvent::TermsSet {
                partner_id,
                terms,
                version: self.version + 1,
                effective_at: at,
            },
            self,
        )
        .await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            FeeScheduleEvent::TermsSet { terms, version, .. } => {
                self.terms = Some(terms);
                self.version = version;
            }
        }
    }
}

#[cfg(test)]
mod tests;
