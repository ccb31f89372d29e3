//! Executing commands: take the aggregate (from memory when it is there), decide, append
//! with optimistic concurrency, and wake the projectors and the local waiters. Every event
//! carries who asked, on which request, and when.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use lru::LruCache;
use projections::runner::Wakeup;

use projections::saf_outbox::TRACEPARENT_KEY;

use crate::store::{EventRepository, Store};
use crate::telemetry::context::TraceParent;
use crate::turns::Turns;
use crate::waiters::CommitWaiters;

/// Attempts per command when another writer appended to the same aggregate first. Each
/// retry reloads and decides again, so a loser sees the winner's events; a handful covers
/// any realistic burst on one tranId (a scan and a POS message at the same instant).
pub const CONFLICT_ATTEMPTS: u32 = 5;

/// Who caused an event and on which message: recorded with every event for audit.
#[derive(Debug, Clone)]
pub struct CommandMetadata {
    /// The authenticated party (user name), or `system` for the switch's own timers.
    pub party: String,
    pub request_id: String,
    /// The `id` of the contract message that carried the command, if any.
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The caller's W3C `traceparent`: what the event's effects (an advice's delivery)
    /// carry on to partners.
    pub traceparent: Option<TraceParent>,
}

impl CommandMetadata {
    /// A command a person asked for through the back office, ops or the console: `party`
    /// on the request `request_id`, now, on no contract message.
    pub fn by_user(party: &str, request_id: impl std::fmt::Display) -> Self {
        Self {
            party: party.to_owned(),
            request_id: request_id.to_string(),
            message_id: None,
            received_at: Utc::now(),
            traceparent: None,
        }
    }

    /// The metadata as stored with each event: a JSON object, keys in order.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let received_at = self.received_at.to_rfc3339();
        let traceparent = self.traceparent.as_ref().map(ToString::to_string);
        let mut map = std::collections::BTreeMap::from([
            ("party", self.party.as_str()),
            ("request_id", self.request_id.as_str()),
            ("received_at", received_at.as_str()),
        ]);
        if let Some(message_id) = &self.message_id {
            map.insert("message_id", message_id);
        }
        if let Some(traceparent) = &traceparent {
            map.insert(TRACEPARENT_KEY, traceparent);
        }
        serde_json::to_string(&map)
    }
}

/// Runs commands for one aggregate type.
///
/// Recently used aggregates stay in memory (at most `cache_entries`). A command decides on
/// the cached state and appends with the sequence it expects. Commands on one aggregate take
/// turns here ([`Turns`]); when another instance got there first the append conflicts, and
/// the command is decided again on the state refreshed from the store. A refusal, or a command
/// that changes nothing, is never answered from a cached state alone: the state is refreshed
/// first, because an event it has not seen may change the answer.
pub struct CommandBus<A: Aggregate + 'static> {
    /// For loading an aggregate whole; appends go to `appender` directly.
    store: PersistedEventStore<EventRepository, A>,
    appender: Arc<crate::append::GroupAppender>,
    /// For reading only the events after the cached sequence.
    repo: EventRepository,
    services: A::Services,
    cache: Mutex<LruCache<String, Cached<A>>>,
    turns: Turns,
    announce: AnnounceCommits,
}

/// An aggregate as of its `sequence`-th event. Shared, not copied: a reader takes a
/// reference, and only a command copies it to decide on (once, however many read it).
#[derive(Clone)]
struct Cached<A> {
    aggregate: Arc<A>,
    sequence: usize,
}

impl<A> CommandBus<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone,
{
    pub fn new(
        store: &Store,
        wakeup: Wakeup,
        waiters: Arc<CommitWaiters>,
        services: A::Services,
        cache_entries: usize,
    ) -> Self {
        let capacity = NonZeroUsize::new(cache_entries).unwrap_or(NonZeroUsize::MIN);
        Self {
            store: PersistedEventStore::new_event_store(store.event_repository()),
            appender: Arc::clone(store.appender()),
            repo: store.event_repository(),
            services,
            cache: Mutex::new(LruCache::new(capacity)),
            turns: Turns::default(),
            announce: AnnounceCommits { wakeup, waiters },
        }
    }

    fn cached(&self, aggregate_id: &str) -> Option<Cached<A>> {
        self.lock().get(aggregate_id).cloned()
    }

    /// Keeps `aggregate` as of `sequence`, unless a newer state is cached already (two
    /// readers may finish out of order; an older state would only cost a conflict later).
    fn remember(&self, aggregate_id: &str, aggregate: Arc<A>, sequence: usize) {
        let mut cache = self.lock();
        if cache
            .peek(aggregate_id)
            .is_some_and(|c| c.sequence > sequence)
        {
            return;
        }
        cache.put(
            aggregate_id.to_owned(),
            Cached {
                aggregate,
                sequence,
            },
        );
    }

    fn forget(&self, aggregate_id: &str) {
        self.lock().pop(aggregate_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Cached<A>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The aggregate as the store has it now: the cached state brought up to date with the
    /// events committed after it (one small read), or loaded whole.
    async fn refresh(&self, aggregate_id: &str) -> Result<Cached<A>, AggregateError<A::Error>> {
        let Some(mut cached) = self.cached(aggregate_id) else {
            let context = self.store.load_aggregate(aggregate_id).await?;
            let fresh = Cached {
                aggregate: Arc::new(context.aggregate),
                sequence: context.current_sequence,
            };
            self.remember(aggregate_id, Arc::clone(&fresh.aggregate), fresh.sequence);
            return Ok(fresh);
        };
        let newer = self
            .repo
            .get_last_events::<A>(aggregate_id, cached.sequence)
            .await?;
        if newer.is_empty() {
            return Ok(cached);
        }
        let aggregate = Arc::make_mut(&mut cached.aggregate);
        for serialized in newer {
            let sequence = serialized.sequence;
            let envelope = EventEnvelope::<A>::try_from(serialized)?;
            aggregate.apply(envelope.payload);
            cached.sequence = sequence;
        }
        self.remember(aggregate_id, Arc::clone(&cached.aggregate), cached.sequence);
        Ok(cached)
    }

    /// The aggregate as its events say now (empty if it has none).
    pub async fn load(&self, aggregate_id: &str) -> Result<Arc<A>, AggregateError<A::Error>> {
        Ok(self.refresh(aggregate_id).await?.aggregate)
    }

    /// Whether the store holds an event of `event_type` on `aggregate_id` written by the
    /// command whose metadata names `request_id`. How a caller whose commit was lost with
    /// its connection (committed, the acknowledgement never read) learns that it did
    /// commit: a rare path after a store error, so it reads the whole stream.
    pub async fn stored_by(
        &self,
        aggregate_id: &str,
        event_type: &str,
        request_id: &str,
    ) -> Result<bool, AggregateError<A::Error>> {
        let events = self.repo.get_last_events::<A>(aggregate_id, 0).await?;
        Ok(events.iter().any(|event| {
            event.event_type == event_type
                && event.metadata.get("request_id").and_then(|id| id.as_str()) == Some(request_id)
        }))
    }

    /// The aggregate as this instance last saw it, without reading the store: it may be
    /// behind. For waiters that act only on what it shows and read the store otherwise.
    pub fn peek(&self, aggregate_id: &str) -> Option<Arc<A>> {
        self.cached(aggregate_id).map(|cached| cached.aggregate)
    }

    /// Executes `command` and returns the aggregate as it stands after it, retrying on an
    /// optimistic-concurrency conflict. After [`CONFLICT_ATTEMPTS`] the conflict is returned
    /// to the caller.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Arc<A>, AggregateError<A::Error>> {
        self.run(aggregate_id, command, metadata, false).await
    }

    /// As [`Self::execute`], for an id the caller has just minted (a tranId) or that is new
    /// as a rule (a UETR): the aggregate is taken as empty without reading the store. Were it
    /// not, the append conflicts and the command is decided again on the stored state.
    pub async fn execute_new(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Arc<A>, AggregateError<A::Error>> {
        self.run(aggregate_id, command, metadata, true).await
    }

    /// Decides `command` on a copy of `state`: the one copy a command makes, so that readers
    /// keep the shared state as it was committed. The verdict, the events, and the state
    /// they leave (the sink applies them as they are written).
    async fn decide(
        &self,
        state: &Cached<A>,
        command: A::Command,
    ) -> (Result<(), A::Error>, Vec<A::Event>, A) {
        let mut aggregate = A::clone(&state.aggregate);
        let sink = EventSink::default();
        let decided = aggregate.handle(command, &self.services, &sink).await;
        (decided, sink.collect().await, aggregate)
    }

    async fn run(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        assume_new: bool,
    ) -> Result<Arc<A>, AggregateError<A::Error>> {
        let _turn = self.turns.enter(aggregate_id).await;
        let mut attempt = 1;
        let mut fresh = false;
        loop {
            let state = match self.cached(aggregate_id) {
                Some(cached) if !fresh => cached,
                None if !fresh && assume_new => Cached {
                    aggregate: Arc::default(),
                    sequence: 0,
                },
                _ => {
                    fresh = true;
                    self.refresh(aggregate_id).await?
                }
            };
            let (decided, events, after) = self.decide(&state, command.clone()).await;
            if !fresh && (decided.is_err() || events.is_empty()) {
                fresh = true; // check against the store before refusing or doing nothing
                continue;
            }
            decided.map_err(AggregateError::UserError)?;
            if events.is_empty() {
                return Ok(state.aggregate);
            }
            let after = Arc::new(after);
            let sequence = state.sequence + events.len();
            // Only a command with events to store needs its metadata as text.
            let metadata_json = metadata
                .to_json()
                .map_err(|e| AggregateError::UnexpectedError(e.into()))?;
            let appended = crate::append::append_events::<A>(
                &self.appender,
                aggregate_id,
                state.sequence,
                &events,
                &metadata_json,
            )
            .await
            .map_err(AggregateError::from);
            match appended {
                Ok(()) => {
                    self.remember(aggregate_id, Arc::clone(&after), sequence);
                    self.announce.committed(aggregate_id);
                    return Ok(after);
                }
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_ATTEMPTS => {
                    // The cached state is still a true prefix of the stream (it only ever
                    // holds committed states): the retry reads just the events after it.
                    tracing::debug!(aggregate_id, attempt, "aggregate conflict; retrying");
                    fresh = true;
                    attempt += 1;
                }
                Err(other) => {
                    // Whether it committed is unknown: the next use reads the store.
                    self.forget(aggregate_id);
                    return Err(other);
                }
            }
        }
    }
}

/// Tells the projectors and any local waiter on the aggregate that something committed, so
/// they follow in milliseconds rather than at the next poll. Not a view itself: views read
/// the feed, which misses nothing.
struct AnnounceCommits {
    wakeup: Wakeup,
    waiters: Arc<CommitWaiters>,
}

impl AnnounceCommits {
    fn committed(&self, aggregate_id: &str) {
        self.wakeup.wake_all();
        self.waiters.committed(aggregate_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given a command's metadata, when it is stored, then every event of the command
    /// carries the same JSON object: who, which request and message, when, and the trace.
    #[test]
    fn metadata_is_stored_as_one_json_object() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let metadata = CommandMetadata {
            party: "pos-1".to_owned(),
            request_id: "r-1".to_owned(),
            message_id: Some("m-1".to_owned()),
            received_at: DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            traceparent: TraceParent::parse(traceparent),
        };
        let stored: serde_json::Value = serde_json::from_str(&metadata.to_json().unwrap()).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({
                "party": "pos-1", "request_id": "r-1", "message_id": "m-1",
                "received_at": "2026-12-07T10:00:00+00:00", TRACEPARENT_KEY: traceparent,
            })
        );
        let by_user = CommandMetadata::by_user("ops", "r-2").to_json().unwrap();
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<_, _>>(&by_user)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["party", "received_at", "request_id"]);
    }
}
