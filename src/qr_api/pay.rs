//! `pay`: the POS's payment request, answered when the payment's outcome is known (or its
//! deadline passes): approved, declined or timed out, in the contract's shapes.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggregates::{Outcome, Payment, PaymentCommand, PaymentError, WaitingFor};
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use super::parse::{self, message, metadata};
use crate::commands::CommandBus;
use crate::config::Config;
use crate::qr_wire::{ErrorDetail, ErrorType, PaymentRequest, PaymentResponse};
use crate::routing::{self, Router};
use crate::security::{Party, Role};
use crate::telemetry::context::CallerTrace;
use crate::waiters::{CommitWaiters, WaitGuard, Wake};

/// Longest a waiting `pay` sleeps between looks at its payment, should a wake-up be lost.
const PAY_RECHECK_MS: u64 = 1_000;

pub async fn pay(
    config: web::Data<Config>,
    payments: web::Data<CommandBus<Payment>>,
    waiters: web::Data<CommitWaiters>,
    router: web::Data<Router>,
    party: Party,
    (request_id, trace): (RequestId, CallerTrace),
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let request: PaymentRequest = message(&body)?;
    party.require_as(Role::Retailer, &request.client.id)?;
    let about = |e: QrApiError| e.about(Some(&request.id), Some(&request.tran_id));
    parse::envelope(&request.id, &request.time).map_err(about)?;
    let client_id = parse::party(&request.client.id, "client").map_err(about)?;
    let tran_id = parse::tran_id(&request.tran_id).map_err(about)?;
    crate::telemetry::record_tran_id(tran_id.as_str());
    let requested = request.amounts.request_amount.as_ref().ok_or_else(|| {
        about(QrApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidAmount,
            "amounts.requestAmount is required",
        ))
    })?;
    let amount = parse::amount(requested).map_err(about)?;
    let now = Utc::now();
    let respond_by = now + chrono::Duration::milliseconds(config.payments.pay_timeout_ms as i64);
    let command = PaymentCommand::RequestPayment {
        message_id: request.id.clone(),
        client_id,
        amount,
        message: body.into_inner(),
        received_at: now,
        respond_by,
        traceparent: trace.0.as_ref().map(ToString::to_string),
    };
    // Registered before the command: every later commit on the payment wakes it, and the
    // state the command returns is the store's as of its own commit.
    let waiter = waiters.wait_for(tran_id.as_str());
    let payment = payments
        .execute(
            tran_id.as_str(),
            command,
            &metadata(&request.client.id, &request_id, &request.id, &trace),
        )
        .await
        .map_err(|e| about(e.into()))?;
    let payment = match payment.outcome() {
        Some(_) => payment, // already answered (a PayShap credit came first)
        None => {
            router.spawn(tran_id.as_str(), &payment);
            wait_for_outcome(&payments, &waiter, tran_id.as_str(), respond_by)
                .await
                .map_err(about)?
        }
    };
    answer(&config, &request, &payment).map_err(about)
}

/// Waits until the payment has its outcome, timing it out at `respond_by`.
///
/// An outcome recorded here is in the aggregate cache before the waiter wakes; the store is
/// read only when another instance announced a commit, or when the re-check timer fires
/// (a lost announcement costs at most [`PAY_RECHECK_MS`]).
async fn wait_for_outcome(
    payments: &CommandBus<Payment>,
    waiter: &WaitGuard<'_>,
    tran_id: &str,
    respond_by: DateTime<Utc>,
) -> Result<std::sync::Arc<Payment>, QrApiError> {
    let mut wake = waiter.taken();
    loop {
        if let Some(payment) = payments.peek(tran_id).filter(|p| p.outcome().is_some()) {
            return Ok(payment);
        }
        if wake == Wake::ReadStore {
            let payment = payments.load(tran_id).await?;
            if payment.outcome().is_some() {
                return Ok(payment);
            }
        }
        let now = Utc::now();
        if now >= respond_by {
            match payments
                .execute(
                    tran_id,
                    PaymentCommand::TimeOut { at: now },
                    &routing::system_metadata(),
                )
                .await
            {
                // We timed it out (the cache has it), or an outcome landed first: look again.
                Ok(_) => continue,
                Err(AggregateError::UserError(PaymentError::AlreadyFinal)) => {
                    wake = Wake::ReadStore;
                    continue;
                }
                Err(other) => return Err(other.into()),
            }
        }
        let left = (respond_by - now).to_std().unwrap_or_default();
        let pause = left.min(Duration::from_millis(PAY_RECHECK_MS));
        wake = tokio::select! {
            woken = waiter.notified() => woken,
            () = tokio::time::sleep(pause) => Wake::ReadStore,
        };
    }
}

/// The POS's answer for a payment with its outcome.
fn answer(
    config: &Config,
    request: &PaymentRequest,
    payment: &Payment,
) -> Result<HttpResponse, QrApiError> {
    match payment.outcome() {
        Some(Outcome::Authorised { response }) => {
            let partner_id = payment
                .scan()
                .map(|s| s.partner_id.to_string())
                .unwrap_or_default();
            Ok(HttpResponse::Created().json(approved_answer(
                config,
                request,
                &partner_id,
                response,
            )))
        }
        Some(Outcome::Declined { error }) => Err(declined_answer(error)),
        Some(Outcome::TimedOut { waiting_for }) => Err(match waiting_for {
            WaitingFor::Scan => QrApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorType::NoScanReceived,
                "no scan received in time",
            ),
            WaitingFor::Partner => QrApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorType::UpstreamUnavailable,
                "partner did not answer in time",
            ),
        }),
        None => Err(QrApiError::unavailable(
            "payment has no outcome",
            &"no outcome",
        )),
    }
}

/// Our `PaymentResponse` to the POS: its own request echoed, with what the partner added
/// (approved amounts, tenders, slip data, its identifiers).
fn approved_answer(
    config: &Config,
    request: &PaymentRequest,
    partner_id: &str,
    partner_response: &Value,
) -> PaymentResponse {
    let from_partner: Option<PaymentResponse> =
        serde_json::from_value(partner_response.clone()).ok();
    let partner = partner_institution(config, partner_id, from_partner.as_ref());
    let mut identifiers = request.third_party_identifiers.clone();
    if let Some(theirs) = from_partner.as_ref().map(|r| &r.third_party_identifiers) {
        for identifier in theirs {
            if !identifiers.contains(identifier) {
                identifiers.push(identifier.clone());
            }
        }
    }
    let request_echo = request.clone();
    PaymentResponse {
        id: request_echo.id,
        time: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        originator: request_echo.originator,
        client: request_echo.client,
        settlement_entity: from_partner
            .as_ref()
            .and_then(|r| r.settlement_entity.clone())
            .or(request_echo.settlement_entity),
        receiver: from_partner
            .as_ref()
            .and_then(|r| r.receiver.clone())
            .or(request_echo.receiver),
        third_party_identifiers: identifiers,
        slip_data: from_partner
            .as_ref()
            .and_then(|r| r.slip_data.clone())
            .or(request_echo.slip_data),
        basket_ref: request_echo.basket_ref,
        tran_type: request_echo.tran_type,
        src_acc_type: request_echo.src_acc_type,
        dest_acc_type: request_echo.dest_acc_type,
        stan: request_echo.stan,
        rrn: request_echo.rrn,
        partner,
        tenders: from_partner.as_ref().and_then(|r| r.tenders.clone()),
        amounts: from_partner
            .as_ref()
            .map(|r| r.amounts.clone())
            .unwrap_or_else(|| {
                // An answer that is not a PaymentResponse (PayShap) may still name the amount paid.
                let mut amounts = request_echo.amounts;
                if amounts.approved_amount.is_none() {
                    amounts.approved_amount =
                        serde_json::from_value(partner_response["approvedAmount"].clone()).ok();
                }
                amounts
            }),
        tran_id: request_echo.tran_id,
        partner_payment_token: from_partner
            .and_then(|r| r.partner_payment_token)
            .or(request_echo.partner_payment_token),
    }
}

/// The partner as the POS is told of it: as configured (PayShap's own name for PayShap),
/// else as it named itself, else its id.
fn partner_institution(
    config: &Config,
    partner_id: &str,
    from_partner: Option<&PaymentResponse>,
) -> crate::qr_wire::Institution {
    let payshap = &config.payshap;
    config
        .partner(partner_id)
        .map(routing::institution)
        .or_else(|| {
            (partner_id == payshap.partner_id).then(|| crate::qr_wire::Institution {
                id: payshap.partner_id.clone(),
                name: payshap.partner_name.clone(),
            })
        })
        .or_else(|| from_partner.map(|r| r.partner.clone()))
        .unwrap_or_else(|| crate::qr_wire::Institution {
            id: partner_id.to_owned(),
            name: partner_id.chars().take(40).collect(),
        })
}

/// The partner's refusal, passed on: its error type when it is one of the contract's, its
/// code and message as provider fields, our own id.
fn declined_answer(partner_error: &Value) -> QrApiError {
    let theirs: Option<ErrorDetail> = serde_json::from_value(partner_error.clone()).ok();
    let error_type = theirs
        .as_ref()
        .map_or(ErrorType::DeclinedByPartner, |e| e.error_type);
    let message = theirs
        .as_ref()
        .map_or("declined by the partner", |e| e.error_message.as_str());
    let mut error = QrApiError::new(StatusCode::BAD_REQUEST, error_type, message);
    if let Some(theirs) = theirs {
        error.detail.provider_error_code = theirs.provider_error_code;
        error.detail.provider_error_msg = theirs.provider_error_msg;
        error.detail.provider_ref = theirs.provider_ref;
        error.detail.detail_message = theirs.detail_message;
    }
    error
}
