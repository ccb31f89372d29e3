//! `POST /transactions/inbound/credit-transfer-completion`: the sponsor bank's final word on
//! an inbound credit. Recorded first, then 202. Redeliveries change nothing; only the first
//! APPROVED credits. An approved credit to a QR's proxy pays that QR payment, and the POS
//! waiting on it gets its answer; one that cannot (closed, another amount, another partner
//! holds it) is kept as a refund-required exception.

use actix_web::{web, HttpResponse};
use aggregates::payshap_transfer::{Completion, CompletionOutcome, PayShapCommand};
use aggregates::values::{PartyId, ProxyKey};
use aggregates::PaymentCommand;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::proxy_registry;
use tracing_actix_web::RequestId;

use super::wire::{self, required, CreditorAccount, FailureResponse, PaymentStatusReport};
use crate::app::App;
use crate::commands::CommandMetadata;
use crate::security::{Party, Role};

pub async fn credit_transfer_completion(
    app: web::Data<App>,
    party: Party,
    request_id: RequestId,
    body: web::Bytes,
) -> Result<HttpResponse, FailureResponse> {
    party.require(&[Role::Scheme])?;
    let report: PaymentStatusReport = wire::parse(&body)?;
    let message_id = required(
        report
            .message_identifiers
            .as_ref()
            .and_then(|m| m.message_identification.as_ref()),
        "messageIdentifiers.messageIdentification",
    )?
    .to_owned();
    let identifiers = report
        .transaction_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("transactionIdentifiers"))?;
    let uetr = required(identifiers.uetr.as_ref(), "transactionIdentifiers.uetr")?.to_owned();
    uuid::Uuid::parse_str(&uetr).map_err(|_| FailureResponse::syntax("uetr is not a UUID"))?;
    let outcome = match required(
        report.status.as_ref().and_then(|s| s.outcome.as_ref()),
        "status.outcome",
    )? {
        "APPROVED" => CompletionOutcome::Approved,
        "CANCELLED" => CompletionOutcome::Cancelled,
        "PENDING" => CompletionOutcome::Pending,
        "REJECTED" => CompletionOutcome::Rejected,
        _ => {
            return Err(FailureResponse::syntax(
                "status.outcome must be APPROVED, CANCELLED, PENDING or REJECTED",
            ))
        }
    };
    let original = report
        .original_transaction
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("originalTransaction"))?;
    let amount = wire::zar_minor_units(
        original
            .amount
            .as_ref()
            .ok_or_else(|| FailureResponse::missing("originalTransaction.amount"))?,
    )?;
    let key = original.creditor_account.as_ref().and_then(creditor_key);
    let tran_id = match &key {
        Some(ProxyKey::Custom { namespace, value })
            if namespace == &app.config.payshap.qr_namespace =>
        {
            Some(value.clone())
        }
        _ => None,
    };
    let proxy_known = match (&key, &tran_id) {
        (_, Some(tran_id)) => app
            .payments
            .load(tran_id)
            .await
            .map_err(|e| FailureResponse::unavailable("loading a QR payment", &e))?
            .qr()
            .is_some(),
        (Some(key), None) => proxy_registry::find(app.store.views().pool(), &key.id())
            .await
            .map_err(|e| FailureResponse::unavailable("reading the proxy registry", &e))?
            .is_some_and(|row| row.retired == 0),
        (None, None) => false,
    };
    let reasons = report
        .status
        .as_ref()
        .and_then(|s| s.reasons.as_ref())
        .map(|reasons| {
            reasons
                .iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r.reason_code.as_deref().unwrap_or(""),
                        r.description.as_deref().unwrap_or("")
                    )
                    .trim()
                    .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    let completion = Completion {
        message_id: message_id.clone(),
        uetr: uetr.clone(),
        end_to_end_id: identifiers.end_to_end_identification.clone(),
        outcome,
        reasons,
        amount,
        proxy_id: key.as_ref().map(ProxyKey::id),
        proxy_known,
        tran_id: tran_id.clone(),
        debtor_name: original.debtor.as_ref().and_then(|d| d.name.clone()),
        received_at: Utc::now(),
    };
    let metadata = CommandMetadata {
        party: party.label("scheme").to_owned(),
        request_id: request_id.to_string(),
        message_id: Some(message_id),
        received_at: Utc::now(),
    };
    app.payshap
        .execute(
            &uetr,
            PayShapCommand::RecordCompletion { completion },
            &metadata,
        )
        .await
        .map_err(|e| FailureResponse::unavailable("recording a PayShap completion", &e))?;

    let transfer = app
        .payshap
        .load(&uetr)
        .await
        .map_err(|e| FailureResponse::unavailable("loading a PayShap transfer", &e))?;
    if let (true, Some(tran_id)) = (transfer.is_credited(), tran_id) {
        // Also on redelivery: if applying failed last time, it is tried again (idempotent).
        apply_to_payment(&app, &uetr, &tran_id, amount, &metadata).await?;
    }
    Ok(HttpResponse::Accepted().finish())
}

/// The proxy (or GENERIC account) the credit was paid to.
fn creditor_key(account: &CreditorAccount) -> Option<ProxyKey> {
    if let Some(proxy) = &account.proxy {
        let schema = proxy.schema.as_deref()?;
        return ProxyKey::parse(
            schema,
            proxy.namespace.as_deref().unwrap_or(""),
            proxy.value.as_deref()?,
        )
        .ok();
    }
    let bicfi = account.agent.as_ref()?.bicfi.as_deref()?;
    ProxyKey::parse("GENERIC", bicfi, account.identification.as_deref()?).ok()
}

async fn apply_to_payment(
    app: &App,
    uetr: &str,
    tran_id: &str,
    amount: aggregates::values::Amount,
    metadata: &CommandMetadata,
) -> Result<(), FailureResponse> {
    let partner_id = PartyId::parse(&app.config.payshap.partner_id)
        .map_err(|e| FailureResponse::unavailable("payshap.partner_id is not a party id", &e))?;
    let command = PaymentCommand::ReceivePayShapCredit {
        uetr: uetr.to_owned(),
        partner_id,
        amount,
        at: Utc::now(),
    };
    match app.payments.execute(tran_id, command, metadata).await {
        Ok(()) => Ok(()),
        Err(AggregateError::UserError(refusal)) => {
            tracing::warn!(uetr, tran_id, %refusal, "PayShap credit cannot pay its QR payment: refund required");
            let command = PayShapCommand::MarkUnapplied {
                reason: refusal.to_string(),
                at: Utc::now(),
            };
            app.payshap
                .execute(uetr, command, metadata)
                .await
                .map_err(|e| FailureResponse::unavailable("recording an unapplied credit", &e))
        }
        Err(other) => Err(FailureResponse::unavailable(
            "applying a PayShap credit",
            &other,
        )),
    }
}
