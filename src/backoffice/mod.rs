//! The back office: reconciliation, settlement and fees, exceptions and finance extracts,
//! for finance teams.
//!
//! - [`calendar`]: the business day (time zone and cut-off).
//! - [`day`]: one day's rows from the recon and PayShap views; every report below is a pure
//!   function of it.
//! - [`report`]: counts and amounts by stage, partner, retailer, store and lane.
//! - [`settlement`]: gross, fees and net per partner and retailer, line by line.
//! - [`matching`]: three-way matching against the partners' settlement files.
//! - [`exceptions`]: what finance must look at.
//! - [`markoff`]: the daily mark-off extract of PayShap credits (CSV).
//! - [`statement`]: parsing partner files; [`import`]: importing one; [`fees`]: fee terms
//!   from the configuration.
//! - [`service`]: the parts of the state the back office works on.
//! - [`api`] (JSON and CSV; its answers and parameters in [`answers`]) and [`extract`] (CSV conventions). The pages people use are the
//!   operator console's.

pub mod answers;
pub mod api;
pub mod as_of;
pub mod calendar;
pub mod day;
pub mod exceptions;
pub mod extract;
pub mod fees;
pub mod import;
pub mod markoff;
pub mod matching;
pub mod report;
pub mod service;
pub mod settlement;
pub mod statement;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig, statement_max_bytes: usize) {
    cfg.service(
        web::resource("/backoffice/payshap/markoff.csv")
            .app_data(crate::http::query_errors())
            .route(web::get().to(markoff::extract)),
    )
    .service(
        web::scope("/backoffice/api")
            .app_data(crate::http::query_errors())
            .route("/fees", web::get().to(api::fee_terms))
            .route("/days/{day}/report", web::get().to(api::report))
            .route(
                "/days/{day}/settlement",
                web::get().to(api::settlement_extract),
            )
            .route(
                "/days/{day}/exceptions",
                web::get().to(api::exceptions_extract),
            )
            .route("/days/{day}/matching", web::get().to(api::matching_extract))
            .route("/days/{day}/markoff", web::get().to(api::markoff_extract))
            .service(
                web::resource("/days/{day}/statements/{partner_id}")
                    .app_data(web::PayloadConfig::new(statement_max_bytes))
                    .route(web::post().to(api::import_statement)),
            ),
    );
}
