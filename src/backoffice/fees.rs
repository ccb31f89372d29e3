//! Putting the configured fee terms in force. Every instance does it at start; the
//! `FeeSchedule` aggregate records a new version only when the terms differ, so restarts and
//! a second instance change nothing.

use aggregates::fee_schedule::{FeeSchedule, FeeScheduleCommand};
use aggregates::values::PartyId;
use chrono::Utc;

use crate::commands::CommandBus;
use crate::commands::CommandMetadata;
use crate::config::FeeConfig;

pub async fn put_configured_terms_in_force(
    fees: &[FeeConfig],
    fee_schedules: &CommandBus<FeeSchedule>,
) -> anyhow::Result<()> {
    let metadata = CommandMetadata {
        party: "system".to_owned(),
        request_id: "startup".to_owned(),
        message_id: None,
        received_at: Utc::now(),
        traceparent: None,
    };
    for fee in fees {
        let partner_id = PartyId::parse(&fee.partner_id)?;
        let command = FeeScheduleCommand::SetTerms {
            partner_id,
            terms: fee.terms(),
            at: Utc::now(),
            approved_by: None,
        };
        fee_schedules
            .execute(&fee.partner_id, command, &metadata)
            .await
            .map_err(|e| anyhow::anyhow!("fee terms for {}: {e}", fee.partner_id))?;
    }
    Ok(())
}
