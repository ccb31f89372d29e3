//! The connection read models are written through. It is sqlx's `Any` driver so that each
//! view is written once for both backends; view SQL keeps to what both dialects share
//! (`$n` placeholders, `ON CONFLICT … DO UPDATE`, text and bigint columns).

use sqlx::{Any, AnyPool, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Serialises writers to an SQLite store inside this process. SQLite admits one writer at a
/// time; connections that race for its lock back off in sleeps of growing length, which
/// under load turns milliseconds into seconds. Queueing on a fair async mutex instead keeps
/// every write short and in arrival order. PostgreSQL needs no gate.
pub type WriteGate = std::sync::Arc<tokio::sync::Mutex<()>>;

#[derive(Debug, Clone)]
pub struct ViewDb {
    backend: Backend,
    pool: AnyPool,
    gate: Option<WriteGate>,
    view_writers: ViewWriters,
    stale: StaleConnections,
}

/// Raised once a SQLite connection was found that the driver believes is inside a
/// transaction while SQLite is not: a `COMMIT` that failed on a full disk makes SQLite roll
/// back by itself, but sqlx keeps counting the transaction and refuses every later
/// `BEGIN IMMEDIATE` on that connection (`InvalidSavePointStatement`). While it is raised,
/// the pool checks each connection before handing it out and closes such ones (see the
/// store); until then, nothing is checked.
pub type StaleConnections = std::sync::Arc<std::sync::atomic::AtomicBool>;

/// Transaction ids (PostgreSQL) of this process's projection passes in progress.
///
/// The feed reads only below the oldest transaction still in progress, since any of them
/// might yet commit events with a lower id. A projection pass writes views, never events, so
/// its transaction need not hold the feed back; without this, every pass (hundreds of
/// statements under load) stalled every other group's feed until it committed. Passes of
/// other processes are not known here and still count, which only costs latency.
#[derive(Debug, Clone, Default)]
pub struct ViewWriters(std::sync::Arc<std::sync::Mutex<Vec<i64>>>);

/// A registered pass; dropping it (after its commit or rollback) unregisters it.
pub struct ViewWriter {
    writers: ViewWriters,
    xid: i64,
}

impl ViewWriters {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers the transaction `xid` as one that writes views only.
    pub fn enlist(&self, xid: i64) -> ViewWriter {
        self.lock().push(xid);
        ViewWriter {
            writers: self.clone(),
            xid,
        }
    }

    /// The registered ids as the feed query takes them: comma-separated.
    pub fn list(&self) -> String {
        let ids = self.lock();
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    }
}

impl Drop for ViewWriter {
    fn drop(&mut self) {
        let mut ids = self.writers.lock();
        if let Some(at) = ids.iter().position(|id| *id == self.xid) {
            ids.swap_remove(at);
        }
    }
}

impl ViewDb {
    pub fn new(
        backend: Backend,
        pool: AnyPool,
        gate: Option<WriteGate>,
        stale: StaleConnections,
    ) -> Self {
        Self {
            backend,
            pool,
            gate,
            view_writers: ViewWriters::default(),
            stale,
        }
    }

    pub fn view_writers(&self) -> &ViewWriters {
        &self.view_writers
    }

    /// Held for the length of a write on SQLite; `None` (no waiting) on PostgreSQL.
    pub async fn write_gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.gate {
            Some(gate) => Some(std::sync::Arc::clone(gate).lock_owned().await),
            None => None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock up front: a deferred
    /// transaction that reads first and writes later fails with SQLITE_BUSY instead of
    /// waiting when another writer got in between.
    ///
    /// On PostgreSQL its commit does not wait for the WAL flush (`synchronous_commit = off`):
    /// everything written this way is derived (views and their checkpoint, committed together)
    /// or bookkeeping that a lapsed lease repairs, so a crash costs a replay, never a fact.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let begun = self.pool.begin_with("BEGIN IMMEDIATE").await;
                if let Err(sqlx::Error::InvalidSavePointStatement) = &begun {
                    self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                begun
            }
            // One round trip: both go as one simple query.
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await
            }
        }
    }
}
