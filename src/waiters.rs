//! Wakes a request that waits on an aggregate (a POS's `pay`) when that aggregate commits,
//! here or on another instance. A wake-up is a hint: the waiter reloads the aggregate and
//! decides; it also re-checks on a timer, so a lost wake-up only costs latency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct CommitWaiters {
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
    /// Where commits are announced to other instances (PostgreSQL only).
    remote: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// Registration of one waiter; dropping it unregisters.
pub struct WaitGuard<'a> {
    waiters: &'a CommitWaiters,
    aggregate_id: String,
    notify: Arc<Notify>,
}

impl WaitGuard<'_> {
    pub async fn notified(&self) {
        self.notify.notified().await;
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut waiting = self.waiters.lock();
        // Only remove our own entry: a newer waiter on the same id keeps its own.
        if waiting
            .get(&self.aggregate_id)
            .is_some_and(|n| Arc::ptr_eq(n, &self.notify))
        {
            waiting.remove(&self.aggregate_id);
        }
    }
}

impl CommitWaiters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn wait_for(&self, aggregate_id: &str) -> WaitGuard<'_> {
        let notify = Arc::new(Notify::new());
        self.lock()
            .insert(aggregate_id.to_owned(), Arc::clone(&notify));
        WaitGuard {
            waiters: self,
            aggregate_id: aggregate_id.to_owned(),
            notify,
        }
    }

    /// Wakes the waiter on `aggregate_id`, if any. A wake-up that arrives while the waiter
    /// is busy is kept for its next wait.
    pub fn wake(&self, aggregate_id: &str) {
        if let Some(notify) = self.lock().get(aggregate_id) {
            notify.notify_one();
        }
    }

    /// `aggregate_id` committed here: wake its local waiter and tell the other instances.
    pub fn committed(&self, aggregate_id: &str) {
        self.wake(aggregate_id);
        if let Some(remote) = self.remote.get() {
            // A closed channel means we are shutting down; nobody is left to tell.
            let _ = remote.send(aggregate_id.to_owned());
        }
    }

    /// Announces later commits to other instances through `sender`.
    pub fn announce_to(&self, sender: tokio::sync::mpsc::UnboundedSender<String>) {
        let _ = self.remote.set(sender);
    }
}
