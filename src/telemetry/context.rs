//! W3C trace context (`traceparent`) in and out.
//!
//! A caller's `traceparent` is kept with what it caused (the payment's request, an advice's
//! delivery), so that a partner call made later, or by another instance, still belongs to
//! the caller's trace. With traces exported, a call carries our own span as the parent;
//! without, the caller's `traceparent` is passed on as it came, as W3C allows a participant
//! that records nothing to do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header, in the lower case W3C gives it.
pub const HEADER: &str = "traceparent";

/// `00-` + 32 hex + `-` + 16 hex + `-` + 2 hex.
const LENGTH: usize = 55;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Spans are exported from now on (set once by `telemetry::init`).
pub fn enable() {
    EXPORTING.store(true, Ordering::Relaxed);
}

fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// A well-formed `traceparent` of version 00: anything else a caller sends is ignored, never
/// stored or passed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent(String);

impl TraceParent {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let parts: Vec<&str> = text.split('-').collect();
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let zero = |s: &str| s.bytes().all(|b| b == b'0');
        let ok = text.len() == LENGTH
            && parts.len() == 4
            && parts[0] == "00"
            && hex(parts[1], 32)
            && !zero(parts[1])
            && hex(parts[2], 16)
            && !zero(parts[2])
            && hex(parts[3], 2);
        ok.then(|| Self(text.to_owned()))
    }

    /// The caller's, from a request's headers.
    pub fn of_request(request: &actix_web::HttpRequest) -> Option<Self> {
        Self::of_headers(request.headers())
    }

    pub fn of_headers(headers: &actix_web::http::header::HeaderMap) -> Option<Self> {
        headers
            .get(HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32 hex digits naming the whole trace.
    pub fn trace_id(&self) -> &str {
        &self.0[3..35]
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The trace what a request causes belongs to, as a handler's extractor (never refuses a
/// request): the request's own span when spans are exported (a child of the caller's), else
/// the caller's `traceparent` as it came.
pub struct CallerTrace(pub Option<TraceParent>);

impl actix_web::FromRequest for CallerTrace {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(
        request: &actix_web::HttpRequest,
        _: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let callers = TraceParent::of_request(request);
        let ours = outgoing(callers.as_ref()).and_then(|t| TraceParent::parse(&t));
        std::future::ready(Ok(Self(ours)))
    }
}

/// Makes `span` a child of `parent` (a `traceparent` kept from an earlier request), when
/// spans are exported.
pub fn adopt(span: &tracing::Span, parent: Option<&TraceParent>) {
    let Some(parent) = parent.filter(|_| exporting()) else {
        return;
    };
    let carrier = HashMap::from([(HEADER.to_owned(), parent.0.clone())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(context);
}

/// The trace id to log beside `span`: its own when spans are exported, else the caller's.
pub fn trace_id(span: &tracing::Span, callers: Option<&TraceParent>) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    if exporting() {
        let context = span.context();
        let ours = context.span().span_context().trace_id();
        if ours != opentelemetry::trace::TraceId::INVALID {
            return Some(ours.to_string());
        }
    }
    callers.map(|t| t.trace_id().to_owned())
}

/// The `traceparent` a call made now carries: the current span when spans are exported,
/// else `kept` (the caller's) as it came.
pub fn outgoing(kept: Option<&TraceParent>) -> Option<String> {
    if exporting() {
        let mut carrier = HashMap::new();
        let context = tracing::Span::current().context();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        if let Some(ours) = carrier.remove(HEADER) {
            return Some(ours);
        }
    }
    kept.map(|t| t.0.clone())
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn only_a_well_formed_version_00_traceparent_is_kept() {
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let parsed = TraceParent::parse(good).expect("well formed");
        assert_eq!(parsed.trace_id(), "0af7651916cd43dd8448eb211c80319c");
        for bad in [
            "",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01x",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }
}
