//! Working held credits to closure, as a service: close one (moves no money, one operator),
//! and the money-moving steps an approval carries out (apply after a fix, attribute, return
//! to the payer). Each is a `CaseStepTaken` on the transfer, refused with a clear reason
//! when the case is not where the step needs it.

use aggregates::case::CaseStep;
use aggregates::payshap_transfer::{PayShapCommand, PayShapError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::payshap_transfers;
use projections::proxy_registry;

use super::service::PayShapService;
use crate::commands::CommandMetadata;

/// Why a case step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CaseFailure {
    #[error("no such transfer")]
    NotFound,
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl PayShapService {
    /// Records `step` on the transfer `uetr` as `metadata.party`.
    pub async fn take_step(
        &self,
        uetr: &str,
        step: CaseStep,
        metadata: &CommandMetadata,
    ) -> Result<(), CaseFailure> {
        let command = PayShapCommand::WorkCase {
            step,
            by: metadata.party.clone(),
            at: Utc::now(),
        };
        match self.transfers.execute(uetr, command, metadata).await {
            Ok(_) => Ok(()),
            Err(AggregateError::UserError(refusal)) => {
                Err(CaseFailure::Refused(refusal.to_string()))
            }
            Err(other) => Err(CaseFailure::Failed(other.to_string())),
        }
    }

    /// Whether the transfer `uetr` is an open case now (checked before an approval is asked).
    pub async fn open_case(&self, uetr: &str) -> Result<(), CaseFailure> {
        let transfer = self
            .transfers
            .load(uetr)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?;
        match transfer.case() {
            Some(aggregates::case::CaseStatus::Open) => Ok(()),
            Some(status) => Err(CaseFailure::Refused(format!(
                "the case is {}, not OPEN",
                status.as_str()
            ))),
            None if transfer.final_outcome().is_none() => Err(CaseFailure::NotFound),
            None => Err(CaseFailure::Refused(PayShapError::NotACase.to_string())),
        }
    }

    /// Applies a held credit after a fix: a QR payment is paid now, a proxy must now be in
    /// the registry. Then the case is APPLIED.
    pub async fn apply_case(
        &self,
        uetr: &str,
        note: &str,
        metadata: &CommandMetadata,
    ) -> Result<String, CaseFailure> {
        self.open_case(uetr).await?;
        let row = payshap_transfers::find(self.store.views().pool(), uetr)
            .await
            .map_err(|e| CaseFailure::Failed(e.to_string()))?
            .ok_or(CaseFailure::NotFound)?;
        let applied_to = match (&row.tran_id, &row.proxy_id) {
            (Some(tran_id), _) => {
                let amount = aggregates::values::Amount::new(
                    row.amount_minor,
                    aggregates::values::Currency::ZAR,
                )
                .map_err(|e| CaseFailure::Failed(e.to_string()))?;
                let refusal = self
                    .apply_to_payment(uetr, tran_id, amount, metadata)
                    .await
                    .map_err(|e| CaseFailure::Failed(e.to_string()))?;
                if let Some(refusal) = refusal {
                    return Err(CaseFailure::Refused(refusal));
                }
                format!("paid QR payment {tran_id}")
            }
            (None, Some(proxy_id)) => {
                let live = proxy_registry::find(self.store.views().pool(), proxy_id)
                    .await
                    .map_err(|e| CaseFailure::Failed(e.to_string()))?
                    .is_some_and(|proxy| proxy.retired == 0);
                if !live {
                    return Err(CaseFailure::Refused(format!(
                        "proxy {proxy_id} is still not in the registry: register it first"
                    )));
                }
                format!("applied to proxy {proxy_id}")
            }
            (None, None) => {
                return Err(CaseFailure::Refused(
                    "the credit names no proxy: attribute it instead".to_owned(),
                ))
            }
        };
        let step = CaseStep::Apply {
            note: note.to_owned(),
        };
        self.take_step(uetr, step, metadata).await?;
        Ok(applied_to)
    }
}
