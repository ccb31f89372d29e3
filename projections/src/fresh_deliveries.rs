//! Deliveries the outbox has just shown, handed to this process's dispatcher once their
//! pass committed, so that it claims them by key at once instead of finding them by
//! scanning the queue (the scan stays, on a timer, for retries and anything missed here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Most deliveries waiting for the dispatcher; beyond it the newest are left to the scan.
/// A rebuild or a long backlog would otherwise fill memory with ids the scan finds anyway.
const MAX_WAITING_DELIVERIES: usize = 10_000;

#[derive(Debug, Default)]
struct Lists {
    /// Written by the pass in progress; not yet committed.
    staged: Vec<(String, String)>,
    /// Committed, by partner; waiting for the dispatcher.
    ready: HashMap<String, Vec<String>>,
    ready_count: usize,
}

#[derive(Debug, Clone, Default)]
pub struct FreshDeliveries {
    lists: Arc<Mutex<Lists>>,
    notify: Arc<Notify>,
}

impl FreshDeliveries {
    fn lock(&self) -> std::sync::MutexGuard<'_, Lists> {
        self.lists
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A delivery to `partner_id` written by the pass in progress.
    pub fn stage(&self, partner_id: &str, delivery_id: &str) {
        let mut lists = self.lock();
        if lists.staged.len() < MAX_WAITING_DELIVERIES {
            lists
                .staged
                .push((partner_id.to_owned(), delivery_id.to_owned()));
        }
    }

    /// The pass committed: its deliveries are ready, and the dispatcher is woken. (Staged
    /// ids of a pass that rolled back come along with the next commit; claimed by key, an
    /// id without a row claims nothing.)
    pub fn publish(&self) {
        let mut lists = self.lock();
        if lists.staged.is_empty() {
            return;
        }
        let staged = std::mem::take(&mut lists.staged);
        for (partner_id, delivery_id) in staged {
            if lists.ready_count >= MAX_WAITING_DELIVERIES {
                break;
            }
            lists.ready.entry(partner_id).or_default().push(delivery_id);
            lists.ready_count += 1;
        }
        drop(lists);
        self.notify.notify_one();
    }

    /// Takes up to `limit` ready deliveries to `partner_id`, oldest first.
    pub fn take(&self, partner_id: &str, limit: usize) -> Vec<String> {
        let mut lists = self.lock();
        let Some(ready) = lists.ready.get_mut(partner_id) else {
            return Vec::new();
        };
        let taken: Vec<String> = ready.drain(..limit.min(ready.len())).collect();
        if ready.is_empty() {
            lists.ready.remove(partner_id);
        }
        lists.ready_count -= taken.len();
        taken
    }

    /// Resolves when deliveries were published since the last wait.
    pub async fn published(&self) {
        self.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_deliveries_are_taken_by_partner_in_order() {
        let fresh = FreshDeliveries::default();
        fresh.stage("a", "d1");
        fresh.stage("b", "d2");
        fresh.stage("a", "d3");
        assert!(fresh.take("a", 10).is_empty(), "staged, not committed");
        fresh.publish();
        assert_eq!(fresh.take("a", 1), ["d1"]);
        assert_eq!(fresh.take("a", 10), ["d3"]);
        assert_eq!(fresh.take("b", 10), ["d2"]);
        assert!(fresh.take("b", 10).is_empty());
        assert_eq!(fresh.lock().ready_count, 0);
    }
}
