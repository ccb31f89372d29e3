use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::StatementLine;
use crate::values::PartyId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PartnerStatementEvent {
    /// The partner's file for the day, version `version`; it replaces any earlier version.
    StatementImported {
        partner_id: PartyId,
        business_day: NaiveDate,
        version: u32,
        file_name: String,
        sha256: String,
        lines: Vec<StatementLine>,
        imported_at: DateTime<Utc>,
    },
}

impl DomainEvent for PartnerStatementEvent {
    fn event_type(&self) -> String {
        match self {
            PartnerStatementEvent::StatementImported { .. } => "StatementImported".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
