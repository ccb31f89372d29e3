//! The state every handler and background task of one instance shares, built once at
//! start from the configuration. Knows no route and no handler (those are `server`'s).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aggregates::fee_schedule::FeeSchedule;
use aggregates::held_message::HeldMessage;
use aggregates::partner_statement::PartnerStatement;
use aggregates::payshap_transfer::PayShapTransfer;
use aggregates::proxy::Proxy;
use aggregates::resolution::Resolution;
use aggregates::Payment;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use projections::fresh_deliveries::FreshDeliveries;
use projections::runner::Wakeup;
use projections::{ProjectionError, Projector};

use crate::backoffice::calendar::BusinessCalendar;
use crate::commands::CommandBus;
use crate::config::Config;
use crate::partners::PartnerClients;
use crate::payshap::electrum::client::ElectrumClient;
use crate::payshap::electrum::decisions::DecisionSender;
use crate::payshap::electrum::refunds::RefundSender;
use crate::payshap::keys::KeyRing;
use crate::payshap::priority::PriorityRuntime;
use crate::routing::Router;
use crate::security::credentials::Credentials;
use crate::security::limiter::FailureLimiter;
use crate::security::session::Sessions;
use crate::store::Store;
use crate::views::{all_projections, Projectors};
use crate::waiters::CommitWaiters;

/// Every shared part of one instance, built once at start. `server` hands each handler and
/// background task the parts it uses (never the whole); tests reach into it directly.
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    pub proxies: Arc<CommandBus<Proxy>>,
    pub resolutions: Arc<CommandBus<Resolution>>,
    /// The store resolutions read the registry and record through ([`resolution_store`]).
    pub resolution_store: Store,
    /// The runtime that store's connections and writer live on; none on SQLite.
    pub resolution_runtime: Option<PriorityRuntime>,
    /// Short codes a customer keys in, each held by one live payment.
    pub short_codes: Arc<CommandBus<aggregates::short_code::ShortCode>>,
    pub payshap: Arc<CommandBus<PayShapTransfer>>,
    pub fee_schedules: Arc<CommandBus<FeeSchedule>>,
    pub statements: Arc<CommandBus<PartnerStatement>>,
    pub held_messages: Arc<CommandBus<HeldMessage>>,
    pub projectors: Arc<Projectors>,
    /// Deliveries the outbox pass wrote, for this instance's dispatcher.
    pub fresh_deliveries: FreshDeliveries,
    pub wakeup: Wakeup,
    pub waiters: Arc<CommitWaiters>,
    pub metrics: PrometheusHandle,
    pub partner_clients: Arc<PartnerClients>,
    /// Sends the authorisation of a matched payment.
    pub router: Arc<Router>,
    pub credentials: Arc<Credentials>,
    /// The back office's business day, from `[backoffice]` (checked once, here).
    pub calendar: Arc<BusinessCalendar>,
    pub auth_failures: Arc<FailureLimiter>,
    /// Console logins (cookies) and their CSRF tokens.
    pub sessions: Arc<Sessions>,
    /// PayShap message signing keys, when `[payshap.signing]` is configured.
    pub payshap_keys: Option<Arc<KeyRing>>,
    /// Bounds on keeping PayShap completions whose signature failed.
    pub unverified_gate: Arc<crate::payshap::gate::Gate>,
    /// Partner-auth decisions on their way to Electrum, when `[payshap.electrum]` is set.
    pub decisions: Option<Arc<DecisionSender>>,
    pub approvals: Arc<CommandBus<aggregates::approval::Approval>>,
    pub refunds: Arc<CommandBus<aggregates::refund::Refund>>,
    pub recons: Arc<CommandBus<aggregates::electrum_recon::ElectrumRecon>>,
    /// Refunds on their way to Electrum, when `[payshap.electrum]` is set.
    pub refund_sender: Option<Arc<RefundSender>>,
    /// The runtime that outlives any one HTTP worker: background work is spawned here.
    pub runtime: tokio::runtime::Handle,
}

impl App {
    /// Connects to the store and, if configured, migrates it. The calendar, the users and
    /// the signing keys are parsed from the configuration here, by their owners.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        let store = migrated_store(&config).await?;
        let (resolution_store, resolution_runtime) = resolution_store(&config, &store).await?;
        let wakeup = Wakeup::default();
        let waiters = Arc::new(CommitWaiters::default());
        let fresh_deliveries = FreshDeliveries::default();
        let parsed = Parsed::from_config(&config)?;
        let config = Arc::new(config);
        // One bus per aggregate type, all on the same store (resolutions on theirs), wake-ups
        // and waiters.
        macro_rules! bus {
            () => {
                bus!(&store)
            };
            ($store:expr) => {
                Arc::new(CommandBus::new(
                    $store,
                    wakeup.clone(),
                    Arc::clone(&waiters),
                    (),
                    config.database.aggregate_cache_entries,
                ))
            };
        }
        let payments = bus!();
        let payshap = bus!();
        let refunds = bus!();
        let (decisions, refund_sender) = electrum_senders(
            &config,
            parsed.payshap_keys.as_ref(),
            &payshap,
            &refunds,
            &store,
        )?;
        let router = router(&config, &payments, &parsed);
        Ok(Arc::new(Self {
            payments,
            proxies: bus!(),
            resolutions: bus!(&resolution_store),
            resolution_store,
            resolution_runtime,
            short_codes: bus!(),
            payshap,
            fee_schedules: bus!(),
            statements: bus!(),
            held_messages: bus!(),
            approvals: bus!(),
            recons: bus!(),
            projectors: Arc::new(projectors(&store, &fresh_deliveries)),
            store,
            fresh_deliveries,
            wakeup,
            waiters,
            metrics: metrics_handle(),
            partner_clients: parsed.partner_clients,
            router: Arc::new(router),
            credentials: parsed.credentials,
            calendar: parsed.calendar,
            auth_failures: parsed.auth_failures,
            sessions: parsed.sessions,
            payshap_keys: parsed.payshap_keys,
            unverified_gate: Arc::default(),
            decisions,
            refunds,
            refund_sender,
            runtime: tokio::runtime::Handle::current(),
            config,
        }))
    }

    pub fn projector(&self, name: &str) -> Option<&Arc<Projector>> {
        self.projectors.get(name)
    }

    /// Brings every projection past every event committed before this call.
    pub async fn catch_up_all(&self) -> Result<(), ProjectionError> {
        self.projectors.catch_up_all().await
    }
}

/// The store, migrated where `database.migrate_on_start` says so.
async fn migrated_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database).await?;
    if config.database.migrate_on_start {
        store.migrate().await?;
    }
    Ok(store)
}

/// Sends the authorisation of a matched payment to its partner, from the shared runtime.
fn router(config: &Arc<Config>, payments: &Arc<CommandBus<Payment>>, parsed: &Parsed) -> Router {
    Router::new(
        Arc::clone(payments),
        Arc::clone(config),
        Arc::clone(&parsed.partner_clients),
        tokio::runtime::Handle::current(),
    )
}

/// The store a resolution reads the proxy registry and records its answer through. On
/// PostgreSQL: pools and an append writer of its own (`payshap.resolution_connections`
/// each), connected on the resolutions' own runtime (`payshap::priority`), so that a
/// payer's resolution waits neither for a connection, nor for a commit slot, nor for a
/// turn on the shared runtime behind QR traffic. On SQLite the one store, whose writes take
/// turns anyway.
async fn resolution_store(
    config: &Config,
    store: &Store,
) -> anyhow::Result<(Store, Option<PriorityRuntime>)> {
    let connections = config.payshap.resolution_connections;
    if store.postgres_pool().is_none() || connections == 0 {
        return Ok((store.clone(), None));
    }
    let database = crate::config::DatabaseConfig {
        url: crate::store::named_url(&config.database.url, "qrswitch-resolutions"),
        max_connections: connections,
        append_writers: 1,
        migrate_on_start: false,
        ..config.database.clone()
    };
    let runtime = PriorityRuntime::start()?;
    let Some(handle) = runtime.handle() else {
        anyhow::bail!("the resolutions' runtime did not start");
    };
    let resolution_store = handle
        .spawn(async move { Store::connect(&database).await })
        .await??;
    Ok((resolution_store, Some(runtime)))
}

/// Every read model's projector, on the store's views.
fn projectors(store: &Store, fresh_deliveries: &FreshDeliveries) -> Projectors {
    Projectors::new(
        all_projections(fresh_deliveries)
            .into_iter()
            .map(|projection| Arc::new(Projector::new(store.views().clone(), projection)))
            .collect(),
    )
}

type Senders = (Option<Arc<DecisionSender>>, Option<Arc<RefundSender>>);

/// What goes to Electrum through our one client of its API (when `[payshap.electrum]` and
/// signing are configured): partner-auth decisions and refunds.
fn electrum_senders(
    config: &Arc<Config>,
    keys: Option<&Arc<KeyRing>>,
    transfers: &Arc<CommandBus<PayShapTransfer>>,
    refunds: &Arc<CommandBus<aggregates::refund::Refund>>,
    store: &Store,
) -> anyhow::Result<Senders> {
    let (Some(electrum), Some(keys)) = (&config.payshap.electrum, keys) else {
        return Ok((None, None));
    };
    let client = Arc::new(ElectrumClient::new(electrum, Arc::clone(keys))?);
    let decisions = DecisionSender::new(
        Arc::clone(&client),
        electrum.clone(),
        Arc::clone(transfers),
        store.clone(),
    );
    let refund_sender = RefundSender::new(
        client,
        Arc::clone(config),
        Arc::clone(refunds),
        Arc::clone(transfers),
        store.clone(),
    );
    Ok((Some(Arc::new(decisions)), Some(Arc::new(refund_sender))))
}

/// The parts each owner parses from the configuration; any that does not parse stops the
/// start with its owner's reason.
struct Parsed {
    partner_clients: Arc<PartnerClients>,
    credentials: Arc<Credentials>,
    calendar: Arc<BusinessCalendar>,
    auth_failures: Arc<FailureLimiter>,
    sessions: Arc<Sessions>,
    payshap_keys: Option<Arc<KeyRing>>,
}

impl Parsed {
    fn from_config(config: &Config) -> anyhow::Result<Self> {
        let partner_clients = Arc::new(PartnerClients::build(&config.partners)?);
        let credentials =
            Credentials::new(&config.users).map_err(|reason| anyhow::anyhow!("users: {reason}"))?;
        let calendar = BusinessCalendar::from_config(&config.backoffice)
            .map_err(|reason| anyhow::anyhow!("backoffice: {reason}"))?;
        let auth_failures = FailureLimiter::new(
            config.security.max_failed_auth_per_source,
            Duration::from_millis(config.security.failed_auth_window_ms),
        );
        let sessions = Sessions::new(&config.security, config.server.tls.is_some())
            .map_err(|reason| anyhow::anyhow!("security: {reason}"))?;
        let payshap_keys = config
            .payshap
            .signing
            .as_ref()
            .map(KeyRing::load)
            .transpose()?;
        Ok(Self {
            partner_clients,
            credentials: Arc::new(credentials),
            calendar: Arc::new(calendar),
            auth_failures: Arc::new(auth_failures),
            sessions: Arc::new(sessions),
            payshap_keys,
        })
    }
}

/// Every histogram's buckets, in seconds: fine below the PayShap 1 s limit (0.5, 0.75 and 1
/// bracket it), coarse up to the POS's wait, so that alerts can ask "over 1 s" exactly.
const LATENCY_BUCKETS_S: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process-wide metrics recorder. A process has one recorder; tests run several apps.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS_S)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
