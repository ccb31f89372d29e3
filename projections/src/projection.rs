//! What a read model is: a name, the tables it owns, and how one event changes them.

use async_trait::async_trait;
use sqlx::AnyConnection;

pub use crate::error::ProjectionError;
use crate::feed::StoredEvent;

/// A read model fed from the global feed.
///
/// `apply` runs inside the projector's transaction, which also moves the checkpoint: either
/// both the rows and the checkpoint change, or neither does. It must be deterministic (no
/// clock, no randomness) so that a rebuild yields the same rows as the live view.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Stable name; the key of the checkpoint and of `qrswitch rebuild --projection`.
    fn name(&self) -> &'static str;

    /// Tables emptied before a rebuild.
    fn tables(&self) -> &'static [&'static str];

    /// The only event types whose payload and metadata this view reads, if it reads few:
    /// a pass of its own then fetches the others' positions and types but not their
    /// bodies. `None` (the default): every event whole.
    fn event_types(&self) -> Option<&'static [&'static str]> {
        None
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError>;

    /// Applies a batch, in feed order, with the same result as `apply` on each event in
    /// turn. A view whose rows many events of one batch touch overrides this to read and
    /// write each row once per batch rather than once per event.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(conn, event).await?;
        }
        Ok(())
    }

    /// Called after the transaction that applied a batch committed: what a projection
    /// wants to tell this process about its new rows (the outbox tells the dispatcher).
    fn committed(&self) {}
}
