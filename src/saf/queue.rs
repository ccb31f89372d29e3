//! The outbox as a work queue.
//!
//! A claim is a lease written to `saf_attempts` (`claimed_by`, `claimed_until`) in a short
//! transaction; the HTTP call happens after it commits, so no database transaction stays
//! open while a partner thinks. On PostgreSQL the claim selects with
//! `FOR UPDATE OF a SKIP LOCKED`: two instances claiming at once take different rows, and a
//! row another instance just claimed is re-checked against its new lease and skipped. On
//! SQLite the claim runs under the single write lock.

use chrono::{DateTime, Duration, Utc};
use projections::saf_outbox::OutboxRow;
use projections::time::to_view_text;
use projections::{Backend, ViewDb};
use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::{Arguments, FromRow};

/// Gives every pending delivery without one its bookkeeping row (due at once). The outbox
/// projection writes that row with the outbox row; this catches up rows written before it
/// did, once when the dispatcher starts.
pub async fn register_new(db: &ViewDb) -> Result<u64, sqlx::Error> {
    let _gate = db.write_gate().await;
    let done = sqlx::query(
        "INSERT INTO saf_attempts (delivery_id, attempts, next_attempt_at, age_from)
         SELECT o.delivery_id, 0, o.scheduled_at, o.scheduled_at FROM saf_outbox o
          WHERE o.status = 'PENDING'
            AND NOT EXISTS (SELECT 1 FROM saf_attempts a WHERE a.delivery_id = o.delivery_id)
         ON CONFLICT (delivery_id) DO NOTHING",
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Which deliveries a claim takes.
#[derive(Debug, Clone, Copy)]
pub enum Claim<'a> {
    /// The oldest due deliveries to `partner_id`, at most `limit` (the scan).
    Due { partner_id: &'a str, limit: usize },
    /// These deliveries, where still due and pending (handed over by the outbox pass that
    /// wrote them, so no scan is needed to find them).
    Keys(&'a [String]),
}

/// PostgreSQL: claims and returns the claimed outbox rows in one statement (one round trip
/// per round, not one more per delivery). `$1` is the partner, or the keys as a JSON array.
///
/// A claim also moves the row's `next_attempt_at` to the end of its lease, and a final
/// answer moves it to [`projections::saf_outbox::NEVER`]: the rows due are the claimable
/// ones, so the scan reads only those off the `next_attempt_at` index. Among them the
/// oldest go first (by `age_from`): after an outage a partner's backlog drains in the order
/// the advices were given, not in the order their backoffs happen to end.
const CLAIM_DUE_POSTGRES: &str = "
WITH claimed AS (
    UPDATE saf_attempts SET claimed_by = $3, claimed_until = $4, next_attempt_at = $4
     WHERE delivery_id IN (
        SELECT a.delivery_id FROM saf_attempts a
          JOIN saf_outbox o ON o.delivery_id = a.delivery_id
         WHERE o.status = 'PENDING' AND o.partner_id = $1 AND a.next_attempt_at <= $2
           AND (a.claimed_until IS NULL OR a.claimed_until < $2)
         ORDER BY COALESCE(a.age_from, a.next_attempt_at), a.delivery_id
         LIMIT $5
         FOR UPDATE OF a SKIP LOCKED)
    RETURNING delivery_id)
SELECT o.* FROM saf_outbox o JOIN claimed c ON c.delivery_id = o.delivery_id";

const CLAIM_KEYS_POSTGRES: &str = "
WITH claimed AS (
    UPDATE saf_attempts SET claimed_by = $3, claimed_until = $4, next_attempt_at = $4
     WHERE delivery_id IN (
        SELECT a.delivery_id FROM saf_attempts a
          JOIN saf_outbox o ON o.delivery_id = a.delivery_id
         WHERE a.delivery_id IN (SELECT json_array_elements_text($1::json))
           AND o.status = 'PENDING' AND a.next_attempt_at <= $2
           AND (a.claimed_until IS NULL OR a.claimed_until < $2)
         LIMIT $5
         FOR UPDATE OF a SKIP LOCKED)
    RETURNING delivery_id)
SELECT o.* FROM saf_outbox o JOIN claimed c ON c.delivery_id = o.delivery_id";

/// SQLite has no `UPDATE` inside `WITH`: these claim and return the ids, and the rows are
/// read in the same transaction.
const CLAIM_DUE_SQLITE: &str = "
UPDATE saf_attempts SET claimed_by = $3, claimed_until = $4, next_attempt_at = $4
 WHERE delivery_id IN (
    SELECT a.delivery_id FROM saf_attempts a JOIN saf_outbox o ON o.delivery_id = a.delivery_id
     WHERE o.status = 'PENDING' AND o.partner_id = $1 AND a.next_attempt_at <= $2
       AND (a.claimed_until IS NULL OR a.claimed_until < $2)
     ORDER BY COALESCE(a.age_from, a.next_attempt_at), a.delivery_id
     LIMIT $5)
RETURNING delivery_id";

const CLAIM_KEYS_SQLITE: &str = "
UPDATE saf_attempts SET claimed_by = $3, claimed_until = $4, next_attempt_at = $4
 WHERE delivery_id IN (
    SELECT a.delivery_id FROM saf_attempts a JOIN saf_outbox o ON o.delivery_id = a.delivery_id
     WHERE a.delivery_id IN (SELECT value FROM json_each($1))
       AND o.status = 'PENDING' AND a.next_attempt_at <= $2
       AND (a.claimed_until IS NULL OR a.claimed_until < $2)
     LIMIT $5)
RETURNING delivery_id";

/// Claims deliveries for `lease` and returns their outbox rows.
pub async fn claim(
    db: &ViewDb,
    which: Claim<'_>,
    claimant: &str,
    lease: Duration,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let (first, limit, postgres, sqlite) = match which {
        Claim::Due { partner_id, limit } => (
            partner_id.to_owned(),
            limit,
            CLAIM_DUE_POSTGRES,
            CLAIM_DUE_SQLITE,
        ),
        Claim::Keys(keys) => (
            serde_json::to_string(keys).unwrap_or_else(|_| "[]".to_owned()),
            keys.len(),
            CLAIM_KEYS_POSTGRES,
            CLAIM_KEYS_SQLITE,
        ),
    };
    let now = Utc::now();
    let args = || -> Result<AnyArguments<'static>, sqlx::Error> {
        let mut args = AnyArguments::default();
        args.add(first.clone()).map_err(sqlx::Error::Encode)?;
        args.add(to_view_text(now)).map_err(sqlx::Error::Encode)?;
        args.add(claimant.to_owned()).map_err(sqlx::Error::Encode)?;
        args.add(to_view_text(now + lease))
            .map_err(sqlx::Error::Encode)?;
        args.add(i64::try_from(limit).unwrap_or(i64::MAX))
            .map_err(sqlx::Error::Encode)?;
        Ok(args)
    };
    let _gate = db.write_gate().await;
    let mut tx = db.begin_write().await?;
    let claimed: Vec<OutboxRow> = match db.backend() {
        Backend::Postgres => {
            sqlx::query_as_with(postgres, args()?)
                .fetch_all(&mut *tx)
                .await?
        }
        Backend::Sqlite => {
            let ids: Vec<String> = sqlx::query_scalar_with(sqlite, args()?)
                .fetch_all(&mut *tx)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let row = sqlx::query_as("SELECT * FROM saf_outbox WHERE delivery_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                rows.extend(row);
            }
            rows
        }
    };
    tx.commit().await?;
    Ok(claimed)
}

#[derive(Debug, Clone, FromRow)]
pub struct Attempts {
    pub attempts: i64,
    pub age_from: Option<String>,
}

pub async fn attempts(db: &ViewDb, delivery_id: &str) -> Result<Option<Attempts>, sqlx::Error> {
    sqlx::query_as("SELECT attempts, age_from FROM saf_attempts WHERE delivery_id = $1")
        .bind(delivery_id)
        .fetch_optional(db.pool())
        .await
}

/// Records an attempt and releases the claim; the next one is due at `next_attempt_at`.
pub async fn release(
    db: &ViewDb,
    delivery_id: &str,
    next_attempt_at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = to_view_text(Utc::now());
    let _gate = db.write_gate().await;
    let mut tx = db.pool().begin().await?;
    let attempt: Option<(i64,)> = sqlx::query_as(
        "UPDATE saf_attempts
            SET attempts = attempts + 1, next_attempt_at = $2, claimed_by = NULL,
                claimed_until = NULL, last_attempt_at = $3, last_error = $4
          WHERE delivery_id = $1
          RETURNING attempts",
    )
    .bind(delivery_id)
    .bind(to_view_text(next_attempt_at))
    .bind(&now)
    .bind(error)
    .fetch_optional(&mut *tx)
    .await?;
    // Only failed attempts come here (a delivered one is its AdviceDelivered event), so the
    // log costs nothing while partners answer.
    if let (Some((attempt,)), Some(error)) = (attempt, error) {
        sqlx::query(
            "INSERT INTO saf_attempt_log (delivery_id, attempt, attempted_at, error)
             VALUES ($1, $2, $3, $4) ON CONFLICT (delivery_id, attempt) DO NOTHING",
        )
        .bind(delivery_id)
        .bind(attempt)
        .bind(&now)
        .bind(error)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One failed attempt of a delivery.
#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct FailedAttempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub attempted_at: String,
    pub error: String,
}

/// Every failed attempt of the deliveries of one payment, oldest first.
pub async fn failed_attempts(
    db: &ViewDb,
    tran_id: &str,
) -> Result<Vec<FailedAttempt>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.delivery_id, l.attempt, l.attempted_at, l.error
           FROM saf_attempt_log l JOIN saf_outbox o ON o.delivery_id = l.delivery_id
          WHERE o.tran_id = $1
          ORDER BY l.attempted_at, l.attempt",
    )
    .bind(tran_id)
    .fetch_all(db.pool())
    .await
}

/// Releases a claim without counting an attempt (nothing was sent): due again now.
pub async fn unclaim(db: &ViewDb, delivery_id: &str) -> Result<(), sqlx::Error> {
    let now = to_view_text(Utc::now());
    let _gate = db.write_gate().await;
    sqlx::query(
        "UPDATE saf_attempts SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = $2
          WHERE delivery_id = $1",
    )
    .bind(delivery_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Makes every pending, unclaimed delivery to `partner_id` that waits out a backoff due
/// now: the partner has just answered again, so its backlog need not sit out delays that
/// were chosen while it was down. Returns how many were brought forward.
pub async fn bring_forward(db: &ViewDb, partner_id: &str) -> Result<u64, sqlx::Error> {
    let now = to_view_text(Utc::now());
    let _gate = db.write_gate().await;
    let done = sqlx::query(
        "UPDATE saf_attempts SET next_attempt_at = $2
          WHERE next_attempt_at > $2
            AND (claimed_until IS NULL OR claimed_until < $2)
            AND delivery_id IN (SELECT delivery_id FROM saf_outbox
                                 WHERE status = 'PENDING' AND partner_id = $1)",
    )
    .bind(partner_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Makes a delivery due now (ops "retry now"), and, on unpark, restarts its age.
pub async fn due_now(
    db: &ViewDb,
    delivery_id: &str,
    restart_age: bool,
) -> Result<bool, sqlx::Error> {
    let now = to_view_text(Utc::now());
    let sql = if restart_age {
        "UPDATE saf_attempts SET next_attempt_at = $2, age_from = $2 WHERE delivery_id = $1"
    } else {
        "UPDATE saf_attempts SET next_attempt_at = $2 WHERE delivery_id = $1"
    };
    let _gate = db.write_gate().await;
    let done = sqlx::query(sql)
        .bind(delivery_id)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One row of the ops view of the queue.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueEntry {
    pub delivery_id: String,
    pub tran_id: String,
    pub partner_id: String,
    pub kind: String,
    pub status: String,
    pub scheduled_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub attempts: Option<i64>,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub claimed_until: Option<String>,
}

/// Most recent first, optionally only one status; at most `limit` rows.
pub async fn list(
    db: &ViewDb,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<QueueEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.delivery_id, o.tran_id, o.partner_id, o.kind, o.status, o.scheduled_at,
                o.finished_at, o.outcome, a.attempts, a.next_attempt_at, a.last_attempt_at,
                a.last_error, a.claimed_until
           FROM saf_outbox o LEFT JOIN saf_attempts a ON a.delivery_id = o.delivery_id
          WHERE (CAST($1 AS text) IS NULL OR o.status = CAST($1 AS text))
          ORDER BY o.scheduled_at DESC
          LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// Every delivery of one payment, oldest first.
pub async fn for_payment(db: &ViewDb, tran_id: &str) -> Result<Vec<QueueEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.delivery_id, o.tran_id, o.partner_id, o.kind, o.status, o.scheduled_at,
                o.finished_at, o.outcome, a.attempts, a.next_attempt_at, a.last_attempt_at,
                a.last_error, a.claimed_until
           FROM saf_outbox o LEFT JOIN saf_attempts a ON a.delivery_id = o.delivery_id
          WHERE o.tran_id = $1
          ORDER BY o.scheduled_at, o.delivery_id",
    )
    .bind(tran_id)
    .fetch_all(db.pool())
    .await
}

/// Depth and the oldest pending delivery's scheduling time, for metrics.
/// Pending deliveries and the oldest one's schedule, by partner.
pub async fn depth_by_partner(
    db: &ViewDb,
) -> Result<Vec<(String, i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT partner_id, COUNT(*), MIN(scheduled_at) FROM saf_outbox
          WHERE status = 'PENDING' GROUP BY partner_id",
    )
    .fetch_all(db.pool())
    .await
}

pub async fn depth(db: &ViewDb) -> Result<(i64, Option<String>), sqlx::Error> {
    sqlx::query_as("SELECT COUNT(*), MIN(scheduled_at) FROM saf_outbox WHERE status = 'PENDING'")
        .fetch_one(db.pool())
        .await
}
