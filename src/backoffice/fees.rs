//! Putting the configured fee terms in force. Every instance does it at start; the
//! `FeeSchedule` aggregate records a new version only when the terms differ, so restarts and
//! a second instance change nothing.

use aggregates::fee_schedule::FeeScheduleCommand;
use aggregates::values::PartyId;
use chrono::Utc;

use crate::app::App;
use crate::commands::CommandMetadata;

pub async fn put_configured_terms_in_force(app: &App) -> anyhow::Result<()> {
    let metadata = CommandMetadata {
        party: "system".to_owned(),
        request_id: "startup".to_owned(),
        message_id: None,
        received_at: Utc::now(),
    };
    for fee in &app.config.backoffice.fees {
        let partner_id = PartyId::parse(&fee.partner_id)?;
        let command = FeeScheduleCommand::SetTerms {
            partner_id,
            terms: fee.terms(),
            at: Utc::now(),
        };
        app.fee_schedules
            .execute(&fee.partner_id, command, &metadata)
            .await
            .map_err(|e| anyhow::anyhow!("fee terms for {}: {e}", fee.partner_id))?;
    }
    Ok(())
}
