//! Runs one projection against the feed.
//!
//! Each batch is one transaction: read the checkpoint, read the next events after it, apply
//! them, move the checkpoint. If the process dies anywhere in between, the transaction rolls
//! back and the next catch-up starts from the same checkpoint, so no event is missed or
//! applied twice. On PostgreSQL a transaction-scoped advisory lock keeps to one projector per
//! projection across instances; the others skip and try again later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::AnyConnection;

use crate::db::{Backend, ViewDb};
use crate::feed::{self, FeedPosition, StoredEvent};
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

/// Events applied per transaction. On SQLite small enough that its write lock (which every
/// event append waits for) is held for milliseconds, large enough that the checkpoint write
/// is amortised. PostgreSQL writes views beside the appends, so a pass may take what a
/// busy gather interval holds (hundreds of payments at ten events each): a payment's
/// events then mostly fold into one row write, and a pass needs no second round.
pub fn batch_size_events(backend: Backend) -> i64 {
    match backend {
        Backend::Sqlite => 500,
        Backend::Postgres => 2_000,
    }
}

/// First key of the PostgreSQL advisory locks held by projectors; the second key is a hash
/// of the projection name. Keeps our locks apart from any other user of the database.
pub(crate) const ADVISORY_LOCK_NAMESPACE: i32 = 0x7172_7377; // "qrsw"

/// What `/ready` and the metrics know about a projection.
#[derive(Debug, Default)]
pub struct ProjectionHealth {
    last_failure: Mutex<Option<String>>,
    failures_total: AtomicU64,
    events_applied_total: AtomicU64,
}

impl ProjectionHealth {
    /// The error of the last attempt, if the last attempt failed.
    pub fn failing(&self) -> Option<String> {
        self.last_failure
            .lock()
            .map(|failure| failure.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn failures_total(&self) -> u64 {
        self.failures_total.load(Ordering::Relaxed)
    }

    pub fn events_applied_total(&self) -> u64 {
        self.events_applied_total.load(Ordering::Relaxed)
    }

    fn set_failure(&self, failure: Option<String>) {
        match self.last_failure.lock() {
            Ok(mut slot) => *slot = failure,
            Err(poisoned) => *poisoned.into_inner() = failure,
        }
    }
}

enum BatchOutcome {
    Applied(u64),
    CaughtUp,
    /// Another instance holds this projection's lock; it will do the work.
    HeldElsewhere,
}

pub struct Projector {
    db: ViewDb,
    projection: Arc<dyn Projection>,
    health: Arc<ProjectionHealth>,
}

impl Projector {
    pub fn new(db: ViewDb, projection: Arc<dyn Projection>) -> Self {
        Self {
            db,
            projection,
            health: Arc::default(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    pub fn health(&self) -> Arc<ProjectionHealth> {
        Arc::clone(&self.health)
    }

    /// Applies every readable event after the checkpoint. Returns how many were applied.
    /// A failure is logged, counted and kept for `/ready` until a later attempt succeeds.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        self.catch_up_until(None).await
    }

    /// As [`Self::catch_up`], applying nothing past `until` when it is given: brings a view
    /// to the very position another one stands at, so that both describe the same events.
    pub async fn catch_up_until(
        &self,
        until: Option<FeedPosition>,
    ) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        loop {
            match self.apply_next_batch(until).await {
                Ok(BatchOutcome::Applied(count)) => applied += count,
                Ok(BatchOutcome::CaughtUp | BatchOutcome::HeldElsewhere) => break,
                Err(error) => {
                    self.record_failure(&error);
                    return Err(error);
                }
            }
        }
        self.note_success(applied);
        Ok(applied)
    }

    pub(crate) fn projection(&self) -> &dyn Projection {
        self.projection.as_ref()
    }

    /// A pass succeeded having applied `applied` events: healthy again, and counted.
    pub(crate) fn note_success(&self, applied: u64) {
        self.health.set_failure(None);
        if applied > 0 {
            self.health
                .events_applied_total
                .fetch_add(applied, Ordering::Relaxed);
            metrics::counter!("qrswitch_projection_events_applied_total", "projection" => self.name())
                .increment(applied);
        }
    }

    /// Applies at least every event committed before this call. On PostgreSQL the feed
    /// horizon is the oldest running transaction of the whole cluster, and another instance
    /// may hold this projection's lock, so this retries every few milliseconds for at most
    /// `limit`. For read-your-writes: tests, and handlers that answer from a view.
    pub async fn catch_up_to_head(&self, limit: Duration) -> Result<(), ProjectionError> {
        const RETRY_PAUSE_MS: u64 = 5;
        let started = tokio::time::Instant::now();
        let target = {
            let mut conn = self.db.pool().acquire().await?;
            feed::head_position(&mut conn).await?
        };
        loop {
            self.catch_up().await?;
            let behind = {
                let mut conn = self.db.pool().acquire().await?;
                let at = load_checkpoint(&mut conn, self.name()).await?;
                feed::unapplied_up_to(&mut conn, self.db.backend(), at, target).await?
            };
            if !behind {
                return Ok(());
            }
            if started.elapsed() >= limit {
                return Err(ProjectionError::Lagging {
                    target,
                    waited_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                });
            }
            tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
        }
    }

    async fn apply_next_batch(
        &self,
        until: Option<FeedPosition>,
    ) -> Result<BatchOutcome, ProjectionError> {
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.begin_write().await?;
        let mut _enlisted = None;
        if self.db.backend() == Backend::Postgres {
            // The transaction id enlists this pass as a view writer (see `ViewWriters`).
            let (locked, xid): (bool, i64) = sqlx::query_as(
                "SELECT pg_try_advisory_xact_lock($1, hashtext($2)),
                        pg_current_xact_id()::text::bigint",
            )
            .bind(ADVISORY_LOCK_NAMESPACE)
            .bind(self.name())
            .fetch_one(&mut *tx)
            .await?;
            if !locked {
                tx.rollback().await?;
                return Ok(BatchOutcome::HeldElsewhere);
            }
            _enlisted = Some(self.db.view_writers().enlist(xid));
        }
        let after = load_checkpoint(&mut tx, self.name()).await?;
        let mut events = feed::read_for_pass(
            &mut tx,
            &self.db,
            after,
            batch_size_events(self.db.backend()),
        )
        .await?;
        if let Some(until) = until {
            events.retain(|e| e.feed_position <= until);
        }
        let Some(last) = events.last() else {
            tx.rollback().await?;
            return Ok(BatchOutcome::CaughtUp);
        };
        let last_position = last.feed_position;
        let batch: Vec<&StoredEvent> = events.iter().collect();
        self.projection.apply_batch(&mut tx, &batch).await?;
        save_checkpoint(&mut tx, self.name(), last_position).await?;
        tx.commit().await?;
        self.projection.committed();
        Ok(BatchOutcome::Applied(events.len() as u64))
    }

    pub(crate) fn record_failure(&self, error: &ProjectionError) {
        tracing::error!(projection = self.name(), %error, "projection update failed; will retry from its checkpoint");
        self.health.failures_total.fetch_add(1, Ordering::Relaxed);
        self.health.set_failure(Some(error.to_string()));
        metrics::counter!("qrswitch_projection_failures_total", "projection" => self.name())
            .increment(1);
    }
}

/// The checkpoint of `projection`, or the start of the feed if it has none yet.
pub async fn load_checkpoint(
    conn: &mut AnyConnection,
    projection: &str,
) -> Result<FeedPosition, ProjectionError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT commit_tx, position FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(projection)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(
        row.map_or(FeedPosition::START, |(commit_tx, position)| FeedPosition {
            commit_tx,
            position,
        }),
    )
}

pub(crate) async fn save_checkpoint(
    conn: &mut AnyConnection,
    projection: &str,
    at: FeedPosition,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, commit_tx, position, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (projection) DO UPDATE
            SET commit_tx = excluded.commit_tx, position = excluded.position,
                updated_at = excluded.updated_at",
    )
    .bind(projection)
    .bind(at.commit_tx)
    .bind(at.position)
    .bind(to_view_text(chrono::Utc::now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
