//! The request's span: tracing-actix-web's, parented by the caller's `traceparent` when
//! spans are exported, with room for the tranId and UETR that a handler learns. Never an
//! MSISDN or any other proxy value: those stay out of every span.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing_actix_web::root_span!(request, tran_id = Empty, uetr = Empty)
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
