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

/// As text, `COMMITTX-POSITION` (the transaction is 0 on SQLite): how the audit feed pages
/// and how reports name the events they describe.
impl std::fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.commit_tx, self.position)
    }
}

impl FeedPosition {
    /// Reads the text form back; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (commit_tx, position) = text.split_once('-')?;
        Some(Self {
            commit_tx: commit_tx.parse().ok().filter(|n: &i64| *n >= 0)?,
            position: position.parse().ok().filter(|n: &i64| *n >= 0)?,
        })
    }
}
