//! The request's span, parented by the caller's `traceparent` when spans are exported, with
//! room for the tranId and UETR that a handler learns. Never an MSISDN or any other proxy
//! value: the target is recorded with every long digit run masked (a proxy can be a path
//! segment, `/admin/proxies/MOBILE|shop|0821234567`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use super::context::{self, TraceParent};
use crate::security::mask;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = request.method().as_str();
        let route = request.match_pattern().unwrap_or_default();
        let target = request.uri().path_and_query().map_or("", |p| p.as_str());
        let request_id = request.extensions().get::<RequestId>().copied();
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let span = tracing::info_span!(
            "HTTP request",
            http.method = method,
            http.route = %route,
            http.target = %mask::digit_runs(target),
            http.flavor = ?request.version(),
            http.user_agent = user_agent,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            request_id = request_id.map(|id| id.to_string()).unwrap_or_default(),
            trace_id = Empty,
            tran_id = Empty,
            uetr = Empty,
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        );
        let callers = TraceParent::of_headers(request.headers());
        context::adopt(&span, callers.as_ref());
        if let Some(trace_id) = context::trace_id(&span, callers.as_ref()) {
            span.record("trace_id", trace_id);
        }
        span
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Names the payment the current request is about on its span.
pub fn record_tran_id(tran_id: &str) {
    Span::current().record("tran_id", tran_id);
}

/// Names the PayShap transfer the current request is about on its span.
pub fn record_uetr(uetr: &str) {
    Span::current().record("uetr", uetr);
}
