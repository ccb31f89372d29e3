//! Where an event stands in the global feed. A leaf: the feed, the views and their errors
//! all name positions.

use serde::{Deserialize, Serialize};

/// A place in the feed. Ordered by `(commit_tx, position)`; `commit_tx` is 0 on SQLite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeedPosition {
    pub commit_tx: i64,
    pub position: i64,
}

impl FeedPosition {
    /// Before the first event.
    pub const START: FeedPosition = FeedPosition {
        commit_tx: 0,
        position: 0,
    };
}
