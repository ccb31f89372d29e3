//! `[database]` and `[projections]`: the store, its write path and the read models' passes.

use serde::Deserialize;

/// Where the embedded store lives when `DATABASE_URL` is unset: a file beside the process.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://qrswitch.db";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`. `DATABASE_URL` wins over this. A PostgreSQL URL
    /// naming a loopback host and no `sslmode` connects without TLS (`store::urls`).
    pub url: String,
    /// Connections per pool. PostgreSQL's default limit is 100 and several instances share it.
    pub max_connections: u32,
    /// How long a request may wait for a free connection before it fails with 503.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Aggregates kept in memory per aggregate type (entries), so that a command decides
    /// without reading the store first. A payment with its messages is a few KiB; a payment
    /// is hot for seconds, so 1,024 covers hundreds of payments a second within a few MiB.
    pub aggregate_cache_entries: usize,
    /// Tasks writing appended events (each one statement and one commit at a time). While
    /// one writes, the next gathers what queued up; two keep the disk and the CPU busy.
    pub append_writers: usize,
    /// Most commands written by one statement (group commit). Under load a batch holds what
    /// queued during the write before it; this bounds its size, not its wait (there is none).
    pub append_batch_commands: usize,
}

/// More writers than this only queue for connections and the disk.
pub(super) const MAX_APPEND_WRITERS: usize = 16;
/// Commands per statement at most: keeps a batch's bound values (seven per event) well under
/// SQLite's limit of 32,766.
pub(super) const MAX_APPEND_BATCH_COMMANDS: usize = 512;

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 16,
            acquire_timeout_ms: 5_000,
            migrate_on_start: true,
            aggregate_cache_entries: 1_024,
            append_writers: 2,
            append_batch_commands: 64,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectionConfig {
    /// Longest a projector sleeps without a wake-up. Bounds the lag if a notification is lost.
    pub poll_interval_ms: u64,
    /// After a wake-up, how long the read models' shared pass lets further commits gather
    /// before its batch. Under load this turns one transaction per commit into one per
    /// interval, and the several events of one payment fold into one row write instead of
    /// one per pass; views lag by at most this much (no POS answer is read from a view).
    pub gather_interval_ms: u64,
    /// The same for the outbox's own pass. Kept short: an advice is delivered only once the
    /// outbox shows it, so this is added to every delivery's latency.
    pub outbox_gather_interval_ms: u64,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1_000,
            gather_interval_ms: 100,
            outbox_gather_interval_ms: 25,
        }
    }
}
