//! The auditors' way in: every event of the store, read-only. One payment's whole story by
//! tranId, any aggregate's stream by type and id, the global feed from a position (for
//! loading a warehouse), and a business day's events as NDJSON, streamed in pages so that
//! memory stays flat however long the day was. Readable by the roles that read the books
//! ([`crate::security::Role::READS_BOOKS`]); nothing here writes.

pub mod api;
pub mod command;
pub mod export;
pub mod invariants;
pub mod record;
pub mod replay;
pub mod verify;

use actix_web::web;

/// Registered before the back office's own scope: the day's digest is published beside the
/// day's reports, under `/backoffice/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/backoffice/api/days/{day}/digest",
        web::get().to(api::day_digest),
    )
    .service(
        web::scope("/audit")
            .app_data(crate::http::query_errors())
            .route(
                "/payments/{tran_id}/events",
                web::get().to(api::payment_events),
            )
            .route(
                "/streams/{aggregate_type}/{aggregate_id}/events",
                web::get().to(api::stream_events),
            )
            .route("/feed", web::get().to(api::feed))
            .route("/days/{day}/events.ndjson", web::get().to(api::day_events))
            .route("/days/{day}/digest", web::get().to(api::day_digest)),
    );
}
