//! The state every handler and background task of one instance shares, built once at
//! start from the configuration. Knows no route and no handler (those are `server`'s).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aggregates::Payment;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use projections::fresh_deliveries::FreshDeliveries;
use projections::payment_status::PaymentStatusProjection;
use projections::runner::Wakeup;
use projections::saf_outbox::SafOutboxProjection;
use projections::{Projection, ProjectionError, Projector};

use crate::commands::CommandBus;
use crate::config::Config;
use crate::store::Store;
use crate::waiters::CommitWaiters;

/// Longest an explicit catch-up waits for other transactions to clear the feed horizon.
pub const CATCH_UP_LIMIT_MS: u64 = 10_000;

/// Every read model; the outbox hands the deliveries it writes to `fresh`.
pub fn all_projections(fresh: &FreshDeliveries) -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(PaymentStatusProjection),
        Arc::new(SafOutboxProjection {
            fresh: fresh.clone(),
        }),
        Arc::new(projections::proxy_registry::ProxyRegistryProjection),
        Arc::new(projections::payshap_transfers::PayShapTransfersProjection),
        Arc::new(projections::recon::ReconProjection),
    ]
}

/// State shared by every handler and background task of one instance.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub payments: CommandBus<Payment>,
    pub proxies: CommandBus<aggregates::proxy::Proxy>,
    pub resolutions: CommandBus<aggregates::resolution::Resolution>,
    pub payshap: CommandBus<aggregates::payshap_transfer::PayShapTransfer>,
    pub fee_schedules: CommandBus<aggregates::fee_schedule::FeeSchedule>,
    pub statements: CommandBus<aggregates::partner_statement::PartnerStatement>,
    pub held_messages: CommandBus<aggregates::held_message::HeldMessage>,
    pub projectors: Vec<Arc<Projector>>,
    /// Deliveries the outbox pass wrote, for this instance's dispatcher.
    pub fresh_deliveries: FreshDeliveries,
    pub wakeup: Wakeup,
    pub waiters: Arc<CommitWaiters>,
    pub metrics: PrometheusHandle,
    /// HTTP clients for calls to partners, each with that partner's CA and our certificate.
    pub partner_clients: std::collections::HashMap<String, reqwest::Client>,
    pub credentials: crate::security::credentials::Credentials,
    /// The back office's business day, from `[backoffice]` (checked once, here).
    pub calendar: crate::backoffice::calendar::BusinessCalendar,
    pub auth_failures: crate::security::limiter::FailureLimiter,
    /// PayShap message signing keys, when `[payshap.signing]` is configured.
    pub payshap_keys: Option<Arc<crate::payshap::keys::SchemeKeys>>,
    /// The runtime that outlives any one HTTP worker: background work is spawned here.
    pub runtime: tokio::runtime::Handle,
}

impl App {
    /// Connects to the store and, if configured, migrates it.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        let store = Store::connect(&config.database).await?;
        if config.database.migrate_on_start {
            store.migrate().await?;
        }
        let wakeup = Wakeup::default();
        let waiters = Arc::new(CommitWaiters::default());
        let fresh_deliveries = FreshDeliveries::default();
        let projectors = all_projections(&fresh_deliveries)
            .into_iter()
            .map(|projection| Arc::new(Projector::new(store.views().clone(), projection)))
            .collect();
        let partner_clients = config
            .partners
            .iter()
            .map(|p| Ok((p.id.clone(), crate::security::tls::partner_client(p)?)))
            .collect::<anyhow::Result<_>>()?;
        let credentials = crate::security::credentials::Credentials::new(&config.users)
            .map_err(|reason| anyhow::anyhow!("users: {reason}"))?;
        let calendar =
            crate::backoffice::calendar::BusinessCalendar::from_config(&config.backoffice)
                .map_err(|reason| anyhow::anyhow!("backoffice: {reason}"))?;
        let auth_failures = crate::security::limiter::FailureLimiter::new(
            config.security.max_failed_auth_per_source,
            Duration::from_millis(config.security.failed_auth_window_ms),
        );
        let payshap_keys = config
            .payshap
            .signing
            .as_ref()
            .map(crate::payshap::keys::SchemeKeys::load)
            .transpose()?;
        if config.payshap.signing.is_some() && config.payshap.collection_account.is_empty() {
            tracing::warn!("payshap.collection_account is not set: proxy answers carry no traditionalIdentifier");
        }
        let cache = config.database.aggregate_cache_entries;
        Ok(Arc::new(Self {
            payments: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            proxies: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            resolutions: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            payshap: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            fee_schedules: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            statements: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            held_messages: CommandBus::new(&store, wakeup.clone(), Arc::clone(&waiters), (), cache),
            config,
            store,
            projectors,
            fresh_deliveries,
            wakeup,
            waiters,
            metrics: metrics_handle(),
            partner_clients,
            credentials,
            calendar,
            auth_failures,
            payshap_keys,
            runtime: tokio::runtime::Handle::current(),
        }))
    }

    /// The client for calls to `partner_id` (configured partners only).
    pub fn partner_client(&self, partner_id: &str) -> Option<&reqwest::Client> {
        self.partner_clients.get(partner_id)
    }

    pub fn projector(&self, name: &str) -> Option<&Arc<Projector>> {
        self.projectors.iter().find(|p| p.name() == name)
    }

    /// Brings every projection past every event committed before this call, waiting at
    /// most [`CATCH_UP_LIMIT_MS`] for each.
    pub async fn catch_up_all(&self) -> Result<(), ProjectionError> {
        for projector in &self.projectors {
            projector
                .catch_up_to_head(Duration::from_millis(CATCH_UP_LIMIT_MS))
                .await?;
        }
        Ok(())
    }
}

/// The process-wide metrics recorder. A process has one recorder; tests run several apps.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
