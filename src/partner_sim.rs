//! `qrswitch partner-sim`: a QR partner over real HTTP, for demos and tests.
//!
//! It serves the partner side of the contract (`/qr/v1/payments`, `/confirmations`,
//! `/reversals`) in one of several modes, records every message it receives
//! (`GET /sim/received`), lets its mode be changed while running (`PUT /sim/mode`), and can
//! notify the switch of a scan (`POST /sim/scans`), as a wallet app's back end would.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpRequest, HttpResponse, HttpServer};
use chrono::Utc;
use serde_json::{json, Value};

use crate::qr_api::wire::{ErrorDetail, ErrorType};

/// How long `hang` holds a request: far past any sane client timeout, yet bounded so a
/// forgotten simulator frees its connections by itself.
pub const HANG_MS: u64 = 600_000;

mod mode;
mod scans;
mod state;

pub use mode::Mode;
use state::SimState;
pub use state::{Received, SimConfig, RECEIVED_LIMIT};

/// A running simulator.
pub struct SimRunning {
    pub addr: SocketAddr,
    state: web::Data<SimState>,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SimRunning {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many messages of `operation` it answered with a 2xx.
    pub fn acknowledged(&self, operation: &str) -> usize {
        self.state
            .received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|r| r.operation == operation && (200..300).contains(&r.status))
            .count()
    }

    /// The most advices this simulator was handling at one moment.
    pub fn peak_advices_in_flight(&self) -> usize {
        self.state.advices_peak.load(Ordering::Relaxed)
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
        let _ = self.server.await;
    }

    pub async fn wait(self) -> std::io::Result<()> {
        self.server.await.map_err(std::io::Error::other)?
    }
}

pub fn start(config: SimConfig) -> std::io::Result<SimRunning> {
    let listener = TcpListener::bind(config.listen)?;
    let addr = listener.local_addr()?;
    let state = web::Data::new(SimState {
        mode: Mutex::new(config.mode),
        config,
        received: Mutex::new(Vec::new()),
        http: reqwest::Client::new(),
        advices_in_flight: AtomicUsize::new(0),
        advices_peak: AtomicUsize::new(0),
    });
    let shared = state.clone();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(shared.clone())
            .app_data(web::JsonConfig::default().limit(256 * 1024))
            .route("/qr/v1/payments", web::post().to(payments))
            .route(
                "/qr/v1/payments/confirmations",
                web::post().to(confirmations),
            )
            .route("/qr/v1/payments/reversals", web::post().to(reversals))
            .route("/sim/received", web::get().to(received))
            .route("/sim/mode", web::put().to(set_mode))
            .route("/sim/scans", web::post().to(scans::send_scan))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, "partner simulator listening");
    Ok(SimRunning {
        addr,
        state,
        handle,
        server,
    })
}

fn error(status: u16, error_type: ErrorType, message: &str, body: &Value) -> HttpResponse {
    let mut detail = ErrorDetail::new(error_type, message);
    detail.original_id = body.get("id").and_then(Value::as_str).map(str::to_owned);
    detail.tran_id = body
        .get("tranId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(detail)
}

/// Records the message with the status the mode will answer, applies the mode's delay, and
/// returns the answer when the mode decides it (`None`: the operation's normal answer).
async fn apply_mode(
    state: &SimState,
    (operation, traceparent): (&str, Option<String>),
    body: &Value,
    normal_status: u16,
) -> Option<HttpResponse> {
    let mode = state.mode();
    let declines = mode == Mode::Decline && operation == "payment";
    let status = match mode {
        Mode::Fail => 500,
        Mode::Hang => 0,
        _ if declines => 400,
        _ => normal_status,
    };
    tracing::info!(
        operation,
        tran_id = body
            .get("tranId")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(""),
        traceparent = traceparent.as_deref().unwrap_or(""),
        "partner simulator received"
    );
    state.record(operation, body, status, traceparent);
    match mode {
        _ if declines => Some(error(
            400,
            ErrorType::DeclinedByPartner,
            "declined by simulated partner",
            body,
        )),
        Mode::Approve | Mode::Decline => None,
        Mode::Delay(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        Mode::Fail => Some(error(
            500,
            ErrorType::GeneralError,
            "simulated failure",
            body,
        )),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_millis(HANG_MS)).await;
            Some(error(
                504,
                ErrorType::UpstreamUnavailable,
                "simulated hang",
                body,
            ))
        }
    }
}

/// The `traceparent` a request came with, as sent.
fn traceparent(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get("traceparent")?;
    value.to_str().ok().map(str::to_owned)
}

async fn payments(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let body = body.into_inner();
    let called = ("payment", traceparent(&request));
    if let Some(answer) = apply_mode(&state, called, &body, 201).await {
        return answer;
    }
    HttpResponse::Created().json(approval(&state.config, body))
}

/// A `PaymentResponse` for `request`: approved in full, paid from a wallet.
fn approval(config: &SimConfig, mut request: Value) -> Value {
    let requested = request["amounts"]["requestAmount"].clone();
    request["time"] = json!(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    request["partner"] = json!({ "id": config.partner_id, "name": config.partner_name });
    request["amounts"]["approvedAmount"] = requested.clone();
    request["tenders"] = json!([{ "tenderType": "WALLET", "amount": requested,
                                 "reference": format!("SIM-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]) }]);
    request
}

/// Counts an advice in flight for as long as it lives.
struct InFlight<'a>(&'a SimState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a SimState) -> Self {
        let now = state.advices_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        state.advices_peak.fetch_max(now, Ordering::Relaxed);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.advices_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn advice(state: &SimState, called: (&str, Option<String>), body: Value) -> HttpResponse {
    let _counted = InFlight::enter(state);
    if let Some(answer) = apply_mode(state, called, &body, 202).await {
        return answer;
    }
    HttpResponse::Accepted().json(body)
}

async fn confirmations(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let called = ("confirmation", traceparent(&request));
    advice(&state, called, body.into_inner()).await
}

async fn reversals(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let called = ("reversal", traceparent(&request));
    advice(&state, called, body.into_inner()).await
}

async fn received(state: web::Data<SimState>) -> HttpResponse {
    let received = state
        .received
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    HttpResponse::Ok().json(received)
}

async fn set_mode(state: web::Data<SimState>, mode: web::Json<Mode>) -> HttpResponse {
    *state.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode.into_inner();
    HttpResponse::Ok().json(state.mode())
}
