//! Admission: at most `server.max_in_flight_requests` requests are handled at once (a `pay`
//! waiting on a partner counts). Past it a request is refused at once, before any work is
//! done for it, with 503 and `Retry-After`, in the shape of its surface, so that the
//! requests already accepted keep their latency and the excess costs almost nothing.
//! The probes are always answered.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use tokio::sync::Semaphore;

use crate::http::ApiError;
use crate::qr_api::wire::ErrorType;
use crate::qr_api::QrApiError;

/// The slots requests take while they are handled.
pub struct Admission {
    slots: Arc<Semaphore>,
}

impl Admission {
    pub fn new(max_in_flight_requests: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_in_flight_requests.max(1))),
        }
    }
}

pub async fn admit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // Probes must answer under load; a PayShap completion is must-deliver money that is
    // stored before it is answered, so it is never shed, nor is a partner-auth request (a
    // shed one is a declined payment); a resolution may be, signed.
    if matches!(
        request.path(),
        "/health"
            | "/ready"
            | crate::payshap::COMPLETION_PATH
            | crate::payshap::AUTHORISATION_PATH
            | crate::payshap::OUTBOUND_RESULT_PATH
    ) {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let permit = request
        .app_data::<web::Data<Admission>>()
        .and_then(|admission| Arc::clone(&admission.slots).try_acquire_owned().ok());
    let Some(_permit) = permit else {
        metrics::counter!("qrswitch_requests_shed_total").increment(1);
        return Ok(refuse(request));
    };
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn refuse<B>(request: ServiceRequest) -> ServiceResponse<EitherBody<B>> {
    let (request, _) = request.into_parts();
    let status = StatusCode::SERVICE_UNAVAILABLE;
    // Both error types say `Retry-After` on a 503.
    let response = if request.path().starts_with("/qr/v1") {
        QrApiError::new(status, ErrorType::GeneralError, "busy, try again shortly").error_response()
    } else if crate::payshap::inbound::is_signed_path(request.path()) {
        crate::payshap::wire::FailureResponse::busy().error_response()
    } else {
        ApiError::unavailable("OVERLOADED", "busy, try again shortly").error_response()
    };
    ServiceResponse::new(request, response).map_into_right_body()
}
