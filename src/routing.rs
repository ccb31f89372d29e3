//! Authorisation routing: once scan and request match, send the POS's `PaymentRequest` to the
//! partner that scanned and record its answer.
//!
//! The right to call is claimed first (`StartAuthorisation`), so however many instances
//! notice the match, the partner is asked once. A crash after the claim leaves the payment
//! authorising; the POS's timeout (or the deadline sweeper) then times it out and queues a
//! reversal, since the partner may have approved.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aggregates::{AuthorisationOutcome, Payment, PaymentCommand, PaymentError, Stage};
use chrono::Utc;
use cqrs_es::AggregateError;
use serde_json::Value;

use crate::commands::{CommandBus, CommandMetadata};
use crate::config::{Config, PartnerConfig};
use crate::partners::{PartnerCall, PartnerClients};
use crate::qr_wire::{ErrorDetail, ErrorType, Institution};
use crate::telemetry::context::TraceParent;

/// How long routing tries its commands again while the store cannot be reached (a database
/// failover), and the pauses between tries.
const STORE_RETRY_FOR: Duration = Duration::from_secs(15);
const STORE_RETRY_FIRST: Duration = Duration::from_millis(50);
const STORE_RETRY_MAX_PAUSE: Duration = Duration::from_millis(500);

/// The event a claim to call the partner stores (`StartAuthorisation`).
const CLAIM_EVENT: &str = "AuthorisationRequested";

/// Party recorded on events the switch causes by itself.
pub const SYSTEM_PARTY: &str = "qrswitch";

/// What sending an authorisation needs: the payments, the partners' settings and their
/// HTTP clients, and the runtime a send outlives its request on. Shared by the handlers
/// that notice a match.
#[derive(Clone)]
pub struct Router {
    payments: Arc<CommandBus<Payment>>,
    config: Arc<Config>,
    clients: Arc<PartnerClients>,
    runtime: tokio::runtime::Handle,
}

impl Router {
    pub fn new(
        payments: Arc<CommandBus<Payment>>,
        config: Arc<Config>,
        clients: Arc<PartnerClients>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            payments,
            config,
            clients,
            runtime,
        }
    }

    /// Sends the authorisation of `tran_id` in the background, if it is matched and nobody
    /// has yet. `payment` is its state as the caller just left it, so that an unmatched
    /// payment costs nothing here.
    pub fn spawn(&self, tran_id: &str, payment: &Payment) {
        if payment.stage() != Stage::Matched {
            return;
        }
        let router = self.clone();
        let tran_id = tran_id.to_owned();
        self.runtime.spawn(async move {
            if let Err(error) = router.try_drive(&tran_id).await {
                tracing::error!(tran_id, %error, "authorisation routing failed; the payment will time out");
            }
        });
    }

    async fn try_drive(&self, tran_id: &str) -> Result<(), AggregateError<PaymentError>> {
        let metadata = system_metadata();
        let Some(payment) = self.claim(tran_id, &metadata).await? else {
            return Ok(());
        };
        let (Some(request), Some(scan)) = (payment.request(), payment.scan()) else {
            return Ok(());
        };
        // The answer's events belong to the POS's trace, as does the call.
        let metadata = CommandMetadata {
            traceparent: request.traceparent.as_deref().and_then(TraceParent::parse),
            ..metadata
        };
        let outcome = self.ask_partner(tran_id, request, scan).await;
        let outcome_kind = outcome_kind(&outcome);
        // The partner has acted on its answer: recording it again is harmless (an answer
        // recorded already, or a payment timed out meanwhile, is refused as final).
        let record = || PaymentCommand::RecordAuthorisation {
            outcome: outcome.clone(),
            at: Utc::now(),
        };
        match self.execute_retrying(tran_id, record, &metadata).await {
            Ok(_) => Ok(()),
            Err(AggregateError::UserError(PaymentError::AlreadyFinal)) => {
                // The POS already has its answer (timed out); a reversal is queued.
                tracing::warn!(
                    tran_id,
                    outcome = outcome_kind,
                    "late partner answer ignored"
                );
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// Claims the right to call the partner for `tran_id`: the payment to send, or `None`
    /// where another caller holds the claim (it sends) or the payment is past sending.
    ///
    /// The claim is decided on the store's latest state, so only one caller wins it. A
    /// claim tried again after a store error may find itself already committed (its
    /// acknowledgement was lost with a connection a database failover closed): the
    /// stream then holds our own `AuthorisationRequested`, written under this routing's
    /// request id, and routing carries on instead of leaving the POS to time out.
    async fn claim(
        &self,
        tran_id: &str,
        metadata: &CommandMetadata,
    ) -> Result<Option<Arc<Payment>>, AggregateError<PaymentError>> {
        let tries = AtomicU32::new(0);
        let claim = || {
            tries.fetch_add(1, Ordering::Relaxed);
            PaymentCommand::StartAuthorisation { at: Utc::now() }
        };
        match self.execute_retrying(tran_id, claim, metadata).await {
            Ok(payment) => Ok(Some(payment)),
            Err(AggregateError::UserError(PaymentError::NotAwaitingAuthorisation))
                if tries.load(Ordering::Relaxed) > 1 =>
            {
                let ours = self
                    .payments
                    .stored_by(tran_id, CLAIM_EVENT, &metadata.request_id)
                    .await?;
                let payment = self.payments.load(tran_id).await?;
                // Timed out meanwhile: its reversal is queued, and nobody calls now.
                let sending = ours && payment.stage() == Stage::Authorising;
                if sending {
                    tracing::warn!(tran_id, "claim committed on a lost connection; sending");
                }
                Ok(sending.then_some(payment))
            }
            // Another caller claimed it first; it will send.
            Err(AggregateError::UserError(PaymentError::NotAwaitingAuthorisation)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Executes `command()` on `tran_id`, again while the store cannot be reached (a
    /// connection reset, or a node that just became read-only, in a database failover)
    /// until [`STORE_RETRY_FOR`] has passed. Only for commands that are safe to repeat.
    async fn execute_retrying(
        &self,
        tran_id: &str,
        command: impl Fn() -> PaymentCommand,
        metadata: &CommandMetadata,
    ) -> Result<Arc<Payment>, AggregateError<PaymentError>> {
        let started = std::time::Instant::now();
        let mut pause = STORE_RETRY_FIRST;
        loop {
            match self.payments.execute(tran_id, command(), metadata).await {
                Err(
                    error @ (AggregateError::DatabaseConnectionError(_)
                    | AggregateError::UnexpectedError(_)),
                ) if started.elapsed() < STORE_RETRY_FOR => {
                    tracing::warn!(tran_id, %error, "store unreachable; tried again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(STORE_RETRY_MAX_PAUSE);
                }
                done => return done,
            }
        }
    }

    /// The scanning partner's answer to the POS's request, as one partner call.
    async fn ask_partner(
        &self,
        tran_id: &str,
        request: &aggregates::payment::Request,
        scan: &aggregates::payment::Scan,
    ) -> AuthorisationOutcome {
        let Some(partner) = self.config.partner(scan.partner_id.as_str()) else {
            return AuthorisationOutcome::Declined {
                error: routing_error("partner not configured or disabled"),
            };
        };
        let mut message = Value::clone(&request.message);
        message["partner"] = serde_json::json!({ "id": partner.id, "name": partner.name });
        match &scan.partner_payment_token {
            Some(token) => message["partnerPaymentToken"] = Value::String(token.clone()),
            None => {
                if let Some(object) = message.as_object_mut() {
                    object.remove("partnerPaymentToken");
                }
            }
        }
        let call = PartnerCall::start(
            &partner.id,
            "payments",
            tran_id,
            request.traceparent.as_deref(),
        );
        let outcome = match self.clients.get(&partner.id) {
            Some(http) => authorise(http, partner, &message, &call).await,
            None => AuthorisationOutcome::Unknown {
                reason: "no HTTP client for the partner".to_owned(),
            },
        };
        call.finish(outcome_kind(&outcome));
        outcome
    }
}

fn outcome_kind(outcome: &AuthorisationOutcome) -> &'static str {
    match outcome {
        AuthorisationOutcome::Approved { .. } => "approved",
        AuthorisationOutcome::Declined { .. } => "declined",
        AuthorisationOutcome::Unknown { .. } => "unknown",
    }
}

pub fn system_metadata() -> CommandMetadata {
    CommandMetadata {
        party: SYSTEM_PARTY.to_owned(),
        request_id: uuid::Uuid::new_v4().to_string(),
        message_id: None,
        received_at: Utc::now(),
        traceparent: None,
    }
}

fn routing_error(message: &str) -> Value {
    serde_json::to_value(ErrorDetail::new(ErrorType::RoutingError, message)).unwrap_or(Value::Null)
}

/// Calls the partner's `pay` and classifies its answer by the contract's status classes:
/// 201 approves, 4xx declines, anything else (5xx, 504, timeout, no connection) is unknown.
pub async fn authorise(
    http: &reqwest::Client,
    partner: &PartnerConfig,
    message: &Value,
    call: &PartnerCall,
) -> AuthorisationOutcome {
    let url = format!("{}/payments", partner.base_url.trim_end_matches('/'));
    let mut request = call.traced(
        http.post(&url)
            .timeout(Duration::from_millis(partner.timeout_ms))
            .json(message),
    );
    if let Some(user) = &partner.username {
        request = request.basic_auth(user, partner.password.as_deref());
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let reason = if error.is_timeout() {
                format!("no answer within {} ms", partner.timeout_ms)
            } else {
                "partner unreachable".to_owned()
            };
            tracing::warn!(partner = partner.id, %error, "authorisation outcome unknown");
            return AuthorisationOutcome::Unknown { reason };
        }
    };
    let status = response.status();
    let body: Option<Value> = response.json().await.ok();
    if status.as_u16() == 201 {
        match body {
            Some(response) if response.is_object() => AuthorisationOutcome::Approved { response },
            _ => AuthorisationOutcome::Unknown {
                reason: "approval without a readable PaymentResponse".to_owned(),
            },
        }
    } else if status.is_client_error() {
        let error = body
            .filter(|b| b.get("errorType").is_some())
            .unwrap_or_else(|| {
                serde_json::to_value(ErrorDetail::new(
                    ErrorType::DeclinedByPartner,
                    &format!("partner answered HTTP {}", status.as_u16()),
                ))
                .unwrap_or(Value::Null)
            });
        AuthorisationOutcome::Declined { error }
    } else {
        AuthorisationOutcome::Unknown {
            reason: format!("partner answered HTTP {}", status.as_u16()),
        }
    }
}

/// The partner named on our messages and answers.
pub fn institution(partner: &PartnerConfig) -> Institution {
    Institution {
        id: partner.id.clone(),
        name: partner.name.clone(),
    }
}
