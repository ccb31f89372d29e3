//! The answer to an identifier determination, as typed structures: what is sent and what
//! the API document says are one definition.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::wire::MessageIdentifiers;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierDeterminationResponse {
    /// Always `IdentifierDeterminationResponse`.
    pub schema: &'static str,
    pub message_identifiers: MessageIdentifiers,
    /// The request's own identifiers, echoed.
    pub original_message_identifiers: Option<MessageIdentifiers>,
    pub report: DeterminationReport,
    /// The request's string entries, and ours (the QR's tranId for a QR proxy).
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub supplementary_data: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeterminationReport {
    pub schema: String,
    pub original_uetr: String,
    pub original_verification_identification: String,
    pub report_information: ReportInformation,
    /// Echoed from the request when it had them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_requestor: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructing_agent: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructed_agent: Option<Value>,
}

/// `SUCCESSFUL` with the account and its owner, or `FAILED` with an ISO reason code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportInformation {
    Successful(Positive),
    Failed(Negative),
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Positive {
    pub account_information: AccountInformation,
    pub account_owner: AccountOwner,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Negative {
    /// ISO 20022 reason, e.g. `BE23` (unknown proxy), `AC04` (closed account).
    pub reason_code: &'static str,
    /// At most 35 characters.
    pub reason_description: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountInformation {
    pub creation_date: String,
    /// Absent for a GENERIC account (it is the traditional identifier itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyIdentifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traditional_identifier: Option<TraditionalIdentifier>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProxyIdentifier {
    pub schema: String,
    pub value: String,
    pub namespace: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraditionalIdentifier {
    /// Always `GENERIC`.
    pub schema: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountOwner {
    pub known_as_name: String,
    pub legal_name: String,
}
