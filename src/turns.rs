//! One command at a time per aggregate inside this instance.
//!
//! Two commands on one aggregate that arrive together (a POS's `pay` and the partner's scan
//! of the same QR) would both decide on the same cached state, and the second append would
//! conflict, costing a store read and a second decision. Queued here, the second decides on
//! the state the first left. Other instances are still kept apart by the append's sequence
//! check; this only removes the conflicts an instance would have with itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Turnstile = Arc<AsyncMutex<()>>;

#[derive(Debug, Default)]
pub struct Turns {
    /// A turnstile per aggregate with a command running or waiting; removed when idle, so
    /// the map holds at most as many entries as commands in flight.
    turnstiles: Mutex<HashMap<String, Turnstile>>,
}

/// The turn of one command; dropping it lets the next command on the aggregate in.
pub struct Turn<'a> {
    turns: &'a Turns,
    aggregate_id: String,
    turnstile: Turnstile,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Turnstile>> {
        self.turnstiles
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until no other command on `aggregate_id` runs here, in arrival order.
    pub async fn enter(&self, aggregate_id: &str) -> Turn<'_> {
        let turnstile = Arc::clone(self.lock().entry(aggregate_id.to_owned()).or_default());
        let guard = Arc::clone(&turnstile).lock_owned().await;
        Turn {
            turns: self,
            aggregate_id: aggregate_id.to_owned(),
            turnstile,
            guard: Some(guard),
        }
    }

    /// Aggregates with a command running or waiting (for tests).
    pub fn busy(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut turnstiles = self.turns.lock();
        // The map's reference and ours: nobody else runs or waits, so the entry can go.
        // New entrants clone under the map's lock, so none can slip in between.
        if Arc::strong_count(&self.turnstile) == 2 {
            turnstiles.remove(&self.aggregate_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn commands_on_one_aggregate_take_turns_and_others_do_not_wait() {
        let turns = Arc::new(Turns::default());
        let first = turns.enter("t1").await;
        // Another aggregate goes straight in.
        let other = tokio::time::timeout(Duration::from_millis(100), turns.enter("t2")).await;
        assert!(other.is_ok(), "a different aggregate waited");
        drop(other);
        // The same aggregate waits until the first turn ends.
        let waiting = {
            let turns = Arc::clone(&turns);
            tokio::spawn(async move {
                let _second = turns.enter("t1").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "the second command did not wait its turn"
        );
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the second command got its turn")
            .unwrap();
        assert_eq!(turns.busy(), 0, "idle turnstiles are removed");
    }
}
