use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::status::AccountStatus;
use crate::values::ProxyKey;

#[derive(Debug, Clone, PartialEq)]
pub enum ProxyCommand {
    /// Add a proxy to the registry (or re-register a retired one).
    Register {
        key: ProxyKey,
        known_as_name: String,
        legal_name: String,
        account_created_on: NaiveDate,
        status: AccountStatus,
        /// Whether the account accepts proxy resolution at all (AG03 when not).
        resolution_allowed: bool,
        at: DateTime<Utc>,
    },
    Change {
        change: ProxyChange,
        at: DateTime<Utc>,
    },
    /// Remove it from resolution; payers then get BE23.
    Retire { at: DateTime<Utc> },
}

/// The fields an administrator may change; absent ones stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyChange {
    pub known_as_name: Option<String>,
    pub legal_name: Option<String>,
    pub status: Option<AccountStatus>,
    pub resolution_allowed: Option<bool>,
}
