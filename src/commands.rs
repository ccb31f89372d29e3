//! Executing commands: load the aggregate, decide, append with optimistic concurrency, and
//! wake the projectors. Every event carries who asked, on which request, and when.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query};
use projections::runner::Wakeup;

use crate::store::{EventRepository, Store};
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
}

impl CommandMetadata {
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("party".to_owned(), self.party.clone()),
            ("request_id".to_owned(), self.request_id.clone()),
            ("received_at".to_owned(), self.received_at.to_rfc3339()),
        ]);
        if let Some(message_id) = &self.message_id {
            map.insert("message_id".to_owned(), message_id.clone());
        }
        map
    }
}

/// Runs commands for one aggregate type.
pub struct CommandBus<A: Aggregate + 'static> {
    cqrs: CqrsFramework<A, PersistedEventStore<EventRepository, A>>,
    reader: PersistedEventStore<EventRepository, A>,
}

impl<A> CommandBus<A>
where
    A: Aggregate + 'static,
    A::Command: Clone,
{
    pub fn new(
        store: &Store,
        wakeup: Wakeup,
        waiters: Arc<CommitWaiters>,
        services: A::Services,
    ) -> Self {
        let event_store = PersistedEventStore::new_event_store(store.event_repository());
        let announce: Box<dyn Query<A>> = Box::new(AnnounceCommits { wakeup, waiters });
        Self {
            cqrs: CqrsFramework::new(event_store, vec![announce], services),
            reader: PersistedEventStore::new_event_store(store.event_repository()),
        }
    }

    /// The aggregate as its events say now (empty if it has none).
    pub async fn load(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>> {
        Ok(self.reader.load_aggregate(aggregate_id).await?.aggregate)
    }

    /// Executes `command`, retrying on an optimistic-concurrency conflict. After
    /// [`CONFLICT_ATTEMPTS`] the conflict is returned to the caller.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<(), AggregateError<A::Error>> {
        let mut attempt = 1;
        loop {
            let result = self
                .cqrs
                .execute_with_metadata(aggregate_id, command.clone(), metadata.to_map())
                .await;
            match result {
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_ATTEMPTS => {
                    tracing::debug!(aggregate_id, attempt, "aggregate conflict; retrying");
                    attempt += 1;
                }
                other => return other,
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

#[async_trait]
impl<A: Aggregate> Query<A> for AnnounceCommits {
    async fn dispatch(&self, aggregate_id: &str, _events: &[EventEnvelope<A>]) {
        self.wakeup.wake_all();
        self.waiters.committed(aggregate_id);
    }
}
