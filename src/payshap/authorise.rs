//! Partner-auth: `POST /transactions/inbound/credit-transfer-authorisation`. Electrum asks
//! us to authorise a credit during clearing; we decide from the ledger (the proxy live, its
//! account open, a QR's amount due matched, our limit), record the request and decision on
//! the transfer, answer 202 at once, and send the decision to Electrum as a
//! `PaymentStatusReport` ([`super::electrum::decisions`]). An approval binds us: the
//! completion that follows is credited; after a refusal it never is.

use actix_web::{web, HttpResponse};
use aggregates::payshap_transfer::{AuthorisationRequest, Decision, PayShapCommand};
use aggregates::values::ProxyKey;
use chrono::Utc;
use tracing_actix_web::RequestId;

use super::lookup::Lookup;
use super::message::SchemeMessage;
use super::service::PayShapService;
use super::transfer::{self, AuthorisationAsked};
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

#[utoipa::path(post, path = "/transactions/inbound/credit-transfer-authorisation", tag = "payshap",
    params(("x-jwt-signature" = String, Header, description = "ES256 JWS over the body's SHA-256, by the scheme's key.")),
    request_body = super::transfer::CreditTransfer,
    responses((status = 202, description = "Recorded and decided; the decision follows as a PaymentStatusReport to Electrum's credit-transfer-authorisation-response."),
        crate::http::documented::SchemeFailures))]
pub async fn credit_transfer_authorisation(
    payshap: web::Data<PayShapService>,
    message: SchemeMessage,
    request_id: RequestId,
) -> Result<HttpResponse, FailureResponse> {
    let Some(sender) = payshap.decisions.clone() else {
        return Err(FailureResponse::rule(
            "partner-auth is not configured at this switch ([payshap.electrum])",
        ));
    };
    let asked = transfer::read(&message.body)?;
    crate::telemetry::record_uetr(&asked.uetr);
    let tran_id = payshap.qr_tran_id(asked.creditor.as_ref());
    let decision = payshap.decide(&asked).await;
    tracing::info!(
        uetr = asked.uetr,
        trace_id = message.trace_id.as_deref().unwrap_or(""),
        outcome = decision.outcome(),
        reason = decision.reason_code.as_deref().unwrap_or(""),
        "credit transfer authorisation decided"
    );
    metrics::counter!("qrswitch_payshap_authorisations_total", "outcome" => decision.outcome())
        .increment(1);
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id: request_id.to_string(),
        message_id: Some(asked.message_id.clone()),
        received_at: Utc::now(),
        traceparent: message.traceparent(),
    };
    let uetr = asked.uetr.clone();
    let command = PayShapCommand::Authorise {
        request: to_request(asked, tran_id),
        decision,
    };
    payshap
        .transfers
        .execute(&uetr, command, &metadata)
        .await
        .map_err(|e| FailureResponse::unavailable("recording an authorisation", &e))?;
    sender.send_soon(uetr);
    Ok(HttpResponse::Accepted().finish())
}

fn to_request(asked: AuthorisationAsked, tran_id: Option<String>) -> AuthorisationRequest {
    AuthorisationRequest {
        message_id: asked.message_id,
        uetr: asked.uetr,
        end_to_end_id: Some(asked.end_to_end_id),
        amount: asked.amount,
        proxy_id: asked.creditor.as_ref().map(ProxyKey::id),
        tran_id,
        debtor_name: asked.debtor_name,
        created_at: asked.created_at,
        received_at: Utc::now(),
    }
}

fn refuse(code: &str, reason: &str) -> Decision {
    Decision {
        approved: false,
        reason_code: Some(code.to_owned()),
        reason: reason.to_owned(),
        decided_at: Utc::now(),
    }
}

impl PayShapService {
    /// Our decision on a credit, from the ledger. Reasons as the ops guide maps them: BE23
    /// unknown or retired proxy (or a QR no longer payable), AC04/AC06/NOCM the account
    /// closed, blocked or not compliant, AG01/AG03 it cannot receive this credit (another
    /// amount than the QR's, above our limit), FF10 our store failed.
    pub async fn decide(&self, asked: &AuthorisationAsked) -> Decision {
        let Some(creditor) = &asked.creditor else {
            return refuse("BE23", "no creditor proxy or account");
        };
        let amount_due = match self.look_up(creditor).await {
            Lookup::Negative {
                reason_code,
                description,
            } => return refuse(reason_code, description),
            Lookup::Positive { amount_due, .. } => amount_due,
        };
        if amount_due.is_some_and(|due| due != asked.amount) {
            return refuse("AG03", "amount differs from the QR's amount due");
        }
        let limit = self.config.payshap.partner_auth.max_amount_cents;
        if limit.is_some_and(|cents| asked.amount.minor_units() > cents) {
            return refuse("AG03", "above the limit for one credit");
        }
        Decision {
            approved: true,
            reason_code: None,
            reason: "approved".to_owned(),
            decided_at: Utc::now(),
        }
    }
}
