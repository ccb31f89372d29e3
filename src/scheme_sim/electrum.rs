//! Electrum's own API, played for partner-auth: the sponsor bank's token endpoint (OIDC
//! client credentials) and `/transactions/inbound/credit-transfer-authorisation-response`,
//! where the switch's decisions arrive. It checks each decision as Electrum would (bearer
//! token, the switch's signature), signs every answer with the scheme key, enforces the
//! scheme's deadline (a decision after it is refused: Electrum has declined already), and
//! can answer 503 first or never answer, so that retries and deadlines are tested. For
//! refunds it takes outbound credit transfers (their results delivered to the switch) and
//! resolves payers' proxies to their accounts.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};

use crate::payshap::wire::{
    AUTHORISATION_RESPONSE_PATH, OUTBOUND_RESOLUTION_PATH, OUTBOUND_TRANSFER_PATH,
};

mod handlers;
mod shared;

use handlers::{decision, outbound, resolve, token};
use shared::Shared;
pub use shared::{ArrivedDecision, ElectrumSimConfig};

pub const TOKEN_PATH: &str = "/oauth/token";

/// A running Electrum simulator.
pub struct ElectrumSim {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ElectrumSim {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Notes that an authorisation request for `uetr` goes out now (the deadline's start).
    pub fn asking(&self, uetr: &str) {
        self.shared
            .state()
            .asked_at
            .insert(uetr.to_owned(), Instant::now());
    }

    /// Answer the next `count` decisions 503.
    pub fn fail_next(&self, count: u32) {
        self.shared.state().fail_next = count;
    }

    /// Never answer decisions (or answer again).
    pub fn set_silent(&self, silent: bool) {
        self.shared.state().silent = silent;
    }

    /// Where results of outbound transfers are delivered (the switch's base URL); `None`
    /// holds them back (they are delivered, as must-deliver, once it is set again).
    pub fn set_switch_url(&self, url: Option<&str>) {
        self.shared.state().switch_url = url.map(str::to_owned);
    }

    /// Outbound transfers end APPROVED (the default) or with this outcome.
    pub fn set_refund_outcome(&self, outcome: &str) {
        self.shared.state().refund_outcome = Some(outcome.to_owned());
    }

    /// Deliver every result again after it was acknowledged, as a must-deliver sender may.
    pub fn set_repeat_results(&self, repeat: bool) {
        self.shared.state().repeat_results = repeat;
    }

    /// How often the switch acknowledged the result of outbound transfer `uetr`.
    pub fn results_acknowledged(&self, uetr: &str) -> u32 {
        let state = self.shared.state();
        state.results_acknowledged.get(uetr).copied().unwrap_or(0)
    }

    /// How often outbound transfer `uetr` arrived, and how often its payer was paid.
    pub fn outbound(&self, uetr: &str) -> (u32, u32) {
        let state = self.shared.state();
        let count = |map: &HashMap<String, u32>| map.get(uetr).copied().unwrap_or(0);
        (count(&state.outbound), count(&state.paid))
    }

    /// A payer's proxy `value` resolves to `account` at bank `bicfi`, owned by `name`.
    pub fn set_payer(&self, value: &str, account: &str, name: &str, bicfi: &str) {
        let payer = (account.to_owned(), name.to_owned(), bicfi.to_owned());
        self.shared.state().payers.insert(value.to_owned(), payer);
    }

    /// The last body of outbound transfer `uetr` that arrived.
    pub fn outbound_body(&self, uetr: &str) -> Option<serde_json::Value> {
        self.shared.state().outbound_bodies.get(uetr).cloned()
    }

    pub fn tokens_issued(&self) -> u32 {
        self.shared.state().tokens_issued
    }

    /// Every decision that arrived, in order (resends included).
    pub fn arrived(&self) -> Vec<ArrivedDecision> {
        self.shared.state().arrived.clone()
    }

    /// The first decision on `uetr` the simulator accepted, waiting up to `limit`.
    pub async fn decision(&self, uetr: &str, limit: Duration) -> Option<ArrivedDecision> {
        let until = Instant::now() + limit;
        loop {
            let found = self
                .arrived()
                .into_iter()
                .find(|d| d.uetr == uetr && d.status == 202);
            if found.is_some() || Instant::now() >= until {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
        let _ = self.server.await;
    }
}

pub fn start(config: ElectrumSimConfig) -> std::io::Result<ElectrumSim> {
    let listener = TcpListener::bind(config.listen)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        config,
        state: Mutex::default(),
    });
    let data = web::Data::from(Arc::clone(&shared));
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route(TOKEN_PATH, web::post().to(token))
            .route(AUTHORISATION_RESPONSE_PATH, web::post().to(decision))
            .route(OUTBOUND_TRANSFER_PATH, web::post().to(outbound))
            .route(OUTBOUND_RESOLUTION_PATH, web::post().to(resolve))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, "Electrum simulator listening");
    Ok(ElectrumSim {
        addr,
        shared,
        handle,
        server,
    })
}
