//! qrswitch: an event-sourced QR payment switch.
//!
//! Map of the crate:
//! - [`cli`] and `main.rs`: the `qrswitch` binary and its subcommands.
//! - [`config`]: TOML file plus environment; every limit with its unit.
//! - [`store`]: the event store (postgres-es or sqlite-es behind one seam), migrations and
//!   readiness.
//! - [`commands`]: executing commands on aggregates (cached, with metadata and conflict
//!   retries); [`turns`]: one command at a time per aggregate here; [`append`]: a
//!   command's events in one statement.
//! - [`app`]: the state one instance's handlers and background tasks share.
//! - [`server`]: start-up: every route and every background task, wired over the state;
//!   [`notify`]: commits announced across instances.
//! - [`http`]: what the HTTP surfaces share (error type, probes); [`qr_api`] is the
//!   `/qr/v1` surface.
//! - [`emv`]: EMV merchant-presented QR payloads (encode, decode, validate).
//! - [`qr_wire`]: the messages of Electrum's QR contract, for the surface and the services.
//! - [`routing`]: sending a matched payment's authorisation to its partner ([`partners`]:
//!   one HTTP client per partner).
//! - [`views`]: the instance's projectors, for handlers that read their own writes.
//! - [`waiters`] and [`sweeper`]: answering the waiting POS, and timing out the forgotten.
//! - [`saf`]: store-and-forward delivery of advices to partners; [`ops`] controls it.
//! - [`payshap`]: PayShap inbound (proxy resolution, credit completions, registry admin,
//!   mark-off extract).
//! - [`backoffice`]: recon by business day, fees and settlement, three-way matching of
//!   partner files, exceptions, finance extracts and the `/backoffice/` page.
//! - [`security`]: TLS, HTTP Basic users and roles, log masking.
//! - [`partner_sim`]: a partner over real HTTP, for demos and tests; [`scheme_sim`] plays
//!   the PayShap scheme side (signed messages); [`bench`] drives load.
//! - [`rebuild`]: rebuilding read models from the events.
//! - [`telemetry`]: logging setup.
//!
//! The domain lives in the `aggregates` crate (no I/O) and the read models in `projections`.
//! docs/architecture.md draws the layers and the path of one payment through them.

pub mod app;
pub mod append;
pub mod backoffice;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod digest;
pub mod emv;
pub mod http;
pub mod notify;
pub mod ops;
pub mod partner_sim;
pub mod partners;
pub mod payshap;
pub mod qr_api;
pub mod qr_wire;
pub mod rebuild;
pub mod routing;
pub mod saf;
pub mod scheme_sim;
pub mod security;
pub mod server;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod turns;
pub mod views;
pub mod waiters;
