//! The account behind a proxy and what its state means for a resolution.

use serde::{Deserialize, Serialize};

/// The account behind a proxy, as the scheme distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Blocked,
    Closed,
    Sequestrated,
    Liquidated,
    Deceased,
    NonCompliant,
    CannotReceive,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Blocked => "blocked",
            AccountStatus::Closed => "closed",
            AccountStatus::Sequestrated => "sequestrated",
            AccountStatus::Liquidated => "liquidated",
            AccountStatus::Deceased => "deceased",
            AccountStatus::NonCompliant => "non_compliant",
            AccountStatus::CannotReceive => "cannot_receive",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// Why a resolution is negative (ZA RPP reason codes), or `None` when it is positive.
/// Blocked AC06, closed AC04, sequestrated AC16, liquidated AC17, deceased MD07,
/// non-compliant NOCM, cannot receive AG01, resolution not allowed for the account AG03.
pub fn reason_for(status: AccountStatus, resolution_allowed: bool) -> Option<&'static str> {
    match status {
        AccountStatus::Blocked => Some("AC06"),
        AccountStatus::Closed => Some("AC04"),
        AccountStatus::Sequestrated => Some("AC16"),
        AccountStatus::Liquidated => Some("AC17"),
        AccountStatus::Deceased => Some("MD07"),
        AccountStatus::NonCompliant => Some("NOCM"),
        AccountStatus::CannotReceive => Some("AG01"),
        AccountStatus::Active if !resolution_allowed => Some("AG03"),
        AccountStatus::Active => None,
    }
}
