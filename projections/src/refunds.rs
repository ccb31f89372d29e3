//! Refunds and where each stands (rows of the `payshap_transfers` projection: no checkpoint
//! of their own). The refund sender picks up from here those still to be sent.

use aggregates::refund::RefundEvent;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::ProjectionError;
use crate::time::to_view_text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundRow {
    pub refund_uetr: String,
    pub original_uetr: String,
    pub amount_minor: i64,
    pub payer_account: String,
    pub payer_agent: String,
    /// REQUESTED, SENT, PARKED, SETTLED or FAILED.
    pub status: String,
    pub note: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub updated_at: String,
    pub last_sequence: i64,
}

pub async fn apply(conn: &mut AnyConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let (id, sequence) = (event.aggregate_id.as_str(), event.sequence);
    let moved = |status: &'static str, note: Option<String>, at| {
        sqlx::query(
            "UPDATE refunds SET status = $2, note = COALESCE($3, note), updated_at = $4,
                 last_sequence = $5
              WHERE refund_uetr = $1 AND last_sequence < $5",
        )
        .bind(id)
        .bind(status)
        .bind(note)
        .bind(to_view_text(at))
        .bind(sequence)
    };
    let query = match event.decode::<RefundEvent>()? {
        RefundEvent::RefundRequested { order } => sqlx::query(
            "INSERT INTO refunds (refund_uetr, original_uetr, amount_minor, payer_account,
                 payer_agent, status, requested_by, requested_at, updated_at, last_sequence)
             VALUES ($1, $2, $3, $4, $5, 'REQUESTED', $6, $7, $7, $8)
             ON CONFLICT (refund_uetr) DO NOTHING",
        )
        .bind(id)
        .bind(order.original_uetr)
        .bind(order.amount.minor_units())
        .bind(order.payer_account)
        .bind(order.payer_agent)
        .bind(order.requested_by)
        .bind(to_view_text(order.requested_at))
        .bind(sequence),
        RefundEvent::RefundSent { attempts, sent_at } => moved(
            "SENT",
            Some(format!("accepted after {attempts} tries")),
            sent_at,
        ),
        RefundEvent::RefundParked {
            reason, parked_at, ..
        } => moved("PARKED", Some(reason), parked_at),
        RefundEvent::RefundUnparked { by, unparked_at } => {
            moved("REQUESTED", Some(format!("unparked by {by}")), unparked_at)
        }
        RefundEvent::RefundResultReceived { .. } => return Ok(()),
        RefundEvent::RefundSettled { settled_at } => moved("SETTLED", None, settled_at),
        RefundEvent::RefundFailed { reason, failed_at } => moved("FAILED", Some(reason), failed_at),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Refunds of one status (or all), newest first, at most `limit`.
pub async fn list(
    pool: &AnyPool,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<RefundRow>, sqlx::Error> {
    crate::rows::newest_requested(pool, "refunds", status, limit).await
}
