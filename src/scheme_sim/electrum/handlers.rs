//! The Electrum simulator's endpoints: the token endpoint, partner-auth decisions, outbound
//! credit transfers (with their results delivered), and the payer's identifier
//! determination.

use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};

use super::shared::{refuse_unauthentic, ArrivedDecision, Shared};

/// How long a silent simulator holds a request: past any client timeout, yet bounded.
const SILENT_HOLD: Duration = Duration::from_secs(30);

/// `client_id:client_secret` from HTTP Basic, as the client-credentials grant sends them.
fn basic_credentials(request: &HttpRequest) -> Option<(String, String)> {
    let header = request.headers().get("authorization")?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

pub(super) async fn token(
    shared: web::Data<Shared>,
    request: HttpRequest,
    form: String,
) -> HttpResponse {
    let granted = form
        .split('&')
        .any(|pair| pair == "grant_type=client_credentials");
    let expected = shared.config.client.clone();
    if !granted || expected.is_none() || basic_credentials(&request) != expected {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let lifetime = shared.config.token_lifetime;
    let mut state = shared.state();
    state
        .tokens
        .insert(token.clone(), Instant::now() + lifetime);
    state.tokens_issued += 1;
    HttpResponse::Ok().json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": lifetime.as_secs(),
    }))
}

pub(super) async fn decision(
    shared: web::Data<Shared>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse_unauthentic(&shared, &request, &body) {
        return refused;
    }
    let (silent, failing) = {
        let mut state = shared.state();
        let failing = state.fail_next > 0;
        state.fail_next = state.fail_next.saturating_sub(1);
        (state.silent, failing)
    };
    if silent {
        tokio::time::sleep(SILENT_HOLD).await;
    }
    let report: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |pointer: &str| {
        report
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let Some(uetr) = text("/transactionIdentifiers/uetr") else {
        return shared.refuse(
            400,
            "mandatory element missing",
            "CH21 transactionIdentifiers.uetr",
        );
    };
    let mut state = shared.state();
    let after = state.asked_at.get(&uetr).map(Instant::elapsed);
    let late = after.is_some_and(|after| after > shared.config.deadline);
    let status = match (failing, late) {
        (true, _) => 503,
        (false, true) => 422,
        (false, false) => 202,
    };
    state.arrived.push(ArrivedDecision {
        uetr,
        message_id: text("/messageIdentifiers/messageIdentification").unwrap_or_default(),
        original_message_id: text("/originalMessageIdentifiers/messageIdentification")
            .unwrap_or_default(),
        outcome: text("/status/outcome").unwrap_or_default(),
        reason: text("/status/reasonInfo/0/reason/value"),
        after,
        status,
    });
    drop(state);
    if failing {
        return shared.refuse(503, "service unavailable", "try again");
    }
    if late {
        return shared.refuse(
            422,
            "message breaks a rule",
            "the scheme's deadline passed: the credit was declined",
        );
    }
    shared.answer(202, None)
}

/// Electrum's `outboundCreditTransfer`: accepted (202) unless failing; the payer is paid
/// once per UETR, and the result is delivered to the switch until it answers 2xx.
pub(super) async fn outbound(
    shared: web::Data<Shared>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse_unauthentic(&shared, &request, &body) {
        return refused;
    }
    let transfer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(uetr) = transfer
        .pointer("/transactionIdentifiers/uetr")
        .and_then(Value::as_str)
    else {
        return shared.refuse(
            400,
            "mandatory element missing",
            "CH21 transactionIdentifiers.uetr",
        );
    };
    shared
        .state()
        .outbound_bodies
        .insert(uetr.to_owned(), transfer.clone());
    let (failing, first, outcome, repeat) = {
        let mut state = shared.state();
        let failing = state.fail_next > 0;
        state.fail_next = state.fail_next.saturating_sub(1);
        *state.outbound.entry(uetr.to_owned()).or_default() += 1;
        let first = !failing && !state.paid.contains_key(uetr);
        let outcome = state
            .refund_outcome
            .clone()
            .unwrap_or_else(|| "APPROVED".to_owned());
        if first && outcome == "APPROVED" {
            state.paid.insert(uetr.to_owned(), 1);
        }
        (failing, first, outcome, state.repeat_results)
    };
    if failing {
        return shared.refuse(503, "service unavailable", "try again");
    }
    if first {
        let shared = shared.clone().into_inner();
        let report = crate::scheme_sim::results::status_report(uetr, &outcome);
        let uetr = uetr.to_owned();
        tokio::spawn(async move {
            let url = || shared.state().switch_url.clone();
            let sign = |body: &[u8]| shared.config.signer.sign(body).ok();
            let times = if repeat { 2 } else { 1 };
            let acknowledged =
                crate::scheme_sim::results::deliver_times(times, &report, &url, &sign).await;
            *shared.state().results_acknowledged.entry(uetr).or_default() += acknowledged;
        });
    }
    shared.answer(202, None)
}

/// Electrum's outbound identifier determination: a payer's proxy resolved to the account
/// its bank holds (`SUCCESSFUL`), or `FAILED` with BE23 for a proxy nobody holds.
pub(super) async fn resolve(
    shared: web::Data<Shared>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse_unauthentic(&shared, &request, &body) {
        return refused;
    }
    let asked: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |pointer: &str| asked.pointer(pointer).and_then(Value::as_str);
    let (Some(uetr), Some(value)) = (text("/request/uetr"), text("/request/identifier/value"))
    else {
        return shared.refuse(
            400,
            "mandatory element missing",
            "CH21 request.uetr, request.identifier",
        );
    };
    let payer = shared.state().payers.get(value).cloned();
    let now = chrono::Utc::now().to_rfc3339();
    let (information, agent) = match payer {
        Some((account, name, bicfi)) => (
            json!({
                "outcome": "SUCCESSFUL",
                "accountInformation": {
                    "creationDate": now,
                    "proxy": asked.pointer("/request/identifier"),
                    "traditionalIdentifier": { "schema": "GENERIC", "value": account },
                },
                "accountOwner": { "knownAsName": name, "legalName": name },
            }),
            Some(json!({ "bicfi": bicfi })),
        ),
        None => (
            json!({ "outcome": "FAILED", "reasonCode": "BE23", "reasonDescription": "proxy unknown" }),
            None,
        ),
    };
    let mut report = json!({
        "schema": "ZA_RPP",
        "originalUetr": uetr,
        "originalVerificationIdentification": text("/request/verificationIdentification"),
        "reportInformation": information,
    });
    if let Some(agent) = agent {
        report["instructedAgent"] = agent;
    }
    shared.answer(
        200,
        Some(json!({
            "schema": "IdentifierDeterminationResponse",
            "messageIdentifiers": { "messageIdentification": uuid::Uuid::new_v4().simple().to_string(), "creationDateTime": now },
            "originalMessageIdentifiers": asked.get("messageIdentifiers"),
            "report": report,
        })),
    )
}
