//! Logging and traces.
//!
//! Logging: `tracing` with an env filter (`RUST_LOG`, else the configured filter), as text or
//! JSON lines. HTTP requests run inside a span carrying their request id (and the tranId or
//! UETR once known), so every line logged while serving a request names it, and each request
//! ends with one line (span close) that carries its status and duration.
//!
//! Traces ([`export`], [`context`]): with `[tracing] otlp_endpoint` set, every span also
//! becomes an OpenTelemetry span exported over OTLP/HTTP, a caller's W3C `traceparent`
//! parents the request's span, and the partner calls carry ours on.

pub mod context;
mod export;
mod spans;

use std::io::IsTerminal;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, LoggingConfig, TracingConfig};

pub use spans::{record_tran_id, record_uetr, RequestSpan};

/// What has to outlive the process's work: the span exporter, flushed on [`Telemetry::stop`].
pub struct Telemetry {
    exporter: Option<export::Exporter>,
}

impl Telemetry {
    /// Exports the spans still buffered, then stops the exporter.
    pub fn stop(self) {
        if let Some(exporter) = self.exporter {
            exporter.stop();
        }
    }
}

pub fn init(logging: &LoggingConfig, tracing_config: &TracingConfig) -> Telemetry {
    let filter = || {
        EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(&logging.filter))
            .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let lines = match logging.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
    };
    let exporter = match export::Exporter::start(tracing_config) {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("tracing: spans will not be exported: {error:#}");
            None
        }
    };
    // Spans have a filter of their own: quieter logs must not cut traces short.
    let spans = exporter
        .as_ref()
        .map(|exporter| exporter.layer().with_filter(LevelFilter::INFO));
    // `try_init` fails only if a subscriber is already set (tests); that one stays.
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(spans)
        .try_init();
    if exporter.is_some() {
        context::enable();
        tracing::info!(
            endpoint = tracing_config.otlp_endpoint.as_deref().unwrap_or(""),
            "exporting traces over OTLP"
        );
    }
    Telemetry { exporter }
}
