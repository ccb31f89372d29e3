//! Partner-auth requests and our decisions (rows of the `payshap_transfers` projection):
//! for the back office, and for the decision sender, which picks up from here whatever was
//! decided but not yet delivered (after a restart, or an instance that stopped mid-send).

use aggregates::payshap_transfer::PayShapEvent;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::projection::ProjectionError;
use crate::time::to_view_text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorisationRow {
    pub uetr: String,
    pub message_id: String,
    pub end_to_end_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub proxy_id: Option<String>,
    pub tran_id: Option<String>,
    /// `messageIdentifiers.creationDateTime` of Electrum's request.
    pub created_at: String,
    pub requested_at: String,
    /// APPROVED or REJECTED.
    pub outcome: Option<String>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub decided_at: Option<String>,
    /// PENDING, DELIVERED or UNDELIVERED.
    pub delivery: String,
    pub delivery_note: Option<String>,
    pub attempts: i64,
    pub settled_at: Option<String>,
    pub last_sequence: i64,
}

/// Applies a partner-auth event of the transfer `uetr` (part of the `payshap_transfers`
/// projection, so that it costs no checkpoint of its own); other events change nothing.
pub async fn apply(
    conn: &mut AnyConnection,
    uetr: &str,
    sequence: i64,
    event: PayShapEvent,
) -> Result<(), ProjectionError> {
    let query = match event {
        PayShapEvent::AuthorisationRequested { request } => sqlx::query(
            "INSERT INTO payshap_authorisations (uetr, message_id, end_to_end_id,
                 amount_minor, currency, proxy_id, tran_id, created_at, requested_at,
                 last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (uetr) DO NOTHING",
        )
        .bind(uetr)
        .bind(request.message_id)
        .bind(request.end_to_end_id)
        .bind(request.amount.minor_units())
        .bind(request.amount.currency().to_string())
        .bind(request.proxy_id)
        .bind(request.tran_id)
        .bind(request.created_at)
        .bind(to_view_text(request.received_at))
        .bind(sequence),
        PayShapEvent::AuthorisationDecided { decision, .. } => sqlx::query(
            "UPDATE payshap_authorisations SET outcome = $2, reason_code = $3, reason = $4,
                 decided_at = $5, last_sequence = $6
              WHERE uetr = $1 AND last_sequence < $6",
        )
        .bind(uetr)
        .bind(decision.outcome())
        .bind(decision.reason_code)
        .bind(decision.reason)
        .bind(to_view_text(decision.decided_at))
        .bind(sequence),
        PayShapEvent::DecisionDelivered {
            attempts,
            delivered_at,
            ..
        } => settle(uetr, "DELIVERED", None, attempts, delivered_at, sequence),
        PayShapEvent::DecisionUndelivered {
            reason,
            attempts,
            noticed_at,
            ..
        } => settle(
            uetr,
            "UNDELIVERED",
            Some(reason),
            attempts,
            noticed_at,
            sequence,
        ),
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}

fn settle<'q>(
    uetr: &'q str,
    delivery: &'static str,
    note: Option<String>,
    attempts: u32,
    at: chrono::DateTime<chrono::Utc>,
    sequence: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "UPDATE payshap_authorisations SET delivery = $2, delivery_note = $3, attempts = $4,
             settled_at = $5, last_sequence = $6
          WHERE uetr = $1 AND last_sequence < $6",
    )
    .bind(uetr)
    .bind(delivery)
    .bind(note)
    .bind(i64::from(attempts))
    .bind(to_view_text(at))
    .bind(sequence)
}

pub async fn find(pool: &AnyPool, uetr: &str) -> Result<Option<AuthorisationRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM payshap_authorisations WHERE uetr = $1")
        .bind(uetr)
        .fetch_optional(pool)
        .await
}

/// Decisions not yet delivered, oldest first, at most `limit`.
pub async fn pending(pool: &AnyPool, limit: i64) -> Result<Vec<AuthorisationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM payshap_authorisations
          WHERE delivery = 'PENDING' AND outcome IS NOT NULL
          ORDER BY requested_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Decisions, newest first, of one delivery state or all, at most `limit`.
pub async fn list(
    pool: &AnyPool,
    delivery: Option<&str>,
    limit: i64,
) -> Result<Vec<AuthorisationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM payshap_authorisations WHERE ($1 IS NULL OR delivery = $1)
          ORDER BY requested_at DESC LIMIT $2",
    )
    .bind(delivery)
    .bind(limit)
    .fetch_all(pool)
    .await
}
