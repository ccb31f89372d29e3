//! The global event feed: every event of every aggregate, in the order transactions
//! committed them.
//!
//! On SQLite one writer commits at a time, so `position` alone is commit order. On
//! PostgreSQL a position is handed out at insert time, and a slow transaction can commit
//! position 7 after a fast one committed position 8. Each event also carries the id of the
//! transaction that inserted it (`commit_tx`); the feed returns only events whose transaction
//! id is below the oldest transaction still running (`pg_snapshot_xmin`), ordered by
//! `(commit_tx, position)`. Every transaction below that horizon has finished, so nothing can
//! later appear before a position already read. Details: docs/adr/0002.

use std::collections::HashMap;
use std::sync::OnceLock;

use aggregates::PaymentEvent;

use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::error::ProjectionError;
pub use crate::position::FeedPosition;

/// One event as stored, with its place in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub feed_position: FeedPosition,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event as stored: JSON text, parsed only by the views that decode this event
    /// (most views skip most events, and a generic parse first would cost every view).
    pub payload: String,
    /// Who caused it and on which message, as stored (JSON text); see [`Self::metadata`].
    pub metadata: String,
    /// The payment event, decoded by the first view that asks (see [`Self::payment`]).
    payment: OnceLock<Result<PaymentEvent, String>>,
}

impl StoredEvent {
    /// The payment event this is, decoded once however many views of a pass read it.
    /// Only for events of the `Payment` aggregate.
    pub fn payment(&self) -> Result<&PaymentEvent, ProjectionError> {
        self.payment
            .get_or_init(|| self.parse().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|reason| ProjectionError::Decode {
                position: self.feed_position,
                reason: reason.clone(),
            })
    }

    /// Decodes the payload into the aggregate's event type.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, ProjectionError> {
        self.parse().map_err(|reason| ProjectionError::Decode {
            position: self.feed_position,
            reason,
        })
    }

    /// The payload in today's shape: parsed straight from its text when it was stored in
    /// the current version (nearly always), else through its upcaster first.
    fn parse<E: serde::de::DeserializeOwned>(&self) -> Result<E, String> {
        let (aggregate, kind) = (&self.aggregate_type, &self.event_type);
        if !aggregates::upcast::needs_upcast(aggregate, kind, &self.event_version) {
            return serde_json::from_str(&self.payload).map_err(|e| e.to_string());
        }
        let mut payload: serde_json::Value =
            serde_json::from_str(&self.payload).map_err(|e| e.to_string())?;
        aggregates::upcast::upcast(aggregate, kind, &self.event_version, &mut payload)
            .map_err(|e| e.to_string())?;
        serde_json::from_value(payload).map_err(|e| e.to_string())
    }

    /// The event's metadata (party, request id, message id, received time).
    pub fn metadata(&self) -> Result<HashMap<String, String>, ProjectionError> {
        serde_json::from_str(&self.metadata).map_err(|error| ProjectionError::Decode {
            position: self.feed_position,
            reason: error.to_string(),
        })
    }
}

/// The readable part of the feed on PostgreSQL after `($1, $2)`, at most `$3` events, not
/// held back by the view-writing transactions in `$4`: what both reads share.
macro_rules! postgres_feed_after {
    () => {
        "
  FROM events
 WHERE (commit_tx, position) > ($1, $2)
   AND commit_tx < COALESCE(
         (SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
           WHERE x::text::bigint <> ALL (string_to_array($4, ',')::bigint[])),
         pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
 ORDER BY commit_tx, position
 LIMIT $3"
    };
}

const POSTGRES_READ: &str = concat!(
    "
SELECT position, commit_tx, aggregate_type, aggregate_id, sequence, event_type, event_version,
       payload::text AS payload, metadata::text AS metadata",
    postgres_feed_after!()
);

/// As [`POSTGRES_READ`], with payload and metadata only for the event types in `$5`
/// (comma-separated) and empty for the others: every event still passes (the checkpoint
/// moves over all of them), most without the bodies that make up most of a row.
const POSTGRES_READ_BODIES_OF: &str = concat!(
    "
SELECT position, commit_tx, aggregate_type, aggregate_id, sequence, event_type, event_version,
       CASE WHEN event_type = ANY (string_to_array($5, ',')) THEN payload::text ELSE '' END
         AS payload,
       CASE WHEN event_type = ANY (string_to_array($5, ',')) THEN metadata::text ELSE '' END
         AS metadata",
    postgres_feed_after!()
);

const SQLITE_READ: &str = "
SELECT position, 0 AS commit_tx, aggregate_type, aggregate_id, sequence, event_type,
       event_version, payload, metadata
  FROM events
 WHERE position > $1
 ORDER BY position
 LIMIT $2";

/// Up to `limit` events after `after`, in commit order.
pub async fn read_after(
    conn: &mut AnyConnection,
    backend: Backend,
    after: FeedPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    read_after_passes(conn, backend, after, limit, "").await
}

/// The next events for a projection pass on `db`: as [`read_after`], not held back by this
/// process's passes in progress (see [`crate::db::ViewWriters`]).
pub async fn read_for_pass(
    conn: &mut AnyConnection,
    db: &crate::db::ViewDb,
    after: FeedPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    let writers = db.view_writers().list();
    read_after_passes(conn, db.backend(), after, limit, &writers).await
}

/// As [`read_for_pass`], with the payload and metadata of only the event types in
/// `bodies_of` (comma-separated); the others' are empty. On SQLite every event comes whole
/// (no bytes cross a network there).
pub async fn read_for_pass_bodies_of(
    conn: &mut AnyConnection,
    db: &crate::db::ViewDb,
    after: FeedPosition,
    limit: i64,
    bodies_of: &str,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    if db.backend() != Backend::Postgres {
        return read_for_pass(conn, db, after, limit).await;
    }
    let rows = sqlx::query(POSTGRES_READ_BODIES_OF)
        .bind(after.commit_tx)
        .bind(after.position)
        .bind(limit)
        .bind(db.view_writers().list())
        .bind(bodies_of)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(decode_row).collect()
}

/// As [`read_after`], not held back by the transactions in `view_writers` (comma-separated
/// ids of transactions that write views only).
pub async fn read_after_passes(
    conn: &mut AnyConnection,
    backend: Backend,
    after: FeedPosition,
    limit: i64,
    view_writers: &str,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    let rows = match backend {
        Backend::Postgres => {
            sqlx::query(POSTGRES_READ)
                .bind(after.commit_tx)
                .bind(after.position)
                .bind(limit)
                .bind(view_writers)
                .fetch_all(&mut *conn)
                .await?
        }
        Backend::Sqlite => {
            sqlx::query(SQLITE_READ)
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(decode_row).collect()
}

/// How many events lie after `after` and are already readable; for progress reporting.
pub async fn count_after(
    conn: &mut AnyConnection,
    backend: Backend,
    after: FeedPosition,
) -> Result<i64, ProjectionError> {
    let count: i64 = match backend {
        Backend::Postgres => {
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE (commit_tx, position) > ($1, $2)")
                .bind(after.commit_tx)
                .bind(after.position)
                .fetch_one(&mut *conn)
                .await?
        }
        Backend::Sqlite => {
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE position > $1")
                .bind(after.position)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    Ok(count)
}

/// The highest position handed out so far (0 for an empty store).
pub async fn head_position(conn: &mut AnyConnection) -> Result<i64, ProjectionError> {
    let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
        .fetch_one(&mut *conn)
        .await?;
    Ok(head.unwrap_or(0))
}

/// Whether a committed event at or below position `target` lies beyond `after`, i.e. a
/// projection at `after` has not yet applied everything committed before `target` was read.
pub async fn unapplied_up_to(
    conn: &mut AnyConnection,
    backend: Backend,
    after: FeedPosition,
    target: i64,
) -> Result<bool, ProjectionError> {
    let count: i64 = match backend {
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM events
                  WHERE position <= $1 AND (commit_tx, position) > ($2, $3) LIMIT 1) AS pending",
            )
            .bind(target)
            .bind(after.commit_tx)
            .bind(after.position)
            .fetch_one(&mut *conn)
            .await?
        }
        Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM events
                  WHERE position <= $1 AND position > $2 LIMIT 1) AS pending",
            )
            .bind(target)
            .bind(after.position)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    Ok(count > 0)
}

pub(crate) fn decode_row(row: &sqlx::any::AnyRow) -> Result<StoredEvent, ProjectionError> {
    Ok(StoredEvent {
        feed_position: FeedPosition {
            commit_tx: row.try_get("commit_tx")?,
            position: row.try_get("position")?,
        },
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        payment: OnceLock::new(),
    })
}
