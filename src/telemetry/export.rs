//! The OTLP/HTTP span exporter: a batch processor on a thread of its own, so that exporting
//! never waits on, or blocks, a request.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::registry::LookupSpan;

use crate::config::{OtlpProtocol, TracingConfig};

pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// The exporter `config` asks for, if it names an endpoint.
    pub fn start(config: &TracingConfig) -> anyhow::Result<Option<Self>> {
        let Some(endpoint) = config.otlp_endpoint.clone() else {
            return Ok(None);
        };
        let config = config.clone();
        // The blocking HTTP client must be made and dropped outside the async runtime.
        let provider = std::thread::spawn(move || provider(&endpoint, &config))
            .join()
            .map_err(|_| anyhow::anyhow!("the exporter's set-up panicked"))??;
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        opentelemetry::global::set_tracer_provider(provider.clone());
        Ok(Some(Self { provider }))
    }

    /// The layer that turns `tracing` spans into exported ones.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("qrswitch"))
    }

    pub fn stop(self) {
        // On its own thread for the same reason as the set-up.
        let provider = self.provider;
        let stopped = std::thread::spawn(move || provider.shutdown()).join();
        if let Ok(Err(error)) = stopped {
            eprintln!("tracing: the last spans may be lost: {error}");
        }
    }
}

fn provider(endpoint: &str, config: &TracingConfig) -> anyhow::Result<SdkTracerProvider> {
    let protocol = match config.otlp_protocol {
        OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
        OtlpProtocol::HttpJson => Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(Duration::from_millis(config.export_timeout_ms))
        .build()
        .context("building the OTLP exporter")?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio)));
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build())
}
