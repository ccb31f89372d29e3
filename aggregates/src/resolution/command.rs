use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum ResolutionCommand {
    /// Record the answer given to one identifier determination request.
    Record {
        uetr: String,
        message_id: String,
        verification_id: String,
        /// The registry key asked for ([`crate::values::ProxyKey::id`]).
        proxy_id: String,
        /// `None` for a positive answer, else the reason code given.
        reason_code: Option<String>,
        at: DateTime<Utc>,
    },
}
