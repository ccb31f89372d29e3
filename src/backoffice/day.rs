//! Everything the back office reports about one business day, read once per request from
//! the recon and PayShap views. The reports are pure functions of this, so that the same
//! rows always give the same figures (and a rebuilt view the same reports).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use projections::payshap_transfers::{self, HeldMessageRow, TransferRow};
use projections::recon::{self, ReconDeliveryRow, ReconPaymentRow, StatementLineRow, StatementRow};
use projections::time::to_view_text;
use projections::FeedPosition;
use sqlx::AnyConnection;

use super::calendar::BusinessCalendar;

/// The currency every figure of a report is in. Payments in another one are counted apart
/// (`other_currency_payments`) rather than added to rands.
pub const REPORT_CURRENCY: &str = "710";

#[derive(Debug, Clone)]
pub struct DayData {
    pub day: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The moment the report describes: exceptions that depend on time are judged at it.
    pub as_of: DateTime<Utc>,
    /// The last event the rows describe: with `as_of`, all a report depends on.
    pub feed_position: FeedPosition,
    /// Payments requested during the day, in the report currency.
    pub payments: Vec<ReconPaymentRow>,
    pub other_currency_payments: usize,
    /// Deliveries of those payments' advices.
    pub deliveries: Vec<ReconDeliveryRow>,
    /// PayShap completions first received during the day.
    pub payshap_received: Vec<TransferRow>,
    /// PayShap credits booked during the day.
    pub payshap_credited: Vec<TransferRow>,
    /// Authentic PayShap messages held during the day because they could not be applied.
    pub payshap_held: Vec<HeldMessageRow>,
    pub statements: Vec<StatementRow>,
    pub statement_lines: Vec<StatementLineRow>,
    /// The switch's rows for every tranId a statement line names, whatever their day.
    pub named_payments: BTreeMap<String, ReconPaymentRow>,
}

impl DayData {
    /// The day's rows from the views behind `conn` (one snapshot, when it is a transaction),
    /// which stand at `feed_position`.
    pub async fn load(
        conn: &mut AnyConnection,
        calendar: &BusinessCalendar,
        day: NaiveDate,
        as_of: DateTime<Utc>,
        feed_position: FeedPosition,
    ) -> Result<Self, sqlx::Error> {
        let (from, to) = calendar.window(day);
        let (from_text, to_text) = (to_view_text(from), to_view_text(to));
        let mut payments =
            recon::payments_requested_between(&mut *conn, &from_text, &to_text).await?;
        let before = payments.len();
        payments.retain(|row| row.currency.as_deref() == Some(REPORT_CURRENCY));
        let other_currency_payments = before - payments.len();
        let deliveries =
            recon::deliveries_requested_between(&mut *conn, &from_text, &to_text).await?;
        let payshap_received =
            payshap_transfers::received_between(&mut *conn, &from_text, &to_text).await?;
        let payshap_credited =
            payshap_transfers::credited_between(&mut *conn, &from_text, &to_text).await?;
        let payshap_held =
            payshap_transfers::held_between(&mut *conn, &from_text, &to_text).await?;
        let day_text = day.to_string();
        let statements = recon::statements_for_day(&mut *conn, &day_text).await?;
        let statement_lines = recon::statement_lines_for_day(&mut *conn, &day_text).await?;
        let named: Vec<String> = statement_lines.iter().map(|l| l.tran_id.clone()).collect();
        let named_payments = recon::payments_by_tran_id(&mut *conn, &named)
            .await?
            .into_iter()
            .map(|row| (row.tran_id.clone(), row))
            .collect();
        Ok(Self {
            day,
            from,
            to,
            as_of,
            feed_position,
            payments,
            other_currency_payments,
            deliveries,
            payshap_received,
            payshap_credited,
            payshap_held,
            statements,
            statement_lines,
            named_payments,
        })
    }
}

/// Whether the switch owes the partner's money to the retailer for this payment: the
/// partner approved it and the POS confirmed it.
pub fn is_settled(row: &ReconPaymentRow) -> bool {
    row.outcome.as_deref() == Some("AUTHORISED") && row.advice.as_deref() == Some("CONFIRMATION")
}
