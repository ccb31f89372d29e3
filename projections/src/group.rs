//! One pass for every projection: one transaction per batch with one lock query, one read
//! of the checkpoints, one read of the feed (each event decoded once) and the checkpoints
//! written together, where running each projector on its own costs all of that once per
//! projection. Each projection still only sees the events after its own checkpoint, so a
//! projection just rebuilt, or one that fell behind, catches up in the same passes.
//!
//! When any view fails, the pass rolls back as a whole and every projector runs on its own
//! until the next pass: the healthy ones move on, and the failure is kept, counted and
//! shown by `/ready` for the projection it belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::AnyConnection;

use crate::db::{Backend, ViewDb};
use crate::feed::{self, FeedPosition, StoredEvent};
use crate::projection::ProjectionError;
use crate::projector::{batch_size_events, save_checkpoint, Projector, ADVISORY_LOCK_NAMESPACE};

pub struct ProjectorGroup {
    db: ViewDb,
    projectors: Vec<Arc<Projector>>,
    /// `SELECT` taking every member's advisory lock (PostgreSQL), built once: the names are
    /// the projections' own identifiers.
    lock_all: String,
    /// The event types whose bodies the members read, when every member names them
    /// (comma-separated); the feed then leaves the others' bodies out.
    bodies_of: Option<String>,
}

/// What one pass did.
enum Pass {
    /// Events applied, per member (same order as `projectors`); whether the pass was full
    /// (more events may be readable already).
    Applied(Vec<u64>, bool),
    CaughtUp,
    /// Another instance holds one of the locks; it is doing the work.
    HeldElsewhere,
}

impl ProjectorGroup {
    pub fn new(db: ViewDb, projectors: Vec<Arc<Projector>>) -> Self {
        let names: Vec<String> = projectors
            .iter()
            .map(|p| format!("('{}')", p.name().replace('\'', "")))
            .collect();
        // Also takes the pass's transaction id, to enlist it as a view writer.
        let lock_all = format!(
            "SELECT bool_and(pg_try_advisory_xact_lock({ADVISORY_LOCK_NAMESPACE}, hashtext(n))), \
                    pg_current_xact_id()::text::bigint \
             FROM (VALUES {}) AS v(n)",
            names.join(", ")
        );
        let bodies_of = projectors
            .iter()
            .map(|p| p.projection().event_types())
            .collect::<Option<Vec<_>>>()
            .map(|types| types.concat().join(","));
        Self {
            db,
            projectors,
            lock_all,
            bodies_of,
        }
    }

    /// Applies every event readable when it begins, after each member's checkpoint; returns
    /// how many event applications that took in all.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut applied = vec![0_u64; self.projectors.len()];
        loop {
            match self.pass().await {
                Ok(Pass::Applied(counts, full)) => {
                    for (total, count) in applied.iter_mut().zip(counts) {
                        *total += count;
                    }
                    // What committed during this pass waits for the next gather interval,
                    // so that under load passes come once per interval, not back to back.
                    if !full {
                        break;
                    }
                }
                Ok(Pass::CaughtUp | Pass::HeldElsewhere) => break,
                Err(error) => {
                    tracing::warn!(%error, "combined projection pass failed; running each projection on its own");
                    return self.each_on_its_own().await;
                }
            }
        }
        for (projector, count) in self.projectors.iter().zip(&applied) {
            projector.note_success(*count);
        }
        Ok(applied.iter().sum())
    }

    /// Every member on its own: isolates a failing view, whose error is recorded by its
    /// projector; the first error is returned.
    async fn each_on_its_own(&self) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        let mut first_error = None;
        for projector in &self.projectors {
            match projector.catch_up().await {
                Ok(count) => applied += count,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(applied), Err)
    }

    async fn pass(&self) -> Result<Pass, ProjectionError> {
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.begin_write().await?;
        let mut _enlisted = None;
        if self.db.backend() == Backend::Postgres {
            let (locked, xid): (Option<bool>, i64) =
                sqlx::query_as(&self.lock_all).fetch_one(&mut *tx).await?;
            if locked != Some(true) {
                tx.rollback().await?;
                return Ok(Pass::HeldElsewhere);
            }
            _enlisted = Some(self.db.view_writers().enlist(xid));
        }
        let checkpoints = self.checkpoints(&mut tx).await?;
        let from = checkpoints.iter().min().copied().unwrap_or_default();
        let limit = batch_size_events(self.db.backend());
        let events = match &self.bodies_of {
            Some(types) => {
                feed::read_for_pass_bodies_of(&mut tx, &self.db, from, limit, types).await?
            }
            None => feed::read_for_pass(&mut tx, &self.db, from, limit).await?,
        };
        let Some(last) = events.last().map(|e| e.feed_position) else {
            tx.rollback().await?;
            return Ok(Pass::CaughtUp);
        };
        // Member by member: each owns its tables, so the order between members is free.
        let mut counts = Vec::with_capacity(self.projectors.len());
        for (projector, at) in self.projectors.iter().zip(&checkpoints) {
            let batch: Vec<&StoredEvent> =
                events.iter().filter(|e| e.feed_position > *at).collect();
            projector.projection().apply_batch(&mut tx, &batch).await?;
            counts.push(batch.len() as u64);
        }
        for (projector, at) in self.projectors.iter().zip(&checkpoints) {
            if *at < last {
                save_checkpoint(&mut tx, projector.name(), last).await?;
            }
        }
        tx.commit().await?;
        for projector in &self.projectors {
            projector.projection().committed();
        }
        Ok(Pass::Applied(counts, events.len() as i64 >= limit))
    }

    /// Each member's checkpoint, in member order, read in one query.
    async fn checkpoints(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<Vec<FeedPosition>, ProjectionError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT projection, commit_tx, position FROM projection_checkpoints")
                .fetch_all(&mut *conn)
                .await?;
        let known: HashMap<String, FeedPosition> = rows
            .into_iter()
            .map(|(name, commit_tx, position)| {
                (
                    name,
                    FeedPosition {
                        commit_tx,
                        position,
                    },
                )
            })
            .collect();
        Ok(self
            .projectors
            .iter()
            .map(|p| known.get(p.name()).copied().unwrap_or(FeedPosition::START))
            .collect())
    }
}
