//! `POST /identifiers/inbound/identifier-determination-sync`: resolve a proxy or account and
//! answer at once (the scheme allows 1 s). A proxy in the QR namespace names a pending QR
//! payment; any other is looked up in the registry. Each answer is recorded with its UETR
//! before it is sent; it has no financial effect.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use aggregates::proxy::reason_for;
use aggregates::resolution::{ResolutionCommand, ResolutionError};
use aggregates::values::ProxyKey;
use aggregates::Stage;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::proxy_registry;
use serde_json::{json, Value};
use tracing_actix_web::RequestId;

use super::wire::{self, description, required, FailureResponse, IdentifierDeterminationRequest};
use crate::app::App;
use crate::commands::CommandMetadata;
use crate::security::{mask, Party, Role};

/// What the lookup found.
enum Lookup {
    Positive {
        known_as_name: String,
        legal_name: String,
        creation_date: String,
        supplementary: Option<Value>,
    },
    Negative {
        reason_code: &'static str,
        description: &'static str,
    },
}

impl Lookup {
    fn reason_code(&self) -> Option<&'static str> {
        match self {
            Lookup::Positive { .. } => None,
            Lookup::Negative { reason_code, .. } => Some(reason_code),
        }
    }
}

fn negative(reason_code: &'static str, description: &'static str) -> Lookup {
    Lookup::Negative {
        reason_code,
        description,
    }
}

fn describe(reason_code: &str) -> &'static str {
    match reason_code {
        "AC06" => "account blocked",
        "AC04" => "account closed",
        "AC16" => "account in sequestration",
        "AC17" => "account in liquidation",
        "MD07" => "account holder deceased",
        "NOCM" => "account not compliant",
        "AG01" => "account cannot receive payments",
        "AG03" => "not allowed for this account",
        _ => "proxy unknown or invalid",
    }
}

pub async fn identifier_determination(
    app: web::Data<App>,
    party: Party,
    request_id: RequestId,
    body: web::Bytes,
) -> Result<HttpResponse, FailureResponse> {
    let started = Instant::now();
    party.require(&[Role::Scheme])?;
    let message: IdentifierDeterminationRequest = wire::parse(&body)?;
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
    chrono::DateTime::parse_from_rfc3339(created)
        .map_err(|_| FailureResponse::syntax("creationDateTime is not an RFC 3339 date-time"))?;
    let request = message
        .request
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("request"))?;
    let uetr = required(request.uetr.as_ref(), "request.uetr")?;
    uuid::Uuid::parse_str(uetr)
        .map_err(|_| FailureResponse::syntax("request.uetr is not a UUID"))?;
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
                .and_then(|a| a.bicfi.as_ref()),
            "request.accountAgent.bicfi",
        )?,
        _ => {
            return Err(FailureResponse::syntax(
                "identifier.schema must be MOBILE, CUSTOM or GENERIC",
            ))
        }
    };

    let key = ProxyKey::parse(schema, context, value);
    let lookup = match &key {
        Ok(key) => look_up(&app, key).await,
        Err(_) => negative("BE23", "proxy format invalid"),
    };
    let proxy_id = key
        .as_ref()
        .map_or_else(|_| format!("{schema}|{context}|?"), ProxyKey::id);
    let lookup = match record(
        &app,
        &request_id,
        uetr,
        message_id,
        verification,
        &proxy_id,
        lookup.reason_code(),
    )
    .await
    {
        Ok(()) => lookup,
        Err(error) => {
            tracing::error!(%error, "could not record a resolution; answering AB10");
            negative("AB10", "error at the receiving party")
        }
    };
    tracing::debug!(uetr, proxy = %mask::token(value), reason = ?lookup.reason_code(), "identifier determined");
    let answer = response(&message, request, schema, value, lookup);
    metrics::histogram!("qrswitch_payshap_resolution_seconds")
        .record(started.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok().json(answer))
}

async fn look_up(app: &App, key: &ProxyKey) -> Lookup {
    if let ProxyKey::Custom { namespace, value } = key {
        if namespace == &app.config.payshap.qr_namespace {
            return look_up_qr(app, value).await;
        }
    }
    match proxy_registry::find(app.store.views().pool(), &key.id()).await {
        Ok(Some(row)) if row.retired == 0 => {
            let Some(status) = row.account_status() else {
                return negative("AB10", "error at the receiving party");
            };
            match reason_for(status, row.resolution_allowed != 0) {
                Some(code) => negative(code, describe(code)),
                None => Lookup::Positive {
                    known_as_name: row.known_as_name,
                    legal_name: row.legal_name,
                    creation_date: row.account_created_on,
                    supplementary: None,
                },
            }
        }
        Ok(_) => negative("BE23", "proxy unknown or invalid"),
        Err(error) => {
            tracing::error!(%error, "proxy registry unreadable");
            negative("AB10", "error at the receiving party")
        }
    }
}

/// A QR's proxy resolves while its payment can still be paid.
async fn look_up_qr(app: &App, tran_id: &str) -> Lookup {
    let payment = match app.payments.load(tran_id).await {
        Ok(payment) => payment,
        Err(error) => {
            tracing::error!(%error, "payment unreadable for a QR resolution");
            return negative("AB10", "error at the receiving party");
        }
    };
    let Some(qr) = payment.qr() else {
        return negative("BE23", "proxy unknown or invalid");
    };
    let open = matches!(payment.stage(), Stage::Open) && payment.payshap_credit().is_none();
    if !open || Utc::now() >= qr.expires_at {
        return negative("BE23", "QR expired or already paid");
    }
    let amount = qr.amount.or(payment.request().map(|r| r.amount));
    Lookup::Positive {
        known_as_name: qr
            .merchant_name
            .clone()
            .unwrap_or_else(|| app.config.qr.default_merchant_name.clone()),
        legal_name: app.config.payshap.legal_name.clone(),
        creation_date: qr.issued_at.date_naive().to_string(),
        supplementary: Some(json!({
            "tranId": tran_id,
            "amount": amount.map(|a| json!({
                "value": crate::emv::payload::format_amount(a),
                "currency": "ZAR",
            })),
        })),
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    app: &App,
    request_id: &RequestId,
    uetr: &str,
    message_id: &str,
    verification: &str,
    proxy_id: &str,
    reason_code: Option<&str>,
) -> Result<(), AggregateError<ResolutionError>> {
    let command = ResolutionCommand::Record {
        uetr: uetr.to_owned(),
        message_id: message_id.to_owned(),
        verification_id: verification.to_owned(),
        proxy_id: proxy_id.to_owned(),
        reason_code: reason_code.map(str::to_owned),
        at: Utc::now(),
    };
    let metadata = CommandMetadata {
        party: "scheme".to_owned(),
        request_id: request_id.to_string(),
        message_id: Some(message_id.to_owned()),
        received_at: Utc::now(),
    };
    match app.resolutions.execute(uetr, command, &metadata).await {
        // The same request again: it was recorded the first time.
        Ok(()) | Err(AggregateError::UserError(ResolutionError::AlreadyRecorded)) => Ok(()),
        Err(other) => Err(other),
    }
}

fn response(
    message: &IdentifierDeterminationRequest,
    request: &wire::DeterminationRequest,
    schema: &str,
    value: &str,
    lookup: Lookup,
) -> Value {
    let mut information = json!({
        "accountInformation": { "proxy": { "value": value, "schema": schema } },
    });
    let mut supplementary = message.supplementary_data.clone();
    match lookup {
        Lookup::Positive {
            known_as_name,
            legal_name,
            creation_date,
            supplementary: ours,
        } => {
            information["outcome"] = json!("SUCCESSFUL");
            information["accountInformation"]["creationDate"] = json!(creation_date);
            information["accountOwner"] = json!({
                "knownAsName": known_as_name,
                "legalName": legal_name,
            });
            if let Some(ours) = ours {
                supplementary = Some(ours);
            }
        }
        Lookup::Negative {
            reason_code,
            description: text,
        } => {
            information["outcome"] = json!("UNSUCCESSFUL");
            information["reasonCode"] = json!(reason_code);
            information["description"] = json!(description(text));
        }
    }
    let mut answer = json!({
        "schema": "IdentifierDeterminationResponse",
        "messageIdentifiers": {
            "messageIdentification": uuid::Uuid::new_v4().simple().to_string(),
            "creationDateTime": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        "originalMessageIdentifiers": message.message_identifiers,
        "report": {
            "originalUetr": request.uetr,
            "originalVerificationIdentification": request.verification_identification,
            "schema": request.schema.clone().unwrap_or_else(|| "ZA_RPP".to_owned()),
            "reportInformation": information,
            "instructedAgent": request.instructed_agent,
            "instructingAgent": request.instructing_agent,
            "originalRequestor": request.requestor,
        },
    });
    if let Some(supplementary) = supplementary {
        answer["supplementaryData"] = supplementary;
    }
    answer
}
