use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::authorisation::{AuthorisationRequest, Decision, DecisionDelivery};
use crate::case::CaseStep;
use crate::values::Amount;

#[derive(Debug, Clone, PartialEq)]
pub enum PayShapCommand {
    RecordCompletion {
        completion: Completion,
        /// Whether this credit's proxy is one we authorise (partner-auth): then only a
        /// credit we approved is credited.
        authorisation_required: bool,
    },
    /// Partner-auth: Electrum's request and our decision, recorded before it is sent.
    Authorise {
        request: AuthorisationRequest,
        decision: Decision,
    },
    /// How delivering the decision ended.
    RecordDecisionDelivery {
        delivery: DecisionDelivery,
        at: DateTime<Utc>,
    },
    /// Recon with Electrum's files found this transfer different from Electrum's word
    /// (missing there, another amount or status, unmatched): it becomes a case.
    FlagFromRecon {
        day: String,
        difference: String,
        at: DateTime<Utc>,
    },
    /// A step in working the held credit to closure, by `by`.
    WorkCase {
        step: CaseStep,
        by: String,
        at: DateTime<Utc>,
    },
    /// The credit could not pay the QR payment it names (closed, another amount, held by
    /// another partner): the money must go back to the payer.
    MarkUnapplied { reason: String, at: DateTime<Utc> },
}

/// `status.outcome` of a `PaymentStatusReport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionOutcome {
    Approved,
    Cancelled,
    Pending,
    Rejected,
}

impl CompletionOutcome {
    /// PENDING says nothing final; the others do.
    pub fn is_final(self) -> bool {
        self != CompletionOutcome::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompletionOutcome::Approved => "APPROVED",
            CompletionOutcome::Cancelled => "CANCELLED",
            CompletionOutcome::Pending => "PENDING",
            CompletionOutcome::Rejected => "REJECTED",
        }
    }
}

/// What the switch keeps of one credit transfer completion message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub message_id: String,
    pub uetr: String,
    pub end_to_end_id: Option<String>,
    pub outcome: CompletionOutcome,
    /// Reason codes and descriptions as sent.
    pub reasons: Vec<String>,
    pub amount: Amount,
    /// The creditor proxy or account named ([`crate::values::ProxyKey::id`]), if any.
    pub proxy_id: Option<String>,
    /// Whether the registry knew that proxy when the completion arrived.
    pub proxy_known: bool,
    /// The QR payment this credit pays, when its proxy is a QR's.
    pub tran_id: Option<String>,
    pub debtor_name: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The payer's account and bank, where a refund would go.
    #[serde(default)]
    pub debtor_account: Option<String>,
    #[serde(default)]
    pub debtor_agent: Option<String>,
    /// The payer's proxy ([`crate::values::ProxyKey::id`]) when the completion names one:
    /// resolved to the account when a refund needs it and the account is not given.
    #[serde(default)]
    pub debtor_proxy: Option<String>,
    /// `originalMessageIdentifiers.creationDateTime`: the transaction date recon groups by.
    #[serde(default)]
    pub original_created_at: Option<String>,
}
