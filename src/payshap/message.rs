//! An inbound PayShap message as the handlers see it: its bytes, who sent it (proven by
//! signature or HTTP Basic, by [`super::inbound`]), and the headers kept with it.

use std::collections::BTreeMap;

use actix_web::web;

/// An inbound PayShap request whose sender is proven: by signature when signing is
/// configured, else by HTTP Basic with the scheme role.
pub struct SchemeMessage {
    pub body: web::Bytes,
    /// Who sent it, as recorded on events.
    pub party: String,
    pub endpoint: String,
    pub headers: BTreeMap<String, String>,
    /// The W3C trace id from `traceparent`, logged with the UETR.
    pub trace_id: Option<String>,
}

impl SchemeMessage {
    /// A message kept earlier, as it came (for one applied later).
    pub fn kept(
        body: web::Bytes,
        party: String,
        endpoint: &str,
        headers: BTreeMap<String, String>,
    ) -> Self {
        let trace_id = headers.get("traceparent").and_then(|t| trace_id(t));
        Self {
            body,
            party,
            endpoint: endpoint.to_owned(),
            headers,
            trace_id,
        }
    }

    /// The sender's W3C `traceparent`, if well formed.
    pub fn traceparent(&self) -> Option<crate::telemetry::context::TraceParent> {
        self.headers
            .get(crate::telemetry::context::HEADER)
            .and_then(|t| crate::telemetry::context::TraceParent::parse(t))
    }
}

/// `traceparent` is `version-traceid-parentid-flags`; the trace id is 32 hex digits.
fn trace_id(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    (trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| trace.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn the_trace_id_is_read_from_traceparent() {
        assert_eq!(
            trace_id("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(trace_id("garbage"), None);
        assert_eq!(trace_id("00-abc-def-01"), None);
    }
}
