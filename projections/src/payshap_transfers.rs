//! Inbound PayShap credit transfers, for the daily mark-off extract and the back office, and
//! the inbound messages held because they could not be applied.

use aggregates::held_message::HeldMessage;
use aggregates::payshap_transfer::{CompletionOutcome, PayShapEvent, PayShapTransfer};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

mod held;
pub use held::*;

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
    /// Money we hold but could not apply: OPEN until worked to closure (APPLIED,
    /// ATTRIBUTED, RETURNING, RETURNED, CLOSED).
    pub case_status: Option<String>,
    /// The last step taken, JSON.
    pub case_note: Option<String>,
    pub case_updated_at: Option<String>,
    /// `originalMessageIdentifiers.creationDateTime` of its first completion.
    pub original_created_at: Option<String>,
    /// The first completion's message id (`recon-…` when credited from Electrum's extract).
    pub first_message_id: Option<String>,
}

pub struct PayShapTransfersProjection;

#[async_trait]
impl Projection for PayShapTransfersProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "payshap_transfers",
            "held_messages",
            "payshap_authorisations",
        ]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type == HeldMessage::TYPE {
            return apply_held(conn, event).await;
        }
        if event.aggregate_type == aggregates::approval::Approval::TYPE {
            return crate::approvals::apply(conn, event).await;
        }
        if event.aggregate_type == aggregates::refund::Refund::TYPE {
            return crate::refunds::apply(conn, event).await;
        }
        if event.aggregate_type != PayShapTransfer::TYPE {
            return Ok(());
        }
        let uetr = event.aggregate_id.as_str();
        let sequence = event.sequence;
        match event.decode::<PayShapEvent>()? {
            PayShapEvent::CompletionReceived { completion } => {
                insert_completion(conn, uetr, completion, sequence).await?;
            }
            PayShapEvent::Credited { credited_at, .. } => {
                // A credit to a proxy nobody knows is money we hold: an open case.
                sqlx::query(
                    "UPDATE payshap_transfers SET credited = 1, credited_at = $2, last_sequence = $3,
                         case_status = CASE WHEN proxy_known = 0 AND tran_id IS NULL
                                            THEN 'OPEN' ELSE case_status END
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
            PayShapEvent::CompletionRefused { reason, .. } => {
                set_exception(conn, uetr, &format!("not credited: {reason}"), sequence).await?;
            }
            PayShapEvent::ReconDifferenceFound {
                day, difference, ..
            } => {
                let note = format!("recon with Electrum, {day}: {difference}");
                set_exception(conn, uetr, &note, sequence).await?;
            }
            PayShapEvent::CaseStepTaken { step, taken_at, .. } => {
                set_case(conn, uetr, &step, taken_at, sequence).await?;
            }
            // Partner-auth has a table of its own.
            partner_auth @ (PayShapEvent::AuthorisationRequested { .. }
            | PayShapEvent::AuthorisationDecided { .. }
            | PayShapEvent::DecisionDelivered { .. }
            | PayShapEvent::DecisionUndelivered { .. }) => {
                crate::payshap_authorisations::apply(conn, uetr, sequence, partner_auth).await?;
            }
        }
        Ok(())
    }
}

async fn insert_completion(
    conn: &mut AnyConnection,
    uetr: &str,
    completion: aggregates::payshap_transfer::Completion,
    sequence: i64,
) -> Result<(), ProjectionError> {
    let final_outcome = completion
        .outcome
        .is_final()
        .then_some(completion.outcome.as_str());
    sqlx::query(
        "INSERT INTO payshap_transfers (uetr, end_to_end_id, outcome, credited,
             amount_minor, currency, proxy_id, proxy_known, tran_id, debtor_name,
             messages, first_received_at, last_sequence, original_created_at,
             first_message_id)
         VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12, $13)
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
    .bind(completion.original_created_at)
    .bind(completion.message_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_case(
    conn: &mut AnyConnection,
    uetr: &str,
    step: &aggregates::case::CaseStep,
    at: chrono::DateTime<chrono::Utc>,
    sequence: i64,
) -> Result<(), ProjectionError> {
    let note = serde_json::to_string(step).unwrap_or_default();
    sqlx::query(
        "UPDATE payshap_transfers SET case_status = $2, case_note = $3, case_updated_at = $4,
             last_sequence = $5
          WHERE uetr = $1 AND last_sequence < $5",
    )
    .bind(uetr)
    .bind(step.leads_to().as_str())
    .bind(note)
    .bind(to_view_text(at))
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_exception(
    conn: &mut AnyConnection,
    uetr: &str,
    note: &str,
    sequence: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE payshap_transfers SET exception = $2, last_sequence = $3,
             case_status = COALESCE(case_status, 'OPEN')
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

/// Held credits whose case is open (or returning), oldest first, at most `limit`.
pub async fn open_cases(pool: &AnyPool, limit: i64) -> Result<Vec<TransferRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM payshap_transfers WHERE case_status IN ('OPEN', 'RETURNING')
          ORDER BY first_received_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
