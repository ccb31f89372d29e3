//! Electrum's partner-auth request, `"schema": "CreditTransfer"`, as it reaches
//! `/transactions/inbound/credit-transfer-authorisation`: [`read`] checks it and takes what
//! the decision needs. The pages list the first fields and cut off the rest; the creditor's
//! account and agent are read where a completion has them (docs/payshap.md).

use aggregates::values::{Amount, ProxyKey};
use serde::Deserialize;
use serde_json::Value;

use super::report::{self, Amounts, PartyNames, PaymentAccount, TransactionIdentifiers};
use super::wire::{self, required, Agent, FailureResponse, MessageIdentifiers};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditTransfer {
    pub schema: Option<String>,
    pub message_identifiers: Option<MessageIdentifiers>,
    pub supplementary_data: Option<Value>,
    pub transaction_identifiers: Option<TransactionIdentifiers>,
    pub amounts: Option<Amounts>,
    pub creditor: Option<PartyNames>,
    pub creditor_account: Option<PaymentAccount>,
    pub creditor_agent: Option<Agent>,
    pub debtor: Option<PartyNames>,
    pub debtor_account: Option<PaymentAccount>,
    pub debtor_agent: Option<Agent>,
    pub payment_scheme: Option<report::PaymentScheme>,
}

/// What an authorisation request says, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorisationAsked {
    pub message_id: String,
    pub created_at: String,
    pub uetr: String,
    pub end_to_end_id: String,
    pub amount: Amount,
    pub creditor: Option<ProxyKey>,
    pub debtor_name: Option<String>,
}

pub fn read(body: &[u8]) -> Result<AuthorisationAsked, FailureResponse> {
    let transfer: CreditTransfer = wire::parse(body)?;
    let schema = required(transfer.schema.as_ref(), "schema")?;
    if schema != "CreditTransfer" {
        return Err(FailureResponse::rule(format!(
            "schema {schema:?}: expected CreditTransfer"
        )));
    }
    let ids = transfer
        .message_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("messageIdentifiers"))?;
    let message_id = required(
        ids.message_identification.as_ref(),
        "messageIdentifiers.messageIdentification",
    )?;
    let created_at = required(
        ids.creation_date_time.as_ref(),
        "messageIdentifiers.creationDateTime",
    )?;
    let tx = transfer
        .transaction_identifiers
        .as_ref()
        .ok_or_else(|| FailureResponse::missing("transactionIdentifiers"))?;
    let uetr = wire::uetr(tx.uetr.as_ref(), "transactionIdentifiers.uetr")?;
    let end_to_end_id = required(
        tx.end_to_end_identification.as_ref(),
        "transactionIdentifiers.endToEndIdentification",
    )?;
    Ok(AuthorisationAsked {
        message_id: message_id.to_owned(),
        created_at: created_at.to_owned(),
        uetr: uetr.to_owned(),
        end_to_end_id: end_to_end_id.to_owned(),
        amount: report::settled_amount(transfer.amounts.as_ref(), "amounts")?,
        creditor: report::creditor_key(
            transfer.creditor_account.as_ref(),
            transfer.creditor_agent.as_ref(),
        ),
        debtor_name: transfer
            .debtor
            .as_ref()
            .and_then(|d| d.known_as_name.clone().or_else(|| d.legal_name.clone())),
    })
}
