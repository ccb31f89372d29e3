//! A deadline for request bodies: a body not complete within `server.body_read_timeout_ms`
//! of the request's start is cut off and answered 408, in its surface's shape, with the
//! connection closed. A client trickling its body would otherwise keep its admission slot
//! (and its buffers) for as long as it cares to.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage, ResponseError};
use futures::{Stream, StreamExt};

use crate::config::Config;
use crate::http::ApiError;
use crate::payshap::wire::FailureResponse;
use crate::qr_api::wire::ErrorType;
use crate::qr_api::QrApiError;

/// The body stream, ended with an error once the deadline passes before its end.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    fired: Arc<AtomicBool>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            self.done = item.is_none();
            return Poll::Ready(item);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            self.done = true;
            self.fired.store(true, Ordering::Relaxed);
            let timed_out = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body not received in time",
            );
            return Poll::Ready(Some(Err(PayloadError::Io(timed_out))));
        }
        Poll::Pending
    }
}

pub async fn body_deadline(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limit = request
        .app_data::<Data<Config>>()
        .map(|config| Duration::from_millis(config.server.body_read_timeout_ms));
    let Some(limit) = limit else {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let fired = Arc::new(AtomicBool::new(false));
    let body = Deadline {
        inner: request.take_payload(),
        timer: Box::pin(tokio::time::sleep(limit)),
        fired: Arc::clone(&fired),
        done: false,
    };
    request.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let response = next.call(request).await?;
    if !fired.load(Ordering::Relaxed) {
        return Ok(response.map_into_left_body());
    }
    metrics::counter!("qrswitch_request_bodies_timed_out_total").increment(1);
    let (request, _) = response.into_parts();
    let status = StatusCode::REQUEST_TIMEOUT;
    let message = "request body not received in time";
    let path = request.path();
    let mut answer = if path.starts_with("/qr/v1") {
        QrApiError::new(status, ErrorType::FormatError, message).error_response()
    } else if crate::payshap::inbound::is_signed_path(path) {
        FailureResponse::timed_out(message).error_response()
    } else {
        ApiError::timed_out(message).error_response()
    };
    answer.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(request, answer).map_into_right_body())
}
