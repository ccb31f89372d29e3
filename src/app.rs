//! Wiring: the state every request handler shares, and the running server with its
//! background tasks.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};
use aggregates::Payment;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use projections::fresh_deliveries::FreshDeliveries;
use projections::payment_status::PaymentStatusProjection;
use projections::runner::{self, Wakeup};
use projections::saf_outbox::SafOutboxProjection;
use projections::{Projection, ProjectionError, Projector};
use sqlx::postgres::{PgListener, PgPool};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::commands::CommandBus;
use crate::config::Config;
use crate::http;
use crate::store::Store;
use crate::sweeper;
use crate::waiters::CommitWaiters;

/// PostgreSQL channel our `events` trigger notifies on every commit.
const EVENTS_CHANNEL: &str = "qrswitch_events";
/// Pause before re-opening a lost LISTEN connection; the projectors poll meanwhile.
const LISTEN_RETRY_MS: u64 = 1_000;

/// Longest an explicit catch-up waits for other transactions to clear the feed horizon.
pub const CATCH_UP_LIMIT_MS: u64 = 10_000;

/// Every read model the switch maintains, in no particular order.
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

/// Projections that get a pass of their own: the outbox, which the store-and-forward queue
/// waits on (a payment is complete only once its advice is delivered). The other views,
/// written a few statements per batch (`projections::rows`), share one pass.
const OWN_PASS_PROJECTIONS: [&str; 1] = [projections::saf_outbox::NAME];

/// Projections caught up in groups, one pass per group, each group on its own task: a burst
/// of back-office work never delays the outbox (measured in docs/benchmarks.md).
fn projection_groups(app: &App) -> Vec<projections::group::ProjectorGroup> {
    let (own, others): (Vec<_>, Vec<_>) = app
        .projectors
        .iter()
        .cloned()
        .partition(|p| OWN_PASS_PROJECTIONS.contains(&p.name()));
    own.into_iter()
        .map(|projector| vec![projector])
        .chain([others])
        .filter(|members| !members.is_empty())
        .map(|members| projections::group::ProjectorGroup::new(app.store.views().clone(), members))
        .collect()
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
    pub auth_failures: crate::security::authenticate::FailureLimiter,
    /// PayShap message signing keys, when `[payshap.signing]` is configured.
    pub payshap_keys: Option<Arc<crate::payshap::inbound::SchemeKeys>>,
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
        let credentials = crate::security::credentials::Credentials::new(&config.users);
        let calendar =
            crate::backoffice::calendar::BusinessCalendar::from_config(&config.backoffice)
                .map_err(|reason| anyhow::anyhow!("backoffice: {reason}"))?;
        let auth_failures = crate::security::authenticate::FailureLimiter::new(
            config.security.max_failed_auth_per_source,
            Duration::from_millis(config.security.failed_auth_window_ms),
        );
        let payshap_keys = config
            .payshap
            .signing
            .as_ref()
            .map(crate::payshap::inbound::SchemeKeys::load)
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

/// A started instance: HTTP server plus projectors (and, on PostgreSQL, the listener that
/// wakes them when another instance commits).
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    handle: ServerHandle,
    server: JoinHandle<std::io::Result<()>>,
    background: JoinSet<()>,
    cancel: CancellationToken,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, then stops the background tasks.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.wait().await
    }

    /// Waits until the server stops (SIGTERM/SIGINT or [`Running::stop`]).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let served = self.server.await;
        self.cancel.cancel();
        while self.background.join_next().await.is_some() {}
        self.app.store.close().await;
        served??;
        Ok(())
    }
}

/// Binds the configured address (port 0 picks a free one) and starts serving.
pub async fn start(app: Arc<App>) -> anyhow::Result<Running> {
    let server_config = app.config.server.clone();
    refuse_unsafe_exposure(&app)?;
    let tls = server_config
        .tls
        .as_ref()
        .map(crate::security::tls::server_config)
        .transpose()?;
    if app.credentials.is_empty() {
        tracing::warn!("no users configured: every endpoint is open (allowed on loopback only)");
    }
    crate::backoffice::fees::put_configured_terms_in_force(&app).await?;
    let listener = TcpListener::bind(server_config.listen)?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();

    let cadence = runner::Cadence {
        poll_interval: Duration::from_millis(app.config.projections.poll_interval_ms),
        gather_interval: Duration::from_millis(app.config.projections.gather_interval_ms),
    };
    let mut background = runner::spawn_all(
        projection_groups(&app),
        &app.wakeup,
        cadence,
        cancel.clone(),
    );
    if let Some(pool) = app.store.postgres_pool() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        app.waiters.announce_to(sender);
        // Tags this instance's notifications so that it does not wake its own waiters (and
        // their store reads) a second time for what it committed itself.
        let instance = uuid::Uuid::new_v4().simple().to_string();
        background.spawn(announce_commits(
            pool.clone(),
            instance.clone(),
            receiver,
            cancel.clone(),
        ));
        background.spawn(wake_on_notifications(
            pool.clone(),
            instance,
            app.wakeup.clone(),
            Arc::clone(&app.waiters),
            cancel.clone(),
        ));
    }
    background.spawn(sweeper::run(Arc::clone(&app), cancel.clone()));
    background.spawn(crate::saf::dispatcher::run(
        Arc::clone(&app),
        app.wakeup.subscribe(),
        cancel.clone(),
    ));

    let shared = web::Data::from(Arc::clone(&app));
    let server = HttpServer::new(move || {
        actix_web::App::new().configure(|cfg| http::configure(cfg, shared.clone()))
    });
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls)?,
        None => server.listen(listener)?,
    };
    let server = server
        .workers(server_config.workers.max(1))
        .max_connections(server_config.max_connections_per_worker)
        .client_request_timeout(Duration::from_millis(
            server_config.client_request_timeout_ms,
        ))
        .shutdown_timeout(server_config.shutdown_timeout_ms.div_ceil(1_000))
        .run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, backend = app.store.backend().name(), "qrswitch listening");
    Ok(Running {
        addr,
        app,
        handle,
        server,
        background,
        cancel,
    })
}

/// Aggregate ids per notification: a NOTIFY payload holds under 8000 bytes, and tranIds are
/// 32 characters plus a comma (after the 32-character instance tag and its colon).
const NOTIFY_BATCH_IDS: usize = 200;

/// How long the first commit of a notification waits for others to join it. Under load this
/// turns one NOTIFY transaction per commit into one per few milliseconds; another instance's
/// waiter hears of a commit this much later at most.
const NOTIFY_GATHER: Duration = Duration::from_millis(2);

/// Tells other instances which aggregates committed here, in batches: whatever has queued up
/// while the previous NOTIFY was being sent, or during [`NOTIFY_GATHER`], goes out in the
/// next one. Each is its own
/// transaction with `synchronous_commit = off`: notifications are hints (waiters re-check on a
/// timer), so they must never hold up an event commit. Ends when `cancel` fires (the sender
/// lives as long as the app, so a closed channel cannot be what stops it).
async fn announce_commits(
    pool: PgPool,
    instance: String,
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<String>,
    cancel: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            () = cancel.cancelled() => return,
            next = receiver.recv() => match next {
                Some(id) => id,
                None => return,
            },
        };
        tokio::time::sleep(NOTIFY_GATHER).await;
        let mut batch = vec![first];
        while batch.len() < NOTIFY_BATCH_IDS {
            match receiver.try_recv() {
                Ok(id) => batch.push(id),
                Err(_) => break,
            }
        }
        batch.sort_unstable();
        batch.dedup();
        let payload = format!("{instance}:{}", batch.join(","));
        if let Err(error) = notify(&pool, &payload).await {
            tracing::warn!(%error, "could not announce commits; other instances rely on polling");
        }
    }
}

/// One round trip: `synchronous_commit = off` and the NOTIFY go as one simple query, which
/// PostgreSQL runs as one implicit transaction (rolled back whole on an error, so the pooled
/// connection is never left inside a transaction). The payload is a literal there, quoted by
/// doubling its single quotes (standard-conforming strings, PostgreSQL's default).
async fn notify(pool: &PgPool, payload: &str) -> Result<(), sqlx::Error> {
    let literal = payload.replace('\'', "''");
    let sql = format!(
        "SET LOCAL synchronous_commit = off; SELECT pg_notify('{EVENTS_CHANNEL}', '{literal}')"
    );
    sqlx::raw_sql(&sql).execute(pool).await?;
    Ok(())
}

/// Refuses to serve beyond this machine without users, or in plain HTTP unless allowed.
fn refuse_unsafe_exposure(app: &App) -> anyhow::Result<()> {
    let server = &app.config.server;
    if server.listen.ip().is_loopback() {
        return Ok(());
    }
    if app.credentials.is_empty() {
        anyhow::bail!(
            "refusing to listen on {} without configured users ([[users]] in the config)",
            server.listen
        );
    }
    if server.tls.is_none() && !server.allow_plain_http {
        anyhow::bail!(
            "refusing plain HTTP on non-loopback {}: configure [server.tls] or set \
             server.allow_plain_http = true (e.g. behind a TLS-terminating proxy)",
            server.listen
        );
    }
    Ok(())
}

async fn wake_on_notifications(
    pool: PgPool,
    instance: String,
    wakeup: Wakeup,
    waiters: Arc<CommitWaiters>,
    cancel: CancellationToken,
) {
    loop {
        match listen(&pool, &instance, &wakeup, &waiters, &cancel).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "event notifications lost; projectors poll until restored");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(LISTEN_RETRY_MS)) => {}
                }
            }
        }
    }
}

/// Returns `Ok` when cancelled, `Err` when the connection fails.
async fn listen(
    pool: &PgPool,
    instance: &str,
    wakeup: &Wakeup,
    waiters: &CommitWaiters,
    cancel: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            notification = listener.recv() => {
                let notification = notification?;
                let (from, ids) = notification.payload().split_once(':').unwrap_or(("", ""));
                if from == instance {
                    continue; // this instance woke its own projectors and waiters already
                }
                wakeup.wake_all();
                for aggregate_id in ids.split(',').filter(|id| !id.is_empty()) {
                    waiters.committed_elsewhere(aggregate_id);
                }
            }
        }
    }
}
