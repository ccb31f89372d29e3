//! An event as auditors receive it: its place (stream, sequence, feed position), its kind
//! (type, version), when it was written, who caused it on which message, and its payload.

use std::collections::HashMap;

use projections::feed::FeedPosition;
use projections::history::HistoryEvent;
use serde::Serialize;
use serde_json::Value;

/// The aggregate types whose streams can be read.
pub const AGGREGATE_TYPES: [&str; 8] = [
    "Payment",
    "Proxy",
    "PayShapTransfer",
    "FeeSchedule",
    "PartnerStatement",
    "Resolution",
    "HeldMessage",
    "ShortCode",
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event's place in the global feed: pass it as `after` to read on from here.
    pub feed_position: String,
    pub committed_at: Option<String>,
    /// The event's link in its stream's chain (SHA-256, hex; see `docs/audit.md`).
    pub hash: Option<String>,
    pub metadata: AuditMetadata,
    pub payload: Value,
}

/// Who caused the event and on which message, as recorded with it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditMetadata {
    /// The authenticated user, or `qrswitch` for what the switch did itself (timers, deliveries).
    pub party: Option<String>,
    pub request_id: Option<String>,
    pub message_id: Option<String>,
    pub received_at: Option<String>,
}

impl AuditEvent {
    pub fn from_history(history: HistoryEvent) -> Self {
        let event = history.event;
        let mut metadata: HashMap<String, String> =
            serde_json::from_str(&event.metadata).unwrap_or_default();
        Self {
            feed_position: cursor(event.feed_position),
            // A payload that is not JSON would have been refused at append; kept as text.
            payload: serde_json::from_str(&event.payload).unwrap_or(Value::String(event.payload)),
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            committed_at: history.committed_at,
            hash: history.hash,
            metadata: AuditMetadata {
                party: metadata.remove("party"),
                request_id: metadata.remove("request_id"),
                message_id: metadata.remove("message_id"),
                received_at: metadata.remove("received_at"),
            },
        }
    }
}

/// A feed position as text: `COMMITTX-POSITION` (the transaction is 0 on SQLite).
pub fn cursor(position: FeedPosition) -> String {
    position.to_string()
}

/// Reads a cursor back; `None` when it is not one.
pub fn parse_cursor(text: &str) -> Option<FeedPosition> {
    FeedPosition::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_is_not_one() {
        let at = FeedPosition {
            commit_tx: 7,
            position: 42,
        };
        assert_eq!(parse_cursor(&cursor(at)), Some(at));
        for bad in ["", "7", "7-", "-42", "a-1", "1--2", "1-2-3"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }
}
