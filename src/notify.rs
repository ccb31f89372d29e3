//! Commits announced across instances on one PostgreSQL database: each instance tells the
//! others which aggregates it committed (`NOTIFY`), and wakes its projections and waiters
//! when another one did (`LISTEN`). Hints only: projections poll and waiters re-check on a
//! timer, so a lost notification delays, never loses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::runner::Wakeup;
use sqlx::postgres::{PgListener, PgPool};
use tokio_util::sync::CancellationToken;

use crate::waiters::CommitWaiters;

/// PostgreSQL channel our `events` trigger notifies on every commit.
const EVENTS_CHANNEL: &str = "qrswitch_events";
/// Pause before re-opening a lost LISTEN connection; the projectors poll meanwhile.
const LISTEN_RETRY_MS: u64 = 1_000;

/// Aggregate ids per notification: a NOTIFY payload holds under 8000 bytes, and tranIds are
/// 32 characters plus a comma (after the 32-character instance tag and its colon).
const NOTIFY_BATCH_IDS: usize = 200;

/// How long the first commit of a notification waits for others to join it. Under load this
/// turns one NOTIFY transaction per commit into one per few milliseconds; another instance's
/// waiter hears of a commit this much later at most.
const NOTIFY_GATHER: Duration = Duration::from_millis(2);

/// Tells other instances which aggregates committed here, in batches: whatever has queued up
/// while the previous NOTIFY was being sent, or during [`NOTIFY_GATHER`], goes out in the
/// next one. Each is its own
/// transaction with `synchronous_commit = off`: notifications are hints (waiters re-check on a
/// timer), so they must never hold up an event commit. Ends when `cancel` fires (the sender
/// lives as long as the app, so a closed channel cannot be what stops it).
pub async fn announce_commits(
    pool: PgPool,
    instance: String,
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<String>,
    peers: Peers,
    cancel: CancellationToken,
) {
    let mut peers = PeerCheck::new(peers);
    loop {
        let first = tokio::select! {
            () = cancel.cancelled() => return,
            next = receiver.recv() => match next {
                Some(id) => id,
                None => return,
            },
        };
        tokio::time::sleep(NOTIFY_GATHER).await;
        let mut batch = vec![first];
        while batch.len() < NOTIFY_BATCH_IDS {
            match receiver.try_recv() {
                Ok(id) => batch.push(id),
                Err(_) => break,
            }
        }
        if !peers.others_listen(&pool).await {
            continue; // no other instance to tell
        }
        batch.sort_unstable();
        batch.dedup();
        let payload = format!("{instance}:{}", batch.join(","));
        if let Err(error) = notify(&pool, &payload).await {
            tracing::warn!(%error, "could not announce commits; other instances rely on polling");
        }
    }
}

/// One round trip: `synchronous_commit = off` and the NOTIFY go as one simple query, which
/// PostgreSQL runs as one implicit transaction (rolled back whole on an error, so the pooled
/// connection is never left inside a transaction). The payload is a literal there, quoted by
/// doubling its single quotes (standard-conforming strings, PostgreSQL's default).
async fn notify(pool: &PgPool, payload: &str) -> Result<(), sqlx::Error> {
    let literal = payload.replace('\'', "''");
    let sql = format!(
        "SET LOCAL synchronous_commit = off; SELECT pg_notify('{EVENTS_CHANNEL}', '{literal}')"
    );
    sqlx::raw_sql(&sql).execute(pool).await?;
    Ok(())
}

pub async fn wake_on_notifications(
    pool: PgPool,
    instance: String,
    wakeup: Wakeup,
    waiters: Arc<CommitWaiters>,
    peers: Peers,
    cancel: CancellationToken,
) {
    let heard = Heard {
        wakeup,
        waiters,
        peers,
    };
    loop {
        match listen(&pool, &instance, &heard, &cancel).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "event notifications lost; projectors poll until restored");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(LISTEN_RETRY_MS)) => {}
                }
            }
        }
    }
}

/// Returns `Ok` when cancelled, `Err` when the connection fails.
async fn listen(
    pool: &PgPool,
    instance: &str,
    heard: &Heard,
    cancel: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    // Tells instances already running that this one listens now, so that they start
    // announcing at once instead of at their next look at who listens.
    notify(pool, &format!("{instance}:")).await?;
    let Heard {
        wakeup,
        waiters,
        peers,
    } = heard;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            notification = listener.recv() => {
                let notification = notification?;
                let (from, ids) = notification.payload().split_once(':').unwrap_or(("", ""));
                if from == instance {
                    continue; // this instance woke its own projectors and waiters already
                }
                peers.heard_one();
                wakeup.wake_all();
                for aggregate_id in ids.split(',').filter(|id| !id.is_empty()) {
                    waiters.committed_elsewhere(aggregate_id);
                }
            }
        }
    }
}

/// What the listener passes on: wake-ups for projectors and waiters, and that another
/// instance exists.
struct Heard {
    wakeup: Wakeup,
    waiters: Arc<CommitWaiters>,
    peers: Peers,
}

/// How long the answer to "does another instance listen on this database?" is trusted.
const PEERS_RECHECK: Duration = Duration::from_secs(1);

/// Counts the connections listening on our channel (every instance keeps one). Their last
/// statement is the `LISTEN` (sqlx's listener re-sends it, with a `;`, when it reconnects).
const COUNT_LISTENERS: &str = "SELECT count(*) FROM pg_stat_activity
  WHERE datname = current_database() AND query LIKE 'LISTEN \"qrswitch\\_events\"%'";

/// Whether another instance was heard from since this instance last looked who listens:
/// set by the listener, read by the announcer.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    heard: Arc<AtomicBool>,
}

impl Peers {
    fn heard_one(&self) {
        self.heard.store(true, Ordering::Relaxed);
    }
}

/// The announcer's view of its peers: a lone instance sends no notifications (under load
/// one transaction every few milliseconds that nobody reads). It looks who listens at most
/// once per [`PEERS_RECHECK`], and at once believes a notification from another instance
/// (each sends one when it starts listening). When it cannot tell, it announces.
struct PeerCheck {
    peers: Peers,
    present: bool,
    checked: Option<Instant>,
}

impl PeerCheck {
    fn new(peers: Peers) -> Self {
        Self {
            peers,
            present: true,
            checked: None,
        }
    }

    async fn others_listen(&mut self, pool: &PgPool) -> bool {
        if self.checked.is_none_or(|at| at.elapsed() >= PEERS_RECHECK) {
            // Cleared before the count, so that an instance heard from meanwhile still counts.
            self.peers.heard.store(false, Ordering::Relaxed);
            let listeners: Result<i64, _> =
                sqlx::query_scalar(COUNT_LISTENERS).fetch_one(pool).await;
            self.present = listeners.map_or(true, |count| count > 1);
            self.checked = Some(Instant::now());
        }
        self.present || self.peers.heard.load(Ordering::Relaxed)
    }
}
