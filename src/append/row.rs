//! One event as the `events` table keeps it, and what a failed insert means.

use std::sync::Arc;

use cqrs_es::persist::{PersistenceError, SerializedEvent};

/// The columns of one event as the store keeps them.
pub(super) struct Row {
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    /// The command's metadata, one JSON text shared by all of its events.
    pub metadata: Arc<str>,
    /// The chain hash, filled in by the writer once it knows the previous one.
    pub hash: String,
}

pub(super) fn rows(events: &[SerializedEvent]) -> Result<Vec<Row>, PersistenceError> {
    events
        .iter()
        .map(|event| {
            Ok(Row {
                sequence: i64::try_from(event.sequence)
                    .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?,
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: serde_json::to_string(&event.payload)?,
                metadata: serde_json::to_string(&event.metadata)?.into(),
                hash: String::new(),
            })
        })
        .collect()
}

/// A unique violation on the event key means another writer appended first.
pub(super) fn classify(error: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            return PersistenceError::OptimisticLockError;
        }
    }
    PersistenceError::ConnectionError(Box::new(error))
}
