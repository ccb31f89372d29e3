//! What can go wrong while a view follows the feed. A leaf: the feed and the views both
//! report with it.

use crate::position::FeedPosition;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at {position:?} cannot be read: {reason}")]
    Decode {
        position: FeedPosition,
        reason: String,
    },
    #[error("still behind the events committed before position {target} after {waited_ms} ms")]
    Lagging { target: i64, waited_ms: u64 },
}
