//! Recon with Electrum over HTTP: run a day now (ops; `serve` also runs it daily) and read
//! a day's differences (finance). A completion missing at us is credited through four eyes
//! (`CREDIT_FROM_RECON` at `/backoffice/api/approvals`).

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use tracing_actix_web::RequestId;

use super::recon::run::{Recon, Summary};
use super::service::PayShapService;
use crate::commands::CommandMetadata;
use crate::http::ApiError;
use crate::security::{Party, Role};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ops/payshap/recon/electrum/{day}").route(web::post().to(run)))
        .service(
            web::resource("/backoffice/api/recon/electrum/{day}").route(web::get().to(differences)),
        );
}

fn day(text: &str) -> Result<NaiveDate, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request("the day is YYYY-MM-DD"))
}

/// `POST /ops/payshap/recon/electrum/{day}`: uploads our mark-off and compares Electrum's
/// files for the transaction date `day`; what was done before is not done again.
#[utoipa::path(post, path = "/ops/payshap/recon/electrum/{day}", tag = "ops",
    params(("day" = String, Path, description = "The transaction date, YYYY-MM-DD.")),
    responses((status = 200, description = "What this run did.", body = Summary), crate::http::documented::Writes))]
pub async fn run(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let day = day(&path)?;
    if payshap.config.payshap.recon.is_none() {
        return Err(ApiError::conflict(
            "recon with Electrum is not configured ([payshap.recon])",
        ));
    }
    let metadata = CommandMetadata::by_user(party.label("ops"), request_id);
    let recon = Recon::from(payshap.get_ref());
    let summary = recon
        .run(day, &metadata)
        .await
        .map_err(|e| ApiError::unavailable("RECON_FAILED", e.to_string()))?;
    Ok(HttpResponse::Ok().json(summary))
}

/// `GET /backoffice/api/recon/electrum/{day}`: every difference recon found for the day.
#[utoipa::path(get, path = "/backoffice/api/recon/electrum/{day}", tag = "finance",
    params(("day" = String, Path, description = "The transaction date, YYYY-MM-DD.")),
    responses((status = 200, description = "The differences, by UETR.", body = Object), crate::http::documented::Reads))]
pub async fn differences(
    payshap: web::Data<PayShapService>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Backoffice, Role::Ops, Role::Auditor, Role::Approver])?;
    let day = day(&path)?;
    let recon = payshap
        .recons
        .load(&day.to_string())
        .await
        .map_err(|e| ApiError::internal("reading a recon", &e))?;
    Ok(HttpResponse::Ok().json(recon.differences()))
}
