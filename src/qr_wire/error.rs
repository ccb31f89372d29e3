//! The contract's error shape, `ErrorDetail`, and its `errorType` values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The contract's `errorType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorType {
    DuplicateRecord,
    FormatError,
    FunctionNotSupported,
    GeneralError,
    InvalidAmount,
    RoutingError,
    TransactionNotSupported,
    UnableToLocateRecord,
    UpstreamUnavailable,
    AccountAlreadySettled,
    InvalidMerchant,
    DoNotHonor,
    DeclinedByPartner,
    DeclinedByAcquirer,
    DeclinedByIssuer,
    InsufficientFunds,
    InvalidCardNumber,
    CardExpired,
    InvalidTranId,
    PartnerUnknown,
    NoScanReceived,
    InvalidAccount,
}

/// Longest `ErrorDetail.id` the contract allows.
pub const ERROR_ID_MAX_CHARS: usize = 20;
/// Longest `ErrorDetail.errorMessage` the contract allows.
pub const ERROR_MESSAGE_MAX_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_id: Option<String>,
    pub error_type: ErrorType,
    pub error_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_message: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tran_id: Option<String>,
}

impl ErrorDetail {
    /// A new error with a fresh id and the message cut to the contract's 40 characters.
    pub fn new(error_type: ErrorType, message: &str) -> Self {
        Self {
            id: new_error_id(),
            original_id: None,
            error_type,
            error_message: message.chars().take(ERROR_MESSAGE_MAX_CHARS).collect(),
            detail_message: None,
            provider_error_code: None,
            provider_error_msg: None,
            provider_ref: None,
            tran_id: None,
        }
    }
}

/// 20 hex characters of a random v4 UUID: the contract caps `ErrorDetail.id` at 20.
pub fn new_error_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..ERROR_ID_MAX_CHARS].to_owned()
}
