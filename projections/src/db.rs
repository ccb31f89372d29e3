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
}

impl ViewDb {
    pub fn new(backend: Backend, pool: AnyPool, gate: Option<WriteGate>) -> Self {
        Self {
            backend,
            pool,
            gate,
        }
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
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
}
