//! ISO 20022 (ZA RPP) message shapes, as far as the switch reads and writes them. Every
//! field is optional in the parse so that a missing mandatory one is reported as CH21
//! (mandatory element missing) rather than as a syntax error (FF02).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest `reportInformation.description`: the scheme truncates beyond 35 characters.
pub const DESCRIPTION_MAX_CHARS: usize = 35;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageIdentifiers {
    pub message_identification: Option<String>,
    pub creation_date_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    pub value: Option<String>,
    pub schema: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub bicfi: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeterminationRequest {
    pub schema: Option<String>,
    pub uetr: Option<String>,
    pub verification_identification: Option<String>,
    pub identifier: Option<Identifier>,
    pub account_agent: Option<Agent>,
    pub requestor: Option<Value>,
    pub instructing_agent: Option<Value>,
    pub instructed_agent: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierDeterminationRequest {
    pub message_identifiers: Option<MessageIdentifiers>,
    pub request: Option<DeterminationRequest>,
    pub supplementary_data: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionIdentifiers {
    pub end_to_end_identification: Option<String>,
    pub instruction_identification: Option<String>,
    pub transaction_identification: Option<String>,
    pub uetr: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReason {
    pub reason_code: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub outcome: Option<String>,
    pub reasons: Option<Vec<StatusReason>>,
}

/// An amount as the scheme writes it: a decimal (string or number) and an alphabetic
/// currency (`ZAR`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAmount {
    pub value: Option<Value>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditorAccount {
    pub proxy: Option<Identifier>,
    pub identification: Option<String>,
    pub agent: Option<Agent>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyName {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginalTransaction {
    pub amount: Option<WireAmount>,
    pub creditor_account: Option<CreditorAccount>,
    pub debtor: Option<PartyName>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStatusReport {
    pub message_identifiers: Option<MessageIdentifiers>,
    pub original_message_identifiers: Option<MessageIdentifiers>,
    pub transaction_identifiers: Option<TransactionIdentifiers>,
    pub status: Option<Status>,
    pub original_transaction: Option<OriginalTransaction>,
    pub scheme_data: Option<Value>,
    pub supplementary_data: Option<Value>,
}

/// The failure response: a technical problem with the message itself. `code` is the ZA RPP
/// reason code (FF02 syntax, CH21 mandatory element missing), or our own for auth.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FailureResponse {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl FailureResponse {
    pub fn syntax(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "FF02",
            message: message.into(),
        }
    }

    pub fn missing(element: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "CH21",
            message: format!("mandatory element missing: {element}"),
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "FORBIDDEN",
            message: "not allowed for this user".to_owned(),
        }
    }

    /// Our store failed: the sender will redeliver (completions) or resolve again.
    pub fn unavailable(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "AB10",
            message: "error at the receiving party, try again".to_owned(),
        }
    }
}

impl ResponseError for FailureResponse {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({
            "schema": "FailureResponse",
            "code": self.code,
            "message": self.message,
        }))
    }
}

impl From<crate::security::party::Forbidden> for FailureResponse {
    fn from(_: crate::security::party::Forbidden) -> Self {
        Self::forbidden()
    }
}

/// Parses `body` as `T`; a shape or type error is FF02.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FailureResponse> {
    serde_json::from_slice(body)
        .map_err(|e| FailureResponse::syntax(format!("malformed message: {e}")))
}

/// A mandatory text element, non-empty.
pub fn required<'a>(value: Option<&'a String>, element: &str) -> Result<&'a str, FailureResponse> {
    value
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| FailureResponse::missing(element))
}

/// `description` cut to the scheme's 35 characters.
pub fn description(text: &str) -> String {
    text.chars().take(DESCRIPTION_MAX_CHARS).collect()
}

/// A decimal amount in ZAR as minor units, exactly (no float arithmetic): `"123.45"` or
/// `123.45` → 12345. More than two decimals, a sign or a non-ZAR currency is FF02.
pub fn zar_minor_units(amount: &WireAmount) -> Result<aggregates::values::Amount, FailureResponse> {
    use aggregates::values::{Amount, Currency};
    let currency = required(
        amount.currency.as_ref(),
        "originalTransaction.amount.currency",
    )?;
    if currency != "ZAR" && currency != "710" {
        return Err(FailureResponse::syntax("only ZAR is carried by ZA RPP"));
    }
    let text = match amount.value.as_ref() {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(FailureResponse::syntax("amount must be a decimal")),
        None => return Err(FailureResponse::missing("originalTransaction.amount.value")),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || (!fraction.is_empty() && !digits(fraction)) {
        return Err(FailureResponse::syntax(
            "amount must be a decimal with at most 2 places",
        ));
    }
    let cents = format!("{fraction:0<2}");
    let minor = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .and_then(|w| w.checked_add(cents.parse::<i64>().unwrap_or(0)))
        .ok_or_else(|| FailureResponse::syntax("amount out of range"))?;
    Amount::new(minor, Currency::ZAR).map_err(|_| FailureResponse::syntax("amount out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn amount(value: Value) -> WireAmount {
        WireAmount {
            value: Some(value),
            currency: Some("ZAR".into()),
        }
    }

    #[test]
    fn decimals_become_exact_minor_units() {
        assert_eq!(
            zar_minor_units(&amount(json!("123.45")))
                .unwrap()
                .minor_units(),
            12_345
        );
        assert_eq!(
            zar_minor_units(&amount(json!(123.4)))
                .unwrap()
                .minor_units(),
            12_340
        );
        assert_eq!(
            zar_minor_units(&amount(json!(7))).unwrap().minor_units(),
            700
        );
        assert_eq!(
            zar_minor_units(&amount(json!("0.10")))
                .unwrap()
                .minor_units(),
            10
        );
        for bad in [
            json!("1.234"),
            json!("-1"),
            json!("1e3"),
            json!("abc"),
            json!(true),
        ] {
            assert!(zar_minor_units(&amount(bad.clone())).is_err(), "{bad}");
        }
        let dollars = WireAmount {
            value: Some(json!("1")),
            currency: Some("USD".into()),
        };
        assert!(zar_minor_units(&dollars).is_err());
    }

    #[test]
    fn descriptions_are_cut_to_35() {
        assert_eq!(description(&"x".repeat(50)).len(), 35);
    }
}
