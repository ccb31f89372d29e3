//! What the appender's parts share: where a batch goes, and one command's append waiting
//! for its batch.

use cqrs_es::persist::PersistenceError;
use projections::db::WriteGate;
use sqlx::{PgPool, SqlitePool};
use tokio::sync::oneshot;

use super::row::Row;

/// Where a batch goes.
#[derive(Clone)]
pub enum Target {
    Postgres(PgPool),
    /// With the store's write gate, held around each write (see `projections::db`).
    Sqlite(SqlitePool, WriteGate),
}

/// One command's append, waiting for its batch.
pub(super) struct Job {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub rows: Vec<Row>,
    pub reply: oneshot::Sender<Result<(), PersistenceError>>,
}
