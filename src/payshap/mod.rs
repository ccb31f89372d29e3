//! PayShap inbound with auto-authorisation, in the ISO 20022 shapes of the regulated
//! payments API (ZA RPP):
//!
//! - [`wire`]: the pieces both messages share, amounts, and the failure response.
//! - [`report`]: the completion (`PaymentStatusReport`) as Electrum sends it.
//! - [`signing`]: ES256 message signatures (`x-jwt-signature`) with the body's digest.
//! - [`keys`]: our signing key and the scheme's verifying key.
//! - [`message`]: an inbound message as handlers see it.
//! - [`gate`]: the size and rate bounds on keeping unverified completions.
//! - [`inbound`]: the signature check before a handler and the signing of its answer.
//! - [`held`]: authentic messages that could not be applied, kept as they came.
//! - [`lookup`]: what a proxy resolves to (registry or pending QR), and each answer's record.
//! - [`resolve`]: `identifier-determination-sync`, answered from the proxy registry (or, for a
//!   QR's CUSTOM proxy, from the pending payment) well inside the scheme's 1 s.
//! - [`credit`]: whether a credit's proxy is ours, and paying the QR payment it names.
//! - [`transfer`]: Electrum's partner-auth request (`CreditTransfer`) as it comes.
//! - [`completion`]: `credit-transfer-completion`: recorded, credited once, 202; an approved
//!   credit for a QR pays that payment.
//! - [`service`]: the parts of the state PayShap inbound works on.
//! - [`answer`]: the typed answer to an identifier determination.
//! - [`admin`]: registering, changing and retiring proxies.
//! - [`unverified`]: completions whose signature failed, kept and applied once a key
//!   verifies them (or, through four eyes, a user vouches for them); held messages
//!   applied or closed.
//! - [`authorise`]: partner-auth, `credit-transfer-authorisation`: 202 at once, our
//!   decision recorded and sent to Electrum.
//! - [`electrum`]: our client of Electrum's API (signed calls, bearer token, decisions).
//! - [`cases`], [`approvals`], [`refunds`], [`refund_case`], [`cases_api`]: held credits
//!   worked to closure (apply, attribute, return to the payer, close), four eyes on the
//!   steps that move money, and refunds as outbound credit transfers.
//! - [`manual`]: a manual reversal and new fee terms, through four eyes.
//! - [`recon`], [`recon_api`], [`recon_credit`]: reconciliation with Electrum's files over
//!   S3, and crediting what only Electrum's extract lists.
//! - [`ops`]: reloading the keys (and applying what they now verify), listing
//!   partner-auth decisions.

pub mod admin;
pub mod answer;
pub mod approvals;
pub mod authorise;
pub mod cases;
pub mod cases_api;
pub mod completion;
pub mod credit;
pub mod electrum;
pub mod gate;
pub mod held;
pub mod inbound;
pub mod keys;
pub mod lookup;
pub mod manual;
pub mod message;
pub mod ops;
pub mod priority;
pub mod recon;
pub mod recon_api;
pub mod recon_credit;
pub mod refund_case;
pub mod refunds;
pub mod report;
pub mod resolve;
pub mod service;
pub mod signing;
pub mod transfer;
pub mod unverified;
pub mod wire;

use actix_web::web;

pub use wire::{AUTHORISATION_PATH, COMPLETION_PATH, OUTBOUND_RESULT_PATH, RESOLUTION_PATH};

/// Every PayShap route: the scheme's calls, then the proxy registry, cases, recon and ops.
pub fn configure(cfg: &mut web::ServiceConfig) {
    configure_scheme(cfg);
    cfg.service(
        web::scope("/admin/proxies")
            .route("", web::post().to(admin::register))
            .route("/{proxy_id}", web::get().to(admin::show))
            .route("/{proxy_id}", web::patch().to(admin::change))
            .route("/{proxy_id}", web::delete().to(admin::retire)),
    );
    cases_api::configure(cfg);
    recon_api::configure(cfg);
    ops::configure(cfg);
}

/// The routes Electrum calls: all that the scheme's own listener serves.
pub fn configure_scheme(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(RESOLUTION_PATH).route(web::post().to(resolve::identifier_determination)),
    )
    .service(
        web::resource(COMPLETION_PATH)
            .route(web::post().to(completion::credit_transfer_completion)),
    )
    .service(
        web::resource(AUTHORISATION_PATH)
            .route(web::post().to(authorise::credit_transfer_authorisation)),
    )
    .service(web::resource(OUTBOUND_RESULT_PATH).route(web::post().to(refunds::outbound_result)));
}
