//! The messages of Electrum's QR Payment Service Interface (`/qr/v1`), field for field.
//!
//! Required fields are plain, optional ones are `Option` and left out when absent. Fields the
//! contract does not define are ignored on the way in (it does not forbid them), so any
//! message valid under the contract parses. Enumerations are Rust enums: a value outside the
//! contract's list is a format error. Deep structures we only pass along (customer, slip
//! data, tenders, the Java-shaped `expiryDate`) stay as JSON values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::emv::QrScheme;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Institution {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantName {
    pub name: String,
    pub city: String,
    pub region: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merchant {
    pub merchant_type: String,
    pub merchant_id: String,
    pub merchant_name: MerchantName,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Originator {
    pub institution: Institution,
    pub terminal_id: String,
    pub merchant: Merchant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerIndicator {
    Debit,
    Credit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAmount {
    pub amount: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_indicator: Option<LedgerIndicator>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_amount: Option<LedgerAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_amount: Option<LedgerAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_amount: Option<LedgerAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_amount: Option<LedgerAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_amounts: Option<BTreeMap<String, LedgerAmount>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThirdPartyIdentifier {
    pub institution_id: String,
    pub transaction_identifier: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<LedgerAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_payment_allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_payment_allowed: Option<bool>,
    /// A Java `OffsetDateTime` object in the contract; see `expiry::parse_offset_date_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_use: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<QrScheme>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQrCodeRequest {
    pub id: String,
    pub time: String,
    pub originator: Originator,
    pub client: Institution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_identifiers: Option<Vec<ThirdPartyIdentifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<Amounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Value>,
    pub qr_properties: QrProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQrCodeResponse {
    #[serde(flatten)]
    pub request: CreateQrCodeRequest,
    pub tran_id: String,
    pub qr_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TranType {
    GoodsAndServices,
    CashWithdrawal,
    DebitAdjustment,
    GoodsAndServicesWithCashBack,
    NonCash,
    Returns,
    Deposit,
    CreditAdjustment,
    GeneralCredit,
    AvailableFundsInquiry,
    BalanceInquiry,
    GeneralInquiry,
    CardVerificationInquiry,
    CardholderAccountsTransfer,
    GeneralTransfer,
    PaymentFromAccount,
    GeneralPayment,
    PaymentToAccount,
    PaymentFromAccountToAccount,
    PlaceHoldOnCard,
    GeneralAdmin,
    ChangePin,
    CardHolderInquiry,
    PointsInquiry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    Default,
    Savings,
    Cheque,
    Credit,
    Universal,
    ElectronicPurse,
    GiftCard,
    StoredValue,
}

/// `PaymentRequest`, sent by the POS to us and by us to the partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    pub id: String,
    pub time: String,
    pub originator: Originator,
    pub client: Institution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_entity: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Institution>,
    pub third_party_identifiers: Vec<ThirdPartyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basket_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tran_type: Option<TranType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_acc_type: Option<AccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_acc_type: Option<AccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<Institution>,
    pub amounts: Amounts,
    pub tran_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_payment_token: Option<String>,
}

/// `PaymentResponse`: the partner's approval, and our answer to the POS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentResponse {
    pub id: String,
    pub time: String,
    pub originator: Originator,
    pub client: Institution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_entity: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Institution>,
    pub third_party_identifiers: Vec<ThirdPartyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basket_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tran_type: Option<TranType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_acc_type: Option<AccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_acc_type: Option<AccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    pub partner: Institution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenders: Option<Vec<Value>>,
    pub amounts: Amounts,
    pub tran_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_payment_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanNotification {
    pub id: String,
    pub time: String,
    pub partner: Institution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_entity: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_identifiers: Option<Vec<ThirdPartyIdentifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<Amounts>,
    pub tran_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_payment_token: Option<String>,
}

/// `PaymentConfirmation`: the POS confirms a sale (an advice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentConfirmation {
    pub id: String,
    pub request_id: String,
    pub time: String,
    pub third_party_identifiers: Vec<ThirdPartyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<Amounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tran_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReversalReason {
    Timeout,
    Cancelled,
    ResponseNotFinal,
}

impl ReversalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReversalReason::Timeout => "TIMEOUT",
            ReversalReason::Cancelled => "CANCELLED",
            ReversalReason::ResponseNotFinal => "RESPONSE_NOT_FINAL",
        }
    }
}

/// `PaymentReversal`: the POS reverses a sale that failed or timed out (an advice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReversal {
    pub id: String,
    pub request_id: String,
    pub time: String,
    pub third_party_identifiers: Vec<ThirdPartyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amounts: Option<Amounts>,
    pub reversal_reason: ReversalReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<Institution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tran_id: Option<String>,
}

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
