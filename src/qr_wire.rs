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

mod error;

pub use error::{
    new_error_id, ErrorDetail, ErrorType, ERROR_ID_MAX_CHARS, ERROR_MESSAGE_MAX_CHARS,
};

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
