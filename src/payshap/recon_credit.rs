//! A completion Electrum's extract lists and we never received (dropped on the way, say) is
//! credited from the extract's line, once and through four eyes: recorded as a completion
//! whose party is the recon, so the ledger, the mark-off and the audit trail show where it
//! came from (its message id starts `recon-`; our mark-off leaves it out, as Electrum's
//! extract is where it came from). A later redelivery of the real completion is a new message on the same
//! transfer and credits nothing more.

use aggregates::electrum_recon::{DifferenceKind, ReconLine};
use aggregates::payshap_transfer::{Completion, CompletionOutcome, PayShapCommand};
use aggregates::values::{Amount, Currency, ProxyKey};
use chrono::Utc;

use super::cases::CaseFailure;
use super::service::PayShapService;
use crate::commands::CommandMetadata;

fn outcome(status: &str) -> Option<CompletionOutcome> {
    Some(match status.to_ascii_uppercase().as_str() {
        "APPROVED" => CompletionOutcome::Approved,
        "REJECTED" => CompletionOutcome::Rejected,
        "CANCELLED" => CompletionOutcome::Cancelled,
        "PENDING" => CompletionOutcome::Pending,
        _ => return None,
    })
}

impl PayShapService {
    /// The extract's line for `uetr` on `day`, if recon found it missing here and it still is.
    pub async fn missing_at_switch(&self, day: &str, uetr: &str) -> Result<ReconLine, CaseFailure> {
        let failed = |e: &dyn std::fmt::Display| CaseFailure::Failed(e.to_string());
        let recon = self.recons.load(day).await.map_err(|e| failed(&e))?;
        let line = recon
            .differences()
            .get(uetr)
            .filter(|d| d.kind == DifferenceKind::MissingAtSwitch)
            .and_then(|d| d.theirs.clone())
            .ok_or(CaseFailure::NotFound)?;
        let transfer = self.transfers.load(uetr).await.map_err(|e| failed(&e))?;
        if transfer.first_completion().is_some() {
            return Err(CaseFailure::Refused(
                "a completion for it is recorded now".to_owned(),
            ));
        }
        Ok(line)
    }

    pub async fn credit_from_recon(
        &self,
        day: &str,
        uetr: &str,
        metadata: &CommandMetadata,
    ) -> Result<String, CaseFailure> {
        let line = self.missing_at_switch(day, uetr).await?;
        let outcome = outcome(&line.status).ok_or_else(|| {
            CaseFailure::Refused(format!("status {:?} is not a PayShap outcome", line.status))
        })?;
        let amount = Amount::new(line.amount_minor, Currency::ZAR)
            .map_err(|e| CaseFailure::Refused(e.to_string()))?;
        let key = ProxyKey::from_id(&line.creditor);
        let tran_id = self.qr_tran_id(key.as_ref());
        let facts = self
            .creditor(key.as_ref(), tran_id.as_deref())
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        let completion = Completion {
            message_id: format!("recon-{day}-{uetr}"),
            uetr: uetr.to_owned(),
            end_to_end_id: Some(line.end_to_end_id.clone()),
            outcome,
            reasons: vec![format!("credited from Electrum's extract of {day}")],
            amount,
            proxy_id: key.as_ref().map(ProxyKey::id),
            proxy_known: facts.known,
            tran_id: tran_id.clone(),
            debtor_name: None,
            received_at: Utc::now(),
            debtor_account: None,
            debtor_agent: None,
            debtor_proxy: None,
            original_created_at: Some(line.created_at.clone()),
        };
        let command = PayShapCommand::RecordCompletion {
            completion,
            authorisation_required: false,
        };
        let transfer = self
            .transfers
            .execute(uetr, command, metadata)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        if let (true, Some(tran_id)) = (transfer.is_credited(), tran_id) {
            let refusal = self
                .apply_to_payment(uetr, &tran_id, amount, metadata)
                .await
                .map_err(|e| CaseFailure::Failed(e.to_string()))?;
            if let Some(refusal) = refusal {
                return Ok(format!("recorded; {refusal}"));
            }
        }
        Ok(format!(
            "{} completion of {} cents recorded from the extract",
            line.status, line.amount_minor
        ))
    }
}
