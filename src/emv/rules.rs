//! What every payload shares: the schemes, the merchant account template, the limits of
//! the fields, and the error of a payload that breaks them.

use serde::{Deserialize, Serialize};

use super::tlv::{DataObject, TlvError, PAYLOAD_MAX_CHARS};

pub const MERCHANT_ACCOUNT_TAGS: std::ops::RangeInclusive<u8> = 26..=51;
/// Longest globally unique identifier in a merchant account template.
pub const GUID_MAX_CHARS: usize = 32;
pub const MERCHANT_NAME_MAX_CHARS: usize = 25;
pub const MERCHANT_CITY_MAX_CHARS: usize = 15;
/// Each sub-object of the additional data template (62).
pub const ADDITIONAL_DATA_MAX_CHARS: usize = 25;
/// Tag 54 holds at most 13 characters, decimal point included.
pub const AMOUNT_MAX_CHARS: usize = 13;

pub const PAYLOAD_FORMAT_INDICATOR: &str = "01";
pub const CRC_TAG: u8 = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QrScheme {
    EmvcoMerchant,
    PseudoEmvcoMerchant,
    ElectrumMerchantMinimal,
}

impl QrScheme {
    /// The contract's name for it (`qrProperties.scheme`).
    pub fn as_str(self) -> &'static str {
        match self {
            QrScheme::EmvcoMerchant => "EMVCO_MERCHANT",
            QrScheme::PseudoEmvcoMerchant => "PSEUDO_EMVCO_MERCHANT",
            QrScheme::ElectrumMerchantMinimal => "ELECTRUM_MERCHANT_MINIMAL",
        }
    }
}

/// One merchant account information template: who can pay this QR and how they find it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantAccount {
    /// 26 to 51.
    pub tag: u8,
    /// Sub-object 00, e.g. `za.co.mp`.
    pub guid: String,
    /// Sub-object 01: the reference this account holder resolves (the tranId, or the
    /// payment's short code).
    pub reference: String,
    /// Further sub-objects (02–99) the account holder asks for, in ID order.
    pub extra: Vec<DataObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(transparent)]
    Tlv(#[from] TlvError),
    #[error("payload is {0} characters; the most is {PAYLOAD_MAX_CHARS}")]
    TooLong(usize),
    #[error("{0}")]
    Invalid(String),
}

pub fn invalid(reason: impl Into<String>) -> PayloadError {
    PayloadError::Invalid(reason.into())
}
