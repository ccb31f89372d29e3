//! The HTTP listeners: the main one with every surface, and, where `[payshap] listen` is
//! set, the scheme's own, which serves only Electrum's calls on an HTTP worker of its own.
//! A worker runs its requests one event loop at a time: on the shared workers a resolution
//! waits behind whatever QR requests are ready before it, while the scheme's worker mostly
//! sleeps, so the kernel runs it as soon as a request arrives (measured in
//! docs/benchmarks.md).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::app::App;
use crate::backoffice::service::BackOfficeService;
use crate::http::{health, ApiError};
use crate::payshap::priority::PriorityRuntime;
use crate::payshap::service::PayShapService;
use crate::saf::control::SafControl;
use crate::server::{admission, authenticate, body_deadline, observe};

/// Which routes a listener serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Surface {
    /// Every route of every surface.
    All,
    /// The probes and the routes Electrum calls.
    Scheme,
}

/// HTTP worker threads of the scheme's listener: its traffic is a payer's resolution and a
/// few completions at a time, each a short wait on the database.
const SCHEME_WORKERS: usize = 1;

/// A listener that was started: its address, handle and task.
pub(super) struct Listening {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `listen` and serves `surface` on it, over TLS where `[server.tls]` is configured.
pub(super) fn serve(
    app: &Arc<App>,
    listen: SocketAddr,
    surface: Surface,
    tls: Option<&rustls::ServerConfig>,
) -> anyhow::Result<Listening> {
    let config = &app.config.server;
    let listener = TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    let shared = Arc::clone(app);
    let admission = web::Data::new(admission::Admission::new(config.max_in_flight_requests));
    let server = HttpServer::new(move || {
        actix_web::App::new().configure(|cfg| {
            cfg.app_data(admission.clone());
            routes(cfg, &shared, surface);
        })
    });
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls.clone())?,
        None => server.listen(listener)?,
    };
    let workers = match surface {
        Surface::All => config.workers.max(1),
        Surface::Scheme => SCHEME_WORKERS,
    };
    let server: Server = server
        .workers(workers)
        .max_connections(config.max_connections_per_worker)
        .client_request_timeout(Duration::from_millis(config.client_request_timeout_ms))
        .shutdown_timeout(config.shutdown_timeout_ms.div_ceil(1_000))
        .run();
    let handle = server.handle();
    Ok(Listening {
        addr,
        handle,
        task: tokio::spawn(server),
    })
}

/// The routes of `surface`, behind authentication and request tracing. Each shared part is
/// registered on its own, so a handler names the parts it uses.
fn routes(cfg: &mut web::ServiceConfig, app: &App, surface: Surface) {
    let body_limit_bytes = app.config.server.body_limit_bytes;
    let statement_max_bytes = app.config.backoffice.statement_max_bytes;
    share_parts(cfg, app);
    let all = surface == Surface::All;
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
                .configure(|cfg| match all {
                    false => crate::payshap::configure_scheme(cfg),
                    true => {
                        cfg.route("/metrics", web::get().to(health::metrics));
                        crate::qr_api::configure(cfg, body_limit_bytes);
                        crate::ops::configure(cfg);
                        crate::tools_api::configure(cfg);
                        crate::openapi::configure(cfg);
                        crate::payshap::configure(cfg);
                        crate::audit::configure(cfg);
                        crate::backoffice::configure(cfg, statement_max_bytes);
                        crate::console::configure(cfg, statement_max_bytes);
                    }
                })
                .default_service(web::to(|| async { ApiError::not_found() })),
        );
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

/// The parts of `app` PayShap inbound works on.
pub fn payshap_service(app: &App) -> PayShapService {
    PayShapService {
        config: Arc::clone(&app.config),
        store: app.store.clone(),
        payments: Arc::clone(&app.payments),
        transfers: Arc::clone(&app.payshap),
        resolutions: Arc::clone(&app.resolutions),
        resolution_store: app.resolution_store.clone(),
        resolution_runtime: app
            .resolution_runtime
            .as_ref()
            .and_then(PriorityRuntime::handle),
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
