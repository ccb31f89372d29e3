//! Keeps every projection caught up in the background.
//!
//! A projector runs when woken (an in-process commit, or a PostgreSQL notification from
//! another instance) and at least every poll interval, which bounds the delay if a wake-up
//! is lost. After a failure it backs off before trying again from its checkpoint.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::group::ProjectorGroup;

/// Longest wait between retries of a failing projection: long enough not to flood the logs,
/// short enough that a fixed database is noticed within half a minute.
const FAILURE_BACKOFF_CAP_MS: u64 = 30_000;
const FAILURE_BACKOFF_START_MS: u64 = 250;

/// Wakes every projector: cheap, and a wake-up sent while a projector is busy is kept until
/// it next waits, so a commit that lands mid-batch is never left for the poll.
#[derive(Debug, Clone, Default)]
pub struct Wakeup {
    notifies: Arc<std::sync::Mutex<Vec<Arc<Notify>>>>,
}

impl Wakeup {
    pub fn wake_all(&self) {
        let notifies = match self.notifies.lock() {
            Ok(notifies) => notifies,
            Err(poisoned) => poisoned.into_inner(),
        };
        for notify in notifies.iter() {
            notify.notify_one();
        }
    }

    /// A notify woken with every projector; for other background tasks that follow commits.
    pub fn subscribe(&self) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        match self.notifies.lock() {
            Ok(mut notifies) => notifies.push(Arc::clone(&notify)),
            Err(poisoned) => poisoned.into_inner().push(Arc::clone(&notify)),
        }
        notify
    }
}

/// When a projector runs: at least every `poll_interval`, and when woken, after
/// `gather_interval` so that the commits of a busy moment share one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    pub poll_interval: Duration,
    pub gather_interval: Duration,
}

/// Spawns one task per group of projections, each keeping its members caught up in one
/// pass for all of them. They stop when `cancel` fires.
pub fn spawn_all(
    groups: Vec<(ProjectorGroup, Cadence)>,
    wakeup: &Wakeup,
    cancel: CancellationToken,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for (group, cadence) in groups {
        let notify = wakeup.subscribe();
        let cancel = cancel.clone();
        tasks.spawn(async move { run(group, notify, cadence, cancel).await });
    }
    tasks
}

async fn run(
    projector: ProjectorGroup,
    notify: Arc<Notify>,
    cadence: Cadence,
    cancel: CancellationToken,
) {
    let mut backoff_ms = FAILURE_BACKOFF_START_MS;
    loop {
        let pause = match projector.catch_up().await {
            Ok(_) => {
                backoff_ms = FAILURE_BACKOFF_START_MS;
                None
            }
            Err(_) => {
                // Already logged and counted by the projector.
                let pause = Duration::from_millis(backoff_ms);
                backoff_ms = (backoff_ms * 2).min(FAILURE_BACKOFF_CAP_MS);
                Some(pause)
            }
        };
        match pause {
            Some(pause) => {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
            None => {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = notify.notified() => {
                        tokio::time::sleep(cadence.gather_interval).await;
                    }
                    () = tokio::time::sleep(cadence.poll_interval) => {}
                }
            }
        }
    }
}
