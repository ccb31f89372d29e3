//! Ops control of the store-and-forward queue: list with ages and attempts, retry now, park,
//! unpark. Parking and unparking are events on the payment; "retry now" only moves the next
//! attempt forward.

use actix_web::{web, HttpResponse};
use aggregates::{PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::saf_outbox;
use serde::Deserialize;

use crate::http::ApiError;
use crate::routing::system_metadata;
use crate::saf::control::SafControl;
use crate::saf::queue;
use crate::security::{Party, Role};

/// Rows one listing returns at most.
const LIST_LIMIT_ROWS: i64 = 1_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ops/saf")
            .route("", web::get().to(list))
            .route("/{delivery_id}/retry", web::post().to(retry))
            .route("/{delivery_id}/park", web::post().to(park))
            .route("/{delivery_id}/unpark", web::post().to(unpark)),
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

async fn tran_id_of(saf: &SafControl, delivery_id: &str) -> Result<String, ApiError> {
    saf_outbox::find(saf.store.views().pool(), delivery_id)
        .await
        .map_err(|e| ApiError::internal("reading the SAF outbox", &e))?
        .map(|row| row.tran_id)
        .ok_or_else(ApiError::not_found)
}

async fn retry(
    saf: web::Data<SafControl>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    tran_id_of(&saf, &path).await?;
    let moved = queue::due_now(saf.store.views(), &path, false)
        .await
        .map_err(|e| ApiError::internal("rescheduling a delivery", &e))?;
    saf.wakeup.wake_all();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveryId": *path, "dueNow": moved })))
}

async fn park(
    saf: web::Data<SafControl>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let tran_id = tran_id_of(&saf, &path).await?;
    let command = PaymentCommand::ParkDelivery {
        delivery_id: path.clone(),
        reason: "parked by ops".to_owned(),
        at: Utc::now(),
    };
    execute(&saf, &tran_id, command).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveryId": *path, "status": "PARKED" })))
}

async fn unpark(
    saf: web::Data<SafControl>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let tran_id = tran_id_of(&saf, &path).await?;
    let command = PaymentCommand::UnparkDelivery {
        delivery_id: path.clone(),
        at: Utc::now(),
    };
    execute(&saf, &tran_id, command).await?;
    queue::due_now(saf.store.views(), &path, true)
        .await
        .map_err(|e| ApiError::internal("rescheduling a delivery", &e))?;
    saf.wakeup.wake_all();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveryId": *path, "status": "PENDING" })))
}

async fn execute(saf: &SafControl, tran_id: &str, command: PaymentCommand) -> Result<(), ApiError> {
    match saf
        .payments
        .execute(tran_id, command, &system_metadata())
        .await
    {
        Ok(_) => Ok(()),
        Err(AggregateError::UserError(PaymentError::DeliveryNotInState(_))) => Err(
            ApiError::conflict("the delivery is not in a state that allows this"),
        ),
        Err(AggregateError::UserError(PaymentError::UnknownDelivery(_))) => {
            Err(ApiError::not_found())
        }
        Err(other) => Err(ApiError::internal("ops command failed", &other)),
    }
}
