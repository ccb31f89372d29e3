use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::values::TranId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShortCodeEvent {
    ShortCodeClaimed {
        tran_id: TranId,
        expires_at: DateTime<Utc>,
        claimed_at: DateTime<Utc>,
    },
}

impl DomainEvent for ShortCodeEvent {
    fn event_type(&self) -> String {
        "ShortCodeClaimed".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
