//! Every integration test in one binary: the crate and its dependencies are linked once for
//! all of them. Each module is one area; `common` holds the shared fixtures.

#[macro_use]
mod common;

mod as_of;
mod audit;
mod backoffice;
mod backup;
mod config_check;
mod console;
mod console_browser;
mod console_search;
mod database_outage;
mod demo;
mod disk_full;
mod electrum_recon;
mod emv_independent;
mod event_store;
mod event_versions;
mod ha_failover;
mod hostile;
mod invariants;
mod layout;
mod metrics;
mod network_faults;
mod openapi;
mod overload;
mod packaging;
mod partner_outage;
mod payshap;
mod payshap_cases;
mod payshap_keys;
mod payshap_listener;
mod payshap_partner_auth;
mod payshap_refund_payer;
mod payshap_signed;
mod payshap_unverified;
mod payshap_wire;
mod postgres_restart;
mod projections;
mod qr_interop;
mod qr_payments;
mod saf;
mod scale_out;
mod security;
mod service;
mod slow_clients;
mod tamper;
mod traces;
