//! `POST /transactions/inbound/credit-transfer-completion`: the sponsor bank's final word on
//! an inbound credit, must-deliver. Recorded first, then 202. Redeliveries change nothing;
//! only the first APPROVED credits. An approved credit to a QR's proxy pays that QR payment,
//! and the POS waiting on it gets its answer.
//!
//! Nothing authentic is lost: a completion that cannot be read, or whose money cannot be
//! applied (unknown proxy, a QR payment it cannot pay), is held as it came before the
//! answer, and shows up in the back office with the raw message.
//!
//! Under partner-auth only a credit we approved is credited: an approved completion after
//! our refusal, or without our approval, is recorded and refused for the back office.

use actix_web::{web, HttpResponse};
use aggregates::payshap_transfer::{Completion, PayShapCommand};
use aggregates::values::ProxyKey;
use chrono::Utc;
use tracing_actix_web::RequestId;

use super::held;
use super::message::SchemeMessage;
use super::report::{self, CompletionReport};
use super::service::PayShapService;
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

#[utoipa::path(post, path = "/transactions/inbound/credit-transfer-completion", tag = "payshap",
    params(("x-jwt-signature" = String, Header, description = "ES256 JWS over the body's SHA-256, by the scheme's key (when signing is configured).")),
    request_body = super::report::PaymentStatusReport,
    responses((status = 202, description = "Recorded (or already recorded): do not send again."),
        crate::http::documented::SchemeFailures))]
pub async fn credit_transfer_completion(
    payshap: web::Data<PayShapService>,
    message: SchemeMessage,
    request_id: RequestId,
) -> Result<HttpResponse, FailureResponse> {
    record(&payshap, &message, &request_id.to_string()).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Records an authentic completion and credits it once: from the handler, or for a held
/// unverified one that a key added later verifies.
pub async fn record(
    payshap: &PayShapService,
    message: &SchemeMessage,
    request_id: &str,
) -> Result<(), FailureResponse> {
    let completion = match report::read(&message.body) {
        Ok(completion) => completion,
        Err(failure) => {
            held::hold(payshap, message, request_id, &failure.to_string()).await?;
            return Err(failure);
        }
    };
    tracing::info!(
        uetr = completion.uetr,
        trace_id = message.trace_id.as_deref().unwrap_or(""),
        outcome = completion.outcome.as_str(),
        "credit transfer completion received"
    );
    let uetr = completion.uetr.clone();
    crate::telemetry::record_uetr(&uetr);
    let tran_id = payshap.qr_tran_id(completion.creditor.as_ref());
    let creditor = payshap
        .creditor(completion.creditor.as_ref(), tran_id.as_deref())
        .await?;
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id: request_id.to_owned(),
        message_id: Some(completion.message_id.clone()),
        received_at: Utc::now(),
        traceparent: message.traceparent(),
    };
    let amount = completion.amount;
    let command = PayShapCommand::RecordCompletion {
        completion: to_completion(completion, creditor.known, tran_id.clone()),
        authorisation_required: creditor.partner_auth,
    };
    let transfer = payshap
        .transfers
        .execute(&uetr, command, &metadata)
        .await
        .map_err(|e| FailureResponse::unavailable("recording a PayShap completion", &e))?;
    if !creditor.known {
        held::hold(payshap, message, request_id, "credit for an unknown proxy").await?;
    }
    if let (true, Some(tran_id)) = (transfer.is_credited(), tran_id) {
        // Also on redelivery: if applying failed last time, it is tried again (idempotent).
        if let Some(refusal) = payshap
            .apply_to_payment(&uetr, &tran_id, amount, &metadata)
            .await?
        {
            held::hold(payshap, message, request_id, &refusal).await?;
        }
    }
    Ok(())
}

fn to_completion(
    report: CompletionReport,
    proxy_known: bool,
    tran_id: Option<String>,
) -> Completion {
    Completion {
        message_id: report.message_id,
        uetr: report.uetr,
        end_to_end_id: report.end_to_end_id,
        outcome: report.outcome,
        reasons: report.reasons,
        amount: report.amount,
        proxy_id: report.creditor.as_ref().map(ProxyKey::id),
        proxy_known,
        tran_id,
        debtor_name: report.debtor_name,
        received_at: Utc::now(),
        debtor_account: report.debtor_account,
        debtor_agent: report.debtor_agent,
        debtor_proxy: report.debtor_proxy,
        original_created_at: report.original_created_at,
    }
}
