//! One HTTP client per configured partner, each with that partner's CA and our client
//! certificate: shared by the authorisation routing and the store-and-forward dispatcher,
//! which make each call as a [`PartnerCall`].

use std::collections::HashMap;
use std::time::Instant;

use crate::config::PartnerConfig;
use crate::telemetry::context::{self, TraceParent};

pub struct PartnerClients {
    clients: HashMap<String, reqwest::Client>,
}

impl PartnerClients {
    /// A client for every partner in `partners` (enabled or not: deliveries are still owed
    /// to a disabled one).
    pub fn build(partners: &[PartnerConfig]) -> anyhow::Result<Self> {
        let clients = partners
            .iter()
            .map(|p| Ok((p.id.clone(), crate::security::tls::partner_client(p)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { clients })
    }

    /// The client for calls to `partner_id` (configured partners only).
    pub fn get(&self, partner_id: &str) -> Option<&reqwest::Client> {
        self.clients.get(partner_id)
    }
}

/// One call to a partner: its span, a child of the trace the call belongs to (the POS's
/// request, or the advice's); the `traceparent` it carries; and its latency and outcome in
/// `qrswitch_partner_call_seconds`. The span names the tranId, never a customer's number.
pub struct PartnerCall {
    span: tracing::Span,
    kept: Option<TraceParent>,
    partner: String,
    operation: &'static str,
    started: Instant,
}

impl PartnerCall {
    /// `kept`: the `traceparent` stored with what the call carries out.
    pub fn start(
        partner: &str,
        operation: &'static str,
        tran_id: &str,
        kept: Option<&str>,
    ) -> Self {
        let span = tracing::info_span!(
            "partner call",
            otel.kind = "client",
            partner,
            operation,
            tran_id,
            outcome = tracing::field::Empty,
        );
        let kept = kept.and_then(TraceParent::parse);
        context::adopt(&span, kept.as_ref());
        Self {
            span,
            kept,
            partner: partner.to_owned(),
            operation,
            started: Instant::now(),
        }
    }

    /// The partner's path called.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// `request` with the call's `traceparent`.
    pub fn traced(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let _inside = self.span.enter();
        match context::outgoing(self.kept.as_ref()) {
            Some(traceparent) => request.header(context::HEADER, traceparent),
            None => request,
        }
    }

    /// Ends the call's span with its `outcome`, and counts it.
    pub fn finish(self, outcome: &'static str) {
        self.span.record("outcome", outcome);
        metrics::histogram!(
            "qrswitch_partner_call_seconds",
            "partner" => self.partner,
            "operation" => self.operation,
            "outcome" => outcome,
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}
