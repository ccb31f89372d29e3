//! The event store and the database behind it.
//!
//! One seam, two backends picked by the URL: PostgreSQL through postgres-es (production,
//! several instances) and SQLite through sqlite-es (the embedded default). Both write the
//! same `events` table shape; our migrations add the global feed columns. Views are written
//! through a third pool on sqlx's `Any` driver (see `projections::db`).

mod urls;

pub use urls::named_url;

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use projections::db::{StaleConnections, WriteGate};
use projections::{Backend, ViewDb};
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::append::{GroupAppender, Target};
use crate::config::DatabaseConfig;

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");
/// Also the schema of the scratch views an as-of report replays into (`projections::scratch`).
pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Longest a readiness probe waits on the database before calling it unreachable.
const READINESS_TIMEOUT_MS: u64 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must start with postgres:// or sqlite:// (got {0:?})")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("chaining stored events: {0}")]
    Chain(String),
}

#[derive(Debug, Clone)]
enum Pools {
    Postgres(PgPool),
    Sqlite(SqlitePool, WriteGate),
}

/// Connections to one database: event store pool plus the view pool, and the writers that
/// append events for every command of this instance.
#[derive(Clone)]
pub struct Store {
    pools: Pools,
    views: ViewDb,
    appender: Arc<GroupAppender>,
}

/// Whether a SQLite connection about to be handed out can begin a transaction again (see
/// [`projections::db::StaleConnections`]). Checked only once a stale one has been seen, so
/// a healthy store pays nothing; a stale one is closed instead of poisoning the pool after
/// the disk has room again. The probe (`BEGIN DEFERRED`, `ROLLBACK`) takes no lock.
async fn still_usable(
    conn: &mut sqlx::AnyConnection,
    stale: StaleConnections,
) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !stale.load(Ordering::Relaxed) {
        return Ok(true);
    }
    match conn.begin_with("BEGIN DEFERRED").await {
        Ok(probe) => {
            probe.rollback().await?;
            Ok(true)
        }
        Err(sqlx::Error::InvalidSavePointStatement) => {
            tracing::warn!("closing a store connection left in a failed transaction");
            Ok(false)
        }
        Err(other) => Err(other),
    }
}

impl Store {
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = &urls::effective_url(config.url.trim());
        let acquire_timeout = Duration::from_millis(config.acquire_timeout_ms);
        let (pools, backend) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect(url)
                .await?;
            (Pools::Postgres(pool), Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                // WAL lets readers run while one writer commits. `synchronous` stays at its
                // FULL default: a committed payment event must survive a power cut.
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            (Pools::Sqlite(pool, WriteGate::default()), Backend::Sqlite)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        // Opened after the typed pool so that a new SQLite file already exists in WAL mode.
        let mut any_options = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(acquire_timeout);
        let stale = StaleConnections::default();
        if backend == Backend::Sqlite {
            let seen = Arc::clone(&stale);
            any_options = any_options
                .before_acquire(move |conn, _| Box::pin(still_usable(conn, Arc::clone(&seen))));
        }
        let any_pool = any_options.connect(url).await?;
        let (gate, target) = match &pools {
            Pools::Sqlite(pool, gate) => (
                Some(gate.clone()),
                Target::Sqlite(pool.clone(), gate.clone()),
            ),
            Pools::Postgres(pool) => (None, Target::Postgres(pool.clone())),
        };
        let appender =
            GroupAppender::start(target, config.append_writers, config.append_batch_commands);
        Ok(Self {
            pools,
            views: ViewDb::new(backend, any_pool, gate, stale),
            appender: Arc::new(appender),
        })
    }

    pub fn backend(&self) -> Backend {
        self.views.backend()
    }

    pub fn views(&self) -> &ViewDb {
        &self.views
    }

    /// Each pool's name, open connections and idle ones, for the metrics.
    pub fn pool_usage(&self) -> [(&'static str, u32, usize); 2] {
        let events = match &self.pools {
            Pools::Postgres(pool) => (pool.size(), pool.num_idle()),
            Pools::Sqlite(pool, _) => (pool.size(), pool.num_idle()),
        };
        let views = self.views.pool();
        [
            ("events", events.0, events.1),
            ("views", views.size(), views.num_idle()),
        ]
    }

    /// The PostgreSQL pool, for LISTEN/NOTIFY; `None` on SQLite.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pools {
            Pools::Postgres(pool) => Some(pool),
            Pools::Sqlite(..) => None,
        }
    }

    /// The writers every command's events go through.
    pub fn appender(&self) -> &Arc<GroupAppender> {
        &self.appender
    }

    pub fn event_repository(&self) -> EventRepository {
        match &self.pools {
            Pools::Postgres(pool) => EventRepository::Postgres(
                PostgresEventRepository::new(pool.clone()),
                Arc::clone(&self.appender),
            ),
            Pools::Sqlite(pool, gate) => EventRepository::Sqlite(
                SqliteEventRepository::new(pool.clone()),
                Arc::clone(&self.appender),
                gate.clone(),
            ),
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pools {
            Pools::Postgres(_) => &POSTGRES_MIGRATIONS,
            Pools::Sqlite(..) => &SQLITE_MIGRATIONS,
        }
    }

    /// Applies pending migrations. Safe to run from several instances at once: sqlx takes a
    /// database lock around it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Pools::Sqlite(pool, _) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        // Events stored before they carried a hash are chained here, once: SQL of either
        // dialect cannot compute the chain's SHA-256 encoding.
        let chained = projections::ledger::chain_unchained(&self.views)
            .await
            .map_err(|e| StoreError::Chain(e.to_string()))?;
        if chained > 0 {
            tracing::info!(chained, "chained events stored before the event hash");
        }
        Ok(())
    }

    /// Why the store is not ready, if it is not: unreachable, or migrations missing.
    pub async fn readiness(&self) -> Result<StoreStatus, String> {
        let timeout = Duration::from_millis(READINESS_TIMEOUT_MS);
        match tokio::time::timeout(timeout, self.check_ready()).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "database did not answer within {READINESS_TIMEOUT_MS} ms"
            )),
        }
    }

    async fn check_ready(&self) -> Result<StoreStatus, String> {
        let pool = self.views.pool();
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(pool)
        .await
        .map_err(|error| format!("database unreachable or not migrated: {error}"))?;
        let missing: Vec<i64> = self
            .migrator()
            .iter()
            .map(|migration| migration.version)
            .filter(|version| !applied.contains(version))
            .collect();
        if !missing.is_empty() {
            return Err(format!("migrations not applied: {missing:?}"));
        }
        let head_position: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(pool)
            .await
            .map_err(|error| format!("events table unreadable: {error}"))?;
        // Behind a proxy that follows a replicated cluster's leader, a connection may land
        // on a standby for a moment during a failover: not ready until writes can land.
        if self.backend() == Backend::Postgres {
            let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(pool)
                .await
                .map_err(|error| format!("database unreachable: {error}"))?;
            if standby {
                return Err("the database is a read-only standby: no writable primary".to_owned());
            }
        }
        Ok(StoreStatus {
            backend: self.backend().name(),
            head_position: head_position.unwrap_or(0),
        })
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Postgres(pool) => pool.close().await,
            Pools::Sqlite(pool, _) => pool.close().await,
        }
        self.views.pool().close().await;
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoreStatus {
    pub backend: &'static str,
    /// Highest feed position written so far.
    pub head_position: i64,
}

/// Stored events of an older version in today's shape (`aggregates::upcast`), so that every
/// way an aggregate is loaded decodes them alike. A version no upcaster knows is an error,
/// never a guess.
fn upcast_all(mut events: Vec<SerializedEvent>) -> Result<Vec<SerializedEvent>, PersistenceError> {
    for event in &mut events {
        let (aggregate, kind) = (&event.aggregate_type, &event.event_type);
        if aggregates::upcast::needs_upcast(aggregate, kind, &event.event_version) {
            let version = aggregates::upcast::upcast(
                aggregate,
                kind,
                &event.event_version,
                &mut event.payload,
            )
            .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
            event.event_version = version.to_owned();
        }
    }
    Ok(events)
}

/// The cqrs-es repository for whichever backend is configured. Reads go through postgres-es
/// and sqlite-es; appends go through the store's group appender (`crate::append`).
pub enum EventRepository {
    Postgres(PostgresEventRepository, Arc<GroupAppender>),
    /// With the store's write gate, which the appender and the snapshot path hold around
    /// each write (see `projections::db`).
    Sqlite(SqliteEventRepository, Arc<GroupAppender>, WriteGate),
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = match self {
            Self::Postgres(repo, _) => repo.get_events::<A>(aggregate_id).await,
            Self::Sqlite(repo, _, _) => repo.get_events::<A>(aggregate_id).await,
        };
        upcast_all(events?)
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = match self {
            Self::Postgres(repo, _) => repo.get_last_events::<A>(aggregate_id, last_sequence).await,
            Self::Sqlite(repo, _, _) => {
                repo.get_last_events::<A>(aggregate_id, last_sequence).await
            }
        };
        upcast_all(events?)
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        match self {
            Self::Postgres(repo, _) => repo.get_snapshot::<A>(aggregate_id).await,
            Self::Sqlite(repo, _, _) => repo.get_snapshot::<A>(aggregate_id).await,
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        match (self, snapshot_update) {
            (Self::Postgres(_, appender) | Self::Sqlite(_, appender, _), None) => {
                crate::append::append(appender, A::TYPE, events).await
            }
            // Snapshots are not used; should they be, the crates' own path keeps them right.
            (Self::Postgres(repo, _), snapshot) => repo.persist::<A>(events, snapshot).await,
            (Self::Sqlite(repo, _, gate), snapshot) => {
                let _gate = gate.lock().await;
                repo.persist::<A>(events, snapshot).await
            }
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Postgres(repo, _) => repo.stream_events::<A>(aggregate_id).await,
            Self::Sqlite(repo, _, _) => repo.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Postgres(repo, _) => repo.stream_all_events::<A>().await,
            Self::Sqlite(repo, _, _) => repo.stream_all_events::<A>().await,
        }
    }
}
