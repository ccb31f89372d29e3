//! What the simulator is told and what it remembers: its settings, its mode, and every
//! message it received.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mode::Mode;

/// Messages remembered for `/sim/received`; the oldest are dropped past this.
pub const RECEIVED_LIMIT: usize = 100_000;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub mode: Mode,
    /// The partner this simulator plays.
    pub partner_id: String,
    pub partner_name: String,
    /// The switch's `/qr/v1` base, for scans.
    pub switch_url: Option<String>,
    /// Password for Basic authentication at the switch (user = `partner_id`).
    pub switch_password: Option<String>,
}

/// One message as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub operation: String,
    pub message_id: Option<String>,
    pub tran_id: Option<String>,
    pub request_id: Option<String>,
    pub received_at: String,
    /// The status the simulator answered with (0: it never answered, `hang`).
    pub status: u16,
    /// The message as received, so tests can check it against the contract.
    pub body: Value,
    /// The W3C `traceparent` it came with: whose trace the switch's call belongs to.
    #[serde(default)]
    pub traceparent: Option<String>,
}

pub(super) struct SimState {
    pub(super) config: SimConfig,
    pub(super) mode: Mutex<Mode>,
    pub(super) received: Mutex<Vec<Received>>,
    pub(super) http: reqwest::Client,
    /// Advices being handled now, and the most ever handled at once: what a switch's
    /// store-and-forward concurrency looks like from the partner's side.
    pub(super) advices_in_flight: AtomicUsize,
    pub(super) advices_peak: AtomicUsize,
}

impl SimState {
    pub(super) fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn record(
        &self,
        operation: &str,
        body: &Value,
        status: u16,
        traceparent: Option<String>,
    ) {
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
        if received.len() >= RECEIVED_LIMIT {
            received.remove(0);
        }
        received.push(Received {
            operation: operation.to_owned(),
            message_id: text("id"),
            tran_id: text("tranId"),
            request_id: text("requestId"),
            received_at: Utc::now().to_rfc3339(),
            status,
            body: body.clone(),
            traceparent,
        });
    }
}
