//! What the Electrum simulator knows and how it answers: its settings, what arrived, and
//! answers signed as Electrum signs them; requests whose bearer token or signature fails
//! are refused as Electrum refuses them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::payshap::signing::{self, SigningKey, VerifyingKey};

/// How the simulator plays Electrum.
pub struct ElectrumSimConfig {
    pub listen: SocketAddr,
    /// Signs every answer (the scheme's key).
    pub signer: SigningKey,
    /// Checks the switch's signature on every decision.
    pub switch_key: VerifyingKey,
    /// `client_id`, `client_secret` of the token endpoint; tokens required when set.
    pub client: Option<(String, String)>,
    pub token_lifetime: Duration,
    /// The scheme's end-to-end limit: a decision arriving later is refused.
    pub deadline: Duration,
}

/// One decision as it reached the simulator.
#[derive(Debug, Clone)]
pub struct ArrivedDecision {
    pub uetr: String,
    pub message_id: String,
    pub original_message_id: String,
    pub outcome: String,
    pub reason: Option<String>,
    /// Since the simulator sent the authorisation request, if it did.
    pub after: Option<Duration>,
    /// What the simulator answered.
    pub status: u16,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) tokens: HashMap<String, Instant>,
    pub(super) tokens_issued: u32,
    pub(super) asked_at: HashMap<String, Instant>,
    pub(super) arrived: Vec<ArrivedDecision>,
    pub(super) fail_next: u32,
    pub(super) silent: bool,
    /// Outbound credit transfers by UETR: how often each arrived (resends included).
    pub(super) outbound: HashMap<String, u32>,
    /// Paid out to the payer, once per UETR whatever the resends.
    pub(super) paid: HashMap<String, u32>,
    /// The outcome outbound transfers end with, and where the switch takes results.
    pub(super) refund_outcome: Option<String>,
    pub(super) switch_url: Option<String>,
    /// Deliver each result twice (a repeat after the acknowledgement).
    pub(super) repeat_results: bool,
    /// Results the switch acknowledged, by UETR.
    pub(super) results_acknowledged: HashMap<String, u32>,
    /// The payers' banks' proxies: value to (account, name, bank BICFI).
    pub(super) payers: HashMap<String, (String, String, String)>,
    /// The last body of each outbound transfer, by UETR.
    pub(super) outbound_bodies: HashMap<String, Value>,
}

pub(super) struct Shared {
    pub(super) config: ElectrumSimConfig,
    pub(super) state: Mutex<State>,
}

impl Shared {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Electrum's error shape, signed: `status` with `{message, detail}`.
    pub(super) fn refuse(&self, status: u16, message: &str, detail: &str) -> HttpResponse {
        self.answer(
            status,
            Some(json!({ "message": message, "detail": detail })),
        )
    }

    /// A JSON answer signed as Electrum signs.
    pub(super) fn answer(&self, status: u16, body: Option<Value>) -> HttpResponse {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut answer =
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
        if let Ok(token) = self.config.signer.sign(&bytes) {
            answer.insert_header((signing::HEADER, token));
        }
        if bytes.is_empty() {
            answer.finish()
        } else {
            answer.content_type("application/json").body(bytes)
        }
    }
}

/// 401 for a missing or unknown bearer token (when tokens are required) or a signature the
/// switch's key does not verify.
pub(super) fn refuse_unauthentic(
    shared: &Shared,
    request: &HttpRequest,
    body: &[u8],
) -> Option<HttpResponse> {
    if shared.config.client.is_some() {
        let bearer = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = bearer.is_some_and(|token| {
            shared
                .state()
                .tokens
                .get(token)
                .is_some_and(|expires| Instant::now() < *expires)
        });
        if !valid {
            return Some(shared.refuse(
                401,
                "not authenticated",
                "bearer token missing or expired",
            ));
        }
    }
    let token = request
        .headers()
        .get(signing::HEADER)
        .and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if let Err(refusal) = shared.config.switch_key.verify(token, body, now) {
        return Some(shared.refuse(401, "not authenticated", &refusal.to_string()));
    }
    None
}
