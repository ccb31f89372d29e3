//! Appending events: a command's events in one multi-row `INSERT`, and the appends of
//! concurrent commands together in one statement and one commit ([`group`]), where
//! postgres-es and sqlite-es open a transaction per command and insert event by event (2 + n
//! round trips). A multi-row `INSERT` is atomic on its own, so a command's events still
//! commit all together or not at all, and a duplicate `(aggregate_type, aggregate_id,
//! sequence)` still fails: another writer was first (optimistic concurrency).

mod group;
mod heads;
mod job;
mod row;

use cqrs_es::persist::{PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
pub use group::{GroupAppender, Target};
use row::{rows, Row};

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

/// Appends one command's `events`, the first at `after + 1`, straight from the aggregate's
/// event type: each payload serialized to JSON text once, and the command's `metadata`
/// (JSON text) shared by all of them. cqrs-es's own commit builds a `serde_json::Value`
/// tree of every payload and a copy of the metadata per event first, which the store then
/// turns into text anyway: allocation the hot path does not need (docs/benchmarks.md).
pub async fn append_events<A: Aggregate>(
    appender: &GroupAppender,
    aggregate_id: &str,
    after: usize,
    events: &[A::Event],
    metadata: &str,
) -> Result<(), PersistenceError> {
    if events.is_empty() {
        return Ok(());
    }
    let first = i64::try_from(after).map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
    let metadata: std::sync::Arc<str> = metadata.into();
    let rows = events
        .iter()
        .zip(first + 1..)
        .map(|(event, sequence)| {
            Ok(Row {
                sequence,
                event_type: event.event_type(),
                event_version: event.event_version(),
                payload: serde_json::to_string(event)?,
                metadata: std::sync::Arc::clone(&metadata),
                hash: String::new(),
            })
        })
        .collect::<Result<Vec<_>, PersistenceError>>()?;
    appender.append(A::TYPE, aggregate_id, rows).await
}
