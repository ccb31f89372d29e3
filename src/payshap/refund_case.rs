//! What a refund's end does to the held credit it returns: settled, the case is RETURNED;
//! failed, the money is held again (the case OPEN, visibly). Shared by the refund sender
//! (refused for good) and Electrum's result; idempotent, so a repeated result or a retry
//! after a crash takes the step once.

use aggregates::case::{CaseError, CaseStatus, CaseStep};
use aggregates::payshap_transfer::{PayShapCommand, PayShapError, PayShapTransfer};
use aggregates::refund::{Refund, RefundStatus};
use chrono::Utc;
use cqrs_es::AggregateError;

use crate::commands::{CommandBus, CommandMetadata};

/// Takes the case step `refund`'s end calls for, if it has ended and the step is not taken.
pub async fn settle(
    transfers: &CommandBus<PayShapTransfer>,
    refund: &Refund,
    reason: &str,
    metadata: &CommandMetadata,
) -> anyhow::Result<()> {
    let Some(order) = refund.order() else {
        return Ok(());
    };
    let step = match refund.status() {
        RefundStatus::Settled => CaseStep::Returned {
            refund_uetr: order.refund_uetr.clone(),
        },
        RefundStatus::Failed => CaseStep::ReturnFailed {
            refund_uetr: order.refund_uetr.clone(),
            reason: reason.to_owned(),
        },
        _ => return Ok(()),
    };
    let transfer = transfers.load(&order.original_uetr).await?;
    if transfer.case() != Some(CaseStatus::Returning) {
        return Ok(()); // taken already
    }
    let command = PayShapCommand::WorkCase {
        step,
        by: metadata.party.clone(),
        at: Utc::now(),
    };
    match transfers
        .execute(&order.original_uetr, command, metadata)
        .await
    {
        Ok(_)
        | Err(AggregateError::UserError(PayShapError::Case(CaseError::NotAllowed { .. }))) => {
            Ok(())
        }
        Err(other) => Err(anyhow::anyhow!(
            "recording a refund's end on its credit: {other}"
        )),
    }
}
