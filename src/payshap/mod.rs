//! PayShap inbound with auto-authorisation, in the ISO 20022 shapes of the regulated
//! payments API (ZA RPP):
//!
//! - [`wire`]: the request and report messages, and the failure response (FF02, CH21).
//! - [`resolve`]: `identifier-determination-sync`, answered from the proxy registry (or, for a
//!   QR's CUSTOM proxy, from the pending payment) well inside the scheme's 1 s.
//! - [`completion`]: `credit-transfer-completion`: recorded, credited once, 202; an approved
//!   credit for a QR pays that payment.
//! - [`admin`]: registering, changing and retiring proxies.
//! - [`markoff`]: the daily mark-off extract of inbound credits (CSV).

pub mod admin;
pub mod completion;
pub mod markoff;
pub mod resolve;
pub mod wire;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/identifiers/inbound/identifier-determination-sync",
        web::post().to(resolve::identifier_determination),
    )
    .route(
        "/transactions/inbound/credit-transfer-completion",
        web::post().to(completion::credit_transfer_completion),
    )
    .service(
        web::scope("/admin/proxies")
            .route("", web::post().to(admin::register))
            .route("/{proxy_id}", web::get().to(admin::show))
            .route("/{proxy_id}", web::patch().to(admin::change))
            .route("/{proxy_id}", web::delete().to(admin::retire)),
    )
    .route(
        "/backoffice/payshap/markoff.csv",
        web::get().to(markoff::extract),
    );
}
