//! Inbound PayShap credit transfers, for the daily mark-off extract and the back office, and
//! the inbound messages held because they could not be applied.

use aggregates::held_message::{HeldMessage, HeldMessageEvent};
use aggregates::payshap_transfer::{CompletionOutcome, PayShapEvent, PayShapTransfer};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

pub const NAME: &str = "payshap_transfers";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferRow {
    pub uetr: String,
    pub end_to_end_id: Option<String>,
    /// The first final outcome, or PENDING while there is none.
    pub outcome: String,
    pub credited: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub proxy_id: Option<String>,
    pub proxy_known: i64,
    pub tran_id: Option<String>,
    pub debtor_name: Option<String>,
    /// How many distinct completion messages arrived for it.
    pub messages: i64,
    pub first_received_at: String,
    pub credited_at: Option<String>,
    /// Set when it needs the back office: an outcome conflict or an unapplied credit.
    pub exception: Option<String>,
    pub last_sequence: i64,
}

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
}

pub struct PayShapTransfersProjection;

#[async_trait]
impl Projection for PayShapTransfersProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["payshap_transfers", "held_messages"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type == HeldMessage::TYPE {
            return apply_held(conn, event).await;
        }
        if event.aggregate_type != PayShapTransfer::TYPE {
            return Ok(());
        }
        let uetr = event.aggregate_id.as_str();
        let sequence = event.sequence;
        match event.decode::<PayShapEvent>()? {
            PayShapEvent::CompletionReceived { completion } => {
                let final_outcome = completion
                    .outcome
                    .is_final()
                    .then_some(completion.outcome.as_str());
                sqlx::query(
                    "INSERT INTO payshap_transfers (uetr, end_to_end_id, outcome, credited,
                         amount_minor, currency, proxy_id, proxy_known, tran_id, debtor_name,
                         messages, first_received_at, last_sequence)
                     VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, 1, $10, $11)
                     ON CONFLICT (uetr) DO UPDATE SET
                         outcome = CASE WHEN payshap_transfers.outcome = 'PENDING'
                                        THEN excluded.outcome ELSE payshap_transfers.outcome END,
                         messages = payshap_transfers.messages + 1,
                         last_sequence = excluded.last_sequence
                     WHERE payshap_transfers.last_sequence < excluded.last_sequence",
                )
                .bind(uetr)
                .bind(completion.end_to_end_id)
                .bind(final_outcome.unwrap_or(CompletionOutcome::Pending.as_str()))
                .bind(completion.amount.minor_units())
                .bind(completion.amount.currency().to_string())
                .bind(completion.proxy_id)
                .bind(i64::from(completion.proxy_known))
                .bind(completion.tran_id)
                .bind(completion.debtor_name)
                .bind(to_view_text(completion.received_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PayShapEvent::Credited { credited_at, .. } => {
                sqlx::query(
                    "UPDATE payshap_transfers SET credited = 1, credited_at = $2, last_sequence = $3
                      WHERE uetr = $1 AND last_sequence < $3",
                )
                .bind(uetr)
                .bind(to_view_text(credited_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PayShapEvent::OutcomeConflict { earlier, later, .. } => {
                let note = format!(
                    "outcome conflict: {} then {}",
                    earlier.as_str(),
                    later.as_str()
                );
                set_exception(conn, uetr, &note, sequence).await?;
            }
            PayShapEvent::CreditUnapplied { reason, .. } => {
                set_exception(conn, uetr, &format!("refund required: {reason}"), sequence).await?;
            }
        }
        Ok(())
    }
}

async fn apply_held(conn: &mut AnyConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let HeldMessageEvent::MessageHeld { message } = event.decode::<HeldMessageEvent>()?;
    let headers = serde_json::to_string(&message.headers).map_err(|e| ProjectionError::Decode {
        position: event.feed_position,
        reason: format!("held message headers: {e}"),
    })?;
    sqlx::query(
        "INSERT INTO held_messages (message_hash, endpoint, party, uetr, message_id, reason,
             body, headers, received_at, last_sequence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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

async fn set_exception(
    conn: &mut AnyConnection,
    uetr: &str,
    note: &str,
    sequence: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE payshap_transfers SET exception = $2, last_sequence = $3
          WHERE uetr = $1 AND last_sequence < $3",
    )
    .bind(uetr)
    .bind(note)
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(pool: &AnyPool, uetr: &str) -> Result<Option<TransferRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM payshap_transfers WHERE uetr = $1")
        .bind(uetr)
        .fetch_optional(pool)
        .await
}

/// Credits booked in `[from, to)` (view time text), oldest first.
pub async fn credited_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> Result<Vec<TransferRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM payshap_transfers
          WHERE credited = 1 AND credited_at >= $1 AND credited_at < $2
          ORDER BY credited_at, uetr",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
}

/// Completions first received in `[from, to)` (view time text), whatever their outcome.
pub async fn received_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> Result<Vec<TransferRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM payshap_transfers
          WHERE first_received_at >= $1 AND first_received_at < $2
          ORDER BY first_received_at, uetr",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
}
