use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::terms::FeeTerms;
use crate::values::PartyId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeeScheduleEvent {
    /// From `effective_at`, the partner's transactions are charged by `terms`.
    TermsSet {
        partner_id: PartyId,
        terms: FeeTerms,
        version: u32,
        effective_at: DateTime<Utc>,
        /// The four-eyes approval that set them; absent when the configuration did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approved_by: Option<String>,
    },
}

impl DomainEvent for FeeScheduleEvent {
    fn event_type(&self) -> String {
        match self {
            FeeScheduleEvent::TermsSet { .. } => "TermsSet".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
