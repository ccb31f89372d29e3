//! Delivers the outbox: claim due deliveries per partner (never more than its in-flight
//! limit), send each, and record the partner's answer by the contract's status classes:
//! 2xx acknowledged, 4xx refused for good, anything else (5xx, 504, 408, 429, timeout, no
//! connection) unknown and retried with backoff until the maximum age parks it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aggregates::{DeliveryResult, DeliveryStatus, Payment, PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::fresh_deliveries::FreshDeliveries;
use projections::saf_outbox::OutboxRow;
use serde_json::{json, Value};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::queue::Claim;
use super::{backoff, queue};
use crate::commands::CommandBus;
use crate::config::Config;
use crate::config::PartnerConfig;
use crate::partners::{PartnerCall, PartnerClients};
use crate::routing::system_metadata;
use crate::store::Store;

/// How often the queue depth and oldest age are measured for the metrics.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

/// Shortest pause between two claim rounds, however often commits wake the dispatcher.
const MIN_ROUND_GAP_MS: u64 = 20;

/// How a send ended.
enum SendOutcome {
    Final(DeliveryResult),
    Unknown(String),
}

/// What the dispatcher reads and changes: the settings, the queue, the payments whose
/// deliveries it records, the partners' clients, and the deliveries the outbox hands over.
pub struct Dispatcher {
    pub config: Arc<Config>,
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    pub partner_clients: Arc<PartnerClients>,
    pub fresh_deliveries: FreshDeliveries,
    pub runtime: tokio::runtime::Handle,
    /// Partners whose last answer was no answer: the first final answer after it brings
    /// their backlog forward ([`queue::bring_forward`]).
    pub failing: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Dispatcher {
    /// Notes whether `partner` answered; when it answers again after failing, brings its
    /// backlog forward.
    async fn note_answer(&self, partner: &str, answered: bool) -> Result<(), sqlx::Error> {
        let recovered = {
            let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
            if answered {
                failing.remove(partner)
            } else {
                failing.insert(partner.to_owned());
                false
            }
        };
        if recovered {
            let brought = queue::bring_forward(self.store.views(), partner).await?;
            tracing::info!(
                partner,
                brought,
                "partner answers again; its backlog is due now, oldest first"
            );
        }
        Ok(())
    }
}

pub async fn run(saf: Arc<Dispatcher>, wake: Arc<Notify>, cancel: CancellationToken) {
    let claimant = format!("qrswitch-{}", uuid::Uuid::new_v4().simple());
    let slots: HashMap<String, Arc<Semaphore>> = saf
        .config
        .partners
        .iter()
        .map(|p| {
            let limit = p
                .max_in_flight
                .unwrap_or(saf.config.saf.max_in_flight_per_partner);
            (p.id.clone(), Arc::new(Semaphore::new(limit.max(1))))
        })
        .collect();
    let poll = Duration::from_millis(saf.config.saf.poll_interval_ms.max(MIN_ROUND_GAP_MS));
    let mut gauges_due = tokio::time::Instant::now();
    let mut scan_due = tokio::time::Instant::now();
    if let Err(error) = queue::register_new(saf.store.views()).await {
        tracing::warn!(%error, "store-and-forward bookkeeping not caught up; retried next start");
    }
    loop {
        let scan = tokio::time::Instant::now() >= scan_due;
        if scan {
            scan_due = tokio::time::Instant::now() + poll;
        }
        if let Err(error) = round(&saf, &slots, &claimant, scan).await {
            tracing::warn!(%error, "store-and-forward round failed; retrying");
        }
        if tokio::time::Instant::now() >= gauges_due {
            if let Err(error) = super::gauges::update(saf.store.views(), &saf.config).await {
                tracing::warn!(%error, "store-and-forward gauges not updated");
            }
            gauges_due = tokio::time::Instant::now() + GAUGE_INTERVAL;
        }
        // New deliveries come from the outbox pass; commits (a delivery answered, so a slot
        // is free) start a round on the keys in hand; the scan runs on its timer.
        tokio::select! {
            () = cancel.cancelled() => return,
            () = saf.fresh_deliveries.published() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep_until(scan_due) => {}
        }
        tokio::time::sleep(Duration::from_millis(MIN_ROUND_GAP_MS)).await;
    }
}

/// One pass: per partner, as many deliveries as it has free slots for: first those the
/// outbox just handed over (claimed by key), then, when `scan` is set, the oldest due ones
/// (retries, deliveries of other instances' passes, anything not handed over).
async fn round(
    saf: &Arc<Dispatcher>,
    slots: &HashMap<String, Arc<Semaphore>>,
    claimant: &str,
    scan: bool,
) -> Result<(), sqlx::Error> {
    let db = saf.store.views();
    for partner in &saf.config.partners {
        let Some(slots) = slots.get(&partner.id) else {
            continue;
        };
        let free = slots.available_permits();
        if free == 0 {
            continue;
        }
        let lease = chrono::Duration::milliseconds(
            (partner.timeout_ms + saf.config.saf.claim_margin_ms) as i64,
        );
        let keys = saf.fresh_deliveries.take(&partner.id, free);
        let mut rows = Vec::new();
        if !keys.is_empty() {
            rows = queue::claim(db, Claim::Keys(&keys), claimant, lease).await?;
        }
        let room = free.saturating_sub(rows.len());
        if scan && room > 0 {
            let due = Claim::Due {
                partner_id: &partner.id,
                limit: room,
            };
            rows.extend(queue::claim(db, due, claimant, lease).await?);
        }
        for row in rows {
            let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
                queue::unclaim(db, &row.delivery_id).await?;
                continue;
            };
            let saf = Arc::clone(saf);
            let partner = partner.clone();
            saf.runtime.clone().spawn(async move {
                deliver(&saf, &partner, &row, permit).await;
            });
        }
    }
    Ok(())
}

/// Sends one claimed delivery and records what came of it. Holds its partner slot throughout.
async fn deliver(
    saf: &Dispatcher,
    partner: &PartnerConfig,
    row: &OutboxRow,
    _slot: OwnedSemaphorePermit,
) {
    if let Err(error) = try_deliver(saf, partner, row).await {
        let delivery_id = &row.delivery_id;
        tracing::warn!(delivery_id, %error, "delivery bookkeeping failed; the claim will lapse and it is retried");
    }
}

async fn try_deliver(
    saf: &Dispatcher,
    partner: &PartnerConfig,
    row: &OutboxRow,
) -> anyhow::Result<()> {
    let db = saf.store.views();
    let delivery_id = row.delivery_id.as_str();
    // The aggregate, not the view, says whether this still needs sending: the view may lag
    // behind an answer recorded a moment ago. This instance's own state of it is enough
    // here: answers are recorded by the instance holding the claim, and a state that missed
    // another instance's answer costs at most a repeated advice (deliveries are at least
    // once), after which recording the answer reads the store and finds it final.
    let payment = match saf.payments.peek(&row.tran_id) {
        Some(payment) => payment,
        None => saf.payments.load(&row.tran_id).await?,
    };
    if payment.delivery(delivery_id).map(|d| d.status) != Some(DeliveryStatus::Pending) {
        queue::unclaim(db, delivery_id).await?;
        return Ok(());
    }
    let message = wire_message(row, &payment, partner);
    // The advice's trace; our own timeout reversal belongs to the POS's payment request.
    let trace = row
        .traceparent
        .as_deref()
        .or_else(|| payment.request().and_then(|r| r.traceparent.as_deref()));
    let call = PartnerCall::start(&partner.id, operation(&row.kind), &row.tran_id, trace);
    let outcome = send(saf, partner, &message, &call).await;
    let label = match &outcome {
        SendOutcome::Final(DeliveryResult::Acknowledged { .. }) => "acknowledged",
        SendOutcome::Final(DeliveryResult::Refused { .. }) => "refused",
        SendOutcome::Unknown(_) => "unknown",
    };
    call.finish(label);
    metrics::counter!("qrswitch_saf_attempts_total", "partner" => partner.id.clone(), "outcome" => label)
        .increment(1);
    saf.note_answer(&partner.id, matches!(outcome, SendOutcome::Final(_)))
        .await?;
    match outcome {
        SendOutcome::Final(result) => {
            let command = PaymentCommand::RecordDelivery {
                delivery_id: delivery_id.to_owned(),
                result,
                at: Utc::now(),
            };
            // The outbox projection releases the claim and counts this attempt when it
            // applies the answer; until then the claim keeps other rounds away.
            saf.payments
                .execute(&row.tran_id, command, &system_metadata())
                .await?;
        }
        SendOutcome::Unknown(reason) => retry_later(saf, row, &reason).await?,
    }
    Ok(())
}

/// No final answer: the delivery waits its backoff, and parks once it is older than
/// `saf.max_age_ms`.
async fn retry_later(saf: &Dispatcher, row: &OutboxRow, reason: &str) -> anyhow::Result<()> {
    let db = saf.store.views();
    let delivery_id = row.delivery_id.as_str();
    let attempts = queue::attempts(db, delivery_id).await?;
    let tried = attempts.as_ref().map_or(0, |a| a.attempts) + 1;
    let age_from = attempts
        .and_then(|a| a.age_from)
        .unwrap_or_else(|| row.scheduled_at.clone());
    let age = chrono::DateTime::parse_from_rfc3339(&age_from)
        .map(|t| Utc::now() - t.with_timezone(&Utc))
        .unwrap_or_default();
    let wait = backoff::delay(
        u32::try_from(tried).unwrap_or(u32::MAX),
        saf.config.saf.backoff_base_ms,
        saf.config.saf.backoff_cap_ms,
    );
    let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    queue::release(db, delivery_id, next, Some(reason)).await?;
    if age.num_milliseconds() >= saf.config.saf.max_age_ms as i64 {
        park(
            saf,
            &row.tran_id,
            delivery_id,
            &format!("undelivered after {tried} attempts: {reason}"),
        )
        .await?;
    }
    Ok(())
}

async fn park(
    saf: &Dispatcher,
    tran_id: &str,
    delivery_id: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let command = PaymentCommand::ParkDelivery {
        delivery_id: delivery_id.to_owned(),
        reason: reason.chars().take(200).collect(),
        at: Utc::now(),
    };
    match saf
        .payments
        .execute(tran_id, command, &system_metadata())
        .await
    {
        Ok(_) => {
            tracing::warn!(
                tran_id,
                delivery_id,
                reason,
                "delivery parked for the back office"
            );
            Ok(())
        }
        Err(AggregateError::UserError(PaymentError::DeliveryNotInState(_))) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// The advice as the partner receives it: the POS's own advice with `partner` and `tranId`
/// filled in, or, for our timeout reversal, a `PaymentReversal` built from the request.
fn wire_message(row: &OutboxRow, payment: &Payment, partner: &PartnerConfig) -> Value {
    let institution = json!({ "id": partner.id, "name": partner.name });
    let stored: Value = serde_json::from_str(&row.message).unwrap_or(Value::Null);
    if let Value::Object(mut advice) = stored {
        advice.entry("partner").or_insert(institution);
        advice.entry("tranId").or_insert_with(|| json!(row.tran_id));
        return Value::Object(advice);
    }
    let request = payment.request().map(|r| &r.message);
    let identifiers = request
        .and_then(|m| m.get("thirdPartyIdentifiers").cloned())
        .unwrap_or_else(|| json!([]));
    let mut reversal = json!({
        // A UUID (the contract's id format) that is the same on every attempt.
        "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, row.delivery_id.as_bytes()).to_string(),
        "requestId": row.request_id,
        "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "thirdPartyIdentifiers": identifiers,
        "reversalReason": row.reason.clone().unwrap_or_else(|| "TIMEOUT".to_owned()),
        "partner": institution,
        "tranId": row.tran_id,
    });
    if let Some(amounts) = request.and_then(|m| m.get("amounts")) {
        reversal["amounts"] = amounts.clone();
    }
    reversal
}

/// The partner's path for an advice of `kind`.
fn operation(kind: &str) -> &'static str {
    match kind {
        "CONFIRMATION" => "payments/confirmations",
        _ => "payments/reversals",
    }
}

async fn send(
    saf: &Dispatcher,
    partner: &PartnerConfig,
    message: &Value,
    call: &PartnerCall,
) -> SendOutcome {
    let url = format!(
        "{}/{}",
        partner.base_url.trim_end_matches('/'),
        call.operation()
    );
    let Some(http) = saf.partner_clients.get(&partner.id) else {
        return SendOutcome::Unknown("no HTTP client for the partner".to_owned());
    };
    let mut request = call.traced(
        http.post(&url)
            .timeout(Duration::from_millis(partner.timeout_ms))
            .json(message),
    );
    if let Some(user) = &partner.username {
        request = request.basic_auth(user, partner.password.as_deref());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let code = status.as_u16();
            if status.is_success() {
                SendOutcome::Final(DeliveryResult::Acknowledged { status: code })
            } else if status.is_client_error() && code != 408 && code != 429 {
                let body = response.text().await.unwrap_or_default();
                let reason = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|b| {
                        b.get("errorMessage")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| format!("HTTP {code}"));
                SendOutcome::Final(DeliveryResult::Refused {
                    status: code,
                    reason,
                })
            } else {
                SendOutcome::Unknown(format!("HTTP {code}"))
            }
        }
        Err(error) if error.is_timeout() => {
            SendOutcome::Unknown(format!("no answer within {} ms", partner.timeout_ms))
        }
        Err(_) => SendOutcome::Unknown("partner unreachable".to_owned()),
    }
}
