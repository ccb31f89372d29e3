//! Validating a payload against the rules of one scheme: TLV structure, the format
//! indicator first, at least one merchant account template, and per scheme the CRC and the
//! merchant fields (see [`super::payload`] for what each scheme holds).

use std::collections::HashSet;

use super::crc::checksum_hex;
use super::rules::{
    invalid, MerchantAccount, PayloadError, QrScheme, ADDITIONAL_DATA_MAX_CHARS, AMOUNT_MAX_CHARS,
    CRC_TAG, GUID_MAX_CHARS, MERCHANT_ACCOUNT_TAGS, MERCHANT_CITY_MAX_CHARS,
    MERCHANT_NAME_MAX_CHARS, PAYLOAD_FORMAT_INDICATOR,
};
use super::tlv::{self, DataObject, PAYLOAD_MAX_CHARS};

/// What a valid payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPayload {
    pub objects: Vec<DataObject>,
    pub accounts: Vec<MerchantAccount>,
}

impl ValidatedPayload {
    pub fn value(&self, id: u8) -> Option<&str> {
        self.objects
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.value.as_str())
    }
}

/// Checks `text` against the rules of `scheme`.
pub fn validate(text: &str, scheme: QrScheme) -> Result<ValidatedPayload, PayloadError> {
    let chars = text.chars().count();
    if chars > PAYLOAD_MAX_CHARS {
        return Err(PayloadError::TooLong(chars));
    }
    let objects = tlv::decode(text)?;
    let mut seen = HashSet::new();
    for object in &objects {
        if !seen.insert(object.id) {
            return Err(invalid(format!(
                "data object {:02} appears twice",
                object.id
            )));
        }
    }
    if objects.first().map(|o| (o.id, o.value.as_str())) != Some((0, PAYLOAD_FORMAT_INDICATOR)) {
        return Err(invalid("payload must start with 00 = 01"));
    }
    let accounts = objects
        .iter()
        .filter(|o| MERCHANT_ACCOUNT_TAGS.contains(&o.id))
        .map(decode_account)
        .collect::<Result<Vec<_>, _>>()?;
    if accounts.is_empty() {
        return Err(invalid("no merchant account template (26-51)"));
    }
    match scheme {
        QrScheme::ElectrumMerchantMinimal => {
            if let Some(other) = objects
                .iter()
                .find(|o| o.id != 0 && !MERCHANT_ACCOUNT_TAGS.contains(&o.id))
            {
                return Err(invalid(format!(
                    "data object {:02} is not part of the minimal scheme",
                    other.id
                )));
            }
        }
        QrScheme::EmvcoMerchant | QrScheme::PseudoEmvcoMerchant => {
            check_crc(text, &objects)?;
            check_merchant_fields(&objects, scheme == QrScheme::EmvcoMerchant)?;
        }
    }
    Ok(ValidatedPayload { objects, accounts })
}

fn decode_account(object: &DataObject) -> Result<MerchantAccount, PayloadError> {
    let inner = tlv::decode(&object.value)?;
    let guid = inner
        .iter()
        .find(|o| o.id == 0)
        .map(|o| o.value.clone())
        .ok_or_else(|| invalid(format!("template {} has no GUID (00)", object.id)))?;
    if guid.chars().count() > GUID_MAX_CHARS {
        return Err(invalid(format!(
            "GUID of template {} is too long",
            object.id
        )));
    }
    let reference = inner
        .iter()
        .find(|o| o.id == 1)
        .map(|o| o.value.clone())
        .unwrap_or_default();
    Ok(MerchantAccount {
        tag: object.id,
        guid,
        reference,
    })
}

fn check_crc(text: &str, objects: &[DataObject]) -> Result<(), PayloadError> {
    let last = objects
        .last()
        .filter(|o| o.id == CRC_TAG)
        .ok_or_else(|| invalid("CRC (63) must be the last data object"))?;
    if last.value.len() != 4 {
        return Err(invalid("CRC (63) must be four hex digits"));
    }
    let covered = &text[..text.len() - 4];
    let expected = checksum_hex(covered);
    if last.value != expected {
        return Err(invalid(format!(
            "CRC is {} but the payload sums to {expected}",
            last.value
        )));
    }
    Ok(())
}

/// A top-level data object, what to say when it is wrong, and the test it must pass.
type FieldRule<'a> = (u8, &'a str, &'a dyn Fn(&str) -> bool);

fn check_merchant_fields(objects: &[DataObject], mandatory: bool) -> Result<(), PayloadError> {
    let value = |id: u8| {
        objects
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.value.as_str())
    };
    let digits = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
    if let Some(method) = value(1) {
        if method != "11" && method != "12" {
            return Err(invalid("point of initiation (01) must be 11 or 12"));
        }
    }
    let rules: [FieldRule<'_>; 5] = [
        (52, "merchant category code (52) must be 4 digits", &|v| {
            digits(v, 4)
        }),
        (53, "currency (53) must be 3 digits", &|v| digits(v, 3)),
        (58, "country (58) must be 2 upper-case letters", &|v| {
            v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase())
        }),
        (59, "merchant name (59) must be 1 to 25 characters", &|v| {
            v.chars().count() <= MERCHANT_NAME_MAX_CHARS
        }),
        (60, "merchant city (60) must be 1 to 15 characters", &|v| {
            v.chars().count() <= MERCHANT_CITY_MAX_CHARS
        }),
    ];
    for (id, message, rule) in rules {
        match value(id) {
            Some(v) if !rule(v) => return Err(invalid(message)),
            None if mandatory || id == 53 => return Err(invalid(message)),
            _ => {}
        }
    }
    if let Some(amount) = value(54) {
        let well_formed = amount.len() <= AMOUNT_MAX_CHARS
            && amount.split_once('.').map_or_else(
                || amount.bytes().all(|b| b.is_ascii_digit()),
                |(whole, cents)| {
                    !whole.is_empty()
                        && whole.bytes().all(|b| b.is_ascii_digit())
                        && cents.bytes().all(|b| b.is_ascii_digit())
                },
            );
        if !well_formed {
            return Err(invalid(
                "amount (54) must be a decimal of at most 13 characters",
            ));
        }
    }
    if let Some(additional) = value(62) {
        for object in tlv::decode(additional)? {
            if object.value.chars().count() > ADDITIONAL_DATA_MAX_CHARS {
                return Err(invalid(format!(
                    "additional data {:02} is longer than 25 characters",
                    object.id
                )));
            }
        }
    }
    Ok(())
}
