//! Where each payment stands: what the POS waits on and what ops look at first.

use aggregates::{AdviceKind, Payment, PaymentEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

pub const NAME: &str = "payment_status";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct PaymentStatusRow {
    pub tran_id: String,
    pub client_id: String,
    pub terminal_id: String,
    pub status: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub partner_id: Option<String>,
    pub issued_at: String,
    pub expires_at: String,
    pub updated_at: String,
    pub last_sequence: i64,
    pub respond_by: Option<String>,
    pub outcome_reason: Option<String>,
    pub request_message_id: Option<String>,
    pub advice: Option<String>,
    pub completed_at: Option<String>,
}

pub struct PaymentStatusProjection;

#[async_trait]
impl Projection for PaymentStatusProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["payment_status"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != Payment::TYPE {
            return Ok(());
        }
        let tran_id = event.aggregate_id.as_str();
        let sequence = event.sequence;
        match event.decode::<PaymentEvent>()? {
            PaymentEvent::QrIssued {
                client_id,
                terminal_id,
                amount,
                issued_at,
                expires_at,
                ..
            } => {
                let issued_at = to_view_text(issued_at);
                sqlx::query(
                    "INSERT INTO payment_status (tran_id, client_id, terminal_id, status,
                         amount_minor, currency, partner_id, issued_at, expires_at, updated_at,
                         last_sequence)
                     VALUES ($1, $2, $3, 'QR_ISSUED', $4, $5, NULL, $6, $7, $6, $8)
                     ON CONFLICT (tran_id) DO NOTHING",
                )
                .bind(tran_id)
                .bind(client_id.as_str())
                .bind(terminal_id)
                .bind(amount.map(|a| a.minor_units()))
                .bind(amount.map(|a| a.currency().to_string()))
                .bind(issued_at)
                .bind(to_view_text(expires_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::PaymentRequested {
                message_id,
                amount,
                requested_at,
                respond_by,
                ..
            } => {
                sqlx::query(
                    "UPDATE payment_status
                        SET status = 'PAYMENT_REQUESTED', amount_minor = $2, currency = $3,
                            updated_at = $4, respond_by = $5, request_message_id = $7,
                            last_sequence = $6
                      WHERE tran_id = $1 AND last_sequence < $6",
                )
                .bind(tran_id)
                .bind(amount.minor_units())
                .bind(amount.currency().to_string())
                .bind(to_view_text(requested_at))
                .bind(to_view_text(respond_by))
                .bind(sequence)
                .bind(message_id)
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::ScanReceived {
                partner_id,
                scanned_at,
                ..
            } => {
                set_partner(
                    conn,
                    tran_id,
                    "SCANNED",
                    partner_id.as_str(),
                    scanned_at,
                    sequence,
                )
                .await?;
            }
            PaymentEvent::ScanLapsed { lapsed_at, .. } => {
                sqlx::query(
                    "UPDATE payment_status
                        SET status = CASE WHEN respond_by IS NULL THEN 'QR_ISSUED'
                                          ELSE 'PAYMENT_REQUESTED' END,
                            partner_id = NULL, updated_at = $2, last_sequence = $3
                      WHERE tran_id = $1 AND last_sequence < $3",
                )
                .bind(tran_id)
                .bind(to_view_text(lapsed_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::Matched {
                partner_id,
                matched_at,
                ..
            } => {
                set_partner(
                    conn,
                    tran_id,
                    "MATCHED",
                    partner_id.as_str(),
                    matched_at,
                    sequence,
                )
                .await?;
            }
            PaymentEvent::AuthorisationRequested { requested_at, .. } => {
                set_status(conn, tran_id, "AUTHORISING", None, requested_at, sequence).await?;
            }
            PaymentEvent::Authorised { authorised_at, .. } => {
                set_status(conn, tran_id, "AUTHORISED", None, authorised_at, sequence).await?;
            }
            PaymentEvent::Declined {
                error, declined_at, ..
            } => {
                let reason = error["errorType"].as_str().unwrap_or("DECLINED").to_owned();
                set_status(
                    conn,
                    tran_id,
                    "DECLINED",
                    Some(&reason),
                    declined_at,
                    sequence,
                )
                .await?;
            }
            PaymentEvent::TimedOut {
                reason,
                timed_out_at,
                ..
            } => {
                set_status(
                    conn,
                    tran_id,
                    "TIMED_OUT",
                    Some(&reason),
                    timed_out_at,
                    sequence,
                )
                .await?;
            }
            PaymentEvent::Advised {
                advice, advised_at, ..
            } => {
                let advice = match advice {
                    AdviceKind::Confirmation => "CONFIRMATION",
                    AdviceKind::Reversal { .. } => "REVERSAL",
                };
                sqlx::query(
                    "UPDATE payment_status
                        SET advice = COALESCE(advice, $2), updated_at = $3, last_sequence = $4
                      WHERE tran_id = $1 AND last_sequence < $4",
                )
                .bind(tran_id)
                .bind(advice)
                .bind(to_view_text(advised_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::Completed { completed_at } => {
                let completed_at = to_view_text(completed_at);
                sqlx::query(
                    "UPDATE payment_status
                        SET completed_at = $2, updated_at = $2, last_sequence = $3
                      WHERE tran_id = $1 AND last_sequence < $3",
                )
                .bind(tran_id)
                .bind(completed_at)
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            PaymentEvent::TimeoutReversalQueued { .. }
            | PaymentEvent::DeliveryScheduled { .. }
            | PaymentEvent::AdviceDelivered { .. }
            | PaymentEvent::AdviceRefused { .. }
            | PaymentEvent::DeliveryParked { .. }
            | PaymentEvent::DeliveryUnparked { .. }
            | PaymentEvent::PayShapCredited { .. }
            | PaymentEvent::RefundRequired { .. } => {
                // Deliveries are the store-and-forward outbox's business, not this view's.
            }
        }
        Ok(())
    }
}

async fn set_status(
    conn: &mut AnyConnection,
    tran_id: &str,
    status: &str,
    reason: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
    sequence: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE payment_status
            SET status = $2, outcome_reason = COALESCE($3, outcome_reason), updated_at = $4,
                last_sequence = $5
          WHERE tran_id = $1 AND last_sequence < $5",
    )
    .bind(tran_id)
    .bind(status)
    .bind(reason)
    .bind(to_view_text(at))
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_partner(
    conn: &mut AnyConnection,
    tran_id: &str,
    status: &str,
    partner_id: &str,
    at: chrono::DateTime<chrono::Utc>,
    sequence: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE payment_status
            SET status = $2, partner_id = $3, updated_at = $4, last_sequence = $5
          WHERE tran_id = $1 AND last_sequence < $5",
    )
    .bind(tran_id)
    .bind(status)
    .bind(partner_id)
    .bind(to_view_text(at))
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(pool: &AnyPool, tran_id: &str) -> Result<Option<PaymentStatusRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM payment_status WHERE tran_id = $1")
        .bind(tran_id)
        .fetch_optional(pool)
        .await
}

/// Payments a POS is waiting on whose answer was due before `cutoff` (view time text).
pub async fn overdue(pool: &AnyPool, cutoff: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT tran_id FROM payment_status
          WHERE status IN ('PAYMENT_REQUESTED', 'MATCHED', 'AUTHORISING') AND respond_by < $1
          ORDER BY respond_by LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The payment whose `pay` message had id `request_id`, if the view has it yet.
pub async fn by_request_id(
    pool: &AnyPool,
    request_id: &str,
) -> Result<Option<PaymentStatusRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM payment_status WHERE request_message_id = $1")
        .bind(request_id)
        .fetch_optional(pool)
        .await
}

/// Every row in a stable order; used to compare a live view with a rebuilt one.
pub async fn all(pool: &AnyPool) -> Result<Vec<PaymentStatusRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM payment_status ORDER BY tran_id")
        .fetch_all(pool)
        .await
}
