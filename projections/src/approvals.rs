//! Four eyes: each money-moving request and how it went (rows of the `payshap_transfers`
//! projection, as every action concerns a PayShap credit; no checkpoint of their own).

use aggregates::approval::{ApprovalEvent, MoneyAction};
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::ProjectionError;
use crate::time::to_view_text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRow {
    pub approval_id: String,
    /// APPLY, ATTRIBUTE, REFUND, CREDIT_FROM_RECON, MANUAL_REVERSAL or FEE_TERMS.
    pub action: String,
    /// What it concerns: a transfer's UETR, a payment's tranId, a partner's id.
    pub target: String,
    /// The action as requested, JSON.
    pub detail: String,
    pub maker: String,
    pub reason: String,
    /// PENDING, APPROVED, REJECTED, EXECUTED or FAILED (a pending one past `expiresAt` is
    /// expired: it can no longer be decided).
    pub status: String,
    pub requested_at: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// How carrying it out went, or the rejection's note.
    pub outcome: Option<String>,
    pub last_sequence: i64,
}

fn action_name(action: &MoneyAction) -> &'static str {
    match action {
        MoneyAction::Apply { .. } => "APPLY",
        MoneyAction::Attribute { .. } => "ATTRIBUTE",
        MoneyAction::Refund { .. } => "REFUND",
        MoneyAction::CreditFromRecon { .. } => "CREDIT_FROM_RECON",
        MoneyAction::ManualReversal { .. } => "MANUAL_REVERSAL",
        MoneyAction::FeeTerms { .. } => "FEE_TERMS",
        MoneyAction::ApplyHeld { .. } => "APPLY_HELD",
    }
}

pub async fn apply(conn: &mut AnyConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let (id, sequence) = (event.aggregate_id.as_str(), event.sequence);
    let decided = |status: &'static str, by: String, at, note: Option<String>| {
        sqlx::query(
            "UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, outcome = $5,
                 last_sequence = $6
              WHERE approval_id = $1 AND last_sequence < $6",
        )
        .bind(id)
        .bind(status)
        .bind(by)
        .bind(to_view_text(at))
        .bind(note)
        .bind(sequence)
    };
    let ended = |status: &'static str, outcome: String| {
        sqlx::query(
            "UPDATE approvals SET status = $2, outcome = $3, last_sequence = $4
              WHERE approval_id = $1 AND last_sequence < $4",
        )
        .bind(id)
        .bind(status)
        .bind(outcome)
        .bind(sequence)
    };
    let query = match event.decode::<ApprovalEvent>()? {
        ApprovalEvent::ApprovalRequested {
            action,
            maker,
            reason,
            expires_at,
            requested_at,
        } => {
            let detail = serde_json::to_string(&action).map_err(|e| ProjectionError::Decode {
                position: event.feed_position,
                reason: format!("approval action: {e}"),
            })?;
            sqlx::query(
                "INSERT INTO approvals (approval_id, action, target, detail, maker, reason, status,
                     requested_at, expires_at, last_sequence)
                 VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9)
                 ON CONFLICT (approval_id) DO NOTHING",
            )
            .bind(id)
            .bind(action_name(&action))
            .bind(action.target().to_owned())
            .bind(detail)
            .bind(maker)
            .bind(reason)
            .bind(to_view_text(requested_at))
            .bind(to_view_text(expires_at))
            .bind(sequence)
        }
        ApprovalEvent::ApprovalGranted {
            approver,
            approved_at,
        } => decided("APPROVED", approver, approved_at, None),
        ApprovalEvent::ApprovalRejected {
            approver,
            note,
            rejected_at,
        } => decided("REJECTED", approver, rejected_at, Some(note)),
        ApprovalEvent::ActionExecuted { detail, .. } => ended("EXECUTED", detail),
        ApprovalEvent::ActionFailed { reason, .. } => ended("FAILED", reason),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Requests of one status (or all), newest first, at most `limit`.
pub async fn list(
    pool: &AnyPool,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<ApprovalRow>, sqlx::Error> {
    crate::rows::newest_requested(pool, "approvals", status, limit).await
}
