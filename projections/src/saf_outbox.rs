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

use std::collections::{HashMap, HashSet};

use aggregates::{AdviceKind, Payment, PaymentEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::fresh_deliveries::FreshDeliveries;
use crate::projection::{Projection, ProjectionError};
use crate::rows::{self, AnyQuery, Table};
use crate::time::to_view_text;

pub const NAME: &str = "saf_outbox";

/// The key of event metadata holding the caller's W3C `traceparent`: a delivery carries the
/// one of the request that scheduled it.
pub const TRACEPARENT_KEY: &str = "traceparent";

/// `saf_attempts.next_attempt_at` of a delivery that got its final answer: after every time
/// the view writes (RFC 3339 text sorts by time), so it is never due again.
pub const NEVER: &str = "9999-12-31T23:59:59.999999Z";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
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
    /// The W3C `traceparent` of the request that scheduled it, passed on with it.
    pub traceparent: Option<String>,
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

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&OUTBOX_EVENTS)
    }

    fn tables(&self) -> &'static [&'static str] {
        &["saf_outbox"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(conn, &[event]).await
    }

    /// The outbox rows a batch touches are read in one statement, changed in memory and
    /// written once; the bookkeeping rows it seeds are inserted in one statement and the
    /// claims it releases updated in one.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), ProjectionError> {
        // Most payment events carry whole messages; only these five concern the outbox, so
        // the others are not decoded at all.
        let mut decoded = Vec::new();
        for stored in events {
            if stored.aggregate_type == Payment::TYPE
                && OUTBOX_EVENTS.contains(&stored.event_type.as_str())
            {
                let traceparent = if stored.event_type == "DeliveryScheduled" {
                    stored.metadata()?.remove(TRACEPARENT_KEY)
                } else {
                    None
                };
                decoded.push((
                    stored.aggregate_id.as_str(),
                    stored.sequence,
                    stored.payment()?,
                    traceparent,
                ));
            }
        }
        if decoded.is_empty() {
            return Ok(());
        }
        let keys = rows::distinct(decoded.iter().filter_map(|(_, _, e, _)| e.delivery_id()));
        let stored =
            rows::fetch_by_keys(conn, &TABLE, &keys, |r: &OutboxRow| r.delivery_id.as_str())
                .await?;
        let mut batch = Batch {
            rows: stored,
            ..Batch::default()
        };
        for (tran_id, sequence, event, traceparent) in decoded {
            let scheduled = Scheduled {
                tran_id,
                sequence,
                traceparent,
            };
            batch.fold(scheduled, event, &self.fresh);
        }
        batch.save(conn).await
    }

    fn committed(&self) {
        self.fresh.publish();
    }
}

const TABLE: Table = Table {
    name: "saf_outbox",
    columns: &[
        "delivery_id",
        "tran_id",
        "partner_id",
        "kind",
        "reason",
        "request_id",
        "message",
        "status",
        "scheduled_at",
        "finished_at",
        "outcome",
        "last_sequence",
        "traceparent",
    ],
};

fn bind_row<'q>(query: AnyQuery<'q>, row: &'q OutboxRow) -> AnyQuery<'q> {
    query
        .bind(row.delivery_id.as_str())
        .bind(row.tran_id.as_str())
        .bind(row.partner_id.as_str())
        .bind(row.kind.as_str())
        .bind(row.reason.as_deref())
        .bind(row.request_id.as_str())
        .bind(row.message.as_str())
        .bind(row.status.as_str())
        .bind(row.scheduled_at.as_str())
        .bind(row.finished_at.as_deref())
        .bind(row.outcome.as_deref())
        .bind(row.last_sequence)
        .bind(row.traceparent.as_deref())
}

/// Where a folded event stands: its payment, its sequence, and (a delivery's) trace.
struct Scheduled<'a> {
    tran_id: &'a str,
    sequence: i64,
    traceparent: Option<String>,
}

/// One batch's outbox rows and bookkeeping writes, as the events folded so far leave them.
#[derive(Default)]
struct Batch {
    rows: HashMap<String, OutboxRow>,
    changed: HashSet<String>,
    /// Bookkeeping rows to seed: delivery and the time it became due.
    seeds: Vec<(String, String)>,
    /// Claims to release: delivery and the time of its final answer.
    releases: Vec<(String, String)>,
}

impl Batch {
    fn fold(&mut self, at: Scheduled<'_>, event: &PaymentEvent, fresh: &FreshDeliveries) {
        let sequence = at.sequence;
        match event {
            PaymentEvent::DeliveryScheduled { .. } => self.schedule(at, event, fresh),
            PaymentEvent::AdviceDelivered {
                delivery_id,
                status,
                delivered_at,
            } => {
                let at = to_view_text(*delivered_at);
                self.releases.push((delivery_id.clone(), at.clone()));
                let outcome = status.to_string();
                self.finish(delivery_id, sequence, "DELIVERED", Some(at), outcome);
            }
            PaymentEvent::AdviceRefused {
                delivery_id,
                status,
                reason,
                refused_at,
            } => {
                let at = to_view_text(*refused_at);
                self.releases.push((delivery_id.clone(), at.clone()));
                let outcome = format!("{status}: {reason}");
                self.finish(delivery_id, sequence, "REFUSED", Some(at), outcome);
            }
            PaymentEvent::DeliveryParked {
                delivery_id,
                reason,
                ..
            } => self.finish(delivery_id, sequence, "PARKED", None, reason.clone()),
            PaymentEvent::DeliveryUnparked { delivery_id, .. } => {
                self.finish(
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

    /// A delivery scheduled: its outbox row (an existing one is kept), its bookkeeping row
    /// to seed, and the dispatcher told once the pass commits.
    fn schedule(&mut self, at: Scheduled<'_>, event: &PaymentEvent, fresh: &FreshDeliveries) {
        let PaymentEvent::DeliveryScheduled {
            delivery_id,
            partner_id,
            advice,
            request_id,
            message,
            scheduled_at,
        } = event
        else {
            return;
        };
        let (kind, reason) = match advice {
            AdviceKind::Confirmation => ("CONFIRMATION", None),
            AdviceKind::Reversal { reason } => ("REVERSAL", Some(reason.clone())),
        };
        let scheduled_at = to_view_text(*scheduled_at);
        fresh.stage(partner_id.as_str(), delivery_id);
        self.seeds.push((delivery_id.clone(), scheduled_at.clone()));
        if self.rows.contains_key(delivery_id) {
            return;
        }
        let row = OutboxRow {
            delivery_id: delivery_id.clone(),
            tran_id: at.tran_id.to_owned(),
            partner_id: partner_id.to_string(),
            kind: kind.to_owned(),
            reason,
            request_id: request_id.clone(),
            message: message.to_string(),
            status: "PENDING".to_owned(),
            scheduled_at,
            finished_at: None,
            outcome: None,
            last_sequence: at.sequence,
            traceparent: at.traceparent,
        };
        self.rows.insert(delivery_id.clone(), row);
        self.changed.insert(delivery_id.clone());
    }

    /// Moves a delivery to `status`. Guarded by the payment's sequence so that an event
    /// applied twice (never expected, but cheap to rule out) cannot move it back.
    fn finish(
        &mut self,
        delivery_id: &str,
        sequence: i64,
        status: &str,
        finished_at: Option<String>,
        outcome: String,
    ) {
        let Some(row) = self.rows.get_mut(delivery_id) else {
            return;
        };
        if row.last_sequence >= sequence {
            return;
        }
        row.status = status.to_owned();
        row.finished_at = finished_at;
        row.outcome = Some(outcome);
        row.last_sequence = sequence;
        self.changed.insert(delivery_id.to_owned());
    }

    async fn save(&self, conn: &mut AnyConnection) -> Result<(), ProjectionError> {
        let out = rows::changed(&self.rows, &self.changed);
        rows::upsert(conn, &TABLE, &out, bind_row).await?;
        seed_attempts(conn, &self.seeds).await?;
        release_claims(conn, &self.releases).await?;
        Ok(())
    }
}

/// Pairs bound per bookkeeping statement at most (two values each).
const PAIRS_PER_STATEMENT: usize = 4_000;

/// A bookkeeping row per scheduled delivery, due at once; an existing row is kept.
async fn seed_attempts(
    conn: &mut AnyConnection,
    seeds: &[(String, String)],
) -> Result<(), ProjectionError> {
    for chunk in seeds.chunks(PAIRS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, 0, ${}, ${})", 2 * i + 1, 2 * i + 2, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO saf_attempts (delivery_id, attempts, next_attempt_at, age_from)
             VALUES {} ON CONFLICT (delivery_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for (delivery_id, due) in chunk {
            query = query.bind(delivery_id.as_str()).bind(due.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The final answers of claimed deliveries: count the attempt that got each, drop the claim,
/// and never make it due again. Unclaimed rows (a replay, or a claim another instance let
/// go) stay as they are.
async fn release_claims(
    conn: &mut AnyConnection,
    releases: &[(String, String)],
) -> Result<(), ProjectionError> {
    for chunk in releases.chunks(PAIRS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        // `column1`, `column2`: the names both stores give the columns of a bare VALUES.
        let sql = format!(
            "UPDATE saf_attempts
                SET attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL,
                    last_attempt_at = answers.column2, last_error = NULL, next_attempt_at = $1
               FROM (VALUES {}) AS answers
              WHERE saf_attempts.delivery_id = answers.column1
                AND saf_attempts.claimed_by IS NOT NULL",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).persistent(false).bind(NEVER);
        for (delivery_id, answered_at) in chunk {
            query = query.bind(delivery_id.as_str()).bind(answered_at.as_str());
        }
        query.execute(&mut *conn).await?;
    }
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
