//! Read models for qrswitch, fed from the event store's global feed.
//!
//! - [`db`]: the backend-neutral connection the views live behind (PostgreSQL or SQLite).
//! - [`feed`]: every stored event, in commit order, with its [`feed::FeedPosition`].
//! - [`position`]: where an event stands in the feed.
//! - [`error`]: what can go wrong while a view follows the feed.
//! - [`projection`]: the trait a read model implements and its error type.
//! - [`projector`]: runs one projection: catch-up from a checkpoint kept in the same
//!   transaction as the view rows, rebuild from scratch, health for `/ready`.
//! - [`rebuild`]: every view (or one) replayed from the whole feed in one transaction.
//! - [`scratch`]: views as they stood at a past feed position, in a scratch database.
//! - [`group`]: one pass (one transaction, one feed read) for every projection.
//! - [`runner`]: keeps the projections caught up in the background (woken and polling).
//! - [`payment_status`]: where each payment stands.
//! - [`saf_outbox`]: what the switch still owes each partner (store-and-forward).
//! - [`proxy_registry`] and [`payshap_transfers`]: PayShap proxies and inbound credits.
//! - [`approvals`]: four eyes on money-moving actions; [`refunds`]: held money going back.
//! - [`payshap_authorisations`]: partner-auth requests, our decisions and their delivery
//!   (rows of the `payshap_transfers` projection).
//! - [`rows`]: a batch's view rows read and written by key, a few statements per batch.
//! - [`recon`]: the back office's rows: payments, advice deliveries, fee terms and the
//!   partners' settlement files.
//! - [`search`]: finding payments and PayShap transfers for the operator console.
//!
//! The event commit and the view update are separate transactions on purpose: a view can be
//! behind, but never wrong, and catch-up from the checkpoint closes any gap (docs/adr/0002).

pub mod approvals;
pub mod chain;
pub mod db;
pub mod error;
pub mod feed;
pub mod fresh_deliveries;
pub mod group;
pub mod history;
pub mod ledger;
pub mod payment_status;
pub mod payshap_authorisations;
pub mod payshap_transfers;
pub mod position;
pub mod projection;
pub mod projector;
pub mod proxy_registry;
pub mod rebuild;
pub mod recon;
pub mod refunds;
pub mod rows;
pub mod runner;
pub mod saf_outbox;
pub mod scratch;
pub mod search;
pub mod time;

pub use db::{Backend, ViewDb};
pub use feed::{FeedPosition, StoredEvent};
pub use projection::{Projection, ProjectionError};
pub use projector::{ProjectionHealth, Projector};
