//! `[tracing]`: OpenTelemetry traces across parties, off unless an OTLP endpoint is named.

use serde::Deserialize;

/// How spans travel to the collector (OTLP over HTTP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "http/json")]
    HttpJson,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// The collector's OTLP/HTTP base, e.g. `http://127.0.0.1:4318`; spans go to
    /// `{base}/v1/traces`. None: no spans are exported, and a caller's `traceparent` is
    /// passed on to partners unchanged.
    pub otlp_endpoint: Option<String>,
    pub otlp_protocol: OtlpProtocol,
    /// `service.name` of our spans: one per deployment, so instances share it.
    pub service_name: String,
    /// Share of new traces sampled, 0 to 1; a caller's sampling decision is kept.
    pub sample_ratio: f64,
    /// Longest one export to the collector may take.
    pub export_timeout_ms: u64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            otlp_protocol: OtlpProtocol::HttpProtobuf,
            service_name: "qrswitch".to_owned(),
            sample_ratio: 1.0,
            export_timeout_ms: 5_000,
        }
    }
}

impl TracingConfig {
    /// Every problem of these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(endpoint) = &self.otlp_endpoint {
            let scheme_ok = endpoint.starts_with("http://") || endpoint.starts_with("https://");
            if !scheme_ok || reqwest::Url::parse(endpoint).is_err() {
                problems.push(format!(
                    "tracing.otlp_endpoint {endpoint:?} is not an http(s) URL"
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            problems.push(format!(
                "tracing.sample_ratio {} is not within 0 to 1",
                self.sample_ratio
            ));
        }
        if self.service_name.trim().is_empty() {
            problems.push("tracing.service_name is empty".to_owned());
        }
        if self.export_timeout_ms == 0 {
            problems.push("tracing.export_timeout_ms must be above 0".to_owned());
        }
        problems
    }
}
