//! Start-up: the one module that knows every route and every background task. It binds the
//! listener, wires the surfaces' routes over the shared state, and spawns the projection
//! passes, the store-and-forward dispatcher, the deadline sweeper and the cross-instance
//! notifications. [`authenticate`] is the HTTP Basic middleware in front of every surface
//! (it answers in each surface's error shape).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};
use projections::runner;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;

mod admission;
mod authenticate;
mod body_deadline;
mod observe;

use crate::app::App;
use crate::backoffice::service::BackOfficeService;
use crate::http::{health, ApiError};
use crate::payshap::service::PayShapService;
use crate::saf::control::SafControl;

/// Projections that get a pass of their own: the outbox, which the store-and-forward queue
/// waits on (a payment is complete only once its advice is delivered). The other views,
/// written a few statements per batch (`projections::rows`), share one pass.
const OWN_PASS_PROJECTIONS: [&str; 1] = [projections::saf_outbox::NAME];

/// Projections caught up in groups, one pass per group, each group on its own task: a burst
/// of back-office work never delays the outbox (measured in docs/benchmarks.md). The outbox
/// gathers briefly (deliveries wait on it); the shared views gather longer, so that a
/// payment's events mostly land in one pass and its rows are written once.
fn projection_groups(app: &App) -> Vec<(projections::group::ProjectorGroup, runner::Cadence)> {
    let config = &app.config.projections;
    let cadence = |gather_ms| runner::Cadence {
        poll_interval: Duration::from_millis(config.poll_interval_ms),
        gather_interval: Duration::from_millis(gather_ms),
    };
    let (own, others): (Vec<_>, Vec<_>) = app
        .projectors
        .all()
        .iter()
        .cloned()
        .partition(|p| OWN_PASS_PROJECTIONS.contains(&p.name()));
    own.into_iter()
        .map(|projector| (vec![projector], config.outbox_gather_interval_ms))
        .chain([(others, config.gather_interval_ms)])
        .filter(|(members, _)| !members.is_empty())
        .map(|(members, gather_ms)| {
            let group = projections::group::ProjectorGroup::new(app.store.views().clone(), members);
            (group, cadence(gather_ms))
        })
        .collect()
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
    crate::backoffice::fees::put_configured_terms_in_force(
        &app.config.backoffice.fees,
        &app.fee_schedules,
    )
    .await?;
    let listener = TcpListener::bind(server_config.listen)?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();

    let background = spawn_background(&app, &cancel);
    let shared = Arc::clone(&app);
    let admission = web::Data::new(admission::Admission::new(
        app.config.server.max_in_flight_requests,
    ));
    let server = HttpServer::new(move || {
        actix_web::App::new().configure(|cfg| {
            cfg.app_data(admission.clone());
            routes(cfg, &shared);
        })
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

/// The instance's background tasks: projectors, (on PostgreSQL) the commit announcer and
/// listener, the sweeper, the vitals sampler and the SAF dispatcher; all stop on `cancel`.
fn spawn_background(app: &Arc<App>, cancel: &CancellationToken) -> JoinSet<()> {
    let mut background = runner::spawn_all(projection_groups(app), &app.wakeup, cancel.clone());
    if let Some(pool) = app.store.postgres_pool() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        app.waiters.announce_to(sender);
        // Tags this instance's notifications so that it does not wake its own waiters (and
        // their store reads) a second time for what it committed itself.
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let peers = crate::notify::Peers::default();
        background.spawn(crate::notify::announce_commits(
            pool.clone(),
            instance.clone(),
            receiver,
            peers.clone(),
            cancel.clone(),
        ));
        background.spawn(crate::notify::wake_on_notifications(
            pool.clone(),
            instance,
            app.wakeup.clone(),
            Arc::clone(&app.waiters),
            peers,
            cancel.clone(),
        ));
    }
    let sweeper = crate::sweeper::Sweeper {
        settings: app.config.payments.clone(),
        store: app.store.clone(),
        payments: Arc::clone(&app.payments),
    };
    background.spawn(crate::sweeper::run(sweeper, cancel.clone()));
    background.spawn(crate::vitals::run(
        app.store.clone(),
        Arc::clone(&app.projectors),
        app.config.database.max_connections,
        cancel.clone(),
    ));
    spawn_payshap(app, cancel, &mut background);
    let dispatcher = crate::saf::dispatcher::Dispatcher {
        config: Arc::clone(&app.config),
        store: app.store.clone(),
        payments: Arc::clone(&app.payments),
        partner_clients: Arc::clone(&app.partner_clients),
        fresh_deliveries: app.fresh_deliveries.clone(),
        runtime: app.runtime.clone(),
        failing: Default::default(),
    };
    background.spawn(crate::saf::dispatcher::run(
        Arc::new(dispatcher),
        app.wakeup.subscribe(),
        cancel.clone(),
    ));

    background
}

/// PayShap's background work: key reloads on SIGHUP, and what goes to Electrum (partner-auth
/// decisions, refunds) where it is configured.
fn spawn_payshap(app: &Arc<App>, cancel: &CancellationToken, background: &mut JoinSet<()>) {
    if let Some(ring) = &app.payshap_keys {
        background.spawn(reload_keys_on_hangup(
            Arc::clone(app),
            Arc::clone(ring),
            cancel.clone(),
        ));
    }
    if let Some(decisions) = &app.decisions {
        background.spawn(crate::payshap::electrum::decisions::run(
            Arc::clone(decisions),
            cancel.clone(),
        ));
    }
    if app.config.payshap.recon.is_some() {
        background.spawn(crate::payshap::recon::schedule::run(
            payshap_service(app),
            cancel.clone(),
        ));
    }
    if let Some(refunds) = &app.refund_sender {
        background.spawn(crate::payshap::electrum::refunds::run(
            Arc::clone(refunds),
            cancel.clone(),
        ));
    }
}

/// Reloads the PayShap keys from their files on SIGHUP, so a rotation needs no restart; a
/// key that does not load leaves the keys in force as they were. Held completions that a
/// new key verifies are applied then.
async fn reload_keys_on_hangup(
    app: Arc<App>,
    ring: Arc<crate::payshap::keys::KeyRing>,
    cancel: CancellationToken,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("no SIGHUP handler: PayShap keys reload only on restart");
        return;
    };
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(()) = hangups.recv() => {
                if let Err(error) = ring.reload() {
                    tracing::error!(%error, "PayShap keys not reloaded; the keys in force stay");
                    continue;
                }
                let payshap = payshap_service(&app);
                if let Err(error) =
                    crate::payshap::ops::reverify_now(&payshap, &ring, &app.projectors).await
                {
                    tracing::error!(%error, "held unverified completions not tried again");
                }
            }
        }
    }
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

/// Every route of every surface, behind authentication and request tracing. Each shared
/// part is registered on its own, so a handler names the parts it uses.
fn routes(cfg: &mut web::ServiceConfig, app: &App) {
    let body_limit_bytes = app.config.server.body_limit_bytes;
    let statement_max_bytes = app.config.backoffice.statement_max_bytes;
    share_parts(cfg, app);
    cfg.app_data(web::PayloadConfig::new(body_limit_bytes))
        .app_data(
            web::JsonConfig::default()
                .limit(body_limit_bytes)
                .error_handler(|error, _request| ApiError::bad_request(error.to_string()).into()),
        )
        .service(
            web::scope("")
                .wrap(actix_web::middleware::from_fn(authenticate::authenticate))
                .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(body_deadline::body_deadline))
                .wrap(actix_web::middleware::from_fn(admission::admit))
                .wrap(actix_web::middleware::from_fn(observe::observe))
                .wrap(actix_web::middleware::from_fn(
                    crate::payshap::inbound::sign_responses,
                ))
                .route("/health", web::get().to(health::health))
                .route("/ready", web::get().to(health::ready))
                .route("/metrics", web::get().to(health::metrics))
                .configure(|cfg| crate::qr_api::configure(cfg, body_limit_bytes))
                .configure(crate::ops::configure)
                .configure(crate::tools_api::configure)
                .configure(crate::openapi::configure)
                .configure(crate::payshap::configure)
                .configure(crate::audit::configure)
                .configure(|cfg| crate::backoffice::configure(cfg, statement_max_bytes))
                .configure(|cfg| crate::console::configure(cfg, statement_max_bytes))
                .default_service(web::to(|| async { ApiError::not_found() })),
        );
}

/// The parts of `app` PayShap inbound works on.
pub fn payshap_service(app: &App) -> PayShapService {
    PayShapService {
        config: Arc::clone(&app.config),
        store: app.store.clone(),
        payments: Arc::clone(&app.payments),
        transfers: Arc::clone(&app.payshap),
        resolutions: Arc::clone(&app.resolutions),
        held_messages: Arc::clone(&app.held_messages),
        unverified_gate: Arc::clone(&app.unverified_gate),
        decisions: app.decisions.clone(),
        approvals: Arc::clone(&app.approvals),
        refunds: Arc::clone(&app.refunds),
        refund_sender: app.refund_sender.clone(),
        recons: Arc::clone(&app.recons),
        fee_schedules: Arc::clone(&app.fee_schedules),
        projectors: Arc::clone(&app.projectors),
    }
}

/// Registers every shared part of `app` for the handlers' extractors.
fn share_parts(cfg: &mut web::ServiceConfig, app: &App) {
    cfg.app_data(web::Data::from(Arc::clone(&app.config)))
        .app_data(web::Data::new(app.store.clone()))
        .app_data(web::Data::from(Arc::clone(&app.payments)))
        .app_data(web::Data::from(Arc::clone(&app.proxies)))
        .app_data(web::Data::from(Arc::clone(&app.resolutions)))
        .app_data(web::Data::from(Arc::clone(&app.payshap)))
        .app_data(web::Data::from(Arc::clone(&app.fee_schedules)))
        .app_data(web::Data::from(Arc::clone(&app.statements)))
        .app_data(web::Data::from(Arc::clone(&app.held_messages)))
        .app_data(web::Data::from(Arc::clone(&app.short_codes)))
        .app_data(web::Data::from(Arc::clone(&app.projectors)))
        .app_data(web::Data::new(app.wakeup.clone()))
        .app_data(web::Data::from(Arc::clone(&app.waiters)))
        .app_data(web::Data::new(app.metrics.clone()))
        .app_data(web::Data::from(Arc::clone(&app.router)))
        .app_data(web::Data::from(Arc::clone(&app.credentials)))
        .app_data(web::Data::from(Arc::clone(&app.auth_failures)))
        .app_data(web::Data::from(Arc::clone(&app.sessions)))
        .app_data(web::Data::from(Arc::clone(&app.calendar)))
        .app_data(web::Data::new(app.payshap_keys.clone()))
        .app_data(web::Data::new(payshap_service(app)))
        .app_data(web::Data::new(BackOfficeService {
            config: Arc::clone(&app.config),
            store: app.store.clone(),
            calendar: Arc::clone(&app.calendar),
            projectors: Arc::clone(&app.projectors),
            statements: Arc::clone(&app.statements),
        }))
        .app_data(web::Data::new(SafControl {
            store: app.store.clone(),
            payments: Arc::clone(&app.payments),
            wakeup: app.wakeup.clone(),
        }));
}
