//! Views as they stood at a past feed position: the feed replayed, up to and including that
//! position, into a scratch in-memory SQLite database through the very projections that
//! keep the live views. Nothing of the store is written. For reports an auditor reproduces
//! as finance saw them, after later events have changed today's views.

use std::sync::Arc;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

use crate::db::ViewDb;
use crate::feed::{self, FeedPosition, StoredEvent};
use crate::projection::{Projection, ProjectionError};

/// Events per read of the replay, as a rebuild's.
const REPLAY_BATCH_EVENTS: i64 = 5_000;

/// A fresh in-memory database with the SQLite schema `migrator` makes, and `projections`
/// replayed into it from the feed of `source` up to `until`. One connection, kept open: the
/// database lives as long as the pool.
pub async fn replay_until(
    source: &ViewDb,
    migrator: &Migrator,
    projections: &[Arc<dyn Projection>],
    until: FeedPosition,
) -> Result<AnyPool, ProjectionError> {
    let scratch = AnyPoolOptions::new()
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    migrator
        .run(&scratch)
        .await
        .map_err(|e| ProjectionError::Database(sqlx::Error::Migrate(Box::new(e))))?;
    let mut read = source.pool().acquire().await?;
    let mut after = FeedPosition::START;
    while after < until {
        let mut events =
            feed::read_after(&mut read, source.backend(), after, REPLAY_BATCH_EVENTS).await?;
        events.retain(|e| e.feed_position <= until);
        let Some(last) = events.last() else { break };
        after = last.feed_position;
        let batch: Vec<&StoredEvent> = events.iter().collect();
        let mut tx = scratch.begin().await?;
        for projection in projections {
            projection.apply_batch(&mut tx, &batch).await?;
        }
        tx.commit().await?;
    }
    Ok(scratch)
}
