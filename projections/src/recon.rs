//! The back office's read model: one row per payment request with what finance reconciles
//! (retailer, store, lane, partner, amount, outcome, advice, fee), the deliveries of advices,
//! the fee terms in force and the partners' imported settlement files.
//!
//! The fee of a payment is charged when it is authorised, by the partner's terms that the
//! feed has delivered by then. Terms are events too, so a rebuild charges exactly the same
//! fees as the live view did, whatever the configuration says today.

use aggregates::fee_schedule::{FeeSchedule, FeeScheduleEvent};
use aggregates::partner_statement::{PartnerStatement, PartnerStatementEvent};
use aggregates::{Payment, PaymentEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::{AnyConnection, AnyPool};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

mod batch;
mod model;

pub use model::{FeeTermsRow, ReconDeliveryRow, ReconPaymentRow, StatementLineRow, StatementRow};

pub const NAME: &str = "recon";

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
        self.apply_batch(conn, &[event]).await
    }

    /// Payment and delivery rows are folded in memory and written once per batch (see
    /// [`batch`]); fee schedules and statements, rare, are written as they come, and the
    /// fee terms in memory follow the schedules in feed order.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut payments = Vec::new();
        let mut charges_fees = false;
        for stored in events {
            if stored.aggregate_type == Payment::TYPE {
                let event = stored.payment()?;
                charges_fees |= matches!(event, PaymentEvent::Authorised { .. });
                payments.push((*stored, event));
            }
        }
        let mut rows = batch::PaymentRows::load(conn, &payments).await?;
        let mut terms = if charges_fees {
            batch::load_terms(conn).await?
        } else {
            batch::Terms::new()
        };
        let mut payments = payments.into_iter();
        for stored in events {
            match stored.aggregate_type.as_str() {
                Payment::TYPE => {
                    if let Some((stored, event)) = payments.next() {
                        rows.fold(stored, event, &terms);
                    }
                }
                FeeSchedule::TYPE => apply_fee_schedule(conn, stored, &mut terms).await?,
                PartnerStatement::TYPE => apply_statement(conn, stored).await?,
                _ => {}
            }
        }
        rows.save(conn).await
    }
}

async fn apply_fee_schedule(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    in_force: &mut batch::Terms,
) -> Result<(), ProjectionError> {
    let FeeScheduleEvent::TermsSet {
        partner_id,
        terms,
        version,
        effective_at,
        ..
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
    let version = i64::from(version);
    let newer = in_force
        .get(partner_id.as_str())
        .is_none_or(|(_, known)| *known < version);
    if newer {
        in_force.insert(partner_id.to_string(), (terms, version));
    }
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
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> Result<Vec<ReconPaymentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM recon_payments WHERE requested_at >= $1 AND requested_at < $2
          ORDER BY tran_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
}

/// Placeholders per `IN (...)` query: well under SQLite's 32 766 bound parameters and
/// PostgreSQL's 65 535, and small enough to plan quickly.
const TRAN_IDS_PER_QUERY: usize = 500;

/// Payments by tranId (the ones a partner file names), in tranId order.
pub async fn payments_by_tran_id(
    conn: &mut AnyConnection,
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
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    rows.sort_by(|a, b| a.tran_id.cmp(&b.tran_id));
    Ok(rows)
}

/// Deliveries of the advices of payments requested in `[from, to)`.
pub async fn deliveries_requested_between(
    conn: &mut AnyConnection,
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
    .fetch_all(&mut *conn)
    .await
}

pub async fn fee_terms_in_force(pool: &AnyPool) -> Result<Vec<FeeTermsRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM recon_fee_terms ORDER BY partner_id")
        .fetch_all(pool)
        .await
}

/// The statements imported for `business_day` (`YYYY-MM-DD`), by partner.
pub async fn statements_for_day(
    conn: &mut AnyConnection,
    business_day: &str,
) -> Result<Vec<StatementRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM recon_statements WHERE business_day = $1 ORDER BY partner_id")
        .bind(business_day)
        .fetch_all(&mut *conn)
        .await
}

pub async fn statement_lines_for_day(
    conn: &mut AnyConnection,
    business_day: &str,
) -> Result<Vec<StatementLineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM recon_statement_lines WHERE business_day = $1
          ORDER BY partner_id, line_number",
    )
    .bind(business_day)
    .fetch_all(&mut *conn)
    .await
}
