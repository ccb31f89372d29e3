use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResolutionEvent {
    IdentifierResolved {
        uetr: String,
        message_id: String,
        verification_id: String,
        proxy_id: String,
        reason_code: Option<String>,
        resolved_at: DateTime<Utc>,
    },
}

impl DomainEvent for ResolutionEvent {
    fn event_type(&self) -> String {
        "IdentifierResolved".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
