//! Our partner-auth decision as Electrum's `inboundCreditTransferAuthorisationResponse`
//! takes it: a `PaymentStatusReport` whose `originalMessageIdentifiers` name Electrum's
//! request, `status.outcome` APPROVED or REJECTED with the reason in `status.reasonInfo`.
//! Its message id is derived from the UETR, so every resend is the same message.

use aggregates::payshap_transfer::{AuthorisationRequest, Decision};
use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    schema: &'static str,
    message_identifiers: Identifiers,
    original_message_identifiers: Identifiers,
    transaction_identifiers: TransactionIdentifiers,
    payment_scheme: PaymentScheme,
    status: Status,
    original_transaction_data: OriginalTransactionData,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identifiers {
    message_identification: String,
    creation_date_time: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionIdentifiers {
    #[serde(skip_serializing_if = "Option::is_none")]
    end_to_end_identification: Option<String>,
    uetr: String,
}

#[derive(Serialize)]
struct PaymentScheme {
    schema: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reason_info: Vec<ReasonInfo>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonInfo {
    reason: Reason,
    additional_information: String,
}

#[derive(Serialize)]
struct Reason {
    schema: &'static str,
    value: String,
}

#[derive(Serialize)]
struct OriginalTransactionData {
    amounts: Amounts,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Amounts {
    bank_settlement_amount: WireAmount,
}

/// `value` is a JSON number written from the cents (`49.99`), never through a float.
#[derive(Serialize)]
struct WireAmount {
    currency: String,
    value: Box<RawValue>,
}

/// The message id of the report for `uetr`: the same on every resend (at most 35 chars).
pub fn message_id(uetr: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("qrswitch:authorisation:{uetr}").as_bytes(),
    )
    .simple()
    .to_string()
}

pub fn build(request: &AuthorisationRequest, decision: &Decision) -> serde_json::Result<Vec<u8>> {
    let when =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let value = RawValue::from_string(crate::emv::payload::format_amount(request.amount))?;
    let reason_info = decision
        .reason_code
        .iter()
        .map(|code| ReasonInfo {
            reason: Reason {
                schema: "CODE",
                value: code.clone(),
            },
            additional_information: decision.reason.chars().take(105).collect(),
        })
        .collect();
    serde_json::to_vec(&StatusReport {
        schema: "PaymentStatusReport",
        message_identifiers: Identifiers {
            message_identification: message_id(&request.uetr),
            creation_date_time: when(decision.decided_at),
        },
        original_message_identifiers: Identifiers {
            message_identification: request.message_id.clone(),
            creation_date_time: request.created_at.clone(),
        },
        transaction_identifiers: TransactionIdentifiers {
            end_to_end_identification: request.end_to_end_id.clone(),
            uetr: request.uetr.clone(),
        },
        payment_scheme: PaymentScheme { schema: "ZA_RPP" },
        status: Status {
            outcome: decision.outcome(),
            reason_info,
        },
        original_transaction_data: OriginalTransactionData {
            amounts: Amounts {
                bank_settlement_amount: WireAmount {
                    currency: request.amount.currency().to_string(),
                    value,
                },
            },
        },
    })
}
