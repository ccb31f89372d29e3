use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::authorisation::{AuthorisationRequest, Decision};
use super::command::{Completion, CompletionOutcome};
use crate::case::CaseStep;
use crate::values::Amount;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PayShapEvent {
    /// A completion message, recorded before it is acknowledged.
    CompletionReceived { completion: Completion },
    /// The money is ours: exactly once per transfer.
    Credited {
        uetr: String,
        amount: Amount,
        credited_at: DateTime<Utc>,
    },
    /// A credit for a QR payment that it could not pay: refund required.
    CreditUnapplied {
        uetr: String,
        reason: String,
        noticed_at: DateTime<Utc>,
    },
    /// A final outcome contradicting an earlier one: for the back office to resolve.
    OutcomeConflict {
        uetr: String,
        earlier: CompletionOutcome,
        later: CompletionOutcome,
        noticed_at: DateTime<Utc>,
    },
    /// Partner-auth: Electrum asked us to authorise this credit.
    AuthorisationRequested { request: AuthorisationRequest },
    /// Our decision, before it is sent; an approval binds us.
    AuthorisationDecided { uetr: String, decision: Decision },
    /// Electrum acknowledged our decision.
    DecisionDelivered {
        uetr: String,
        attempts: u32,
        delivered_at: DateTime<Utc>,
    },
    /// Our decision did not reach Electrum in time (or was refused): Electrum declines.
    DecisionUndelivered {
        uetr: String,
        reason: String,
        attempts: u32,
        noticed_at: DateTime<Utc>,
    },
    /// An approved completion we must not credit: after our refusal, or without our
    /// approval where we authorise. For the back office, never a credit.
    CompletionRefused {
        uetr: String,
        reason: String,
        noticed_at: DateTime<Utc>,
    },
    /// Recon found it different from Electrum's files: a case to work.
    ReconDifferenceFound {
        uetr: String,
        day: String,
        difference: String,
        found_at: DateTime<Utc>,
    },
    /// A step in working the held credit to closure, and who took it.
    CaseStepTaken {
        uetr: String,
        step: CaseStep,
        by: String,
        taken_at: DateTime<Utc>,
    },
}

impl DomainEvent for PayShapEvent {
    fn event_type(&self) -> String {
        match self {
            PayShapEvent::CompletionReceived { .. } => "CompletionReceived",
            PayShapEvent::Credited { .. } => "Credited",
            PayShapEvent::OutcomeConflict { .. } => "OutcomeConflict",
            PayShapEvent::CreditUnapplied { .. } => "CreditUnapplied",
            PayShapEvent::AuthorisationRequested { .. } => "AuthorisationRequested",
            PayShapEvent::AuthorisationDecided { .. } => "AuthorisationDecided",
            PayShapEvent::DecisionDelivered { .. } => "DecisionDelivered",
            PayShapEvent::DecisionUndelivered { .. } => "DecisionUndelivered",
            PayShapEvent::CompletionRefused { .. } => "CompletionRefused",
            PayShapEvent::CaseStepTaken { .. } => "CaseStepTaken",
            PayShapEvent::ReconDifferenceFound { .. } => "ReconDifferenceFound",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
