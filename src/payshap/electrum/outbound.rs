//! A refund as Electrum's `outboundCreditTransfer` takes it (`"schema": "CreditTransfer"`):
//! from our collection account to the payer's account at the payer's bank. Its message id
//! is derived from the refund's UETR, so a resend is the same message (Electrum: "resend the
//! same payload; it is idempotent").

use aggregates::refund::RefundOrder;
use aggregates::values::ProxyKey;
use serde_json::{json, value::RawValue};

use crate::config::PayShapConfig;

pub fn message_id(refund_uetr: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("qrswitch:refund-message:{refund_uetr}").as_bytes(),
    )
    .simple()
    .to_string()
}

pub fn credit_transfer(
    order: &RefundOrder,
    payshap: &PayShapConfig,
) -> serde_json::Result<Vec<u8>> {
    let value = RawValue::from_string(crate::emv::payload::format_amount(order.amount))?;
    let short: String = order
        .refund_uetr
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    let mut account =
        json!({ "identification": { "schema": "GENERIC", "value": order.payer_account } });
    // Paid back to the proxy it came from: the proxy beside the account it resolved to.
    if let Some(proxy) = order.payer_proxy.as_deref().and_then(ProxyKey::from_id) {
        account["proxy"] = json!({ "schema": proxy.schema(), "value": proxy.value(), "namespace": proxy.context() });
    }
    let body = json!({
        "schema": "CreditTransfer",
        "messageIdentifiers": {
            "messageIdentification": message_id(&order.refund_uetr),
            "creationDateTime": order.requested_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        "paymentScheme": { "schema": "ZA_RPP" },
        "transactionIdentifiers": {
            "endToEndIdentification": format!("RFND{short}"),
            "uetr": order.refund_uetr,
        },
        "amounts": { "bankSettlementAmount": { "currency": "ZAR", "value": value } },
        "creditor": { "knownAsName": order.payer_name.clone().unwrap_or_default() },
        "creditorAccount": account,
        "creditorAgent": { "bicfi": order.payer_agent },
        "debtor": { "legalName": payshap.legal_name },
        "debtorAccount": { "identification": { "schema": "GENERIC", "value": payshap.collection_account } },
        "supplementaryData": { "refundOf": order.original_uetr },
    });
    serde_json::to_vec(&body)
}
