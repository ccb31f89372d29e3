use chrono::{DateTime, Utc};

use super::terms::FeeTerms;
use crate::values::PartyId;

#[derive(Debug, Clone, PartialEq)]
pub enum FeeScheduleCommand {
    /// Put `terms` in force from `at` for every transaction authorised afterwards.
    SetTerms {
        partner_id: PartyId,
        terms: FeeTerms,
        at: DateTime<Utc>,
        /// The approval that changes them; `None`: the configuration puts them in force.
        approved_by: Option<String>,
    },
}
