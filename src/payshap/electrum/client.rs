//! One call to Electrum: the body signed with our PayShap key (`x-jwt-signature`), the
//! bearer token where configured, and the answer's signature checked with the scheme keys
//! before it counts. Answers are classed as the store-and-forward queue classes a
//! partner's: 2xx acknowledged, 4xx refused for good, anything else (5xx, 408, 429, no
//! answer, an answer whose signature fails) unknown, to be tried again.

use std::sync::Arc;
use std::time::Duration;

use crate::config::ElectrumConfig;
use crate::payshap::keys::KeyRing;
use crate::payshap::signing;

use super::token::TokenSource;

/// Longest answer text kept in a refusal's note, in characters.
const DETAIL_MAX_CHARS: usize = 200;

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    Acknowledged { status: u16 },
    Refused { status: u16, detail: String },
    Unknown(String),
}

/// How a must-deliver message ended: Electrum acknowledged it, refused it for good, or the
/// sender stopped trying while the outcome was still unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Acknowledged {
        attempts: u32,
    },
    Refused {
        status: u16,
        detail: String,
        attempts: u32,
    },
    GaveUp {
        why: String,
        attempts: u32,
    },
}

/// The pause between tries of a must-deliver message: from `first`, doubling up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

pub struct ElectrumClient {
    http: reqwest::Client,
    base_url: String,
    keys: Arc<KeyRing>,
    token: Option<TokenSource>,
}

impl ElectrumClient {
    pub fn new(config: &ElectrumConfig, keys: Arc<KeyRing>) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let token = config
            .oauth
            .as_ref()
            .map(|oauth| TokenSource::new(oauth, timeout))
            .transpose()?;
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            keys,
            token,
        })
    }

    /// POSTs `body` to `path` once.
    pub async fn post(&self, path: &str, body: &[u8], traceparent: Option<&str>) -> CallOutcome {
        self.exchange(path, body, traceparent).await.0
    }

    /// POSTs the same `body` to `path` again while the outcome is unknown, pausing per
    /// `backoff`, until Electrum acknowledges or refuses it, or `give_up(attempts, next
    /// pause)` ends it (a deadline, a number of tries). Electrum knows a repeat by its
    /// identifiers, so resending is safe.
    pub async fn deliver(
        &self,
        path: &str,
        body: &[u8],
        backoff: Backoff,
        (what, uetr): (&str, &str),
        mut give_up: impl FnMut(u32, Duration) -> bool,
    ) -> Delivery {
        let mut pause = backoff.first;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.post(path, body, None).await {
                CallOutcome::Acknowledged { .. } => return Delivery::Acknowledged { attempts },
                CallOutcome::Refused { status, detail } => {
                    return Delivery::Refused {
                        status,
                        detail,
                        attempts,
                    }
                }
                CallOutcome::Unknown(why) if give_up(attempts, pause) => {
                    return Delivery::GaveUp { why, attempts }
                }
                CallOutcome::Unknown(why) => {
                    tracing::info!(uetr, attempts, %why, "{what} sent again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(backoff.max);
                }
            }
        }
    }

    /// POSTs `body` to `path` once: how it ended, and the answer's body (verified; empty
    /// when there is none to trust).
    pub async fn exchange(
        &self,
        path: &str,
        body: &[u8],
        traceparent: Option<&str>,
    ) -> (CallOutcome, Vec<u8>) {
        let unknown = |why: String| (CallOutcome::Unknown(why), Vec::new());
        let keys = self.keys.current();
        let signature = match keys.signer.sign(body) {
            Ok(signature) => signature,
            Err(e) => return unknown(format!("cannot sign: {e}")),
        };
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("content-type", "application/json")
            .header(signing::HEADER, signature)
            .body(body.to_vec());
        if let Some(token) = &self.token {
            match token.bearer().await {
                Ok(bearer) => request = request.bearer_auth(bearer),
                Err(e) => return unknown(format!("no bearer token: {e}")),
            }
        }
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return unknown(format!("no answer: {e}")),
        };
        let status = response.status().as_u16();
        let token = response
            .headers()
            .get(signing::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return unknown(format!("answer unreadable: {e}")),
        };
        let now = chrono::Utc::now().timestamp();
        let verified = match keys.verify(token.as_deref(), &answer, now) {
            // An answer without a body may be signed without a digest claim (the pages
            // leave it open): nothing unsigned could be slipped in.
            Err(signing::Refusal::NoDigest) if answer.is_empty() => Ok(()),
            other => other.map(|_| ()),
        };
        if let Err(refusal) = verified {
            metrics::counter!("qrswitch_electrum_answers_unverified_total").increment(1);
            return unknown(format!("{status} answer not verified: {refusal}"));
        }
        (self.classify(status, &answer).await, answer.to_vec())
    }

    async fn classify(&self, status: u16, answer: &[u8]) -> CallOutcome {
        match status {
            200..=299 => CallOutcome::Acknowledged { status },
            401 if self.token.is_some() => {
                // Perhaps our token was revoked early: the next try fetches another.
                if let Some(token) = &self.token {
                    token.invalidate().await;
                }
                CallOutcome::Unknown("401: bearer token renewed".to_owned())
            }
            408 | 429 => CallOutcome::Unknown(format!("{status}: try again")),
            400..=499 => CallOutcome::Refused {
                status,
                detail: String::from_utf8_lossy(answer)
                    .chars()
                    .take(DETAIL_MAX_CHARS)
                    .collect(),
            },
            _ => CallOutcome::Unknown(format!("{status}")),
        }
    }
}
