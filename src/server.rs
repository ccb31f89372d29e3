//! Start-up: the one module that knows every route and every background task. It binds the
//! listener, wires the surfaces' routes over the shared state, and spawns the projection
//! passes, the store-and-forward dispatcher, the deadline sweeper and the cross-instance
//! notifications. [`authenticate`] is the HTTP Basic middleware in front of every surface
//! (it answers in each surface's error shape).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use projections::runner;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod admission;
mod authenticate;
mod body_deadline;
mod listeners;
mod observe;

pub use listeners::payshap_service;

use crate::app::App;
use listeners::{Listening, Surface};

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

/// A started instance: HTTP listeners plus projectors (and, on PostgreSQL, the listener
/// that wakes them when another instance commits).
pub struct Running {
    pub addr: SocketAddr,
    /// The scheme's own listener, where `[payshap] listen` is set.
    pub scheme_addr: Option<SocketAddr>,
    pub app: Arc<App>,
    main: Listening,
    scheme: Option<Listening>,
    background: JoinSet<()>,
    cancel: CancellationToken,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, then stops the background tasks.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.main.handle.stop(true).await;
        self.wait().await
    }

    /// Waits until the server stops (SIGTERM/SIGINT or [`Running::stop`]); the scheme's
    /// listener stops with it.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let served = self.main.task.await;
        let scheme_served = match self.scheme {
            Some(scheme) => {
                scheme.handle.stop(true).await;
                scheme.task.await
            }
            None => Ok(Ok(())),
        };
        self.cancel.cancel();
        while self.background.join_next().await.is_some() {}
        self.app.store.close().await;
        self.app.resolution_store.close().await;
        served??;
        scheme_served??;
        Ok(())
    }
}

/// Binds the configured address (port 0 picks a free one), and the scheme's own where
/// `[payshap] listen` names one, and starts serving.
pub async fn start(app: Arc<App>) -> anyhow::Result<Running> {
    refuse_unsafe_exposure(&app)?;
    let tls = app
        .config
        .server
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
    let main = listeners::serve(&app, app.config.server.listen, Surface::All, tls.as_ref())?;
    let scheme = app
        .config
        .payshap
        .listen
        .map(|listen| listeners::serve(&app, listen, Surface::Scheme, tls.as_ref()))
        .transpose()?;
    let cancel = CancellationToken::new();
    let background = spawn_background(&app, &cancel);
    if let Some(scheme) = &scheme {
        tracing::info!(addr = %scheme.addr, "PayShap scheme listener");
    }
    tracing::info!(addr = %main.addr, backend = app.store.backend().name(), "qrswitch listening");
    Ok(Running {
        addr: main.addr,
        scheme_addr: scheme.as_ref().map(|s| s.addr),
        app,
        main,
        scheme,
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

/// Refuses to serve beyond this machine without users, or in plain HTTP unless allowed; the
/// scheme's listener is held to the same rule as the main one.
fn refuse_unsafe_exposure(app: &App) -> anyhow::Result<()> {
    let server = &app.config.server;
    let addresses = [Some(server.listen), app.config.payshap.listen];
    for listen in addresses.into_iter().flatten() {
        if listen.ip().is_loopback() {
            continue;
        }
        if app.credentials.is_empty() {
            anyhow::bail!(
                "refusing to listen on {listen} without configured users ([[users]] in the config)"
            );
        }
        if server.tls.is_none() && !server.allow_plain_http {
            anyhow::bail!(
                "refusing plain HTTP on non-loopback {listen}: configure [server.tls] or set \
                 server.allow_plain_http = true (e.g. behind a TLS-terminating proxy)"
            );
        }
    }
    Ok(())
}
