//! The store-and-forward outbox: every delivery the switch owes a partner, from the payment
//! events. The dispatcher reads it; its retry bookkeeping lives beside it in `saf_attempts`,
//! which is not part of this projection (attempts are not events; see ADR 0004) and which a
//! rebuild leaves alone.
//!
//! Two writes to `saf_attempts` ride along in this projection's transaction because they
//! follow from events and would otherwise cost the dispatcher a statement and a commit of its
//! own per delivery: a scheduled delivery gets its bookkeeping row (due at once; an existing
//! row is kept), and a delivery's final answer releases the claim the dispatcher held while
//! sending and counts that attempt. The release only touches a claimed row, so replaying the
//! events (a rebuild) changes nothing there.

use aggregates::{AdviceKind, Payment, PaymentEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::fresh_deliveries::FreshDeliveries;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

pub const NAME: &str = "saf_outbox";

/// `saf_attempts.next_attempt_at` of a delivery that got its final answer: after every time
/// the view writes (RFC 3339 text sorts by time), so it is never due again.
pub const NEVER: &str = "9999-12-31T23:59:59.999999Z";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct OutboxRow {
    pub delivery_id: String,
    pub tran_id: String,
    pub partner_id: String,
    /// `CONFIRMATION` or `REVERSAL`.
    pub kind: String,
    /// The reversal reason, for reversals.
    pub reason: Option<String>,
    pub request_id: String,
    /// The advice to forward as JSON text (`null` for our own timeout reversals).
    pub message: String,
    /// `PENDING`, `PARKED`, `DELIVERED` or `REFUSED`.
    pub status: String,
    pub scheduled_at: String,
    pub finished_at: Option<String>,
    /// Why it is parked or refused, or the partner's status when delivered.
    pub outcome: Option<String>,
    pub last_sequence: i64,
}

/// The payment events that change the outbox (their `event_type`).
const OUTBOX_EVENTS: [&str; 5] = [
    "DeliveryScheduled",
    "AdviceDelivered",
    "AdviceRefused",
    "DeliveryParked",
    "DeliveryUnparked",
];

/// The outbox; `fresh` hears of each delivery it schedules, once the pass committed.
#[derive(Default)]
pub struct SafOutboxProjection {
    pub fresh: FreshDeliveries,
}

#[async_trait]
impl Projection for SafOutboxProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["saf_outbox"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        // Most payment events carry whole messages; only these five concern the outbox, so
        // the others are not decoded at all.
        if event.aggregate_type != Payment::TYPE
            || !OUTBOX_EVENTS.contains(&event.event_type.as_str())
        {
            return Ok(());
        }
        let sequence = event.sequence;
        match event.decode::<PaymentEvent>()? {
            PaymentEvent::DeliveryScheduled {
                delivery_id,
                partner_id,
                advice,
                request_id,
                message,
                scheduled_at,
            } => {
                let (kind, reason) = match advice {
                    AdviceKind::Confirmation => ("CONFIRMATION", None),
                    AdviceKind::Reversal { reason } => ("REVERSAL", Some(reason)),
                };
                sqlx::query(
                    "INSERT INTO saf_outbox (delivery_id, tran_id, partner_id, kind, reason,
                         request_id, message, status, scheduled_at, last_sequence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8, $9)
                     ON CONFLICT (delivery_id) DO NOTHING",
                )
                .bind(delivery_id.clone())
                .bind(&event.aggregate_id)
                .bind(partner_id.as_str())
                .bind(kind)
                .bind(reason)
                .bind(request_id)
                .bind(message.to_string())
                .bind(to_view_text(scheduled_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
                self.fresh.stage(partner_id.as_str(), &delivery_id);
                sqlx::query(
                    "INSERT INTO saf_attempts (delivery_id, attempts, next_attempt_at, age_from)
                     VALUES ($1, 0, $2, $2) ON CONFLICT (delivery_id) DO NOTHING",
                )
                .bind(delivery_id)
                .bind(to_view_text(scheduled_at))
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::AdviceDelivered {
                delivery_id,
                status,
                delivered_at,
            } => {
                release_claim(conn, &delivery_id, &to_view_text(delivered_at)).await?;
                finish(
                    conn,
                    &delivery_id,
                    "DELIVERED",
                    Some(to_view_text(delivered_at)),
                    &status.to_string(),
                    sequence,
                )
                .await?;
            }
            PaymentEvent::AdviceRefused {
                delivery_id,
                status,
                reason,
                refused_at,
            } => {
                let outcome = format!("{status}: {reason}");
                release_claim(conn, &delivery_id, &to_view_text(refused_at)).await?;
                finish(
                    conn,
                    &delivery_id,
                    "REFUSED",
                    Some(to_view_text(refused_at)),
                    &outcome,
                    sequence,
                )
                .await?;
            }
            PaymentEvent::DeliveryParked {
                delivery_id,
                reason,
                ..
            } => {
                finish(conn, &delivery_id, "PARKED", None, &reason, sequence).await?;
            }
            PaymentEvent::DeliveryUnparked { delivery_id, .. } => {
                finish(conn, &delivery_id, "PENDING", None, "unparked", sequence).await?;
            }
            _ => {}
        }
        Ok(())
    }

    fn committed(&self) {
        self.fresh.publish();
    }
}

/// Moves a delivery to `status`. Guarded by the payment's sequence so that an event applied
/// twice (never expected, but cheap to rule out) cannot move it back.
async fn finish(
    conn: &mut AnyConnection,
    delivery_id: &str,
    status: &str,
    finished_at: Option<String>,
    outcome: &str,
    sequence: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE saf_outbox SET status = $2, finished_at = $3, outcome = $4, last_sequence = $5
          WHERE delivery_id = $1 AND last_sequence < $5",
    )
    .bind(delivery_id)
    .bind(status)
    .bind(finished_at)
    .bind(outcome)
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The final answer of a claimed delivery: count the attempt that got it, drop the claim,
/// and never make it due again. Unclaimed rows (a replay, or a claim another instance let go) stay as they are.
async fn release_claim(
    conn: &mut AnyConnection,
    delivery_id: &str,
    answered_at: &str,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE saf_attempts
            SET attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL,
                last_attempt_at = $2, last_error = NULL, next_attempt_at = $3
          WHERE delivery_id = $1 AND claimed_by IS NOT NULL",
    )
    .bind(delivery_id)
    .bind(answered_at)
    .bind(NEVER)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(pool: &AnyPool, delivery_id: &str) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM saf_outbox WHERE delivery_id = $1")
        .bind(delivery_id)
        .fetch_optional(pool)
        .await
}

/// Every row in a stable order; for comparing a live outbox with a rebuilt one.
pub async fn all(pool: &AnyPool) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM saf_outbox ORDER BY delivery_id")
        .fetch_all(pool)
        .await
}
