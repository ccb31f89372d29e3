//! Inbound messages held because they could not be applied: kept as they came, until
//! applied after all or closed with a reason.

use aggregates::held_message::HeldMessageEvent;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::ProjectionError;
use crate::time::to_view_text;

/// An authentic inbound message that could not be applied, as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct HeldMessageRow {
    pub message_hash: String,
    pub endpoint: String,
    pub party: String,
    pub uetr: Option<String>,
    pub message_id: Option<String>,
    pub reason: String,
    pub body: String,
    /// The headers kept, as a JSON object.
    pub headers: String,
    pub received_at: String,
    pub last_sequence: i64,
    /// 1 when kept although its signature failed.
    pub unverified: i64,
    pub applied_at: Option<String>,
    /// Why it could be applied after all (key, or recon line and operator).
    pub applied_how: Option<String>,
    /// Closed without being applied: when, and the reason and note.
    pub closed_at: Option<String>,
    pub closed_reason: Option<String>,
}

pub(super) async fn apply_held(
    conn: &mut AnyConnection,
    event: &StoredEvent,
) -> Result<(), ProjectionError> {
    let message = match event.decode::<HeldMessageEvent>()? {
        HeldMessageEvent::MessageHeld { message } => message,
        HeldMessageEvent::MessageClosed {
            reason_code,
            note,
            by,
            closed_at,
        } => {
            sqlx::query(
                "UPDATE held_messages SET closed_at = $2, closed_reason = $3, last_sequence = $4
                  WHERE message_hash = $1 AND last_sequence < $4",
            )
            .bind(&event.aggregate_id)
            .bind(to_view_text(closed_at))
            .bind(format!("{reason_code} by {by}: {note}"))
            .bind(event.sequence)
            .execute(&mut *conn)
            .await?;
            return Ok(());
        }
        HeldMessageEvent::MessageApplied { how, applied_at } => {
            sqlx::query(
                "UPDATE held_messages SET applied_at = $2, applied_how = $3, last_sequence = $4
                  WHERE message_hash = $1 AND last_sequence < $4",
            )
            .bind(&event.aggregate_id)
            .bind(to_view_text(applied_at))
            .bind(how)
            .bind(event.sequence)
            .execute(&mut *conn)
            .await?;
            return Ok(());
        }
    };
    let headers = serde_json::to_string(&message.headers).map_err(|e| ProjectionError::Decode {
        position: event.feed_position,
        reason: format!("held message headers: {e}"),
    })?;
    sqlx::query(
        "INSERT INTO held_messages (message_hash, endpoint, party, uetr, message_id, reason,
             body, headers, received_at, last_sequence, unverified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (message_hash) DO NOTHING",
    )
    .bind(&event.aggregate_id)
    .bind(message.endpoint)
    .bind(message.party)
    .bind(message.uetr)
    .bind(message.message_id)
    .bind(message.reason)
    .bind(message.body)
    .bind(headers)
    .bind(to_view_text(message.received_at))
    .bind(event.sequence)
    .bind(i64::from(message.unverified))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Messages held in `[from, to)` (view time text), oldest first.
pub async fn held_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> Result<Vec<HeldMessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM held_messages WHERE received_at >= $1 AND received_at < $2
          ORDER BY received_at, message_hash",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
}

/// Unverified messages not yet applied, oldest first, at most `limit`.
pub async fn unverified_pending(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<HeldMessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM held_messages
          WHERE unverified = 1 AND applied_at IS NULL AND closed_at IS NULL
          ORDER BY received_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The held message `message_hash`, whatever became of it.
pub async fn held(
    pool: &AnyPool,
    message_hash: &str,
) -> Result<Option<HeldMessageRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM held_messages WHERE message_hash = $1")
        .bind(message_hash)
        .fetch_optional(pool)
        .await
}

/// Held messages neither applied nor closed, oldest first, at most `limit`.
pub async fn held_open(pool: &AnyPool, limit: i64) -> Result<Vec<HeldMessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM held_messages WHERE applied_at IS NULL AND closed_at IS NULL
          ORDER BY received_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
