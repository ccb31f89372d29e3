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

#[derive(Debug, Clone)]
pub struct ViewDb {
    backend: Backend,
    pool: AnyPool,
}

impl ViewDb {
    pub fn new(backend: Backend, pool: AnyPool) -> Self {
        Self { backend, pool }
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
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}
