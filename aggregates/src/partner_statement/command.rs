use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{Amount, PartyId};

#[derive(Debug, Clone, PartialEq)]
pub enum PartnerStatementCommand {
    Import {
        partner_id: PartyId,
        business_day: NaiveDate,
        file_name: String,
        /// Hex SHA-256 of the file as received: the same file twice is one import.
        sha256: String,
        lines: Vec<StatementLine>,
        imported_at: DateTime<Utc>,
    },
}

/// One transaction the partner says it settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// Line of the file (the header is line 1), for finance to find it again.
    pub line_number: u32,
    /// As the partner wrote it; it may name a transaction the switch never saw.
    pub tran_id: String,
    pub partner_reference: String,
    pub amount: Amount,
    pub transaction_time: DateTime<Utc>,
}
