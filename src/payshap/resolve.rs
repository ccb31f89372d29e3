//! `POST /identifiers/inbound/identifier-determination-sync`: resolve a proxy or account and
//! answer at once (the scheme allows 1 s). A proxy in the QR namespace names a pending QR
//! payment; any other is looked up in the registry. Each answer is recorded with its UETR
//! before it is sent; it has no financial effect.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use aggregates::values::ProxyKey;
use chrono::Utc;
use serde_json::{Map, Value};
use tracing_actix_web::RequestId;

use super::answer::{
    AccountInformation, AccountOwner, DeterminationReport, IdentifierDeterminationResponse,
    Negative, Positive, ProxyIdentifier, ReportInformation, TraditionalIdentifier,
};
use super::lookup::{Lookup, Resolved};
use super::message::SchemeMessage;
use super::service::PayShapService;
use super::wire::{
    self, description, required, FailureResponse, IdentifierDeterminationRequest,
    MessageIdentifiers,
};
use crate::commands::CommandMetadata;
use crate::security::mask;

/// The scheme's limit for an identifier determination's answer.
pub const RESOLUTION_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

#[utoipa::path(post, path = "/identifiers/inbound/identifier-determination-sync", tag = "payshap",
    params(("x-jwt-signature" = String, Header, description = "ES256 JWS over the body's SHA-256, by the scheme's key (when signing is configured).")),
    request_body = IdentifierDeterminationRequest,
    responses((status = 200, description = "Resolved or not (`report.reportInformation.outcome`); signed in `x-jwt-signature`.", body = IdentifierDeterminationResponse),
        crate::http::documented::SchemeFailures))]
pub async fn identifier_determination(
    payshap: web::Data<PayShapService>,
    message: SchemeMessage,
    request_id: RequestId,
) -> Result<HttpResponse, FailureResponse> {
    let started = Instant::now();
    let request_message: IdentifierDeterminationRequest = wire::parse(&message.body)?;
    let asked = Asked::read(&request_message)?;
    crate::telemetry::record_uetr(asked.uetr);
    tracing::info!(
        uetr = asked.uetr,
        trace_id = message.trace_id.as_deref().unwrap_or(""),
        "identifier determination"
    );
    let key = ProxyKey::parse(asked.schema, asked.context, asked.value).ok();
    let proxy_id = key.as_ref().map_or_else(
        || format!("{}|{}|?", asked.schema, asked.context),
        ProxyKey::id,
    );
    let resolved = Resolved {
        uetr: asked.uetr.to_owned(),
        message_id: asked.message_id.to_owned(),
        verification_id: asked.verification.to_owned(),
        proxy_id,
    };
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id: request_id.to_string(),
        message_id: Some(asked.message_id.to_owned()),
        received_at: Utc::now(),
        traceparent: message.traceparent(),
    };
    let lookup = payshap
        .clone()
        .into_inner()
        .determine(key, resolved, metadata)
        .await;
    tracing::debug!(uetr = asked.uetr, proxy = %mask::token(asked.value), reason = ?lookup.reason_code(), "identifier determined");
    let answer = response(&payshap, &request_message, &asked, lookup);
    let took = started.elapsed();
    metrics::histogram!("qrswitch_payshap_resolution_seconds").record(took.as_secs_f64());
    if took > RESOLUTION_LIMIT {
        metrics::counter!("qrswitch_payshap_resolutions_over_limit_total").increment(1);
        tracing::warn!(
            uetr = asked.uetr,
            took_ms = took.as_millis() as u64,
            "resolution answered after the scheme's 1 s"
        );
    }
    Ok(HttpResponse::Ok().json(answer))
}

/// The checked parts of an identifier determination request.
struct Asked<'a> {
    message_id: &'a str,
    uetr: &'a str,
    verification: &'a str,
    schema: &'a str,
    value: &'a str,
    /// The namespace of a proxy, or the bank (BICFI) of a GENERIC account.
    context: &'a str,
    request: &'a wire::DeterminationRequest,
}

impl<'a> Asked<'a> {
    fn read(message: &'a IdentifierDeterminationRequest) -> Result<Self, FailureResponse> {
        let identifiers = message
            .message_identifiers
            .as_ref()
            .ok_or_else(|| FailureResponse::missing("messageIdentifiers"))?;
        let message_id = required(
            identifiers.message_identification.as_ref(),
            "messageIdentifiers.messageIdentification",
        )?;
        let created = required(
            identifiers.creation_date_time.as_ref(),
            "messageIdentifiers.creationDateTime",
        )?;
        chrono::DateTime::parse_from_rfc3339(created).map_err(|_| {
            FailureResponse::syntax("messageIdentifiers.creationDateTime is not RFC 3339")
        })?;
        let request = message
            .request
            .as_ref()
            .ok_or_else(|| FailureResponse::missing("request"))?;
        let uetr = wire::uetr(request.uetr.as_ref(), "request.uetr")?;
        let verification = required(
            request.verification_identification.as_ref(),
            "request.verificationIdentification",
        )?;
        let identifier = request
            .identifier
            .as_ref()
            .ok_or_else(|| FailureResponse::missing("request.identifier"))?;
        let schema = required(identifier.schema.as_ref(), "request.identifier.schema")?;
        let value = required(identifier.value.as_ref(), "request.identifier.value")?;
        let context = match schema {
            "MOBILE" | "CUSTOM" => required(
                identifier.namespace.as_ref(),
                "request.identifier.namespace",
            )?,
            "GENERIC" => required(
                request
                    .account_agent
                    .as_ref()
                    .or(identifier.account_agent.as_ref())
                    .and_then(|a| a.bicfi.as_ref()),
                "request.accountAgent.bicfi",
            )?,
            _ => {
                return Err(FailureResponse::syntax(
                    "request.identifier.schema must be MOBILE, CUSTOM or GENERIC",
                ))
            }
        };
        Ok(Self {
            message_id,
            uetr,
            verification,
            schema,
            value,
            context,
            request,
        })
    }
}

/// The `IdentifierDeterminationResponse`, with exactly the published fields: optional
/// objects the request did not carry are left out, never written as `null`.
fn response(
    payshap: &PayShapService,
    message: &IdentifierDeterminationRequest,
    asked: &Asked<'_>,
    lookup: Lookup,
) -> IdentifierDeterminationResponse {
    let mut supplementary: Map<String, Value> =
        wire::string_map(message.supplementary_data.as_ref());
    let information = match lookup {
        Lookup::Positive {
            known_as_name,
            legal_name,
            creation_date,
            supplementary: ours,
            ..
        } => {
            for (key, value) in ours {
                supplementary.insert(key.to_owned(), Value::String(value));
            }
            ReportInformation::Successful(Positive {
                account_information: account_information(payshap, asked, creation_date),
                account_owner: AccountOwner {
                    known_as_name,
                    legal_name,
                },
            })
        }
        Lookup::Negative {
            reason_code,
            description: text,
        } => ReportInformation::Failed(Negative {
            reason_code,
            reason_description: description(text),
        }),
    };
    let echoed = |value: &Option<Value>| value.clone().filter(|v| !v.is_null());
    IdentifierDeterminationResponse {
        schema: "IdentifierDeterminationResponse",
        message_identifiers: MessageIdentifiers {
            message_identification: Some(uuid::Uuid::new_v4().simple().to_string()),
            creation_date_time: Some(
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
        },
        original_message_identifiers: message.message_identifiers.clone(),
        report: DeterminationReport {
            schema: asked
                .request
                .schema
                .clone()
                .unwrap_or_else(|| "ZA_RPP".to_owned()),
            original_uetr: asked.uetr.to_owned(),
            original_verification_identification: asked.verification.to_owned(),
            report_information: information,
            original_requestor: echoed(&asked.request.requestor),
            instructing_agent: echoed(&asked.request.instructing_agent),
            instructed_agent: echoed(&asked.request.instructed_agent),
        },
        supplementary_data: supplementary,
    }
}

/// A proxy is answered with the proxy and the account it credits; a GENERIC account with
/// itself as the `traditionalIdentifier`, never under `proxy`.
fn account_information(
    payshap: &PayShapService,
    asked: &Asked<'_>,
    creation_date: String,
) -> AccountInformation {
    let (proxy, account) = if asked.schema == "GENERIC" {
        (None, asked.value.to_owned())
    } else {
        let proxy = ProxyIdentifier {
            schema: asked.schema.to_owned(),
            value: asked.value.to_owned(),
            namespace: asked.context.to_owned(),
        };
        (
            Some(proxy),
            payshap.config.payshap.collection_account.clone(),
        )
    };
    AccountInformation {
        creation_date,
        proxy,
        traditional_identifier: (!account.is_empty()).then_some(TraditionalIdentifier {
            schema: "GENERIC",
            value: account,
        }),
    }
}
