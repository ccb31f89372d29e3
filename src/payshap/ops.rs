//! Ops control of PayShap inbound: reload the signing keys (as SIGHUP does) and apply the
//! held unverified completions they now verify; list partner-auth decisions and how their
//! delivery ended. (Applying a held message otherwise takes four eyes: `APPLY_HELD`.)

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use projections::payshap_authorisations::{self, AuthorisationRow};
use serde::{Deserialize, Serialize};

use super::keys::KeyRing;
use super::service::PayShapService;
use super::unverified::{self, Pass};
use crate::http::ApiError;
use crate::security::{Party, Role};
use crate::views::Projectors;

/// Rows one listing returns at most.
const LIST_LIMIT_ROWS: i64 = 1_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ops/payshap")
            .app_data(crate::http::query_errors())
            .route("/keys/reload", web::post().to(reload_keys))
            .route("/authorisations", web::get().to(authorisations)),
    );
}

/// What a reload did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reloaded {
    /// Scheme keys accepted now.
    pub scheme_keys: usize,
    pub unverified: Pass,
}

/// `POST /ops/payshap/keys/reload`: reads every key file again (the keys in force stay if
/// one does not load), then applies, once each, the held completions a key now verifies.
#[utoipa::path(post, path = "/ops/payshap/keys/reload", tag = "ops",
    responses((status = 200, description = "Reloaded; held completions that now verify applied.", body = Reloaded), crate::http::documented::Writes))]
pub async fn reload_keys(
    payshap: web::Data<PayShapService>,
    ring: web::Data<Option<Arc<KeyRing>>>,
    projectors: web::Data<Projectors>,
    party: Party,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let ring = ring
        .as_ref()
        .as_ref()
        .ok_or_else(|| ApiError::conflict("PayShap signing is not configured"))?;
    let scheme_keys = ring
        .reload()
        .map_err(|e| ApiError::conflict(format!("keys not reloaded, those in force stay: {e}")))?;
    let unverified = reverify_now(&payshap, ring, &projectors)
        .await
        .map_err(|e| ApiError::internal("applying held unverified completions", &e))?;
    Ok(HttpResponse::Ok().json(Reloaded {
        scheme_keys,
        unverified,
    }))
}

/// Brings the held messages' view up to date, then tries each unverified one.
pub async fn reverify_now(
    payshap: &PayShapService,
    ring: &KeyRing,
    projectors: &Projectors,
) -> anyhow::Result<Pass> {
    if let Some(view) = projectors.get(projections::payshap_transfers::NAME) {
        view.catch_up_to_head(std::time::Duration::from_millis(
            crate::views::CATCH_UP_LIMIT_MS,
        ))
        .await?;
    }
    unverified::reverify(payshap, &ring.current()).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorisationsQuery {
    /// `PENDING`, `DELIVERED` or `UNDELIVERED`; all when absent.
    delivery: Option<String>,
}

#[utoipa::path(get, path = "/ops/payshap/authorisations", tag = "ops", params(AuthorisationsQuery),
    responses((status = 200, description = "At most 1,000 partner-auth decisions, newest first.", body = Vec<AuthorisationRow>), crate::http::documented::Reads))]
pub async fn authorisations(
    payshap: web::Data<PayShapService>,
    party: Party,
    query: web::Query<AuthorisationsQuery>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let delivery = query.delivery.as_deref().map(str::to_ascii_uppercase);
    if delivery
        .as_deref()
        .is_some_and(|d| !["PENDING", "DELIVERED", "UNDELIVERED"].contains(&d))
    {
        return Err(ApiError::bad_request(
            "delivery must be PENDING, DELIVERED or UNDELIVERED",
        ));
    }
    let rows = payshap_authorisations::list(
        payshap.store.views().pool(),
        delivery.as_deref(),
        LIST_LIMIT_ROWS,
    )
    .await
    .map_err(|e| ApiError::internal("listing partner-auth decisions", &e))?;
    Ok(HttpResponse::Ok().json(rows))
}
