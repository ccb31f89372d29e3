//! The `PartnerStatement` aggregate: the settlement file a partner sent for one business day,
//! as the back office imported it (id = `partner/day`). The lines are kept in the event, so
//! three-way matching can be replayed and an auditor can see exactly what the partner said.
//! Importing the same file again changes nothing; a corrected file is a new version that
//! replaces the earlier one for matching (both stay in the history).

mod command;
mod error;
mod event;

use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{PartnerStatementCommand, StatementLine};
pub use error::PartnerStatementError;
pub use event::PartnerStatementEvent;

/// The aggregate id of `partner_id`'s statement for `business_day`.
pub fn statement_id(partner_id: &str, business_day: chrono::NaiveDate) -> String {
    format!("{partner_id}/{business_day}")
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartnerStatement {
    version: u32,
    sha256: Option<String>,
}

impl PartnerStatement {
    pub fn version(&self) -> u32 {
        self.version
    }
}

impl Aggregate for PartnerStatement {
    const TYPE: &'static str = "PartnerStatement";
    type Command = PartnerStatementCommand;
    type Event = PartnerStatementEvent;
    type Error = PartnerStatementError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let PartnerStatementCommand::Import {
            partner_id,
            business_day,
            file_name,
            sha256,
            lines,
            imported_at,
        } = command;
        if self.sha256.as_deref() == Some(sha256.as_str()) {
            return Ok(()); // the same file again
        }
        let mut seen = BTreeSet::new();
        for line in &lines {
            if !seen.insert(line.tran_id.as_str()) {
                return Err(PartnerStatementError::RepeatedTranId {
                    tran_id: line.tran_id.clone(),
                    line_number: line.line_number,
                });
            }
            if line.amount.currency() != lines[0].amount.currency() {
                return Err(PartnerStatementError::MixedCurrencies {
                    line_number: line.line_number,
                });
            }
        }
        sink.write(
            PartnerStatementEvent::StatementImported {
                partner_id,
                business_day,
                version: self.version + 1,
                file_name,
                sha256,
                lines,
                imported_at,
            },
            self,
        )
        .await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PartnerStatementEvent::StatementImported {
                version, sha256, ..
            } => {
                self.version = version;
                self.sha256 = Some(sha256);
            }
        }
    }
}

#[cfg(test)]
mod tests;
