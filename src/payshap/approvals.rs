//! Four eyes on every money-moving action (a held credit applied, attributed or refunded,
//! a credit from recon, a manual reversal, new fee terms): a maker asks (checked now: the
//! case open, the step well formed), a different user with the approver role approves (the step
//! is then carried out and how it went recorded) or rejects; requests expire.

use aggregates::approval::{ApprovalCommand, ApprovalError, MoneyAction};
use aggregates::case::{CaseStatus, CaseStep};
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;

use super::cases::CaseFailure;
use super::service::PayShapService;
use crate::commands::CommandMetadata;

/// Why an approval could not be asked or decided.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalFailure {
    #[error("no such approval request")]
    NotFound,
    #[error(transparent)]
    Case(#[from] CaseFailure),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

fn refused(error: AggregateError<ApprovalError>) -> ApprovalFailure {
    match error {
        AggregateError::UserError(refusal) => ApprovalFailure::Refused(refusal.to_string()),
        other => ApprovalFailure::Failed(other.to_string()),
    }
}

/// The case step an action takes (checked before it is asked for); none for a credit
/// from recon, which has no case yet.
fn step_of(action: &MoneyAction, refund_uetr: &str) -> Option<CaseStep> {
    Some(match action {
        MoneyAction::Apply { note, .. } => CaseStep::Apply { note: note.clone() },
        MoneyAction::Attribute { to, note, .. } => CaseStep::Attribute {
            to: to.clone(),
            note: note.clone(),
        },
        MoneyAction::Refund { .. } => CaseStep::Return {
            refund_uetr: refund_uetr.to_owned(),
        },
        MoneyAction::CreditFromRecon { .. }
        | MoneyAction::ManualReversal { .. }
        | MoneyAction::ApplyHeld { .. }
        | MoneyAction::FeeTerms { .. } => return None,
    })
}

/// The refund an approval sends: one UETR per approval, the same if carried out again.
pub fn refund_uetr(approval_id: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("qrswitch:refund:{approval_id}").as_bytes(),
    )
    .to_string()
}

impl PayShapService {
    /// Asks for `action`; the new request's id and when it expires.
    pub async fn request_approval(
        &self,
        action: MoneyAction,
        reason: &str,
        metadata: &CommandMetadata,
    ) -> Result<(String, DateTime<Utc>), ApprovalFailure> {
        match (&action, step_of(&action, "check")) {
            (MoneyAction::CreditFromRecon { day, uetr }, _) => {
                self.missing_at_switch(day, uetr).await?;
            }
            (MoneyAction::ManualReversal { tran_id, .. }, _) => {
                self.reversible(tran_id).await?;
            }
            (MoneyAction::FeeTerms { partner_id, terms }, _) => {
                Self::fee_terms_valid(partner_id, terms)?;
            }
            (MoneyAction::ApplyHeld { message_hash, note }, _) => {
                if note.trim().is_empty() {
                    return Err(ApprovalFailure::Refused("a note is required".to_owned()));
                }
                super::unverified::open_held(self, message_hash)
                    .await
                    .map_err(|e| ApprovalFailure::Refused(e.to_string()))?;
            }
            (_, Some(step)) => {
                self.open_case(action.target()).await?;
                CaseStatus::Open
                    .after(&step)
                    .map_err(|e| ApprovalFailure::Refused(e.to_string()))?;
            }
            (_, None) => {}
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = Utc::now();
        let lifetime = self.config.backoffice.approval_expires_after_ms;
        let expires_at =
            now + chrono::Duration::milliseconds(i64::try_from(lifetime).unwrap_or(i64::MAX));
        let command = ApprovalCommand::Request {
            action,
            maker: metadata.party.clone(),
            reason: reason.to_owned(),
            expires_at,
            at: now,
        };
        self.approvals
            .execute_new(&id, command, metadata)
            .await
            .map_err(refused)?;
        Ok((id, expires_at))
    }

    /// Rejects request `id` with `note`.
    pub async fn reject(
        &self,
        id: &str,
        note: &str,
        metadata: &CommandMetadata,
    ) -> Result<(), ApprovalFailure> {
        self.pending_action(id).await?;
        let command = ApprovalCommand::Reject {
            approver: metadata.party.clone(),
            note: note.to_owned(),
            at: Utc::now(),
        };
        self.approvals
            .execute(id, command, metadata)
            .await
            .map_err(refused)?;
        Ok(())
    }

    /// Approves request `id` and carries it out; `Ok(detail)` or `Err(reason)` of the
    /// action, as recorded.
    pub async fn approve(
        &self,
        id: &str,
        metadata: &CommandMetadata,
    ) -> Result<Result<String, String>, ApprovalFailure> {
        let action = self.pending_action(id).await?;
        let command = ApprovalCommand::Approve {
            approver: metadata.party.clone(),
            at: Utc::now(),
        };
        self.approvals
            .execute(id, command, metadata)
            .await
            .map_err(refused)?;
        let outcome = self.carry_out(id, &action, metadata).await;
        let command = ApprovalCommand::RecordOutcome {
            outcome: outcome.clone(),
            at: Utc::now(),
        };
        self.approvals
            .execute(id, command, metadata)
            .await
            .map_err(refused)?;
        Ok(outcome)
    }

    async fn pending_action(&self, id: &str) -> Result<MoneyAction, ApprovalFailure> {
        let approval = self.approvals.load(id).await.map_err(refused)?;
        approval.action().cloned().ok_or(ApprovalFailure::NotFound)
    }

    async fn carry_out(
        &self,
        id: &str,
        action: &MoneyAction,
        metadata: &CommandMetadata,
    ) -> Result<String, String> {
        let uetr = action.target();
        let done = match action {
            MoneyAction::Apply { note, .. } => self.apply_case(uetr, note, metadata).await,
            MoneyAction::Attribute { to, note, .. } => {
                let step = CaseStep::Attribute {
                    to: to.clone(),
                    note: note.clone(),
                };
                self.take_step(uetr, step, metadata)
                    .await
                    .map(|()| format!("attributed to {to}"))
            }
            MoneyAction::CreditFromRecon { day, .. } => {
                self.credit_from_recon(day, uetr, metadata).await
            }
            MoneyAction::ManualReversal { tran_id, reason } => {
                self.reverse_manually(tran_id, reason, id, metadata).await
            }
            MoneyAction::FeeTerms { partner_id, terms } => {
                self.change_fee_terms(partner_id, *terms, id, metadata)
                    .await
            }
            MoneyAction::Refund { .. } => self.start_refund(uetr, &refund_uetr(id), metadata).await,
            MoneyAction::ApplyHeld { message_hash, note } => {
                return super::unverified::apply_held(self, message_hash, note, &metadata.party)
                    .await
                    .map_err(|e| e.to_string());
            }
        };
        done.map_err(|e| e.to_string())
    }
}
