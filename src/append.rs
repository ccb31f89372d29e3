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
pub use group::{GroupAppender, Target};
use row::rows;

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
