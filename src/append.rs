//! Appending events: a command's events in one multi-row `INSERT`, and the appends of
//! concurrent commands together in one statement and one commit ([`group`]), where
//! postgres-es and sqlite-es open a transaction per command and insert event by event (2 + n
//! round trips). A multi-row `INSERT` is atomic on its own, so a command's events still
//! commit all together or not at all, and a duplicate `(aggregate_type, aggregate_id,
//! sequence)` still fails: another writer was first (optimistic concurrency).

mod group;

use cqrs_es::persist::{PersistenceError, SerializedEvent};
pub use group::{GroupAppender, Target};

/// The columns of one event as the store keeps them.
struct Row {
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
}

fn rows(events: &[SerializedEvent]) -> Result<Vec<Row>, PersistenceError> {
    events
        .iter()
        .map(|event| {
            Ok(Row {
                sequence: i64::try_from(event.sequence)
                    .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?,
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: serde_json::to_string(&event.payload)?,
                metadata: serde_json::to_string(&event.metadata)?,
            })
        })
        .collect()
}

/// A unique violation on the event key means another writer appended first.
fn classify(error: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            return PersistenceError::OptimisticLockError;
        }
    }
    PersistenceError::ConnectionError(Box::new(error))
}

/// Appends one command's events (all of one stream) and returns once they are committed.
pub async fn append(
    appender: &GroupAppender,
    aggregate_type: &'static str,
    events: &[SerializedEvent],
) -> Result<(), PersistenceError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    appender
        .append(aggregate_type, &first.aggregate_id, rows(events)?)
        .await
}
