//! The event chains as a whole: chaining events stored before they carried a hash, and
//! checking every chain, stream by stream, for what `qrswitch verify` reports.

use crate::chain::{self, Link, GENESIS};
use crate::db::ViewDb;
use crate::error::ProjectionError;
use crate::feed::StoredEvent;
use crate::history::{self, HistoryEvent};

/// Events read per page while walking the store.
const PAGE_EVENTS: i64 = 5_000;
/// Streams chained per transaction by [`chain_unchained`].
const STREAMS_PER_PASS: i64 = 500;

/// The chain's link over one stored event.
fn link(event: &StoredEvent) -> Link<'_> {
    Link {
        aggregate_type: &event.aggregate_type,
        aggregate_id: &event.aggregate_id,
        sequence: event.sequence,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
    }
}

/// Where a walk stands: after this stream and sequence.
type Key = (String, String, i64);

/// Which streams a check covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    All,
    /// One stream: its aggregate type and id.
    Stream(&'a str, &'a str),
    /// Every stream with an event written in `[from, to)` (view-format UTC times), whole.
    WrittenBetween(&'a str, &'a str),
}

/// The next page of events in stream order after `after`, within `scope`.
async fn page(
    db: &ViewDb,
    after: &Key,
    scope: Scope<'_>,
) -> Result<Vec<HistoryEvent>, ProjectionError> {
    let (filter, binds) = match scope {
        Scope::All => ("", None),
        Scope::Stream(aggregate_type, aggregate_id) => (
            "AND aggregate_type = $5 AND aggregate_id = $6",
            Some((aggregate_type, aggregate_id)),
        ),
        Scope::WrittenBetween(from, to) => (
            "AND (aggregate_type, aggregate_id) IN (SELECT aggregate_type, aggregate_id
                   FROM events WHERE committed_at >= $5 AND committed_at < $6)",
            Some((from, to)),
        ),
    };
    let sql = format!(
        "SELECT {} FROM events
          WHERE (aggregate_type, aggregate_id, sequence) > ($1, $2, $3) {filter}
          ORDER BY aggregate_type, aggregate_id, sequence LIMIT $4",
        history::columns(db.backend())
    );
    let mut query = sqlx::query(&sql)
        .bind(after.0.as_str())
        .bind(after.1.as_str())
        .bind(after.2)
        .bind(PAGE_EVENTS);
    if let Some((first, second)) = binds {
        query = query.bind(first).bind(second);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(history::decode).collect()
}

/// The first break found in one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub stream: String,
    pub sequence: i64,
    pub position: Option<i64>,
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sequence {}", self.stream, self.sequence)?;
        if let Some(position) = self.position {
            write!(f, " (feed position {position})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What a check of the chains found.
#[derive(Debug, Default)]
pub struct Checked {
    pub streams: u64,
    pub events: u64,
    pub breaks: Vec<Break>,
}

/// Follows one stream's chain event by event.
#[derive(Default)]
struct Follower {
    stream: Option<(String, String)>,
    expected: i64,
    previous: String,
    broken: bool,
}

impl Follower {
    /// Checks `row` against what its stream so far says it must be.
    fn step(&mut self, stored: &HistoryEvent, checked: &mut Checked) {
        let row = &stored.event;
        let stream = (row.aggregate_type.clone(), row.aggregate_id.clone());
        if self.stream.as_ref() != Some(&stream) {
            *self = Follower {
                stream: Some(stream),
                expected: 1,
                previous: GENESIS.to_owned(),
                broken: false,
            };
            checked.streams += 1;
        }
        checked.events += 1;
        let computed = chain::hash(&self.previous, &link(row));
        let position = row.feed_position.position;
        let fault = if row.sequence != self.expected {
            Some((
                self.expected,
                None,
                format!("sequence {} missing", self.expected),
            ))
        } else {
            match &stored.hash {
                None => Some((row.sequence, Some(position), "not chained".to_owned())),
                Some(hash) if *hash != computed => Some((
                    row.sequence,
                    Some(position),
                    "hash does not match the event's content and place".to_owned(),
                )),
                Some(_) => None,
            }
        };
        if let (Some((sequence, position, reason)), false) = (fault, self.broken) {
            self.broken = true;
            checked.breaks.push(Break {
                stream: format!("{}/{}", row.aggregate_type, row.aggregate_id),
                sequence,
                position,
                reason,
            });
        }
        // Go on from what is stored, so that one break is reported once.
        self.expected = row.sequence + 1;
        self.previous = stored.hash.clone().unwrap_or(computed);
    }
}

/// Checks the chains of the streams in `scope`; `progress(events)` after every page.
pub async fn verify(
    db: &ViewDb,
    scope: Scope<'_>,
    progress: &dyn Fn(u64),
) -> Result<Checked, ProjectionError> {
    let mut checked = Checked::default();
    let mut follower = Follower::default();
    let mut after: Key = (String::new(), String::new(), 0);
    loop {
        let rows = page(db, &after, scope).await?;
        let Some(last) = rows.last().map(|r| &r.event) else {
            break;
        };
        after = (
            last.aggregate_type.clone(),
            last.aggregate_id.clone(),
            last.sequence,
        );
        for row in &rows {
            follower.step(row, &mut checked);
        }
        progress(checked.events);
    }
    Ok(checked)
}

/// Chains the events stored without a hash (those written before events carried one),
/// stream by stream, each stream from its first event. Returns how many it chained.
pub async fn chain_unchained(db: &ViewDb) -> Result<u64, ProjectionError> {
    let mut chained = 0;
    loop {
        let streams: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT aggregate_type, aggregate_id FROM events WHERE hash IS NULL LIMIT $1",
        )
        .bind(STREAMS_PER_PASS)
        .fetch_all(db.pool())
        .await?;
        if streams.is_empty() {
            return Ok(chained);
        }
        let _gate = db.write_gate().await;
        let mut tx = db.begin_write().await?;
        for (aggregate_type, aggregate_id) in &streams {
            let sql = format!(
                "SELECT {} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
                  ORDER BY sequence",
                history::columns(db.backend())
            );
            let rows = sqlx::query(&sql)
                .bind(aggregate_type)
                .bind(aggregate_id)
                .fetch_all(&mut *tx)
                .await?;
            let mut previous = GENESIS.to_owned();
            for row in rows.iter().map(history::decode) {
                let row = row?;
                let hash = match row.hash {
                    Some(stored) => stored,
                    None => {
                        let hash = chain::hash(&previous, &link(&row.event));
                        sqlx::query(
                            "UPDATE events SET hash = $1
                              WHERE aggregate_type = $2 AND aggregate_id = $3 AND sequence = $4",
                        )
                        .bind(&hash)
                        .bind(aggregate_type)
                        .bind(aggregate_id)
                        .bind(row.event.sequence)
                        .execute(&mut *tx)
                        .await?;
                        chained += 1;
                        hash
                    }
                };
                previous = hash;
            }
        }
        tx.commit().await?;
    }
}

/// A business day's digest: the Merkle root over the heads, at the day's end, of every
/// stream written during it, in `(type, id)` order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayDigest {
    pub root: String,
    pub streams: i64,
    pub events: i64,
}

/// The digest of the events written in `[from, to)` (view-format UTC times).
pub async fn day_digest(db: &ViewDb, from: &str, to: &str) -> Result<DayDigest, ProjectionError> {
    // A stream's last sequence written in the window is its head at the window's end:
    // sequences grow with time within a stream.
    let heads: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.hash, d.written
           FROM (SELECT aggregate_type, aggregate_id, MAX(sequence) AS head, COUNT(*) AS written
                   FROM events WHERE committed_at >= $1 AND committed_at < $2
                  GROUP BY aggregate_type, aggregate_id) AS d
           JOIN events e ON e.aggregate_type = d.aggregate_type
                        AND e.aggregate_id = d.aggregate_id AND e.sequence = d.head
          ORDER BY e.aggregate_type, e.aggregate_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    let leaves: Vec<[u8; 32]> = heads
        .iter()
        .map(|(t, id, sequence, hash, _)| {
            chain::head_leaf(t, id, *sequence, hash.as_deref().unwrap_or(""))
        })
        .collect();
    Ok(DayDigest {
        root: chain::merkle_root(&leaves),
        streams: heads.len() as i64,
        events: heads.iter().map(|h| h.4).sum(),
    })
}

/// The digest recorded for `day`, with when it was recorded.
pub async fn recorded_digest(
    db: &ViewDb,
    day: &str,
) -> Result<Option<(DayDigest, String)>, ProjectionError> {
    let row: Option<(String, i64, i64, String)> =
        sqlx::query_as("SELECT root, streams, events, recorded_at FROM day_digests WHERE day = $1")
            .bind(day)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(root, streams, events, at)| {
        (
            DayDigest {
                root,
                streams,
                events,
            },
            at,
        )
    }))
}

/// Records `digest` for `day` unless one is recorded already; returns the one recorded.
pub async fn record_digest(
    db: &ViewDb,
    day: &str,
    digest: &DayDigest,
    at: &str,
) -> Result<(DayDigest, String), ProjectionError> {
    {
        let _gate = db.write_gate().await;
        sqlx::query(
            "INSERT INTO day_digests (day, root, streams, events, recorded_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(&digest.root)
        .bind(digest.streams)
        .bind(digest.events)
        .bind(at)
        .execute(db.pool())
        .await?;
    }
    recorded_digest(db, day)
        .await?
        .ok_or_else(|| ProjectionError::Decode {
            position: crate::feed::FeedPosition::START,
            reason: format!("digest of {day} not recorded"),
        })
}

/// Checks the chains of the streams written in `[from, to)`.
pub async fn verify_window(db: &ViewDb, from: &str, to: &str) -> Result<Checked, ProjectionError> {
    verify(db, Scope::WrittenBetween(from, to), &|_| {}).await
}
