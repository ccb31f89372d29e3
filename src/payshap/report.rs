//! The credit transfer completion as Electrum sends it: a `PaymentStatusReport` whose
//! `originalTransactionData` describes the credit. [`read`] turns it into what the switch
//! records, or into the failure that says why it cannot.

use aggregates::payshap_transfer::CompletionOutcome;
use aggregates::values::{Amount, ProxyKey};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{
    self, required, Agent, FailureResponse, Identifier, MessageIdentifiers, WireAmount,
};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStatusReport {
    pub schema: Option<String>,
    pub message_identifiers: Option<MessageIdentifiers>,
    pub original_message_identifiers: Option<MessageIdentifiers>,
    pub transaction_identifiers: Option<TransactionIdentifiers>,
    pub status: Option<Status>,
    pub payment_scheme: Option<PaymentScheme>,
    pub original_transaction_data: Option<OriginalTransactionData>,
    pub supplementary_data: Option<Value>,
    pub instructing_agent: Option<Value>,
    pub instructed_agent: Option<Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionIdentifiers {
    pub end_to_end_identification: Option<String>,
    pub instruction_identification: Option<String>,
    pub transaction_identification: Option<String>,
    pub uetr: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub outcome: Option<String>,
    pub reason_info: Option<Vec<ReasonInfo>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReasonInfo {
    pub reason: Option<Reason>,
    /// Text, or a list of texts, depending on the build.
    pub additional_information: Option<Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    /// `CODE` or `PROPRIETARY`.
    pub schema: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentScheme {
    pub schema: Option<String>,
    pub scheme_data: Option<Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OriginalTransactionData {
    pub amounts: Option<Amounts>,
    pub creditor: Option<PartyNames>,
    pub debtor: Option<PartyNames>,
    pub creditor_account: Option<PaymentAccount>,
    pub creditor_agent: Option<Agent>,
    pub debtor_account: Option<PaymentAccount>,
    pub debtor_agent: Option<Agent>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    pub bank_settlement_amount: Option<WireAmount>,
    pub instructed_amount: Option<WireAmount>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyNames {
    pub known_as_name: Option<String>,
    pub legal_name: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAccount {
    pub identification: Option<AccountIdentification>,
    pub proxy: Option<Identifier>,
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AccountIdentification {
    pub schema: Option<String>,
    pub value: Option<String>,
}

/// What a completion says, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionReport {
    pub message_id: String,
    pub uetr: String,
    pub end_to_end_id: Option<String>,
    pub outcome: CompletionOutcome,
    /// `CODE value: additional information`, one per `status.reasonInfo` entry.
    pub reasons: Vec<String>,
    pub amount: Amount,
    /// Where the money went: the proxy paid, else the account at its bank.
    pub creditor: Option<ProxyKey>,
    pub debtor_name: Option<String>,
    /// The payer's account number and bank (BICFI), where a refund goes.
    pub debtor_account: Option<String>,
    pub debtor_agent: Option<String>,
    /// The payer's proxy (`SCHEMA|namespace|value`), where the account is named by one.
    pub debtor_proxy: Option<String>,
    /// `originalMessageIdentifiers.creationDateTime`, the transaction date.
    pub original_created_at: Option<String>,
}

/// The UETR and message id, if they can be read even from a message that fails the checks.
pub fn identifiers_of(body: &[u8]) -> (Option<String>, Option<String>) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    (
        text("/transactionIdentifiers/uetr"),
        text("/messageIdentifiers/messageIdentification"),
    )
}

/// Parses any `PaymentStatusReport`: the report and its message id, checked.
fn parse_report(body: &[u8]) -> Result<(PaymentStatusReport, String), FailureResponse> {
    let report: PaymentStatusReport = wire::parse(body)?;
    let schema = required(report.schema.as_ref(), "schema")?;
    if schema != "PaymentStatusReport" {
        return Err(FailureResponse::rule(format!(
            "schema {schema:?}: expected PaymentStatusReport"
        )));
    }
    let message_id = required(
        report
            .message_identifiers
            .as_ref()
            .and_then(|m| m.message_identification.as_ref()),
        "messageIdentifiers.messageIdentification",
    )?;
    let message_id = message_id.to_owned();
    Ok((report, message_id))
}

/// Parses and checks a completion.
pub fn read(body: &[u8]) -> Result<CompletionReport, FailureResponse> {
    let (report, message_id) = parse_report(body)?;
    let original_created_at = report
        .original_message_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("originalMessageIdentifiers"))?
        .creation_date_time
        .clone();
    let identifiers = report
        .transaction_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("transactionIdentifiers"))?;
    let uetr = wire::uetr(identifiers.uetr.as_ref(), "transactionIdentifiers.uetr")?;
    let status = report
        .status
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("status"))?;
    let outcome = outcome(required(status.outcome.as_ref(), "status.outcome")?)?;
    report
        .payment_scheme
        .as_ref()
        .and_then(|s| s.schema.as_ref())
        .ok_or_else(|| FailureResponse::missing("paymentScheme.schema"))?;
    let original = report
        .original_transaction_data
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("originalTransactionData"))?;
    Ok(CompletionReport {
        message_id: message_id.to_owned(),
        uetr: uetr.to_owned(),
        end_to_end_id: identifiers.end_to_end_identification.clone(),
        outcome,
        reasons: status.reason_info.iter().flatten().map(reason).collect(),
        amount: amount(original)?,
        creditor: creditor_key(
            original.creditor_account.as_ref(),
            original.creditor_agent.as_ref(),
        ),
        debtor_name: original
            .debtor
            .as_ref()
            .and_then(|d| d.known_as_name.clone().or_else(|| d.legal_name.clone())),
        debtor_account: original
            .debtor_account
            .as_ref()
            .and_then(|a| a.identification.as_ref())
            .and_then(|i| i.value.clone()),
        debtor_agent: original.debtor_agent.as_ref().and_then(|a| a.bicfi.clone()),
        debtor_proxy: original
            .debtor_account
            .as_ref()
            .and_then(|a| a.proxy.as_ref())
            .and_then(proxy_id),
        original_created_at,
    })
}

fn outcome(text: &str) -> Result<CompletionOutcome, FailureResponse> {
    Ok(match text {
        "APPROVED" => CompletionOutcome::Approved,
        "CANCELLED" => CompletionOutcome::Cancelled,
        "PENDING" => CompletionOutcome::Pending,
        "REJECTED" => CompletionOutcome::Rejected,
        _ => {
            return Err(FailureResponse::syntax(
                "status.outcome must be APPROVED, CANCELLED, PENDING or REJECTED",
            ))
        }
    })
}

fn amount(original: &OriginalTransactionData) -> Result<Amount, FailureResponse> {
    settled_amount(original.amounts.as_ref(), "originalTransactionData.amounts")
}

/// The settled amount; the instructed one when the bank did not report a settlement.
/// `at` names where the amounts are, for the failure.
pub fn settled_amount(amounts: Option<&Amounts>, at: &str) -> Result<Amount, FailureResponse> {
    let amounts = amounts.ok_or_else(|| FailureResponse::missing(at))?;
    match (&amounts.bank_settlement_amount, &amounts.instructed_amount) {
        (Some(settled), _) => wire::zar_minor_units(settled, &format!("{at}.bankSettlementAmount")),
        (None, Some(instructed)) => {
            wire::zar_minor_units(instructed, &format!("{at}.instructedAmount"))
        }
        (None, None) => Err(FailureResponse::missing(&format!(
            "{at}.bankSettlementAmount"
        ))),
    }
}

fn reason(info: &ReasonInfo) -> String {
    let code = info.reason.as_ref().and_then(|r| r.value.as_deref());
    let extra = match &info.additional_information {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    format!("{} {extra}", code.unwrap_or("")).trim().to_owned()
}

/// The proxy paid, or else the GENERIC account with its bank.
/// The key a proxy identifier names (`None`: no schema or value, or malformed).
fn proxy_key(proxy: &Identifier) -> Option<ProxyKey> {
    let (schema, value) = (proxy.schema.as_deref()?, proxy.value.as_deref()?);
    let namespace = proxy.namespace.as_deref().unwrap_or("");
    ProxyKey::parse(schema, namespace, value).ok()
}

/// A MOBILE or CUSTOM proxy's id, if it is well formed.
fn proxy_id(proxy: &Identifier) -> Option<String> {
    proxy_key(proxy)
        .filter(|key| key.schema() != "GENERIC")
        .map(|key| key.id())
}

pub fn creditor_key(account: Option<&PaymentAccount>, agent: Option<&Agent>) -> Option<ProxyKey> {
    let account = account?;
    if let Some(proxy) = account
        .proxy
        .as_ref()
        .filter(|p| p.schema.is_some() && p.value.is_some())
    {
        return proxy_key(proxy);
    }
    let bicfi = agent?.bicfi.as_deref()?;
    let value = account.identification.as_ref()?.value.as_deref()?;
    ProxyKey::parse("GENERIC", bicfi, value).ok()
}

/// What any status report says of a transfer: enough to record an outbound transfer's
/// result (Electrum's report need not repeat the transfer's data).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusOf {
    pub message_id: String,
    pub uetr: String,
    pub outcome: CompletionOutcome,
    pub reasons: Vec<String>,
}

pub fn read_status(body: &[u8]) -> Result<StatusOf, FailureResponse> {
    let (report, message_id) = parse_report(body)?;
    let identifiers = report
        .transaction_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("transactionIdentifiers"))?;
    let uetr = wire::uetr(identifiers.uetr.as_ref(), "transactionIdentifiers.uetr")?;
    let status = report
        .status
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("status"))?;
    Ok(StatusOf {
        message_id: message_id.to_owned(),
        uetr: uetr.to_owned(),
        outcome: outcome(required(status.outcome.as_ref(), "status.outcome")?)?,
        reasons: status.reason_info.iter().flatten().map(reason).collect(),
    })
}
