//! qrswitch: an event-sourced QR payment switch.
//!
//! Map of the crate, from the top layer down (docs/architecture.md draws it):
//! - [`cli`] and `main.rs`: the `qrswitch` binary and its subcommands; [`bench`] drives
//!   load and [`demo`] shows the switch at work, both through [`drive`] (a POS lane's
//!   payments over HTTP); [`partner_sim`] and [`scheme_sim`] play a partner and the PayShap
//!   scheme over real HTTP, for demos and tests.
//! - [`server`]: start-up, the one module that knows every route and background task, and
//!   the HTTP Basic middleware in front of them.
//! - [`app`]: the parts of one instance, built once from the configuration.
//! - HTTP surfaces (thin handlers, each taking the parts it uses): [`qr_api`] (`/qr/v1`),
//!   [`payshap`] (PayShap inbound and the proxy registry), [`backoffice`] (reports and
//!   extracts), [`console`] (the operator console's pages at `/backoffice/`), [`ops`] (the
//!   SAF queue), [`http`] (their JSON error type and the probes).
//! - Services (no actix): [`routing`] (a matched payment's authorisation; [`partners`]:
//!   one HTTP client per partner), [`saf`] (store-and-forward delivery), [`sweeper`]
//!   (timing out the forgotten), the PayShap and back-office computations, [`rebuild`],
//!   [`notify`] (commits announced across instances), [`views`] (the projectors).
//! - [`commands`]: executing commands on aggregates (cached, with metadata and conflict
//!   retries); [`turns`]: one command at a time per aggregate here; [`waiters`]: answering
//!   the waiting POS.
//! - [`store`]: the event store (PostgreSQL or SQLite), migrations and readiness;
//!   [`append`]: appends in one statement, grouped across commands.
//! - [`config`]: TOML file plus environment, every limit with its unit; [`security`]:
//!   users, roles, TLS, log masking; [`config_check`]: `qrswitch config check`; [`emv`]: QR payloads; [`qr_wire`]: the messages of
//!   Electrum's QR contract; [`telemetry`]: logging; [`digest`]: SHA-256.
//!
//! The domain lives in the `aggregates` crate (no I/O) and the read models in `projections`.

pub mod app;
pub mod append;
pub mod audit;
pub mod backoffice;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_check;
pub mod console;
pub mod demo;
pub mod digest;
pub mod drive;
pub mod emv;
pub mod http;
pub mod notify;
pub mod openapi;
pub mod ops;
pub mod partner_sim;
pub mod partners;
pub mod payshap;
pub mod qr_api;
pub mod qr_tools;
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
pub mod tools_api;
pub mod turns;
pub mod views;
pub mod vitals;
pub mod waiters;
