//! Group commit: appends of concurrent commands (on different aggregates) written by one
//! statement in one transaction, one commit and one WAL flush for all of them.
//!
//! A few writer tasks share one queue. A writer takes what has queued up (at most
//! `append_batch_commands` commands) and writes it; commands arriving meanwhile form the next
//! batch. There is no timer: a batch waits at most for the write ahead of it, so a quiet
//! switch writes each command on its own at once, and a busy one gathers more per commit.
//!
//! Each command still gets its own verdict. Commands on one aggregate never share a batch
//! (they take turns in this instance, `crate::turns`), so a duplicate key in a batch means
//! another instance appended to one of its streams first; the batch is then written again
//! command by command, and only the commands that lost get the conflict.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::PersistenceError;
use sqlx::pool::PoolConnection;
use sqlx::Postgres;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::heads::Heads;
use super::job::Job;
pub use super::job::Target;
use super::row::{classify, Row};

/// The queue the writers take batches from. Dropping the last handle ends the writers once
/// the queue is empty.
pub struct GroupAppender {
    sender: mpsc::UnboundedSender<Job>,
}

impl GroupAppender {
    /// Starts `writers` writer tasks on the current runtime, each writing at most
    /// `batch_commands` commands per statement.
    pub fn start(target: Target, writers: usize, batch_commands: usize) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let heads = Arc::new(Heads::default());
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(
                target.clone(),
                Arc::clone(&receiver),
                Arc::clone(&heads),
                batch_commands.max(1),
            ));
        }
        Self { sender }
    }

    /// Appends one command's rows; returns once they are committed (or refused).
    pub(super) async fn append(
        &self,
        aggregate_type: &'static str,
        aggregate_id: &str,
        rows: Vec<Row>,
    ) -> Result<(), PersistenceError> {
        let (reply, verdict) = oneshot::channel();
        let job = Job {
            aggregate_type,
            aggregate_id: aggregate_id.to_owned(),
            rows,
            reply,
        };
        self.sender.send(job).map_err(|_| stopped())?;
        verdict.await.map_err(|_| stopped())?
    }
}

fn stopped() -> PersistenceError {
    PersistenceError::UnknownError("the event appender has stopped".into())
}

/// How long a writer keeps its PostgreSQL connection while it waits for work. sqlx sends a
/// `Sync` and waits for the server's answer on every release of a pooled connection: a
/// writer that kept releasing would pay one more round trip per batch. Released when idle,
/// so that closing the pool (which waits for every connection) is held up at most this long.
const HELD_WHILE_IDLE: Duration = Duration::from_millis(250);

/// A writer's connection, kept from batch to batch while work keeps coming.
#[derive(Default)]
struct Held(Option<PoolConnection<Postgres>>);

impl Held {
    /// Waits for `wait`, giving the connection back first if that takes long.
    async fn idle<T>(&mut self, wait: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(wait);
        if self.0.is_none() {
            return wait.await;
        }
        match tokio::time::timeout(HELD_WHILE_IDLE, &mut wait).await {
            Ok(done) => done,
            Err(_) => {
                self.0 = None;
                wait.await
            }
        }
    }
}

async fn write_batches(
    target: Target,
    receiver: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    heads: Arc<Heads>,
    batch_commands: usize,
) {
    let mut held = Held::default();
    loop {
        let batch = {
            let mut receiver = held.idle(receiver.lock()).await;
            let Some(first) = held.idle(receiver.recv()).await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < batch_commands {
                match receiver.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        write(&target, &heads, batch, &mut held).await;
    }
}

/// Chains, writes a batch and answers each command in it.
async fn write(target: &Target, heads: &Heads, mut batch: Vec<Job>, held: &mut Held) {
    if let Err(error) = heads.link(target, &mut batch).await {
        return fail_all(batch, &error);
    }
    if batch.len() > 1 {
        match insert(target, &batch, held).await {
            Ok(()) => {
                for job in batch {
                    heads.committed(&job);
                    let _ = job.reply.send(Ok(()));
                }
                return;
            }
            Err(PersistenceError::OptimisticLockError) => {} // find who lost, one by one
            // Nothing of the batch committed (one statement); each command fails alike.
            Err(error) => return fail_all(batch, &error),
        }
    }
    for job in batch {
        let verdict = insert(target, std::slice::from_ref(&job), held).await;
        if verdict.is_ok() {
            heads.committed(&job);
        }
        let _ = job.reply.send(verdict);
    }
}

/// Answers every command of `batch` with `error`.
fn fail_all(batch: Vec<Job>, error: &PersistenceError) {
    let reason = error.to_string();
    for job in batch {
        let _ = job.reply.send(Err(PersistenceError::ConnectionError(
            reason.clone().into(),
        )));
    }
}

/// PostgreSQL: every row of the batch as arrays, unnested by the server. `committed_at` is
/// the column's default, the server's clock at the insert.
const POSTGRES_APPEND: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata, hash)
SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version,
       e.payload::json, e.metadata::json, e.hash
  FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[])
       AS e(aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
            metadata, hash)";

async fn insert(target: &Target, jobs: &[Job], held: &mut Held) -> Result<(), PersistenceError> {
    let rows = || {
        jobs.iter()
            .flat_map(|job| job.rows.iter().map(move |row| (job, row)))
    };
    match target {
        Target::Postgres(pool) => {
            let conn = match &mut held.0 {
                Some(conn) => conn,
                empty => empty.insert(pool.acquire().await.map_err(classify)?),
            };
            let written = sqlx::query(POSTGRES_APPEND)
                .bind(rows().map(|(j, _)| j.aggregate_type).collect::<Vec<_>>())
                .bind(
                    rows()
                        .map(|(j, _)| j.aggregate_id.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(rows().map(|(_, r)| r.sequence).collect::<Vec<_>>())
                .bind(
                    rows()
                        .map(|(_, r)| r.event_type.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows()
                        .map(|(_, r)| r.event_version.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(rows().map(|(_, r)| r.payload.as_str()).collect::<Vec<_>>())
                .bind(rows().map(|(_, r)| &*r.metadata).collect::<Vec<_>>())
                .bind(rows().map(|(_, r)| r.hash.as_str()).collect::<Vec<_>>())
                .execute(&mut **conn)
                .await
                .map_err(classify);
            // Another writer first leaves the connection sound; anything else may not have.
            if let Err(error) = written {
                if !matches!(error, PersistenceError::OptimisticLockError) {
                    held.0 = None;
                }
                return Err(error);
            }
        }
        Target::Sqlite(pool, gate) => {
            // One time for the batch: its events are written, and committed, together.
            let committed_at = projections::time::to_view_text(chrono::Utc::now());
            let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, committed_at, hash) ",
            );
            builder.push_values(rows(), |mut values, (job, row)| {
                values
                    .push_bind(job.aggregate_type)
                    .push_bind(job.aggregate_id.as_str())
                    .push_bind(row.sequence)
                    .push_bind(row.event_type.as_str())
                    .push_bind(row.event_version.as_str())
                    .push_bind(row.payload.as_str())
                    .push_bind(&*row.metadata)
                    .push_bind(committed_at.as_str())
                    .push_bind(row.hash.as_str());
            });
            let _gate = gate.lock().await;
            builder.build().execute(pool).await.map_err(classify)?;
        }
    }
    Ok(())
}
