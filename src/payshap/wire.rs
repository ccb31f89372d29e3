//! The ISO 20022 (ZA RPP) pieces both PayShap messages share, in the shapes Electrum's EPC
//! publishes, and the technical failure response. Every field is optional in the parse so
//! that a missing mandatory one is named (400, CH21) rather than reported as a syntax error.
//! Unknown fields are ignored: Electrum may add fields without breaking us.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Synchronous identifier determination (answer within 1 s).
pub const RESOLUTION_PATH: &str = "/identifiers/inbound/identifier-determination-sync";
/// Must-deliver credit transfer completion (answer 202 once recorded).
pub const COMPLETION_PATH: &str = "/transactions/inbound/credit-transfer-completion";
/// Partner-auth: Electrum asks us to authorise a credit during clearing.
pub const AUTHORISATION_PATH: &str = "/transactions/inbound/credit-transfer-authorisation";
/// Electrum's endpoint a refund (outbound credit transfer) goes to.
pub const OUTBOUND_TRANSFER_PATH: &str = "/transactions/outbound/credit-transfer";
/// Electrum's synchronous outbound identifier determination (a refund to a payer named by
/// proxy only). The pages also show `/identifiers/outbound/identifier-determination` in
/// one sample; this is the path their reference names.
pub const OUTBOUND_RESOLUTION_PATH: &str = "/identifiers/identifier-determination";
/// Our endpoint Electrum reports an outbound credit transfer's result to (must-deliver).
pub const OUTBOUND_RESULT_PATH: &str = "/transactions/outbound/credit-transfer-response";
/// Electrum's endpoint our partner-auth decision goes to.
pub const AUTHORISATION_RESPONSE_PATH: &str =
    "/transactions/inbound/credit-transfer-authorisation-response";

/// Longest negative `reasonDescription`: the scheme truncates beyond 35 characters.
pub const DESCRIPTION_MAX_CHARS: usize = 35;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageIdentifiers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_identification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date_time: Option<String>,
}

/// A proxy (`MOBILE`, `CUSTOM` with `namespace`) or an account (`GENERIC`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    pub value: Option<String>,
    pub schema: Option<String>,
    pub namespace: Option<String>,
    /// Some builds put the account's bank beside the GENERIC identifier.
    pub account_agent: Option<Agent>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub bicfi: Option<String>,
}

/// The `request` of an identifier determination.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierDeterminationRequest {
    pub schema: Option<String>,
    pub message_identifiers: Option<MessageIdentifiers>,
    pub request: Option<DeterminationRequest>,
    pub supplementary_data: Option<Value>,
}

/// An amount as Electrum writes it: `value` a JSON number in rand (`49.99`), kept as its
/// exact text so that it becomes cents without floating point; `currency` ISO 4217.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WireAmount {
    #[schema(value_type = Option<f64>, example = 49.99)]
    pub value: Option<Box<RawValue>>,
    pub currency: Option<String>,
}

/// A technical failure: `{message, detail?}` with the status Electrum's contract lists
/// (400 malformed, 401 unauthentic, 403, 422 breaks a rule, 429 too many, 503 try again).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}: {detail}")]
pub struct FailureResponse {
    pub status: StatusCode,
    pub message: &'static str,
    pub detail: String,
}

impl FailureResponse {
    fn new(status: StatusCode, message: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            message,
            detail: detail.into(),
        }
    }

    /// Not JSON, or a field of the wrong type or form (ZA RPP FF02).
    pub fn syntax(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed message",
            format!("FF02 {}", detail.into()),
        )
    }

    /// A mandatory element is missing (ZA RPP CH21).
    pub fn missing(element: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "mandatory element missing",
            format!("CH21 {element}"),
        )
    }

    /// Well formed, but it breaks a rule of the scheme or of ours.
    pub fn rule(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "message breaks a rule",
            detail,
        )
    }

    pub fn unauthentic(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not authenticated", detail)
    }

    /// The body did not arrive in time. 503, not 408 (which Electrum does not list): a
    /// completion is delivered again, a resolution asked again.
    pub fn timed_out(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable",
            detail,
        )
    }

    /// 429: this source failed to authenticate too often; it may try again later.
    pub fn too_many() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests",
            "too many failed attempts, try again later",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "not allowed for this party",
        )
    }

    /// 503 without a cause to log: the switch is at its limit of requests in flight.
    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable",
            "busy, try again shortly",
        )
    }

    /// Our store failed: the sender will redeliver (completions) or resolve again.
    pub fn unavailable(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable",
            "error at the receiving party, try again",
        )
    }
}

/// The body of a technical failure, as Electrum's contract has it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FailureBody<'a> {
    #[schema(example = "mandatory element missing")]
    pub message: &'a str,
    /// A ZA RPP reason first where there is one (`FF02`, `CH21`).
    #[schema(example = "CH21 request.uetr")]
    pub detail: &'a str,
}

impl ResponseError for FailureResponse {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        crate::http::with_retry_after(HttpResponse::build(self.status).json(FailureBody {
            message: self.message,
            detail: &self.detail,
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
    serde_json::from_slice(body).map_err(|e| FailureResponse::syntax(format!("{e}")))
}

/// A mandatory text element, non-empty.
pub fn required<'a>(value: Option<&'a String>, element: &str) -> Result<&'a str, FailureResponse> {
    value
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| FailureResponse::missing(element))
}

/// A UETR: a UUID.
pub fn uetr<'a>(value: Option<&'a String>, element: &str) -> Result<&'a str, FailureResponse> {
    let text = required(value, element)?;
    uuid::Uuid::parse_str(text)
        .map_err(|_| FailureResponse::syntax(format!("{element} is not a UUID")))?;
    Ok(text)
}

/// `reasonDescription` cut to the scheme's 35 characters.
pub fn description(text: &str) -> String {
    text.chars().take(DESCRIPTION_MAX_CHARS).collect()
}

/// `supplementaryData` as the contract has it: a flat map of strings. Anything else a
/// sender put there is dropped rather than echoed in a shape the contract does not allow.
pub fn string_map(value: Option<&Value>) -> serde_json::Map<String, Value> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A ZAR amount in rand (a JSON number, or a decimal string from lenient senders) as exact
/// minor units: `49.99` → 4999. Read from the number's own text, never through a float.
pub fn zar_minor_units(
    amount: &WireAmount,
    element: &str,
) -> Result<aggregates::values::Amount, FailureResponse> {
    use aggregates::values::{Amount, Currency};
    let currency = required(amount.currency.as_ref(), &format!("{element}.currency"))?;
    if currency != "ZAR" {
        return Err(FailureResponse::rule(format!(
            "{element}.currency {currency:?}: ZA RPP carries ZAR only"
        )));
    }
    let raw = amount
        .value
        .as_ref()
        .ok_or_else(|| FailureResponse::missing(&format!("{element}.value")))?;
    let text = raw.get().trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) {
        return Err(FailureResponse::syntax(format!(
            "{element}.value {text:?} is not a non-negative decimal number"
        )));
    }
    // Trailing zeros past the cent say nothing: 49.990 is 49.99.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err(FailureResponse::rule(format!(
            "{element}.value {text} has fractions of a cent"
        )));
    }
    let out_of_range = || FailureResponse::rule(format!("{element}.value {text} is out of range"));
    let cents: i64 = format!("{fraction:0<2}")
        .parse()
        .map_err(|_| out_of_range())?;
    let minor = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(out_of_range)?;
    Amount::new(minor, Currency::ZAR).map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(json: &str) -> WireAmount {
        serde_json::from_str(&format!(r#"{{"value": {json}, "currency": "ZAR"}}"#)).unwrap()
    }

    fn cents(json: &str) -> Result<i64, FailureResponse> {
        zar_minor_units(&amount(json), "amounts").map(|a| a.minor_units())
    }

    #[test]
    fn numbers_become_exact_minor_units() {
        assert_eq!(cents("49.99").unwrap(), 4_999);
        assert_eq!(cents("123.4").unwrap(), 12_340);
        assert_eq!(cents("7").unwrap(), 700);
        assert_eq!(cents("0.10").unwrap(), 10);
        assert_eq!(cents("49.990").unwrap(), 4_999);
        // Thirteen significant digits, read as text: exact to the cent.
        assert_eq!(cents("99999999999.99").unwrap(), 9_999_999_999_999);
        assert_eq!(cents("\"12.30\"").unwrap(), 1_230);
    }

    #[test]
    fn bad_amounts_are_refused_with_their_status() {
        for bad in ["1.234", "-1", "1e3", "\"abc\"", "true", "null"] {
            let refusal = cents(bad).unwrap_err();
            assert!(refusal.status.is_client_error(), "{bad}");
        }
        assert_eq!(cents("1.234").unwrap_err().status, 422);
        assert_eq!(
            cents("100000000000.01").unwrap_err().status,
            422,
            "over R100 bn"
        );
        assert_eq!(cents("-1").unwrap_err().status, 400);
        let dollars: WireAmount =
            serde_json::from_str(r#"{"value": 1, "currency": "USD"}"#).unwrap();
        assert_eq!(
            zar_minor_units(&dollars, "a").unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn descriptions_are_cut_to_35_and_supplementary_data_is_flat() {
        assert_eq!(description(&"x".repeat(50)).len(), 35);
        let flat = string_map(Some(&serde_json::json!({
            "a": "kept", "b": {"nested": 1}, "c": null, "d": 5
        })));
        assert_eq!(Value::Object(flat), serde_json::json!({"a": "kept"}));
    }
}
