//! The back office's read model: one row per payment request with what finance reconciles
//! (retailer, store, lane, partner, amount, outcome, advice, fee), the deliveries of advices,
//! the fee terms in force and the partners' imported settlement files.
//!
//! The fee of a payment is charged when it is authorised, by the partner's terms that the
//! feed has delivered by then. Terms are events too, so a rebuild charges exactly the same
//! fees as the live view did, whatever the configuration says today.

use aggregates::fee_schedule::{FeeSchedule, FeeScheduleEvent, FeeTerms};
use aggregates::partner_statement::{PartnerStatement, PartnerStatementEvent};
use aggregates::{AdviceKind, Payment, PaymentEvent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

pub const NAME: &str = "recon";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ReconPaymentRow {
    pub tran_id: String,
    pub retailer_id: String,
    /// `originator.merchant.merchantId` of the payment request; empty when absent.
    pub store_id: String,
    /// The terminal (till lane) the QR was issued to.
    pub lane_id: String,
    pub partner_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub requested_at: Option<String>,
    /// `AUTHORISED`, `DECLINED` or `TIMED_OUT` once known.
    pub outcome: Option<String>,
    pub outcome_at: Option<String>,
    /// Charged on authorisation; see the module documentation.
    pub fee_minor: Option<i64>,
    pub fee_version: Option<i64>,
    /// The first advice of the POS: `CONFIRMATION` or `REVERSAL`.
    pub advice: Option<String>,
    pub advice_at: Option<String>,
    pub completed_at: Option<String>,
    pub payshap_uetr: Option<String>,
    pub refund_minor: Option<i64>,
    pub refund_reason: Option<String>,
    #[serde(skip)]
    pub last_sequence: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ReconDeliveryRow {
    pub delivery_id: String,
    pub tran_id: String,
    pub partner_id: String,
    pub kind: String,
    /// `PENDING`, `PARKED`, `DELIVERED` or `REFUSED`.
    pub status: String,
    pub scheduled_at: String,
    pub delivered_at: Option<String>,
    pub note: Option<String>,
    #[serde(skip)]
    pub last_sequence: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct FeeTermsRow {
    pub partner_id: String,
    pub basis_points: i64,
    pub fixed_minor: i64,
    pub minimum_minor: i64,
    pub maximum_minor: Option<i64>,
    pub version: i64,
    pub effective_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct StatementRow {
    pub partner_id: String,
    pub business_day: String,
    pub version: i64,
    pub file_name: String,
    pub sha256: String,
    pub line_count: i64,
    pub imported_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct StatementLineRow {
    pub partner_id: String,
    pub business_day: String,
    pub tran_id: String,
    pub line_number: i64,
    pub partner_reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub transaction_time: String,
}

pub struct ReconProjection;

#[async_trait]
impl Projection for ReconProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "recon_payments",
            "recon_deliveries",
            "recon_fee_terms",
            "recon_statements",
            "recon_statement_lines",
        ]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        match event.aggregate_type.as_str() {
            Payment::TYPE => apply_payment(conn, event).await,
            FeeSchedule::TYPE => apply_fee_schedule(conn, event).await,
            PartnerStatement::TYPE => apply_statement(conn, event).await,
            _ => Ok(()),
        }
    }
}

async fn apply_payment(
    conn: &mut AnyConnection,
    event: &StoredEvent,
) -> Result<(), ProjectionError> {
    let tran_id = event.aggregate_id.as_str();
    let sequence = event.sequence;
    match event.decode::<PaymentEvent>()? {
        PaymentEvent::QrIssued {
            client_id,
            terminal_id,
            ..
        } => {
            sqlx::query(
                "INSERT INTO recon_payments (tran_id, retailer_id, store_id, lane_id,
                     last_sequence)
                 VALUES ($1, $2, '', $3, $4)
                 ON CONFLICT (tran_id) DO NOTHING",
            )
            .bind(tran_id)
            .bind(client_id.as_str())
            .bind(terminal_id)
            .bind(sequence)
            .execute(&mut *conn)
            .await?;
        }
        PaymentEvent::PaymentRequested {
            amount,
            message,
            requested_at,
            ..
        } => {
            let store_id = message["originator"]["merchant"]["merchantId"]
                .as_str()
                .unwrap_or_default();
            update(
                conn,
                tran_id,
                sequence,
                "amount_minor = $3, currency = $4, requested_at = $5, store_id = $6",
                |query| {
                    query
                        .bind(amount.minor_units())
                        .bind(amount.currency().to_string())
                        .bind(to_view_text(requested_at))
                        .bind(store_id.to_owned())
                },
            )
            .await?;
        }
        PaymentEvent::ScanReceived { partner_id, .. }
        | PaymentEvent::Matched { partner_id, .. } => {
            update(conn, tran_id, sequence, "partner_id = $3", |query| {
                query.bind(partner_id.to_string())
            })
            .await?;
        }
        PaymentEvent::ScanLapsed { .. } => {
            update(conn, tran_id, sequence, "partner_id = NULL", |query| query).await?;
        }
        PaymentEvent::Authorised {
            partner_id,
            authorised_at,
            ..
        } => {
            let (terms, version) = fee_terms(conn, partner_id.as_str()).await?;
            let amount: Option<i64> =
                sqlx::query_scalar("SELECT amount_minor FROM recon_payments WHERE tran_id = $1")
                    .bind(tran_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .flatten();
            let fee = terms.fee_for(amount.unwrap_or(0));
            update(
                conn,
                tran_id,
                sequence,
                "outcome = 'AUTHORISED', outcome_at = $3, partner_id = $4, fee_minor = $5,
                 fee_version = $6",
                |query| {
                    query
                        .bind(to_view_text(authorised_at))
                        .bind(partner_id.to_string())
                        .bind(fee)
                        .bind(version)
                },
            )
            .await?;
        }
        PaymentEvent::Declined { declined_at, .. } => {
            set_outcome(conn, tran_id, sequence, "DECLINED", declined_at).await?;
        }
        PaymentEvent::TimedOut { timed_out_at, .. } => {
            set_outcome(conn, tran_id, sequence, "TIMED_OUT", timed_out_at).await?;
        }
        PaymentEvent::Advised {
            advice, advised_at, ..
        } => {
            // The first advice decides the payment (the aggregate refuses a contrary one);
            // repeats keep the time of the first.
            update(
                conn,
                tran_id,
                sequence,
                "advice = COALESCE(advice, $3), advice_at = COALESCE(advice_at, $4)",
                |query| {
                    query
                        .bind(advice_name(&advice))
                        .bind(to_view_text(advised_at))
                },
            )
            .await?;
        }
        PaymentEvent::Completed { completed_at } => {
            update(conn, tran_id, sequence, "completed_at = $3", |query| {
                query.bind(to_view_text(completed_at))
            })
            .await?;
        }
        PaymentEvent::PayShapCredited { uetr, .. } => {
            update(conn, tran_id, sequence, "payshap_uetr = $3", |query| {
                query.bind(uetr)
            })
            .await?;
        }
        PaymentEvent::RefundRequired { amount, reason, .. } => {
            update(
                conn,
                tran_id,
                sequence,
                "refund_minor = $3, refund_reason = $4",
                |query| query.bind(amount.minor_units()).bind(reason),
            )
            .await?;
        }
        PaymentEvent::DeliveryScheduled {
            delivery_id,
            partner_id,
            advice,
            scheduled_at,
            ..
        } => {
            sqlx::query(
                "INSERT INTO recon_deliveries (delivery_id, tran_id, partner_id, kind, status,
                     scheduled_at, last_sequence)
                 VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)
                 ON CONFLICT (delivery_id) DO NOTHING",
            )
            .bind(delivery_id)
            .bind(tran_id)
            .bind(partner_id.as_str())
            .bind(advice_name(&advice))
            .bind(to_view_text(scheduled_at))
            .bind(sequence)
            .execute(&mut *conn)
            .await?;
        }
        PaymentEvent::AdviceDelivered {
            delivery_id,
            status,
            delivered_at,
        } => {
            let note = format!("partner answered {status}");
            set_delivery(
                conn,
                &delivery_id,
                sequence,
                "DELIVERED",
                Some(delivered_at),
                &note,
            )
            .await?;
        }
        PaymentEvent::AdviceRefused {
            delivery_id,
            status,
            reason,
            ..
        } => {
            let note = format!("partner refused with {status}: {reason}");
            set_delivery(conn, &delivery_id, sequence, "REFUSED", None, &note).await?;
        }
        PaymentEvent::DeliveryParked {
            delivery_id,
            reason,
            ..
        } => {
            set_delivery(conn, &delivery_id, sequence, "PARKED", None, &reason).await?;
        }
        PaymentEvent::DeliveryUnparked { delivery_id, .. } => {
            set_delivery(conn, &delivery_id, sequence, "PENDING", None, "unparked").await?;
        }
        PaymentEvent::AuthorisationRequested { .. }
        | PaymentEvent::TimeoutReversalQueued { .. } => {
            // No money moves and nothing for finance to see.
        }
    }
    Ok(())
}

fn advice_name(advice: &AdviceKind) -> &'static str {
    match advice {
        AdviceKind::Confirmation => "CONFIRMATION",
        AdviceKind::Reversal { .. } => "REVERSAL",
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Sets `assignments` (binding from `$3`) on the payment's row, once per event.
async fn update(
    conn: &mut AnyConnection,
    tran_id: &str,
    sequence: i64,
    assignments: &str,
    bind: impl for<'q> FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "UPDATE recon_payments SET {assignments}, last_sequence = $2
          WHERE tran_id = $1 AND last_sequence < $2"
    );
    bind(sqlx::query(&sql).bind(tran_id.to_owned()).bind(sequence))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn set_outcome(
    conn: &mut AnyConnection,
    tran_id: &str,
    sequence: i64,
    outcome: &'static str,
    at: DateTime<Utc>,
) -> Result<(), ProjectionError> {
    update(
        conn,
        tran_id,
        sequence,
        "outcome = $3, outcome_at = $4",
        |query| query.bind(outcome).bind(to_view_text(at)),
    )
    .await
}

async fn set_delivery(
    conn: &mut AnyConnection,
    delivery_id: &str,
    sequence: i64,
    status: &str,
    delivered_at: Option<DateTime<Utc>>,
    note: &str,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE recon_deliveries
            SET status = $3, delivered_at = COALESCE($4, delivered_at), note = $5,
                last_sequence = $2
          WHERE delivery_id = $1 AND last_sequence < $2",
    )
    .bind(delivery_id)
    .bind(sequence)
    .bind(status)
    .bind(delivered_at.map(to_view_text))
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The partner's terms as the feed has them now, and their version (0: no schedule, no fee).
async fn fee_terms(
    conn: &mut AnyConnection,
    partner_id: &str,
) -> Result<(FeeTerms, i64), ProjectionError> {
    let row: Option<FeeTermsRow> =
        sqlx::query_as("SELECT * FROM recon_fee_terms WHERE partner_id = $1")
            .bind(partner_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match row {
        Some(row) => (
            FeeTerms {
                basis_points: u32::try_from(row.basis_points).unwrap_or(0),
                fixed_minor: row.fixed_minor,
                minimum_minor: row.minimum_minor,
                maximum_minor: row.maximum_minor,
            },
            row.version,
        ),
        None => (FeeTerms::FREE, 0),
    })
}

async fn apply_fee_schedule(
    conn: &mut AnyConnection,
    event: &StoredEvent,
) -> Result<(), ProjectionError> {
    let FeeScheduleEvent::TermsSet {
        partner_id,
        terms,
        version,
        effective_at,
    } = event.decode::<FeeScheduleEvent>()?;
    sqlx::query(
        "INSERT INTO recon_fee_terms (partner_id, basis_points, fixed_minor, minimum_minor,
             maximum_minor, version, effective_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (partner_id) DO UPDATE SET
             basis_points = excluded.basis_points, fixed_minor = excluded.fixed_minor,
             minimum_minor = excluded.minimum_minor, maximum_minor = excluded.maximum_minor,
             version = excluded.version, effective_at = excluded.effective_at
         WHERE recon_fee_terms.version < excluded.version",
    )
    .bind(partner_id.as_str())
    .bind(i64::from(terms.basis_points))
    .bind(terms.fixed_minor)
    .bind(terms.minimum_minor)
    .bind(terms.maximum_minor)
    .bind(i64::from(version))
    .bind(to_view_text(effective_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn apply_statement(
    conn: &mut AnyConnection,
    event: &StoredEvent,
) -> Result<(), ProjectionError> {
    let PartnerStatementEvent::StatementImported {
        partner_id,
        business_day,
        version,
        file_name,
        sha256,
        lines,
        imported_at,
    } = event.decode::<PartnerStatementEvent>()?;
    let day = business_day.to_string();
    // A later version replaces the earlier one's lines; the event history keeps both.
    sqlx::query("DELETE FROM recon_statement_lines WHERE partner_id = $1 AND business_day = $2")
        .bind(partner_id.as_str())
        .bind(&day)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM recon_statements WHERE partner_id = $1 AND business_day = $2")
        .bind(partner_id.as_str())
        .bind(&day)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO recon_statements (partner_id, business_day, version, file_name, sha256,
             line_count, imported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(partner_id.as_str())
    .bind(&day)
    .bind(i64::from(version))
    .bind(file_name)
    .bind(sha256)
    .bind(i64::try_from(lines.len()).unwrap_or(i64::MAX))
    .bind(to_view_text(imported_at))
    .execute(&mut *conn)
    .await?;
    for line in lines {
        sqlx::query(
            "INSERT INTO recon_statement_lines (partner_id, business_day, tran_id, line_number,
                 partner_reference, amount_minor, currency, transaction_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(partner_id.as_str())
        .bind(&day)
        .bind(line.tran_id)
        .bind(i64::from(line.line_number))
        .bind(line.partner_reference)
        .bind(line.amount.minor_units())
        .bind(line.amount.currency().to_string())
        .bind(to_view_text(line.transaction_time))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Payments requested in `[from, to)` (view time text), in tranId order.
pub async fn payments_requested_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<ReconPaymentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM recon_payments WHERE requested_at >= $1 AND requested_at < $2
          ORDER BY tran_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// Placeholders per `IN (...)` query: well under SQLite's 32 766 bound parameters and
/// PostgreSQL's 65 535, and small enough to plan quickly.
const TRAN_IDS_PER_QUERY: usize = 500;

/// Payments by tranId (the ones a partner file names), in tranId order.
pub async fn payments_by_tran_id(
    pool: &AnyPool,
    tran_ids: &[String],
) -> Result<Vec<ReconPaymentRow>, sqlx::Error> {
    let mut rows = Vec::with_capacity(tran_ids.len());
    for chunk in tran_ids.chunks(TRAN_IDS_PER_QUERY) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT * FROM recon_payments WHERE tran_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, ReconPaymentRow>(&sql);
        for tran_id in chunk {
            query = query.bind(tran_id);
        }
        rows.extend(query.fetch_all(pool).await?);
    }
    rows.sort_by(|a, b| a.tran_id.cmp(&b.tran_id));
    Ok(rows)
}

/// Deliveries of the advices of payments requested in `[from, to)`.
pub async fn deliveries_requested_between(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<ReconDeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.* FROM recon_deliveries d JOIN recon_payments p ON p.tran_id = d.tran_id
          WHERE p.requested_at >= $1 AND p.requested_at < $2
          ORDER BY d.tran_id, d.delivery_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

pub async fn fee_terms_in_force(pool: &AnyPool) -> Result<Vec<FeeTermsRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM recon_fee_terms ORDER BY partner_id")
        .fetch_all(pool)
        .await
}

/// The statements imported for `business_day` (`YYYY-MM-DD`), by partner.
pub async fn statements_for_day(
    pool: &AnyPool,
    business_day: &str,
) -> Result<Vec<StatementRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM recon_statements WHERE business_day = $1 ORDER BY partner_id")
        .bind(business_day)
        .fetch_all(pool)
        .await
}

pub async fn statement_lines_for_day(
    pool: &AnyPool,
    business_day: &str,
) -> Result<Vec<StatementLineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM recon_statement_lines WHERE business_day = $1
          ORDER BY partner_id, line_number",
    )
    .bind(business_day)
    .fetch_all(pool)
    .await
}
