//! Where each payment stands: what the POS waits on and what ops look at first.

use aggregates::{AdviceKind, Payment, PaymentEvent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::rows::{self, AnyQuery, Table};
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

const TABLE: Table = Table {
    name: "payment_status",
    columns: &[
        "tran_id",
        "client_id",
        "terminal_id",
        "status",
        "amount_minor",
        "currency",
        "partner_id",
        "issued_at",
        "expires_at",
        "updated_at",
        "last_sequence",
        "respond_by",
        "outcome_reason",
        "request_message_id",
        "advice",
        "completed_at",
    ],
};

fn bind_row<'q>(query: AnyQuery<'q>, row: &'q PaymentStatusRow) -> AnyQuery<'q> {
    query
        .bind(row.tran_id.as_str())
        .bind(row.client_id.as_str())
        .bind(row.terminal_id.as_str())
        .bind(row.status.as_str())
        .bind(row.amount_minor)
        .bind(row.currency.as_deref())
        .bind(row.partner_id.as_deref())
        .bind(row.issued_at.as_str())
        .bind(row.expires_at.as_str())
        .bind(row.updated_at.as_str())
        .bind(row.last_sequence)
        .bind(row.respond_by.as_deref())
        .bind(row.outcome_reason.as_deref())
        .bind(row.request_message_id.as_deref())
        .bind(row.advice.as_deref())
        .bind(row.completed_at.as_deref())
}

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
        self.apply_batch(conn, &[event]).await
    }

    /// Reads the stored rows the batch touches in one statement, folds the events onto them in
    /// memory and writes each changed row once.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut decoded = Vec::new();
        for stored in events {
            if stored.aggregate_type == Payment::TYPE {
                decoded.push((*stored, stored.payment()?));
            }
        }
        if decoded.is_empty() {
            return Ok(());
        }
        let keys = rows::stored_before(
            decoded
                .iter()
                .map(|(s, _)| (s.aggregate_id.as_str(), s.sequence)),
        );
        let mut rows = rows::fetch_by_keys(conn, &TABLE, &keys, |r: &PaymentStatusRow| {
            r.tran_id.as_str()
        })
        .await?;
        let mut changed = HashSet::new();
        for (stored, event) in decoded {
            if fold(&mut rows, stored, event) {
                changed.insert(stored.aggregate_id.as_str());
            }
        }
        let out = rows::changed(&rows, changed);
        rows::upsert(conn, &TABLE, &out, bind_row).await?;
        Ok(())
    }
}

/// One event onto the payment's row (created by its `QrIssued`); an event at or before
/// the row's last sequence was applied already and changes nothing. Whether it changed it.
fn fold(
    rows: &mut HashMap<String, PaymentStatusRow>,
    stored: &StoredEvent,
    event: &PaymentEvent,
) -> bool {
    let tran_id = stored.aggregate_id.as_str();
    let sequence = stored.sequence;
    if let PaymentEvent::QrIssued {
        client_id,
        terminal_id,
        amount,
        issued_at,
        expires_at,
        ..
    } = event
    {
        if rows.contains_key(tran_id) {
            return false;
        }
        let issued_at = to_view_text(*issued_at);
        rows.insert(
            tran_id.to_owned(),
            PaymentStatusRow {
                tran_id: tran_id.to_owned(),
                client_id: client_id.to_string(),
                terminal_id: terminal_id.clone(),
                status: "QR_ISSUED".to_owned(),
                amount_minor: amount.map(|a| a.minor_units()),
                currency: amount.map(|a| a.currency().to_string()),
                partner_id: None,
                issued_at: issued_at.clone(),
                expires_at: to_view_text(*expires_at),
                updated_at: issued_at,
                last_sequence: sequence,
                respond_by: None,
                outcome_reason: None,
                request_message_id: None,
                advice: None,
                completed_at: None,
            },
        );
        return true;
    }
    let Some(row) = rows.get_mut(tran_id) else {
        return false;
    };
    if row.last_sequence >= sequence || !change(row, event) {
        return false;
    }
    row.last_sequence = sequence;
    true
}

/// What one event after the QR's issue changes on its row; false for events this view
/// does not follow (deliveries are the store-and-forward outbox's business).
fn change(row: &mut PaymentStatusRow, event: &PaymentEvent) -> bool {
    match event {
        PaymentEvent::Advised {
            advice, advised_at, ..
        } => {
            let advice = match advice {
                AdviceKind::Confirmation => "CONFIRMATION",
                AdviceKind::Reversal { .. } => "REVERSAL",
            };
            row.advice.get_or_insert_with(|| advice.to_owned());
            row.updated_at = to_view_text(*advised_at);
            true
        }
        PaymentEvent::Completed { completed_at } => {
            let completed_at = to_view_text(*completed_at);
            row.completed_at = Some(completed_at.clone());
            row.updated_at = completed_at;
            true
        }
        _ => {
            let Some((status, at)) = matching(row, event).or_else(|| outcome(row, event)) else {
                return false;
            };
            row.status = status.to_owned();
            row.updated_at = to_view_text(*at);
            true
        }
    }
}

/// The request and the scan: the status they move the row to, and when.
fn matching<'e>(
    row: &mut PaymentStatusRow,
    event: &'e PaymentEvent,
) -> Option<(&'static str, &'e DateTime<Utc>)> {
    Some(match event {
        PaymentEvent::PaymentRequested {
            message_id,
            amount,
            requested_at,
            respond_by,
            ..
        } => {
            row.amount_minor = Some(amount.minor_units());
            row.currency = Some(amount.currency().to_string());
            row.respond_by = Some(to_view_text(*respond_by));
            row.request_message_id = Some(message_id.clone());
            ("PAYMENT_REQUESTED", requested_at)
        }
        PaymentEvent::ScanReceived {
            partner_id,
            scanned_at,
            ..
        } => {
            row.partner_id = Some(partner_id.to_string());
            ("SCANNED", scanned_at)
        }
        PaymentEvent::ScanLapsed { lapsed_at, .. } => {
            row.partner_id = None;
            let status = if row.respond_by.is_none() {
                "QR_ISSUED"
            } else {
                "PAYMENT_REQUESTED"
            };
            (status, lapsed_at)
        }
        PaymentEvent::Matched {
            partner_id,
            matched_at,
            ..
        } => {
            row.partner_id = Some(partner_id.to_string());
            ("MATCHED", matched_at)
        }
        _ => return None,
    })
}

/// The authorisation and its outcome: the status they move the row to, and when.
fn outcome<'e>(
    row: &mut PaymentStatusRow,
    event: &'e PaymentEvent,
) -> Option<(&'static str, &'e DateTime<Utc>)> {
    Some(match event {
        PaymentEvent::AuthorisationRequested { requested_at, .. } => ("AUTHORISING", requested_at),
        PaymentEvent::Authorised { authorised_at, .. } => ("AUTHORISED", authorised_at),
        PaymentEvent::Declined {
            error, declined_at, ..
        } => {
            let reason = error["errorType"].as_str().unwrap_or("DECLINED");
            row.outcome_reason = Some(reason.to_owned());
            ("DECLINED", declined_at)
        }
        PaymentEvent::TimedOut {
            reason,
            timed_out_at,
            ..
        } => {
            row.outcome_reason = Some(reason.clone());
            ("TIMED_OUT", timed_out_at)
        }
        _ => return None,
    })
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
