//! Wakes a request that waits on an aggregate (a POS's `pay`) when that aggregate commits,
//! here or on another instance. A wake-up is a hint: the waiter looks again and decides; it
//! also re-checks the store on a timer, so a lost wake-up only costs latency.
//!
//! A commit made here is in this instance's aggregate cache before its waiter wakes, so the
//! waiter need not read the store; a commit announced by another instance is not, so that
//! wake-up says so ([`Wake::ReadStore`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Waiter {
    notify: Notify,
    /// Set by a wake-up from another instance, cleared when the waiter takes it.
    remote: AtomicBool,
}

#[derive(Debug, Default)]
pub struct CommitWaiters {
    waiting: Mutex<HashMap<String, Arc<Waiter>>>,
    /// Where commits are announced to other instances (PostgreSQL only).
    remote: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// What woke a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A commit here: the aggregate cache has it.
    Local,
    /// A commit on another instance: only the store has it.
    ReadStore,
}

/// Registration of one waiter; dropping it unregisters.
pub struct WaitGuard<'a> {
    waiters: &'a CommitWaiters,
    aggregate_id: String,
    waiter: Arc<Waiter>,
}

impl WaitGuard<'_> {
    pub async fn notified(&self) -> Wake {
        self.waiter.notify.notified().await;
        self.taken()
    }

    /// Takes a pending remote wake-up, if one arrived since the last look.
    pub fn taken(&self) -> Wake {
        if self.waiter.remote.swap(false, Ordering::AcqRel) {
            Wake::ReadStore
        } else {
            Wake::Local
        }
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut waiting = self.waiters.lock();
        // Only remove our own entry: a newer waiter on the same id keeps its own.
        if waiting
            .get(&self.aggregate_id)
            .is_some_and(|w| Arc::ptr_eq(w, &self.waiter))
        {
            waiting.remove(&self.aggregate_id);
        }
    }
}

impl CommitWaiters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Waiter>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a waiter on `aggregate_id`. Register before the command whose outcome is
    /// awaited: every commit after that wakes it.
    pub fn wait_for(&self, aggregate_id: &str) -> WaitGuard<'_> {
        let waiter = Arc::new(Waiter::default());
        self.lock()
            .insert(aggregate_id.to_owned(), Arc::clone(&waiter));
        WaitGuard {
            waiters: self,
            aggregate_id: aggregate_id.to_owned(),
            waiter,
        }
    }

    /// Wakes the waiter on `aggregate_id`, if any. A wake-up that arrives while the waiter
    /// is busy is kept for its next wait.
    fn wake(&self, aggregate_id: &str, remote: bool) {
        if let Some(waiter) = self.lock().get(aggregate_id) {
            if remote {
                waiter.remote.store(true, Ordering::Release);
            }
            waiter.notify.notify_one();
        }
    }

    /// Another instance committed `aggregate_id`.
    pub fn committed_elsewhere(&self, aggregate_id: &str) {
        self.wake(aggregate_id, true);
    }

    /// `aggregate_id` committed here: wake its local waiter and tell the other instances.
    pub fn committed(&self, aggregate_id: &str) {
        self.wake(aggregate_id, false);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_commit_wakes_without_asking_for_a_store_read() {
        let waiters = CommitWaiters::default();
        let guard = waiters.wait_for("t1");
        waiters.committed("t1");
        assert_eq!(guard.notified().await, Wake::Local);
    }

    #[tokio::test]
    async fn a_commit_elsewhere_asks_for_one_store_read() {
        let waiters = CommitWaiters::default();
        let guard = waiters.wait_for("t1");
        waiters.committed_elsewhere("t1");
        assert_eq!(guard.notified().await, Wake::ReadStore);
        waiters.committed("t1");
        assert_eq!(guard.notified().await, Wake::Local);
    }

    #[tokio::test]
    async fn other_aggregates_do_not_wake_a_waiter() {
        let waiters = CommitWaiters::default();
        let guard = waiters.wait_for("t1");
        waiters.committed_elsewhere("t2");
        assert_eq!(guard.taken(), Wake::Local);
    }
}
