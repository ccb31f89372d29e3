//! Rebuilding views from the whole feed: one transaction empties their tables, reads the
//! feed once for all of them and writes every checkpoint, so readers see the old rows until
//! the new ones are complete, and rebuilding every view costs one read of the feed, not one
//! per view.

use std::sync::Arc;

use crate::db::{Backend, ViewDb};
use crate::feed::{self, FeedPosition, StoredEvent};
use crate::projection::ProjectionError;
use crate::projector::{save_checkpoint, Projector, ADVISORY_LOCK_NAMESPACE};

/// Events per batch of a rebuild: larger than a live pass's (nobody waits on a rebuild's
/// rows before it commits), small enough that a batch's events stay a few megabytes.
const REBUILD_BATCH_EVENTS: i64 = 5_000;

/// Empties the tables of `projectors` and replays the whole feed into them.
/// `progress(done, total)` is called after every batch; returns how many events the feed
/// held. Each member's health follows the outcome, as a live pass's does.
pub async fn rebuild(
    db: &ViewDb,
    projectors: &[Arc<Projector>],
    progress: &dyn Fn(u64, u64),
) -> Result<u64, ProjectionError> {
    let result = replay(db, projectors, progress).await;
    for projector in projectors {
        match &result {
            Ok(_) => projector.note_success(0),
            Err(error) => projector.record_failure(error),
        }
    }
    result
}

async fn replay(
    db: &ViewDb,
    projectors: &[Arc<Projector>],
    progress: &dyn Fn(u64, u64),
) -> Result<u64, ProjectionError> {
    let _gate = db.write_gate().await;
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        // Wait for live passes to finish; they skip while we hold the locks. Taken in name
        // order, so two rebuilds of overlapping sets cannot deadlock.
        let mut names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        for name in names {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(ADVISORY_LOCK_NAMESPACE)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
    }
    for projector in projectors {
        for table in projector.projection().tables() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
    }
    let total = feed::count_after(&mut tx, db.backend(), FeedPosition::START).await?;
    let total = u64::try_from(total).unwrap_or(0);
    let mut after = FeedPosition::START;
    let mut done = 0_u64;
    progress(done, total);
    loop {
        let events = feed::read_after(&mut tx, db.backend(), after, REBUILD_BATCH_EVENTS).await?;
        let Some(last) = events.last() else { break };
        after = last.feed_position;
        let batch: Vec<&StoredEvent> = events.iter().collect();
        for projector in projectors {
            projector.projection().apply_batch(&mut tx, &batch).await?;
        }
        done += events.len() as u64;
        progress(done, total.max(done));
    }
    for projector in projectors {
        save_checkpoint(&mut tx, projector.name(), after).await?;
    }
    tx.commit().await?;
    Ok(done)
}
