//! The rows of the back office's read model.

use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ReconPaymentRow {
    pub tran_id: String,
    pub retailer_id: String,
    /// `originator.merchant.merchantId` of the payment request; empty when absent.
    pub store_id: String,
    /// The terminal (till lane) the QR was issued to.
    pub lane_id: String,
    pub partner_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub requested_at: Option<String>,
    /// `AUTHORISED`, `DECLINED` or `TIMED_OUT` once known.
    pub outcome: Option<String>,
    pub outcome_at: Option<String>,
    /// Charged on authorisation; see the module documentation.
    pub fee_minor: Option<i64>,
    pub fee_version: Option<i64>,
    /// The first advice of the POS: `CONFIRMATION` or `REVERSAL`.
    pub advice: Option<String>,
    pub advice_at: Option<String>,
    pub completed_at: Option<String>,
    pub payshap_uetr: Option<String>,
    pub refund_minor: Option<i64>,
    pub refund_reason: Option<String>,
    #[serde(skip)]
    pub last_sequence: i64,
    /// The POS's own reference: the first `thirdPartyIdentifiers` transactionIdentifier of
    /// the payment request (what a cashier reads off a till slip).
    pub pos_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ReconDeliveryRow {
    pub delivery_id: String,
    pub tran_id: String,
    pub partner_id: String,
    pub kind: String,
    /// `PENDING`, `PARKED`, `DELIVERED` or `REFUSED`.
    pub status: String,
    pub scheduled_at: String,
    pub delivered_at: Option<String>,
    pub note: Option<String>,
    #[serde(skip)]
    pub last_sequence: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeeTermsRow {
    pub partner_id: String,
    pub basis_points: i64,
    pub fixed_minor: i64,
    pub minimum_minor: i64,
    pub maximum_minor: Option<i64>,
    pub version: i64,
    pub effective_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementRow {
    pub partner_id: String,
    pub business_day: String,
    pub version: i64,
    pub file_name: String,
    pub sha256: String,
    pub line_count: i64,
    pub imported_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct StatementLineRow {
    pub partner_id: String,
    pub business_day: String,
    pub tran_id: String,
    pub line_number: i64,
    pub partner_reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub transaction_time: String,
}
