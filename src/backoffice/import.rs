//! Importing a partner's settlement file: the one path the finance API and the console's
//! upload form share. The file is parsed, recorded as a `StatementImported` event naming who
//! imported it, and the recon view is brought past it so that matching sees it at once.

use aggregates::partner_statement::{statement_id, PartnerStatementCommand, PartnerStatementError};
use aggregates::values::PartyId;
use chrono::{NaiveDate, Utc};
use cqrs_es::AggregateError;
use tracing_actix_web::RequestId;

use super::as_of::catch_up_recon;
use super::service::BackOfficeService;
use super::statement;
use crate::commands::CommandMetadata;
use crate::http::ApiError;
use crate::security::Party;

/// A partner settlement file as imported.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub partner_id: String,
    pub business_day: String,
    pub version: u32,
    pub lines: usize,
    pub sha256: String,
}

/// The partner `partner` names, if it is one whose files the back office takes.
pub fn statement_partner(
    backoffice: &BackOfficeService,
    partner: &str,
) -> Result<PartyId, ApiError> {
    let known = backoffice.config.any_partner(partner).is_some()
        || partner == backoffice.config.payshap.partner_id;
    PartyId::parse(partner)
        .ok()
        .filter(|_| known)
        .ok_or_else(|| ApiError::bad_request(format!("{partner:?} is not a configured partner")))
}

/// Imports `body` as `partner`'s settlement file for `day`, as `party` (the finance API and
/// the console's upload form both come here), and brings the recon view past it.
pub async fn import(
    backoffice: &BackOfficeService,
    party: &Party,
    request_id: &RequestId,
    day: NaiveDate,
    partner: &str,
    file_name: Option<String>,
    body: &[u8],
) -> Result<Imported, ApiError> {
    let partner_id = statement_partner(backoffice, partner)?;
    let lines = statement::parse(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let sha256 = crate::digest::sha256_hex(body);
    let file_name = file_name.unwrap_or_else(|| format!("{partner}-{day}.csv"));
    let line_count = lines.len();
    let command = PartnerStatementCommand::Import {
        partner_id,
        business_day: day,
        file_name: file_name.chars().take(statement::MAX_FIELD_CHARS).collect(),
        sha256: sha256.clone(),
        lines,
        imported_at: Utc::now(),
    };
    let metadata = CommandMetadata::by_user(party.label("backoffice"), request_id);
    let id = statement_id(partner, day);
    let version = backoffice
        .statements
        .execute(&id, command, &metadata)
        .await
        .map_err(|e| match e {
            AggregateError::UserError(
                refusal @ (PartnerStatementError::RepeatedTranId { .. }
                | PartnerStatementError::MixedCurrencies { .. }),
            ) => ApiError::bad_request(refusal.to_string()),
            other => ApiError::internal("importing a partner statement", &other),
        })?
        .version();
    // Matching right after an import sees the file.
    catch_up_recon(backoffice).await?;
    Ok(Imported {
        partner_id: partner.to_owned(),
        business_day: day.to_string(),
        version,
        lines: line_count,
        sha256,
    })
}
