//! The recon view's payment and delivery rows, folded over a batch in memory: the rows the
//! batch touches are read in one statement per table, each event changes them as the
//! per-event updates did (an event at or before a row's last sequence changes nothing), and
//! each changed row is written once.

use std::collections::{HashMap, HashSet};

use aggregates::fee_schedule::FeeTerms;
use aggregates::{AdviceKind, PaymentEvent};
use sqlx::AnyConnection;

use super::model::{FeeTermsRow, ReconDeliveryRow, ReconPaymentRow};
use crate::feed::StoredEvent;
use crate::projection::ProjectionError;
use crate::rows::{self, AnyQuery, Table};
use crate::time::to_view_text;

const PAYMENTS: Table = Table {
    name: "recon_payments",
    columns: &[
        "tran_id",
        "retailer_id",
        "store_id",
        "lane_id",
        "partner_id",
        "amount_minor",
        "currency",
        "requested_at",
        "outcome",
        "outcome_at",
        "fee_minor",
        "fee_version",
        "advice",
        "advice_at",
        "completed_at",
        "payshap_uetr",
        "refund_minor",
        "refund_reason",
        "last_sequence",
        "pos_reference",
    ],
};

const DELIVERIES: Table = Table {
    name: "recon_deliveries",
    columns: &[
        "delivery_id",
        "tran_id",
        "partner_id",
        "kind",
        "status",
        "scheduled_at",
        "delivered_at",
        "note",
        "last_sequence",
    ],
};

fn bind_payment<'q>(query: AnyQuery<'q>, row: &'q ReconPaymentRow) -> AnyQuery<'q> {
    query
        .bind(row.tran_id.as_str())
        .bind(row.retailer_id.as_str())
        .bind(row.store_id.as_str())
        .bind(row.lane_id.as_str())
        .bind(row.partner_id.as_deref())
        .bind(row.amount_minor)
        .bind(row.currency.as_deref())
        .bind(row.requested_at.as_deref())
        .bind(row.outcome.as_deref())
        .bind(row.outcome_at.as_deref())
        .bind(row.fee_minor)
        .bind(row.fee_version)
        .bind(row.advice.as_deref())
        .bind(row.advice_at.as_deref())
        .bind(row.completed_at.as_deref())
        .bind(row.payshap_uetr.as_deref())
        .bind(row.refund_minor)
        .bind(row.refund_reason.as_deref())
        .bind(row.last_sequence)
        .bind(row.pos_reference.as_deref())
}

fn bind_delivery<'q>(query: AnyQuery<'q>, row: &'q ReconDeliveryRow) -> AnyQuery<'q> {
    query
        .bind(row.delivery_id.as_str())
        .bind(row.tran_id.as_str())
        .bind(row.partner_id.as_str())
        .bind(row.kind.as_str())
        .bind(row.status.as_str())
        .bind(row.scheduled_at.as_str())
        .bind(row.delivered_at.as_deref())
        .bind(row.note.as_deref())
        .bind(row.last_sequence)
}

/// Fee terms by partner as the feed has them at the event being folded, with their version.
pub(super) type Terms = HashMap<String, (FeeTerms, i64)>;

/// A batch's payment and delivery rows, as the events folded so far leave them.
pub(super) struct PaymentRows {
    payments: HashMap<String, ReconPaymentRow>,
    deliveries: HashMap<String, ReconDeliveryRow>,
    changed_payments: HashSet<String>,
    changed_deliveries: HashSet<String>,
}

impl PaymentRows {
    /// Reads the stored rows `events` (payment events of one batch) touch.
    pub(super) async fn load(
        conn: &mut AnyConnection,
        events: &[(&StoredEvent, &PaymentEvent)],
    ) -> Result<Self, ProjectionError> {
        let tran_ids = rows::stored_before(
            events
                .iter()
                .map(|(s, _)| (s.aggregate_id.as_str(), s.sequence)),
        );
        let delivery_ids = rows::distinct(events.iter().filter_map(|(_, e)| e.delivery_id()));
        // No keys, no statement: `fetch_by_keys` reads nothing for an empty list.
        let payments = rows::fetch_by_keys(conn, &PAYMENTS, &tran_ids, |r: &ReconPaymentRow| {
            r.tran_id.as_str()
        })
        .await?;
        let deliveries =
            rows::fetch_by_keys(conn, &DELIVERIES, &delivery_ids, |r: &ReconDeliveryRow| {
                r.delivery_id.as_str()
            })
            .await?;
        Ok(Self {
            payments,
            deliveries,
            changed_payments: HashSet::new(),
            changed_deliveries: HashSet::new(),
        })
    }

    /// Writes every row the batch changed.
    pub(super) async fn save(&self, conn: &mut AnyConnection) -> Result<(), ProjectionError> {
        let payments = rows::changed(&self.payments, &self.changed_payments);
        rows::upsert(conn, &PAYMENTS, &payments, bind_payment).await?;
        let deliveries = rows::changed(&self.deliveries, &self.changed_deliveries);
        rows::upsert(conn, &DELIVERIES, &deliveries, bind_delivery).await?;
        Ok(())
    }

    pub(super) fn fold(&mut self, stored: &StoredEvent, event: &PaymentEvent, terms: &Terms) {
        let tran_id = stored.aggregate_id.as_str();
        let sequence = stored.sequence;
        if event.delivery_id().is_some() {
            self.fold_delivery(tran_id, sequence, event);
            return;
        }
        match event {
            PaymentEvent::QrIssued {
                client_id,
                terminal_id,
                ..
            } => {
                if !self.payments.contains_key(tran_id) {
                    self.payments.insert(
                        tran_id.to_owned(),
                        new_payment(tran_id, client_id, terminal_id.clone(), sequence),
                    );
                    self.changed_payments.insert(tran_id.to_owned());
                }
            }
            other => {
                let Some(row) = self.payments.get_mut(tran_id) else {
                    return;
                };
                if row.last_sequence < sequence && change_payment(row, other, terms) {
                    row.last_sequence = sequence;
                    self.changed_payments.insert(tran_id.to_owned());
                }
            }
        }
    }

    /// A delivery's scheduling and answers onto its recon row.
    fn fold_delivery(&mut self, tran_id: &str, sequence: i64, event: &PaymentEvent) {
        match event {
            PaymentEvent::DeliveryScheduled {
                delivery_id,
                partner_id,
                advice,
                scheduled_at,
                ..
            } if !self.deliveries.contains_key(delivery_id) => {
                let row = ReconDeliveryRow {
                    delivery_id: delivery_id.clone(),
                    tran_id: tran_id.to_owned(),
                    partner_id: partner_id.to_string(),
                    kind: advice_name(advice).to_owned(),
                    status: "PENDING".to_owned(),
                    scheduled_at: to_view_text(*scheduled_at),
                    delivered_at: None,
                    note: None,
                    last_sequence: sequence,
                };
                self.deliveries.insert(delivery_id.clone(), row);
                self.changed_deliveries.insert(delivery_id.clone());
            }
            PaymentEvent::AdviceDelivered {
                delivery_id,
                status,
                delivered_at,
            } => {
                let note = format!("partner answered {status}");
                self.set_delivery(
                    delivery_id,
                    sequence,
                    "DELIVERED",
                    Some(*delivered_at),
                    note,
                );
            }
            PaymentEvent::AdviceRefused {
                delivery_id,
                status,
                reason,
                ..
            } => {
                let note = format!("partner refused with {status}: {reason}");
                self.set_delivery(delivery_id, sequence, "REFUSED", None, note);
            }
            PaymentEvent::DeliveryParked {
                delivery_id,
                reason,
                ..
            } => self.set_delivery(delivery_id, sequence, "PARKED", None, reason.clone()),
            PaymentEvent::DeliveryUnparked { delivery_id, .. } => {
                self.set_delivery(
                    delivery_id,
                    sequence,
                    "PENDING",
                    None,
                    "unparked".to_owned(),
                );
            }
            _ => {}
        }
    }

    fn set_delivery(
        &mut self,
        delivery_id: &str,
        sequence: i64,
        status: &str,
        delivered_at: Option<chrono::DateTime<chrono::Utc>>,
        note: String,
    ) {
        let Some(row) = self.deliveries.get_mut(delivery_id) else {
            return;
        };
        if row.last_sequence >= sequence {
            return;
        }
        row.status = status.to_owned();
        if let Some(at) = delivered_at {
            row.delivered_at = Some(to_view_text(at));
        }
        row.note = Some(note);
        row.last_sequence = sequence;
        self.changed_deliveries.insert(delivery_id.to_owned());
    }
}

fn new_payment(
    tran_id: &str,
    client_id: &impl ToString,
    terminal_id: String,
    sequence: i64,
) -> ReconPaymentRow {
    ReconPaymentRow {
        tran_id: tran_id.to_owned(),
        retailer_id: client_id.to_string(),
        store_id: String::new(),
        lane_id: terminal_id,
        partner_id: None,
        amount_minor: None,
        currency: None,
        requested_at: None,
        outcome: None,
        outcome_at: None,
        fee_minor: None,
        fee_version: None,
        advice: None,
        advice_at: None,
        completed_at: None,
        payshap_uetr: None,
        refund_minor: None,
        refund_reason: None,
        last_sequence: sequence,
        pos_reference: None,
    }
}

/// What one payment event changes on its recon row; false for events finance does not see.
fn change_payment(row: &mut ReconPaymentRow, event: &PaymentEvent, terms: &Terms) -> bool {
    match event {
        PaymentEvent::PaymentRequested {
            amount,
            message,
            requested_at,
            ..
        } => {
            let store_id = message["originator"]["merchant"]["merchantId"]
                .as_str()
                .unwrap_or_default();
            row.amount_minor = Some(amount.minor_units());
            row.currency = Some(amount.currency().to_string());
            row.requested_at = Some(to_view_text(*requested_at));
            row.store_id = store_id.to_owned();
            row.pos_reference = message["thirdPartyIdentifiers"][0]["transactionIdentifier"]
                .as_str()
                .map(str::to_owned);
        }
        PaymentEvent::ScanReceived { partner_id, .. }
        | PaymentEvent::Matched { partner_id, .. } => {
            row.partner_id = Some(partner_id.to_string());
        }
        PaymentEvent::ScanLapsed { .. } => row.partner_id = None,
        PaymentEvent::Authorised {
            partner_id,
            authorised_at,
            ..
        } => {
            let (terms, version) = terms
                .get(partner_id.as_str())
                .copied()
                .unwrap_or((FeeTerms::FREE, 0));
            row.fee_minor = Some(terms.fee_for(row.amount_minor.unwrap_or(0)));
            row.fee_version = Some(version);
            row.outcome = Some("AUTHORISED".to_owned());
            row.outcome_at = Some(to_view_text(*authorised_at));
            row.partner_id = Some(partner_id.to_string());
        }
        PaymentEvent::Declined { declined_at, .. } => {
            row.outcome = Some("DECLINED".to_owned());
            row.outcome_at = Some(to_view_text(*declined_at));
        }
        PaymentEvent::TimedOut { timed_out_at, .. } => {
            row.outcome = Some("TIMED_OUT".to_owned());
            row.outcome_at = Some(to_view_text(*timed_out_at));
        }
        PaymentEvent::Advised {
            advice, advised_at, ..
        } => {
            // The first advice decides the payment (the aggregate refuses a contrary one);
            // repeats keep the time of the first.
            row.advice
                .get_or_insert_with(|| advice_name(advice).to_owned());
            row.advice_at
                .get_or_insert_with(|| to_view_text(*advised_at));
        }
        PaymentEvent::Completed { completed_at } => {
            row.completed_at = Some(to_view_text(*completed_at));
        }
        PaymentEvent::PayShapCredited { uetr, .. } => row.payshap_uetr = Some(uetr.clone()),
        PaymentEvent::RefundRequired { amount, reason, .. } => {
            row.refund_minor = Some(amount.minor_units());
            row.refund_reason = Some(reason.clone());
        }
        _ => return false, // no money moves and nothing for finance to see
    }
    true
}

pub(super) fn advice_name(advice: &AdviceKind) -> &'static str {
    match advice {
        AdviceKind::Confirmation => "CONFIRMATION",
        AdviceKind::Reversal { .. } => "REVERSAL",
    }
}

/// Every fee schedule in force, as stored.
pub(super) async fn load_terms(conn: &mut AnyConnection) -> Result<Terms, ProjectionError> {
    let rows: Vec<FeeTermsRow> = sqlx::query_as("SELECT * FROM recon_fee_terms")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.partner_id.clone(), terms_of(&row)))
        .collect())
}

pub(super) fn terms_of(row: &FeeTermsRow) -> (FeeTerms, i64) {
    (
        FeeTerms {
            basis_points: u32::try_from(row.basis_points).unwrap_or(0),
            fixed_minor: row.fixed_minor,
            minimum_minor: row.minimum_minor,
            maximum_minor: row.maximum_minor,
        },
        row.version,
    )
}
