//! Store-and-forward: every advice the switch owes a partner (the POS's confirmations and
//! reversals, and our own timeout reversals) is delivered until the partner answers finally.
//!
//! - [`queue`]: the outbox as a work queue: claims with a lease, attempts, backoff state.
//! - [`backoff`]: retry delays, exponential with jitter.
//! - [`control`]: what ops act on the queue with.
//! - [`dispatcher`]: the background task that claims, sends and records.
//! - [`gauges`]: depth and oldest age by partner, for the metrics.
//!
//! The outbox rows are a projection of `DeliveryScheduled` and the delivery events; only the
//! final answers are events. Retry bookkeeping stays in `saf_attempts` (ADR 0004).

pub mod backoff;
pub mod control;
pub mod dispatcher;
pub mod gauges;
pub mod queue;
