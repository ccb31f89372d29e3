//! Ops control of the store-and-forward queue: list with ages and attempts, retry now, park,
//! unpark. Each action is an event on the payment naming who asked ([`SafControl::act`]).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tracing_actix_web::RequestId;

use crate::commands::CommandMetadata;
use crate::http::ApiError;
use crate::saf::control::{SafAction, SafActionError, SafControl};
use crate::saf::queue;
use crate::security::{Party, Role};

/// Rows one listing returns at most.
const LIST_LIMIT_ROWS: i64 = 1_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ops/saf")
            .app_data(crate::http::query_errors())
            .route("", web::get().to(list))
            .route("/{delivery_id}/{action}", web::post().to(act)),
    );
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `PENDING`, `PARKED`, `DELIVERED` or `REFUSED`; every status when absent.
    status: Option<String>,
}

/// A delivery in the queue, with how long it has waited.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub age_seconds: i64,
    pub delivery: queue::QueueEntry,
}

/// What an action left the delivery as.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionTaken {
    pub delivery_id: String,
    /// `PENDING` or `PARKED`.
    pub status: &'static str,
}

const STATUSES: [&str; 4] = ["PENDING", "PARKED", "DELIVERED", "REFUSED"];

#[utoipa::path(get, path = "/ops/saf", tag = "ops", params(ListQuery),
    responses((status = 200, description = "At most 1,000 deliveries, newest first.", body = Vec<Listed>), crate::http::documented::Reads))]
pub async fn list(
    saf: web::Data<SafControl>,
    party: Party,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let status = query.status.as_deref().map(str::to_ascii_uppercase);
    if let Some(status) = &status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::bad_request(format!(
                "status must be one of {STATUSES:?}"
            )));
        }
    }
    let rows = queue::list(saf.store.views(), status.as_deref(), LIST_LIMIT_ROWS)
        .await
        .map_err(|e| ApiError::internal("listing the SAF queue", &e))?;
    let now = Utc::now();
    let entries: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let age_seconds = chrono::DateTime::parse_from_rfc3339(&row.scheduled_at)
                .map(|t| (now - t.with_timezone(&Utc)).num_seconds())
                .unwrap_or(0);
            Listed {
                age_seconds,
                delivery: row,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(entries))
}

/// `POST /ops/saf/{delivery_id}/{retry|park|unpark}`: recorded on the payment with who asked.
#[utoipa::path(post, path = "/ops/saf/{delivery_id}/{action}", tag = "ops", params(
        ("delivery_id" = String, Path, description = "The delivery, as the queue lists it."),
        ("action" = String, Path, description = "`retry`, `park` or `unpark`.")),
    responses((status = 200, description = "Done, recorded on the payment with who asked.", body = ActionTaken), crate::http::documented::Writes))]
pub async fn act(
    saf: web::Data<SafControl>,
    party: Party,
    request_id: RequestId,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let (delivery_id, action) = path.into_inner();
    let action = SafAction::parse(&action).ok_or_else(ApiError::not_found)?;
    let metadata = CommandMetadata::by_user(party.label("ops"), request_id);
    saf.act(&delivery_id, action, &metadata)
        .await
        .map_err(|e| match e {
            SafActionError::UnknownDelivery => ApiError::not_found(),
            SafActionError::NotInState => ApiError::conflict(e.to_string()),
            SafActionError::Failed(what) => ApiError::internal("ops command failed", &what),
        })?;
    Ok(HttpResponse::Ok().json(ActionTaken {
        delivery_id,
        status: action.status_after(),
    }))
}
