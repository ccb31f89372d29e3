//! Per-endpoint request counts and latency: `qrswitch_http_request_seconds` by method, route
//! pattern (never the raw path, whose ids would make a series per payment) and status. The
//! histogram's `_count` is the request count.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Requests no route matched share one series.
const UNMATCHED: &str = "unmatched";

pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let answered = next.call(request).await;
    let status = match &answered {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    metrics::histogram!(
        "qrswitch_http_request_seconds",
        "method" => method,
        "route" => route,
        "status" => status.as_str().to_owned(),
    )
    .record(started.elapsed().as_secs_f64());
    answered
}
