//! Keeping an authentic inbound message that could not be applied, exactly as it came,
//! before it is answered: the back office sees it as an exception with the raw message, and
//! nothing must-deliver is lost because we could not read it. Unauthentic messages never
//! get here (the signature check refuses them first).

use aggregates::held_message::{HeldMessageCommand, Received};
use base64::Engine;
use chrono::Utc;
use cqrs_es::AggregateError;

use super::message::SchemeMessage;
use super::report;
use super::service::PayShapService;
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

/// Stores `message` with `reason`. The same bytes again are the same held message.
pub async fn hold(
    payshap: &PayShapService,
    message: &SchemeMessage,
    request_id: &str,
    reason: &str,
) -> Result<(), FailureResponse> {
    hold_as(payshap, message, request_id, reason, false).await
}

/// The held message's id: the body's SHA-256; an unverified copy of the same bytes is
/// another message (it may be kept unverified first and held for a reason of its own later).
pub fn id_of(body: &[u8], unverified: bool) -> String {
    let hash = crate::digest::sha256_hex(body);
    if unverified {
        format!("unverified-{hash}")
    } else {
        hash
    }
}

/// Stores `message`, marked unverified when its signature did not verify.
pub async fn hold_as(
    payshap: &PayShapService,
    message: &SchemeMessage,
    request_id: &str,
    reason: &str,
    unverified: bool,
) -> Result<(), FailureResponse> {
    if message.body.is_empty() {
        return Ok(()); // nothing came, nothing to keep
    }
    let id = id_of(&message.body, unverified);
    let body = match std::str::from_utf8(&message.body) {
        Ok(text) => text.to_owned(),
        Err(_) => format!(
            "base64:{}",
            base64::engine::general_purpose::STANDARD.encode(&message.body)
        ),
    };
    let (uetr, message_id) = report::identifiers_of(&message.body);
    let received_at = Utc::now();
    let metadata = CommandMetadata {
        party: message.party.clone(),
        request_id: request_id.to_owned(),
        message_id: message_id.clone(),
        received_at,
        traceparent: message.traceparent(),
    };
    let command = HeldMessageCommand::Hold {
        message: Received {
            endpoint: message.endpoint.clone(),
            body,
            headers: message.headers.clone(),
            party: message.party.clone(),
            uetr: uetr.clone(),
            message_id,
            reason: reason.to_owned(),
            received_at,
            unverified,
        },
    };
    match payshap
        .held_messages
        .execute_new(&id, command, &metadata)
        .await
    {
        Ok(_) => {
            tracing::warn!(uetr = uetr.as_deref().unwrap_or("?"), trace_id = message.trace_id.as_deref().unwrap_or(""), %reason, "inbound message held for the back office");
            metrics::counter!("qrswitch_payshap_messages_held_total").increment(1);
            Ok(())
        }
        Err(AggregateError::UserError(refusal)) => {
            tracing::warn!(%refusal, "inbound message not held");
            Ok(())
        }
        Err(other) => Err(FailureResponse::unavailable(
            "holding an inbound message",
            &other,
        )),
    }
}

/// The bytes of a kept body: the text itself, or the bytes after `base64:`.
pub fn body_bytes(kept: &str) -> Result<Vec<u8>, base64::DecodeError> {
    match kept.strip_prefix("base64:") {
        Some(encoded) => base64::engine::general_purpose::STANDARD.decode(encoded),
        None => Ok(kept.as_bytes().to_vec()),
    }
}
