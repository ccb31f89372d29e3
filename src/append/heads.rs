//! Chaining appended events: each row's hash covers the previous event of its stream
//! ([`projections::chain`]). The previous hash comes from the heads this instance wrote or
//! read last (a bounded cache: an event never changes once stored, so a cached hash of
//! sequence n is right for as long as it is kept), else from the store, in one read for
//! every stream of the batch that missed.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use cqrs_es::persist::PersistenceError;
use lru::LruCache;
use projections::chain::{self, Link, GENESIS};

use super::job::{Job, Target};

/// Stream heads kept: the streams busy at once on one instance, with room to spare
/// (about 200 bytes each).
const HEADS_KEPT: usize = 50_000;

/// A stream: its aggregate type and id.
type Stream = (&'static str, String);
/// A stream's last event: its sequence and hash.
type Head = (i64, String);

/// The last event hash of recently written streams.
pub struct Heads(Mutex<LruCache<Stream, Head>>);

impl Default for Heads {
    fn default() -> Self {
        let kept = NonZeroUsize::new(HEADS_KEPT).unwrap_or(NonZeroUsize::MIN);
        Self(Mutex::new(LruCache::new(kept)))
    }
}

impl Heads {
    fn cached(&self, job: &Job, before: i64) -> Option<String> {
        let mut heads = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match heads.get(&(job.aggregate_type, job.aggregate_id.clone())) {
            Some((sequence, hash)) if *sequence == before => Some(hash.clone()),
            _ => None,
        }
    }

    /// Remembers the head a committed job left.
    pub fn committed(&self, job: &Job) {
        let Some(last) = job.rows.last() else { return };
        let mut heads = self.0.lock().unwrap_or_else(|p| p.into_inner());
        heads.put(
            (job.aggregate_type, job.aggregate_id.clone()),
            (last.sequence, last.hash.clone()),
        );
    }

    /// Fills in the hash of every row of `batch`.
    pub async fn link(&self, target: &Target, batch: &mut [Job]) -> Result<(), PersistenceError> {
        let mut missing = Vec::new();
        let mut previous: Vec<Option<String>> = Vec::with_capacity(batch.len());
        for (i, job) in batch.iter().enumerate() {
            let before = job.rows.first().map_or(0, |r| r.sequence - 1);
            let known = if before == 0 {
                Some(GENESIS.to_owned())
            } else {
                self.cached(job, before)
            };
            if known.is_none() {
                missing.push((i, before));
            }
            previous.push(known);
        }
        for (i, hash) in read_heads(target, batch, &missing).await? {
            previous[i] = Some(hash);
        }
        for (job, previous) in batch.iter_mut().zip(previous) {
            let mut previous = previous.ok_or_else(|| {
                PersistenceError::UnknownError(
                    format!(
                        "no chained event before {}/{}",
                        job.aggregate_type, job.aggregate_id
                    )
                    .into(),
                )
            })?;
            for row in &mut job.rows {
                row.hash = chain::hash(
                    &previous,
                    &Link {
                        aggregate_type: job.aggregate_type,
                        aggregate_id: &job.aggregate_id,
                        sequence: row.sequence,
                        event_type: &row.event_type,
                        event_version: &row.event_version,
                        payload: &row.payload,
                        metadata: &row.metadata,
                    },
                );
                previous.clone_from(&row.hash);
            }
        }
        Ok(())
    }
}

/// The stored hashes of the events just before `missing` (`(job index, sequence)`).
async fn read_heads(
    target: &Target,
    batch: &[Job],
    missing: &[(usize, i64)],
) -> Result<Vec<(usize, String)>, PersistenceError> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let error = |e: sqlx::Error| PersistenceError::ConnectionError(Box::new(e));
    // (aggregate type, aggregate id, hash) of each head found.
    type Found = (String, String, Option<String>);
    let rows: Vec<Found> = match target {
        Target::Postgres(pool) => sqlx::query_as(
            "SELECT e.aggregate_type, e.aggregate_id, e.hash FROM events e
               JOIN UNNEST($1::text[], $2::text[], $3::bigint[]) AS k(t, i, s)
                 ON e.aggregate_type = k.t AND e.aggregate_id = k.i AND e.sequence = k.s",
        )
        .bind(
            missing
                .iter()
                .map(|(i, _)| batch[*i].aggregate_type)
                .collect::<Vec<_>>(),
        )
        .bind(
            missing
                .iter()
                .map(|(i, _)| batch[*i].aggregate_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(missing.iter().map(|(_, s)| *s).collect::<Vec<_>>())
        .fetch_all(pool)
        .await
        .map_err(error)?,
        Target::Sqlite(pool, _) => {
            let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT aggregate_type, aggregate_id, hash FROM events \
                 WHERE (aggregate_type, aggregate_id, sequence) IN (",
            );
            let mut keys = builder.separated(", ");
            for (i, sequence) in missing {
                keys.push("(")
                    .push_bind_unseparated(batch[*i].aggregate_type)
                    .push_unseparated(", ")
                    .push_bind_unseparated(batch[*i].aggregate_id.as_str())
                    .push_unseparated(", ")
                    .push_bind_unseparated(*sequence)
                    .push_unseparated(")");
            }
            builder.push(")");
            builder
                .build_query_as()
                .fetch_all(pool)
                .await
                .map_err(error)?
        }
    };
    Ok(missing
        .iter()
        .filter_map(|(i, _)| {
            let job = &batch[*i];
            rows.iter()
                .find(|(t, id, _)| t == job.aggregate_type && *id == job.aggregate_id)
                .and_then(|(_, _, hash)| hash.clone())
                .map(|hash| (*i, hash))
        })
        .collect())
}
