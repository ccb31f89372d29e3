use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::ProxyChange;
use super::status::AccountStatus;
use crate::values::ProxyKey;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProxyEvent {
    ProxyRegistered {
        key: ProxyKey,
        known_as_name: String,
        legal_name: String,
        account_created_on: NaiveDate,
        status: AccountStatus,
        resolution_allowed: bool,
        registered_at: DateTime<Utc>,
    },
    ProxyChanged {
        change: ProxyChange,
        changed_at: DateTime<Utc>,
    },
    ProxyRetired {
        retired_at: DateTime<Utc>,
    },
}

impl DomainEvent for ProxyEvent {
    fn event_type(&self) -> String {
        match self {
            ProxyEvent::ProxyRegistered { .. } => "ProxyRegistered",
            ProxyEvent::ProxyChanged { .. } => "ProxyChanged",
            ProxyEvent::ProxyRetired { .. } => "ProxyRetired",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
