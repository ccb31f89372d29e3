//! The payer's account found from the proxy it paid from, for a refund: Electrum's
//! `outboundSynchronousIdentifierDetermination` (an `IdentifierDeterminationRequest`), which
//! the pages make mandatory before paying a proxy. Its answer is the shape we answer
//! inbound resolutions with: `SUCCESSFUL` with the account (`traditionalIdentifier`), or
//! `FAILED` with a reason code.

use aggregates::values::ProxyKey;
use serde_json::{json, Value};

use super::client::{CallOutcome, ElectrumClient};
use crate::payshap::wire::OUTBOUND_RESOLUTION_PATH;

/// The account a proxy resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerAccount {
    pub account: String,
    pub name: Option<String>,
    /// The bank, where the answer names it (`report.instructedAgent.bicfi`).
    pub agent: Option<String>,
}

/// Why the payer's account is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Electrum answered: the proxy does not resolve (the scheme's reason code).
    #[error("the payer's proxy did not resolve: {0}")]
    NotFound(String),
    /// No answer to trust now: asking again later may succeed.
    #[error("the payer's proxy could not be resolved now: {0}")]
    Unavailable(String),
}

fn request(proxy: &ProxyKey, uetr: &str) -> Value {
    let id = uuid::Uuid::new_v4().simple().to_string();
    json!({
        "schema": "IdentifierDeterminationRequest",
        "messageIdentifiers": {
            "messageIdentification": id,
            "creationDateTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        "request": {
            "schema": "ZA_RPP",
            "uetr": uetr,
            "verificationIdentification": &id[..32],
            "identifier": {
                "schema": proxy.schema(),
                "value": proxy.value(),
                "namespace": proxy.context(),
            },
        },
    })
}

fn text(answer: &Value, pointer: &str) -> Option<String> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Reads a determination's answer.
pub fn read_answer(bytes: &[u8]) -> Result<PayerAccount, ResolveError> {
    let answer: Value = serde_json::from_slice(bytes)
        .map_err(|e| ResolveError::Unavailable(format!("answer unreadable: {e}")))?;
    let info = "/report/reportInformation";
    match text(&answer, &format!("{info}/outcome")).as_deref() {
        Some("SUCCESSFUL") => {
            let account = text(
                &answer,
                &format!("{info}/accountInformation/traditionalIdentifier/value"),
            )
            .ok_or_else(|| ResolveError::NotFound("the answer names no account".to_owned()))?;
            Ok(PayerAccount {
                account,
                name: text(&answer, &format!("{info}/accountOwner/knownAsName")),
                agent: text(&answer, "/report/instructedAgent/bicfi"),
            })
        }
        Some("FAILED") => {
            let code = text(&answer, &format!("{info}/reasonCode")).unwrap_or_default();
            let why = text(&answer, &format!("{info}/reasonDescription")).unwrap_or_default();
            Err(ResolveError::NotFound(
                format!("{code} {why}").trim().to_owned(),
            ))
        }
        other => Err(ResolveError::Unavailable(format!(
            "outcome {other:?} is neither SUCCESSFUL nor FAILED"
        ))),
    }
}

/// Resolves `proxy` for the transfer `uetr` (one question, no retry: the approver sees
/// the answer and can ask again).
pub async fn payer_account(
    client: &ElectrumClient,
    proxy: &ProxyKey,
    uetr: &str,
) -> Result<PayerAccount, ResolveError> {
    let body = request(proxy, uetr).to_string();
    match client
        .exchange(OUTBOUND_RESOLUTION_PATH, body.as_bytes(), None)
        .await
    {
        (CallOutcome::Acknowledged { .. }, answer) => read_answer(&answer),
        (CallOutcome::Refused { status, detail }, _) => {
            Err(ResolveError::NotFound(format!("{status}: {detail}")))
        }
        (CallOutcome::Unknown(why), _) => Err(ResolveError::Unavailable(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_gives_the_account_or_the_reason() {
        let found = json!({"report": {"instructedAgent": {"bicfi": "BANKZAJJ"}, "reportInformation": {
            "outcome": "SUCCESSFUL",
            "accountInformation": {"traditionalIdentifier": {"schema": "GENERIC", "value": "62001234567"}},
            "accountOwner": {"knownAsName": "T Payer", "legalName": "Bank"}}}});
        assert_eq!(
            read_answer(found.to_string().as_bytes()),
            Ok(PayerAccount {
                account: "62001234567".to_owned(),
                name: Some("T Payer".to_owned()),
                agent: Some("BANKZAJJ".to_owned()),
            })
        );
        let refused = json!({"report": {"reportInformation": {
            "outcome": "FAILED", "reasonCode": "BE23", "reasonDescription": "proxy unknown"}}});
        assert_eq!(
            read_answer(refused.to_string().as_bytes()),
            Err(ResolveError::NotFound("BE23 proxy unknown".to_owned()))
        );
        assert!(matches!(
            read_answer(b"{}"),
            Err(ResolveError::Unavailable(_))
        ));
    }
}
