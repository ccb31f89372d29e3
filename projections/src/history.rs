//! Reading the event store as auditors do: one stream in sequence order, the global feed
//! from a position, or the events written in a time window, each with when it was written.
//! Pages are bounded and ordered by keys that never change, so a reader pages through a
//! store that keeps growing without missing or repeating an event.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::error::ProjectionError;
use crate::feed::{self, FeedPosition, StoredEvent};

/// An event and when it was written (`committed_at`, UTC, as the views keep times).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub event: StoredEvent,
    pub committed_at: Option<String>,
    pub hash: Option<String>,
}

const POSTGRES_COLUMNS: &str = "position, commit_tx, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload::text AS payload, metadata::text AS metadata, committed_at, \
     hash";
const SQLITE_COLUMNS: &str = "position, 0 AS commit_tx, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata, committed_at, hash";

pub(crate) fn columns(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => POSTGRES_COLUMNS,
        Backend::Sqlite => SQLITE_COLUMNS,
    }
}

pub(crate) fn decode(row: &AnyRow) -> Result<HistoryEvent, ProjectionError> {
    Ok(HistoryEvent {
        event: feed::decode_row(row)?,
        committed_at: row.try_get("committed_at")?,
        hash: row.try_get("hash")?,
    })
}

/// Up to `limit` events of one stream after sequence `after`, in sequence order.
pub async fn stream(
    conn: &mut AnyConnection,
    backend: Backend,
    aggregate_type: &str,
    aggregate_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<HistoryEvent>, ProjectionError> {
    let sql = format!(
        "SELECT {} FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
          ORDER BY sequence LIMIT $4",
        columns(backend)
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(decode).collect()
}

/// Up to `limit` events of the global feed after `after`, in commit order, only as far as
/// every earlier transaction has committed (the feed's horizon), so a page never has a gap
/// that a later read would fill.
pub async fn feed(
    conn: &mut AnyConnection,
    backend: Backend,
    after: FeedPosition,
    limit: i64,
) -> Result<Vec<HistoryEvent>, ProjectionError> {
    let events = feed::read_after(conn, backend, after, limit).await?;
    let positions = events.iter().map(|e| e.feed_position.position);
    let (Some(low), Some(high)) = (positions.clone().min(), positions.max()) else {
        return Ok(Vec::new());
    };
    // The commit times of the page, in one more read by position range.
    let times: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT position, committed_at, hash FROM events WHERE position >= $1 AND position <= $2",
    )
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?;
    let times: std::collections::HashMap<i64, (Option<String>, Option<String>)> = times
        .into_iter()
        .map(|(position, at, hash)| (position, (at, hash)))
        .collect();
    Ok(events
        .into_iter()
        .map(|event| {
            let (committed_at, hash) = times
                .get(&event.feed_position.position)
                .cloned()
                .unwrap_or_default();
            HistoryEvent {
                event,
                committed_at,
                hash,
            }
        })
        .collect())
}

/// Up to `limit` events written in `[from, to)` (view-format UTC times) after `after`, in
/// feed order: one page of a day's export.
pub async fn written_between(
    conn: &mut AnyConnection,
    backend: Backend,
    from: &str,
    to: &str,
    after: FeedPosition,
    limit: i64,
) -> Result<Vec<HistoryEvent>, ProjectionError> {
    let rows = match backend {
        Backend::Postgres => {
            let sql = format!(
                "SELECT {POSTGRES_COLUMNS} FROM events
                  WHERE committed_at >= $1 AND committed_at < $2
                    AND (commit_tx, position) > ($3, $4)
                  ORDER BY commit_tx, position LIMIT $5"
            );
            sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(after.commit_tx)
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
        }
        Backend::Sqlite => {
            let sql = format!(
                "SELECT {SQLITE_COLUMNS} FROM events
                  WHERE committed_at >= $1 AND committed_at < $2 AND position > $3
                  ORDER BY position LIMIT $4"
            );
            sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(decode).collect()
}
