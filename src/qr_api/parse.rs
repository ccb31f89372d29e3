//! From contract messages to domain values: parse, don't validate twice.

use aggregates::values::{Amount, Currency, PartyId, TranId};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use crate::commands::CommandMetadata;
use crate::qr_wire::{ErrorType, LedgerAmount};
use crate::telemetry::context::CallerTrace;
use actix_web::http::StatusCode;

/// The contract's `time`: RFC 3339 date-time.
pub fn message_time(raw: &str) -> Result<DateTime<Utc>, QrApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| QrApiError::format("time must be an RFC 3339 date-time"))
}

/// Longest message `id` kept: UUIDs are 36 characters; the slack admits other id schemes
/// without letting a sender store kilobytes per message.
pub const MESSAGE_ID_MAX_CHARS: usize = 100;

/// A message `id`: the key of duplicate detection, so it must say something.
pub fn message_id(raw: &str) -> Result<(), QrApiError> {
    if raw.trim().is_empty() || raw.chars().count() > MESSAGE_ID_MAX_CHARS {
        return Err(QrApiError::format("id must be 1 to 100 characters"));
    }
    Ok(())
}

/// The envelope every contract message has: its `id` and its `time`.
pub fn envelope(id: &str, time: &str) -> Result<(), QrApiError> {
    message_id(id)?;
    message_time(time)?;
    Ok(())
}

pub fn party(raw: &str, what: &str) -> Result<PartyId, QrApiError> {
    PartyId::parse(raw).map_err(|_| QrApiError::format(&format!("{what} id is not valid")))
}

pub fn tran_id(raw: &str) -> Result<TranId, QrApiError> {
    TranId::parse(raw).map_err(|_| {
        QrApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidTranId,
            "tranId is not valid",
        )
    })
}

pub fn amount(ledger: &LedgerAmount) -> Result<Amount, QrApiError> {
    let invalid = |m: &str| QrApiError::new(StatusCode::BAD_REQUEST, ErrorType::InvalidAmount, m);
    let currency = Currency::parse(&ledger.currency)
        .map_err(|_| invalid("currency must be 3 digits (ISO 4217)"))?;
    Amount::new(ledger.amount, currency).map_err(|_| invalid("amount out of range"))
}

/// The tranId of the QR minted for message `message_id` of retailer `client_id`: the same
/// message always names the same payment, so a resent `createQrCode` is recognised as a
/// duplicate instead of minting a second QR. 32 hex characters fit any EMV template.
pub fn tran_id_for(client_id: &PartyId, message_id: &str) -> TranId {
    /// Our own namespace for name-based tranIds; any fixed UUID would do.
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6a0f_1f4e_8a3b_4c59_9a51_3d1c_72e0_aa01);
    let name = format!("{}\u{1f}{message_id}", client_id.as_str());
    let id = uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes())
        .simple()
        .to_string();
    // 32 lower-case hex characters always parse.
    TranId::parse(&id).unwrap_or_else(|_| unreachable_tran_id())
}

fn unreachable_tran_id() -> TranId {
    TranId::parse("0").expect("a single digit is a valid tranId")
}

/// `QrProperties.expiryDate` is a serialised Java `OffsetDateTime` in the contract:
/// `{year, monthValue, dayOfMonth, hour, minute, second, nano, offset: {totalSeconds}}`.
/// Some senders put an RFC 3339 string there instead (as its description says); both are
/// read. `None` when absent; an error when present but not a time.
pub fn expiry(raw: Option<&Value>) -> Result<Option<DateTime<Utc>>, QrApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = || QrApiError::format("qrProperties.expiryDate is not a date-time");
    if let Some(text) = raw.as_str() {
        return message_time(text).map(Some).map_err(|_| invalid());
    }
    let field = |name: &str| raw.get(name).and_then(Value::as_i64);
    let (Some(year), Some(month), Some(day)) =
        (field("year"), field("monthValue"), field("dayOfMonth"))
    else {
        return Err(invalid());
    };
    let offset_seconds = raw
        .get("offset")
        .and_then(|o| o.get("totalSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let to_u32 = |v: i64| u32::try_from(v).map_err(|_| invalid());
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(year).map_err(|_| invalid())?,
        to_u32(month)?,
        to_u32(day)?,
    )
    .ok_or_else(invalid)?;
    let time = date
        .and_hms_nano_opt(
            to_u32(field("hour").unwrap_or(0))?,
            to_u32(field("minute").unwrap_or(0))?,
            to_u32(field("second").unwrap_or(0))?,
            to_u32(field("nano").unwrap_or(0))?,
        )
        .ok_or_else(invalid)?;
    let offset = FixedOffset::east_opt(i32::try_from(offset_seconds).map_err(|_| invalid())?)
        .ok_or_else(invalid)?;
    let local = offset
        .from_local_datetime(&time)
        .single()
        .ok_or_else(invalid)?;
    Ok(Some(local.with_timezone(&Utc)))
}

/// Parses a contract message, keeping the JSON as sent. Shape errors are format errors.
pub(super) fn message<T: DeserializeOwned>(body: &Value) -> Result<T, QrApiError> {
    serde_json::from_value(body.clone()).map_err(|error| {
        QrApiError::format("message does not match the contract")
            .about(body.get("id").and_then(Value::as_str), None)
            .with_detail(serde_json::json!({ "reason": error.to_string() }))
    })
}

pub(super) fn metadata(
    party: &str,
    request_id: &RequestId,
    message_id: &str,
    trace: &CallerTrace,
) -> CommandMetadata {
    CommandMetadata {
        party: party.to_owned(),
        request_id: request_id.to_string(),
        message_id: Some(message_id.to_owned()),
        received_at: Utc::now(),
        traceparent: trace.0.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_offset_date_time_is_read() {
        let raw = json!({"year": 2026, "monthValue": 11, "dayOfMonth": 21, "hour": 12,
                         "minute": 30, "second": 0, "nano": 0, "offset": {"totalSeconds": 7200}});
        let parsed = expiry(Some(&raw)).unwrap().unwrap();
        assert_eq!(parsed.to_rfc3339(), "2026-11-21T10:30:00+00:00");
    }

    #[test]
    fn rfc3339_string_is_read_and_garbage_refused() {
        let parsed = expiry(Some(&json!("2026-11-21T10:30:00Z")))
            .unwrap()
            .unwrap();
        assert_eq!(parsed.timestamp(), 1_795_257_000);
        assert!(expiry(Some(&json!({"year": 2026}))).is_err());
        assert!(expiry(Some(
            &json!({"year": 2026, "monthValue": 13, "dayOfMonth": 1})
        ))
        .is_err());
        assert!(expiry(None).unwrap().is_none());
    }

    #[test]
    fn tran_id_is_stable_per_retailer_and_message() {
        let shop = PartyId::parse("shop").unwrap();
        let other = PartyId::parse("other").unwrap();
        assert_eq!(tran_id_for(&shop, "m1"), tran_id_for(&shop, "m1"));
        assert_ne!(tran_id_for(&shop, "m1"), tran_id_for(&shop, "m2"));
        assert_ne!(tran_id_for(&shop, "m1"), tran_id_for(&other, "m1"));
        assert_eq!(tran_id_for(&shop, "m1").as_str().len(), 32);
    }

    #[test]
    fn time_must_be_rfc3339() {
        assert!(message_time("2026-11-21T10:30:00.123+02:00").is_ok());
        assert!(message_time("21/11/2026").is_err());
    }
}
