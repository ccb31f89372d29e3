//! `qrswitch replay --tran-id T`: a payment's timeline as a person reads it, one line per
//! event: when it was written, its sequence, what happened, who caused it, on which
//! message, and the few facts of it a reader looks for first.

use anyhow::bail;
use projections::history;
use serde_json::Value;

use super::record::AuditEvent;
use crate::store::Store;

/// Events read per page.
const PAGE_EVENTS: i64 = 1_000;
/// The facts shown on a line, where the event has them (the rest is in the audit API).
const SHOWN: [&str; 11] = [
    "client_id",
    "terminal_id",
    "partner_id",
    "amount",
    "advice",
    "delivery_id",
    "reason",
    "status",
    "outcome",
    "scheme",
    "expires_at",
];

/// Prints the payment's timeline to standard output.
pub async fn run(store: &Store, tran_id: &str) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let mut conn = store.views().pool().acquire().await?;
        let page = history::stream(
            &mut conn,
            store.backend(),
            "Payment",
            tran_id,
            after,
            PAGE_EVENTS,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = last.event.sequence;
        let full = page.len() as i64 == PAGE_EVENTS;
        lines.extend(page.into_iter().map(|e| line(&AuditEvent::from_history(e))));
        if !full {
            break;
        }
    }
    if lines.is_empty() {
        bail!("no payment {tran_id:?} in this store");
    }
    println!("Payment {tran_id}: {} events", lines.len());
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// One event as a line of the timeline.
pub fn line(event: &AuditEvent) -> String {
    let when = event
        .committed_at
        .as_deref()
        .map(|t| t.replacen('T', " ", 1).replace('Z', " UTC"))
        .unwrap_or_else(|| "(time not recorded)".to_owned());
    let party = event.metadata.party.as_deref().unwrap_or("?");
    let mut text = format!(
        "{when}  #{:<3} {:<22} by {party}",
        event.sequence, event.event_type
    );
    if let Some(message) = &event.metadata.message_id {
        text.push_str(&format!("  message {message}"));
    }
    let fields = event
        .payload
        .as_object()
        .and_then(|variant| variant.values().next())
        .and_then(Value::as_object);
    for key in SHOWN {
        match fields.and_then(|f| f.get(key)) {
            None | Some(Value::Null) => {}
            Some(Value::String(value)) => text.push_str(&format!("  {key}={value}")),
            Some(other) => text.push_str(&format!("  {key}={other}")),
        }
    }
    if let Some(reference) = partner_reference(event) {
        text.push_str(&format!("  partner reference: {reference}"));
    }
    text
}

/// An authorisation's partner references, read in today's shape: an event stored as 1.0
/// has none of its own, and its upcaster takes them from the partner's answer.
fn partner_reference(event: &AuditEvent) -> Option<String> {
    if event.aggregate_type != "Payment" || event.event_type != "Authorised" {
        return None;
    }
    let mut payload = event.payload.clone();
    aggregates::upcast::upcast(
        &event.aggregate_type,
        &event.event_type,
        &event.event_version,
        &mut payload,
    )
    .ok()?;
    let reference: aggregates::PartnerReference =
        serde_json::from_value(payload["Authorised"]["partner_reference"].take()).ok()?;
    Some(reference.describe())
}
