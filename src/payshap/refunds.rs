//! Refunds as a service: starting one for a held credit (its case RETURNING), and Electrum's
//! result at `POST /transactions/outbound/credit-transfer-response`, which is must-deliver:
//! stored before it is answered 202, a repeat changes nothing. Settled, the case is RETURNED;
//! failed, the money is held again.

use actix_web::{web, HttpResponse};
use aggregates::case::CaseStep;
use aggregates::refund::{RefundCommand, RefundError, RefundOrder};
use chrono::Utc;
use cqrs_es::AggregateError;
use tracing_actix_web::RequestId;

use aggregates::payshap_transfer::Completion;
use aggregates::values::ProxyKey;

use super::cases::CaseFailure;
use super::electrum::client::ElectrumClient;
use super::electrum::resolve;
use super::held;
use super::message::SchemeMessage;
use super::refund_case;
use super::report;
use super::service::PayShapService;
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

impl PayShapService {
    /// Starts returning the held credit `uetr` to its payer as refund `refund_uetr`.
    pub async fn start_refund(
        &self,
        uetr: &str,
        refund_uetr: &str,
        metadata: &CommandMetadata,
    ) -> Result<String, CaseFailure> {
        let Some(sender) = &self.refund_sender else {
            return Err(CaseFailure::Refused(
                "refunds need our client of Electrum's API ([payshap.electrum])".to_owned(),
            ));
        };
        self.open_case(uetr).await?;
        let transfer = self
            .transfers
            .load(uetr)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        let credit = transfer.first_completion().ok_or(CaseFailure::NotFound)?;
        let payer = payer_of(credit, &sender.client, refund_uetr).await?;
        let order = RefundOrder {
            refund_uetr: refund_uetr.to_owned(),
            original_uetr: uetr.to_owned(),
            amount: credit.amount,
            payer_account: payer.account,
            payer_agent: payer.agent,
            payer_proxy: payer.proxy,
            payer_name: payer.name,
            requested_by: metadata.party.clone(),
            requested_at: Utc::now(),
        };
        let summary = format!(
            "refund {refund_uetr} of {} cents to {} at {}",
            order.amount.minor_units(),
            order.payer_account,
            order.payer_agent
        );
        self.refunds
            .execute(refund_uetr, RefundCommand::Request { order }, metadata)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        let step = CaseStep::Return {
            refund_uetr: refund_uetr.to_owned(),
        };
        self.take_step(uetr, step, metadata).await?;
        sender.send_soon(refund_uetr.to_owned());
        Ok(summary)
    }
}

/// Where a refund goes.
struct Payer {
    account: String,
    agent: String,
    proxy: Option<String>,
    name: Option<String>,
}

/// The payer's account and bank: as the completion named them, or, where it named the
/// payer by proxy only, resolved through Electrum (the bank from the completion, else from
/// the answer). Neither: refused, the case stays open for another step.
async fn payer_of(
    credit: &Completion,
    client: &ElectrumClient,
    refund_uetr: &str,
) -> Result<Payer, CaseFailure> {
    if let (Some(account), Some(agent)) = (&credit.debtor_account, &credit.debtor_agent) {
        return Ok(Payer {
            account: account.clone(),
            agent: agent.clone(),
            proxy: None,
            name: credit.debtor_name.clone(),
        });
    }
    let Some(proxy) = credit.debtor_proxy.as_deref().and_then(ProxyKey::from_id) else {
        return Err(CaseFailure::Refused(
            "the completion named no payer account, bank or proxy to return the money to"
                .to_owned(),
        ));
    };
    let found = resolve::payer_account(client, &proxy, refund_uetr)
        .await
        .map_err(|e| CaseFailure::Refused(e.to_string()))?;
    let Some(agent) = credit.debtor_agent.clone().or(found.agent) else {
        return Err(CaseFailure::Refused(
            "the payer's bank is named neither by the completion nor by the resolution".to_owned(),
        ));
    };
    Ok(Payer {
        account: found.account,
        agent,
        proxy: Some(proxy.id()),
        name: credit.debtor_name.clone().or(found.name),
    })
}

#[utoipa::path(post, path = "/transactions/outbound/credit-transfer-response", tag = "payshap",
    params(("x-jwt-signature" = String, Header, description = "ES256 JWS over the body's SHA-256, by the scheme's key.")),
    request_body = super::report::PaymentStatusReport,
    responses((status = 202, description = "Recorded (or already recorded): do not send again."),
        crate::http::documented::SchemeFailures))]
pub async fn outbound_result(
    payshap: web::Data<PayShapService>,
    message: SchemeMessage,
    request_id: RequestId,
) -> Result<HttpResponse, FailureResponse> {
    let request_id = request_id.to_string();
    let status = match report::read_status(&message.body) {
        Ok(status) => status,
        Err(failure) => {
            held::hold(&payshap, &message, &request_id, &failure.to_string()).await?;
            return Err(failure);
        }
    };
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id: request_id.clone(),
        message_id: Some(status.message_id.clone()),
        received_at: Utc::now(),
        traceparent: message.traceparent(),
    };
    let reason = status.reasons.join("; ");
    let command = RefundCommand::RecordResult {
        message_id: status.message_id,
        outcome: status.outcome,
        reasons: status.reasons,
        at: Utc::now(),
    };
    let refund = match payshap
        .refunds
        .execute(&status.uetr, command, &metadata)
        .await
    {
        Ok(refund) => refund,
        Err(AggregateError::UserError(RefundError::Unknown)) => {
            let why = "result for a transfer we did not send";
            held::hold(&payshap, &message, &request_id, why).await?;
            return Ok(HttpResponse::Accepted().finish());
        }
        Err(other) => {
            return Err(FailureResponse::unavailable(
                "recording a refund's result",
                &other,
            ))
        }
    };
    refund_case::settle(&payshap.transfers, &refund, &reason, &metadata)
        .await
        .map_err(|e| FailureResponse::unavailable("closing a refund's case", &e))?;
    Ok(HttpResponse::Accepted().finish())
}
