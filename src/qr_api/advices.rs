//! Confirmation and reversal advices from the POS: persisted, then 202. The POS resends
//! from its own store-and-forward queue, so a repeat is 202 with no second effect, and
//! advices may arrive before the POS has seen the `pay` answer.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggregates::{AdviceKind, Payment, PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::payment_status;
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use super::parse;
use crate::commands::CommandBus;
use crate::commands::CommandMetadata;
use crate::qr_wire::{ErrorType, PaymentConfirmation, PaymentReversal};
use crate::security::{Party, Role};
use crate::store::Store;
use crate::telemetry::context::CallerTrace;
use crate::views::Projectors;

/// Longest an advice without a tranId waits for the status view to learn its request id
/// (the view may be a few milliseconds behind a `pay` that was just accepted).
const LOOKUP_CATCH_UP_MS: u64 = 2_000;

/// What the two advices share.
struct Advice<'a> {
    id: &'a str,
    request_id: &'a str,
    time: &'a str,
    tran_id: Option<&'a str>,
    kind: AdviceKind,
}

pub async fn confirm(
    payments: web::Data<CommandBus<Payment>>,
    store: web::Data<Store>,
    projectors: web::Data<Projectors>,
    party: Party,
    request_id: RequestId,
    trace: CallerTrace,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let confirmation: PaymentConfirmation = super::parse::message(&body)?;
    let advice = Advice {
        id: &confirmation.id,
        request_id: &confirmation.request_id,
        time: &confirmation.time,
        tran_id: confirmation.tran_id.as_deref(),
        kind: AdviceKind::Confirmation,
    };
    let views = (store.as_ref(), projectors.as_ref());
    record(
        &payments,
        views,
        &party,
        (&request_id, &trace),
        advice,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(confirmation))
}

pub async fn reverse(
    payments: web::Data<CommandBus<Payment>>,
    store: web::Data<Store>,
    projectors: web::Data<Projectors>,
    party: Party,
    request_id: RequestId,
    trace: CallerTrace,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let reversal: PaymentReversal = super::parse::message(&body)?;
    let advice = Advice {
        id: &reversal.id,
        request_id: &reversal.request_id,
        time: &reversal.time,
        tran_id: reversal.tran_id.as_deref(),
        kind: AdviceKind::Reversal {
            reason: reversal.reversal_reason.as_str().to_owned(),
        },
    };
    let views = (store.as_ref(), projectors.as_ref());
    record(
        &payments,
        views,
        &party,
        (&request_id, &trace),
        advice,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(reversal))
}

/// The status view and its projectors, to find an advice's payment by its `pay` id.
type StatusView<'a> = (&'a Store, &'a Projectors);

async fn record(
    payments: &CommandBus<Payment>,
    views: StatusView<'_>,
    party: &Party,
    (request_id, trace): (&RequestId, &CallerTrace),
    advice: Advice<'_>,
    message: Value,
) -> Result<(), QrApiError> {
    let about = |e: QrApiError| e.about(Some(advice.id), advice.tran_id);
    parse::envelope(advice.id, advice.time).map_err(about)?;
    let tran_id = match advice.tran_id {
        Some(raw) => parse::tran_id(raw)
            .map_err(|_| about(not_found()))?
            .to_string(),
        None => find_by_request(views, advice.request_id)
            .await
            .map_err(about)?,
    };
    let command = PaymentCommand::Advise {
        advice_id: advice.id.to_owned(),
        advice: advice.kind,
        request_id: advice.request_id.to_owned(),
        // Another retailer's payment must look unknown.
        client_id: party
            .user()
            .map(aggregates::values::PartyId::parse)
            .transpose()
            .map_err(|_| QrApiError::forbidden())?,
        message,
        received_at: Utc::now(),
    };
    let metadata = CommandMetadata {
        party: party.label("pos").to_owned(),
        request_id: request_id.to_string(),
        message_id: Some(advice.id.to_owned()),
        received_at: Utc::now(),
        traceparent: trace.0.clone(),
    };
    crate::telemetry::record_tran_id(&tran_id);
    let about = |e: QrApiError| e.about(Some(advice.id), Some(&tran_id));
    payments
        .execute(&tran_id, command, &metadata)
        .await
        .map(drop)
        .map_err(|error| about(advice_error(error)))
}

/// The payment whose `pay` had id `request_id`.
async fn find_by_request(
    (store, projectors): StatusView<'_>,
    request_id: &str,
) -> Result<String, QrApiError> {
    let views = store.views().pool();
    let lookup = || async {
        payment_status::by_request_id(views, request_id)
            .await
            .map_err(|e| QrApiError::unavailable("looking up an advice's payment", &e))
    };
    if let Some(row) = lookup().await? {
        return Ok(row.tran_id);
    }
    if let Some(projector) = projectors.get(payment_status::NAME) {
        // Not there yet, or unknown: make sure the view has everything committed so far.
        let _ = projector
            .catch_up_to_head(Duration::from_millis(LOOKUP_CATCH_UP_MS))
            .await;
    }
    lookup().await?.map(|row| row.tran_id).ok_or_else(not_found)
}

fn not_found() -> QrApiError {
    QrApiError::new(
        StatusCode::NOT_FOUND,
        ErrorType::UnableToLocateRecord,
        "no such payment",
    )
}

/// Advices answer unknown payments with 404, as the contract documents for them.
fn advice_error(error: AggregateError<PaymentError>) -> QrApiError {
    match error {
        AggregateError::UserError(PaymentError::UnknownTransaction) => not_found(),
        other => other.into(),
    }
}
