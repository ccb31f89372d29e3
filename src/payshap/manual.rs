//! The money-moving actions four eyes guard besides held credits: a manual reversal of an
//! authorised QR payment the POS never advised (the reversal advice then goes to the
//! partner store-and-forward, as a POS's would), and new fee terms for a partner (they stay
//! in force across restarts until the configured terms themselves change).

use aggregates::fee_schedule::{FeeScheduleCommand, FeeTerms};
use aggregates::payment::{AdviceKind, Outcome};
use aggregates::values::PartyId;
use aggregates::PaymentCommand;
use chrono::Utc;
use serde_json::json;

use super::cases::CaseFailure;
use super::service::PayShapService;
use crate::commands::CommandMetadata;

/// The contract's `reversalReason` for a reversal an operator asks for.
const MANUAL_REVERSAL_REASON: &str = "CANCELLED";

impl PayShapService {
    /// Whether `tran_id` is an authorised payment a reversal can be asked for.
    pub async fn reversible(&self, tran_id: &str) -> Result<String, CaseFailure> {
        let payment = self
            .payments
            .load(tran_id)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        let request = payment.request().ok_or(CaseFailure::NotFound)?;
        match payment.outcome() {
            Some(Outcome::Authorised { .. }) => Ok(request.message_id.clone()),
            _ => Err(CaseFailure::Refused(
                "only an authorised payment can be reversed".to_owned(),
            )),
        }
    }

    pub async fn reverse_manually(
        &self,
        tran_id: &str,
        reason: &str,
        approval_id: &str,
        metadata: &CommandMetadata,
    ) -> Result<String, CaseFailure> {
        let request_id = self.reversible(tran_id).await?;
        let advice_id = format!("manual-{approval_id}");
        let now = Utc::now();
        let message = json!({
            "id": advice_id, "requestId": request_id, "tranId": tran_id,
            "time": now.to_rfc3339(), "reversalReason": MANUAL_REVERSAL_REASON,
            "reason": reason,
        });
        let command = PaymentCommand::Advise {
            advice_id,
            advice: AdviceKind::Reversal {
                reason: MANUAL_REVERSAL_REASON.to_owned(),
            },
            request_id,
            client_id: None,
            message,
            received_at: now,
        };
        self.payments
            .execute(tran_id, command, metadata)
            .await
            .map_err(|e| CaseFailure::Refused(e.to_string()))?;
        Ok(format!(
            "payment {tran_id} reversed; the partner is advised"
        ))
    }

    /// Checks new fee terms before they are asked for.
    pub fn fee_terms_valid(partner_id: &str, terms: &FeeTerms) -> Result<PartyId, CaseFailure> {
        terms
            .check()
            .map_err(|e| CaseFailure::Refused(e.to_string()))?;
        PartyId::parse(partner_id).map_err(|e| CaseFailure::Refused(e.to_string()))
    }

    pub async fn change_fee_terms(
        &self,
        partner_id: &str,
        terms: FeeTerms,
        approval_id: &str,
        metadata: &CommandMetadata,
    ) -> Result<String, CaseFailure> {
        let partner = Self::fee_terms_valid(partner_id, &terms)?;
        let command = FeeScheduleCommand::SetTerms {
            partner_id: partner,
            terms,
            at: Utc::now(),
            approved_by: Some(approval_id.to_owned()),
        };
        self.fee_schedules
            .execute(partner_id, command, metadata)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        Ok(format!("new fee terms in force for {partner_id}"))
    }
}
