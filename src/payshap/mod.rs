//! PayShap inbound with auto-authorisation, in the ISO 20022 shapes of the regulated
//! payments API (ZA RPP):
//!
//! - [`wire`]: the pieces both messages share, amounts, and the failure response.
//! - [`report`]: the completion (`PaymentStatusReport`) as Electrum sends it.
//! - [`signing`]: ES256 message signatures (`x-jwt-signature`) with the body's digest.
//! - [`keys`]: our signing key and the scheme's verifying key.
//! - [`inbound`]: the signature check before a handler and the signing of its answer.
//! - [`held`]: authentic messages that could not be applied, kept as they came.
//! - [`lookup`]: what a proxy resolves to (registry or pending QR), and each answer's record.
//! - [`resolve`]: `identifier-determination-sync`, answered from the proxy registry (or, for a
//!   QR's CUSTOM proxy, from the pending payment) well inside the scheme's 1 s.
//! - [`credit`]: whether a credit's proxy is ours, and paying the QR payment it names.
//! - [`completion`]: `credit-transfer-completion`: recorded, credited once, 202; an approved
//!   credit for a QR pays that payment.
//! - [`service`]: the parts of the state PayShap inbound works on.
//! - [`answer`]: the typed answer to an identifier determination.
//! - [`admin`]: registering, changing and retiring proxies.

pub mod admin;
pub mod answer;
pub mod completion;
pub mod credit;
pub mod held;
pub mod inbound;
pub mod keys;
pub mod lookup;
pub mod report;
pub mod resolve;
pub mod service;
pub mod signing;
pub mod wire;

use actix_web::web;

pub use wire::{COMPLETION_PATH, RESOLUTION_PATH};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(RESOLUTION_PATH).route(web::post().to(resolve::identifier_determination)),
    )
    .service(
        web::resource(COMPLETION_PATH)
            .route(web::post().to(completion::credit_transfer_completion)),
    )
    .service(
        web::scope("/admin/proxies")
            .route("", web::post().to(admin::register))
            .route("/{proxy_id}", web::get().to(admin::show))
            .route("/{proxy_id}", web::patch().to(admin::change))
            .route("/{proxy_id}", web::delete().to(admin::retire)),
    );
}
