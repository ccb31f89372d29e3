//! Ops control of the store-and-forward queue: list with ages and attempts, retry now, park,
//! unpark. Each action is an event on the payment naming who asked ([`SafControl::act`]).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
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
            .route("", web::get().to(list))
            .route("/{delivery_id}/{action}", web::post().to(act)),
    );
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

const STATUSES: [&str; 4] = ["PENDING", "PARKED", "DELIVERED", "REFUSED"];

async fn list(
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
            serde_json::json!({ "ageSeconds": age_seconds, "delivery": row })
        })
        .collect();
    Ok(HttpResponse::Ok().json(entries))
}

/// `POST /ops/saf/{delivery_id}/{retry|park|unpark}`: recorded on the payment with who asked.
async fn act(
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
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "deliveryId": delivery_id,
        "status": action.status_after(),
    })))
}
