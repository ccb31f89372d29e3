//! Completions whose signature failed: answered 401 as Electrum expects, but kept (raw,
//! bounded in size and rate, never applied automatically) as an "unverified" held message,
//! because Electrum counts our 401 as a final, negative acknowledgement and will not send
//! the completion again. One is applied once, when a scheme key added later verifies its
//! token as of when it came, or when a second user approves applying it against the recon
//! line that vouches for it (four eyes, `APPLY_HELD`).

use aggregates::held_message::{HeldMessageCommand, HeldMessageError};
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;
use projections::payshap_transfers::{self, HeldMessageRow};

use super::completion;
use super::held;
use super::keys::SchemeKeys;
use super::message::SchemeMessage;
use super::service::PayShapService;
use super::signing::{self, VerifyingKey};
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

/// Held unverified messages looked at per re-verification pass.
const PASS_LIMIT: i64 = 1_000;

/// Keeps a completion whose signature was refused. Not kept beyond the gate's bounds; a
/// store failure is answered 503, so that Electrum sends it again rather than lose it.
pub async fn keep(
    payshap: &PayShapService,
    message: &SchemeMessage,
    request_id: &str,
    refusal: &str,
) -> Result<(), FailureResponse> {
    if let Err(bound) = payshap.unverified_gate.admit(message.body.len()) {
        metrics::counter!("qrswitch_payshap_unverified_dropped_total", "reason" => bound)
            .increment(1);
        tracing::warn!(bound, "unverified completion not kept");
        return Ok(());
    }
    let reason = format!("signature refused: {refusal}");
    held::hold_as(payshap, message, request_id, &reason, true).await?;
    metrics::counter!("qrswitch_payshap_unverified_kept_total").increment(1);
    Ok(())
}

/// What one re-verification pass did.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pass {
    /// Held unverified messages that a key verified now, applied once each.
    pub applied: u32,
    /// Those no key in force verifies yet.
    pub still_unverified: u32,
}

/// Tries every held unverified message against `keys`, as of when it came; applies each
/// one that verifies.
pub async fn reverify(payshap: &PayShapService, keys: &SchemeKeys) -> anyhow::Result<Pass> {
    let rows =
        payshap_transfers::unverified_pending(payshap.store.views().pool(), PASS_LIMIT).await?;
    let mut pass = Pass::default();
    for row in rows {
        let message = kept_message(&row, &keys.scheme_party)?;
        let token = message.headers.get(signing::HEADER).map(String::as_str);
        let received_at = received_at(&row)?;
        if keys
            .verify(token, &message.body, received_at.timestamp())
            .is_err()
        {
            pass.still_unverified += 1;
            continue;
        }
        let kid = VerifyingKey::kid_of(token).unwrap_or_else(|| "without kid".to_owned());
        let how = format!("signature verified by a scheme key loaded later ({kid})");
        apply(payshap, &row, &message, &how).await?;
        pass.applied += 1;
    }
    if pass.applied > 0 {
        tracing::info!(
            applied = pass.applied,
            "unverified completions applied after a key reload"
        );
    }
    Ok(pass)
}

/// Why a held message could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no such held message (or it is applied or closed)")]
    NotFound,
    #[error("a note (for one whose signature failed: the recon line it matches) is required")]
    NoReference,
    #[error("it still cannot be applied: {0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

/// The held message `message_hash`, if it is open (neither applied nor closed): judged
/// from its own events, which the view may not show yet; its content from the view.
pub async fn open_held(
    payshap: &PayShapService,
    message_hash: &str,
) -> Result<HeldMessageRow, AttachError> {
    let held = payshap
        .held_messages
        .load(message_hash)
        .await
        .map_err(|e| AttachError::Failed(format!("reading a held message: {e}")))?;
    held.open().map_err(|_| AttachError::NotFound)?;
    payshap_transfers::held(payshap.store.views().pool(), message_hash)
        .await
        .map_err(|e| AttachError::Failed(format!("reading held messages: {e}")))?
        .ok_or(AttachError::NotFound)
}

/// Applies a held message once, as approved: one whose signature failed, vouched for by
/// `note` (the recon line it matches); another, re-run after a fix (it must read now).
pub async fn apply_held(
    payshap: &PayShapService,
    message_hash: &str,
    note: &str,
    by: &str,
) -> Result<String, AttachError> {
    if note.trim().is_empty() {
        return Err(AttachError::NoReference);
    }
    let row = open_held(payshap, message_hash).await?;
    let message = kept_message(&row, &format!("held:{by}"))
        .map_err(|e| AttachError::Failed(format!("reading a held message: {e}")))?;
    let how = if row.unverified == 1 {
        format!("vouched for by {by}: {}", note.trim())
    } else {
        let request_id = format!("held-{}", row.message_hash);
        match completion::record(payshap, &message, &request_id).await {
            Ok(()) => {}
            Err(failure) if failure.status.as_u16() < 500 => {
                return Err(AttachError::Refused(failure.to_string()))
            }
            Err(failure) => return Err(AttachError::Failed(failure.to_string())),
        }
        format!("applied after a fix by {by}: {}", note.trim())
    };
    apply(payshap, &row, &message, &how)
        .await
        .map_err(|e| AttachError::Failed(e.to_string()))?;
    Ok(how)
}

/// Records the completion (idempotent by message id), then marks the held message applied;
/// applied already (by another instance or pass) is done.
async fn apply(
    payshap: &PayShapService,
    row: &HeldMessageRow,
    message: &SchemeMessage,
    how: &str,
) -> anyhow::Result<()> {
    let request_id = format!("held-{}", row.message_hash);
    let how = match completion::record(payshap, message, &request_id).await {
        Ok(()) => how.to_owned(),
        // Authentic but not applicable (unreadable): it is held for that reason now.
        Err(failure) if failure.status.as_u16() < 500 => format!("{how}; held: {failure}"),
        Err(failure) => anyhow::bail!("recording a held completion: {failure}"),
    };
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id,
        message_id: row.message_id.clone(),
        received_at: Utc::now(),
        traceparent: message.traceparent(),
    };
    let command = HeldMessageCommand::Apply {
        how,
        at: Utc::now(),
    };
    match payshap
        .held_messages
        .execute(&row.message_hash, command, &metadata)
        .await
    {
        Ok(_) | Err(AggregateError::UserError(HeldMessageError::AlreadyApplied)) => Ok(()),
        Err(other) => Err(anyhow::anyhow!("marking a held message applied: {other}")),
    }
}

fn kept_message(row: &HeldMessageRow, party: &str) -> anyhow::Result<SchemeMessage> {
    let headers = serde_json::from_str(&row.headers)?;
    Ok(SchemeMessage::kept(
        held::body_bytes(&row.body)?.into(),
        party.to_owned(),
        &row.endpoint,
        headers,
    ))
}

fn received_at(row: &HeldMessageRow) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(&row.received_at)?.with_timezone(&Utc))
}
