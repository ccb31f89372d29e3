//! What finance must look at for a business day: money or messages that did not go the way
//! they should. Time-dependent exceptions (an advice not yet delivered, an advice not yet
//! received) are judged at the report's `as_of`, so a report for a closed day is stable.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use projections::time::to_view_text;
use serde::Serialize;

use super::day::DayData;
use super::matching::{MatchResult, Matching};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionKind {
    /// An advice (or timeout reversal) still not acknowledged by the partner at cut-off.
    AdviceNotDelivered,
    /// Authorised, and the POS has sent no advice for longer than allowed.
    AdviceOverdue,
    /// A delivery the store-and-forward queue stopped retrying.
    DeliveryParked,
    /// A delivery the partner refused for good.
    DeliveryRefused,
    /// Money received through PayShap must go back to the payer (QR payment reversed after
    /// approval, or paid with the wrong amount).
    RefundRequired,
    /// A PayShap credit for a proxy the registry does not know.
    #[serde(rename = "PAYSHAP_UNKNOWN_PROXY")]
    PayShapUnknownProxy,
    /// A PayShap credit for a QR payment it could not pay (unknown, closed or different).
    #[serde(rename = "PAYSHAP_UNAPPLIED")]
    PayShapUnapplied,
    /// The sponsor bank reported contradicting final outcomes.
    #[serde(rename = "PAYSHAP_OUTCOME_CONFLICT")]
    PayShapOutcomeConflict,
    /// An authentic PayShap message the switch could not read, held as it came.
    #[serde(rename = "PAYSHAP_MESSAGE_HELD")]
    PayShapMessageHeld,
    /// A completion whose signature failed, kept: applied once a key verifies it or,
    /// through four eyes, a user vouches for it; or closed.
    #[serde(rename = "PAYSHAP_UNVERIFIED")]
    PayShapUnverified,
    /// An approved completion we must not credit (after our partner-auth refusal, or
    /// without our approval where we authorise).
    #[serde(rename = "PAYSHAP_NOT_CREDITED")]
    PayShapNotCredited,
    MissingAtPartner,
    MissingAtSwitch,
    AmountMismatch,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::AdviceNotDelivered => "ADVICE_NOT_DELIVERED",
            ExceptionKind::AdviceOverdue => "ADVICE_OVERDUE",
            ExceptionKind::DeliveryParked => "DELIVERY_PARKED",
            ExceptionKind::DeliveryRefused => "DELIVERY_REFUSED",
            ExceptionKind::RefundRequired => "REFUND_REQUIRED",
            ExceptionKind::PayShapUnknownProxy => "PAYSHAP_UNKNOWN_PROXY",
            ExceptionKind::PayShapUnapplied => "PAYSHAP_UNAPPLIED",
            ExceptionKind::PayShapOutcomeConflict => "PAYSHAP_OUTCOME_CONFLICT",
            ExceptionKind::PayShapMessageHeld => "PAYSHAP_MESSAGE_HELD",
            ExceptionKind::PayShapUnverified => "PAYSHAP_UNVERIFIED",
            ExceptionKind::PayShapNotCredited => "PAYSHAP_NOT_CREDITED",
            ExceptionKind::MissingAtPartner => "MISSING_AT_PARTNER",
            ExceptionKind::MissingAtSwitch => "MISSING_AT_SWITCH",
            ExceptionKind::AmountMismatch => "AMOUNT_MISMATCH",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exception {
    pub kind: ExceptionKind,
    /// The tranId, or the UETR for PayShap transfers.
    pub reference: String,
    pub partner_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub detail: String,
    /// The inbound message as it came, where one was held for this exception.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_message: Option<String>,
}

/// How long an authorised payment may wait for the POS's advice (`advice_due_within_ms`).
pub fn advice_due_within(config: &crate::config::BackofficeConfig) -> Duration {
    Duration::milliseconds(i64::try_from(config.advice_due_within_ms).unwrap_or(i64::MAX))
}

pub fn exceptions(
    data: &DayData,
    matching: &Matching,
    advice_due_within: Duration,
) -> Vec<Exception> {
    let mut found = Vec::new();
    delivery_exceptions(data, &mut found);
    payment_exceptions(data, advice_due_within, &mut found);
    payshap_exceptions(data, &mut found);
    recon_exceptions(matching, &mut found);
    found.sort_by(|a, b| (a.kind, &a.reference).cmp(&(b.kind, &b.reference)));
    found
}

/// Advices not acknowledged by the cut-off, and deliveries parked or refused.
fn delivery_exceptions(data: &DayData, found: &mut Vec<Exception>) {
    let as_of = to_view_text(data.as_of);
    let cutoff = to_view_text(data.to);
    // One lookup per delivery: a scan of the day's payments each time would be quadratic.
    let amounts: HashMap<&str, Option<i64>> = data
        .payments
        .iter()
        .map(|row| (row.tran_id.as_str(), row.amount_minor))
        .collect();
    let amount_of = |tran_id: &str| amounts.get(tran_id).copied().flatten();
    for delivery in &data.deliveries {
        let mut add = |kind, detail: String| {
            found.push(Exception {
                kind,
                reference: delivery.tran_id.clone(),
                partner_id: Some(delivery.partner_id.clone()),
                amount_minor: amount_of(&delivery.tran_id),
                detail,
                raw_message: None,
            });
        };
        let late = delivery
            .delivered_at
            .as_deref()
            .is_none_or(|delivered| delivered >= cutoff.as_str());
        if as_of >= cutoff && late {
            let kind = delivery.kind.to_lowercase();
            add(
                ExceptionKind::AdviceNotDelivered,
                format!(
                    "{kind} {} not acknowledged by cut-off",
                    delivery.delivery_id
                ),
            );
        }
        let note = delivery.note.clone().unwrap_or_default();
        match delivery.status.as_str() {
            "PARKED" => add(ExceptionKind::DeliveryParked, note),
            "REFUSED" => add(ExceptionKind::DeliveryRefused, note),
            _ => {}
        }
    }
}

/// Authorised payments with no advice in time, and refunds owed.
fn payment_exceptions(data: &DayData, advice_due_within: Duration, found: &mut Vec<Exception>) {
    for row in &data.payments {
        let mut add = |kind, amount_minor, detail: String| {
            found.push(Exception {
                kind,
                reference: row.tran_id.clone(),
                partner_id: row.partner_id.clone(),
                amount_minor,
                detail,
                raw_message: None,
            });
        };
        if let (Some("AUTHORISED"), None, Some(authorised_at)) = (
            row.outcome.as_deref(),
            &row.advice,
            parse_time(row.outcome_at.as_deref()),
        ) {
            if data.as_of > authorised_at + advice_due_within {
                add(
                    ExceptionKind::AdviceOverdue,
                    row.amount_minor,
                    format!("authorised at {authorised_at}, no confirmation or reversal"),
                );
            }
        }
        if let Some(refund) = row.refund_minor {
            let reason = row.refund_reason.clone().unwrap_or_default();
            add(ExceptionKind::RefundRequired, Some(refund), reason);
        }
    }
}

/// Every line of the partners' statements that does not match ours.
fn recon_exceptions(matching: &Matching, found: &mut Vec<Exception>) {
    for partner in &matching.partners {
        for line in &partner.lines {
            let kind = match line.result {
                MatchResult::Matched => continue,
                MatchResult::MissingAtPartner => ExceptionKind::MissingAtPartner,
                MatchResult::MissingAtSwitch => ExceptionKind::MissingAtSwitch,
                MatchResult::AmountMismatch => ExceptionKind::AmountMismatch,
            };
            found.push(Exception {
                kind,
                reference: line.tran_id.clone(),
                partner_id: Some(line.partner_id.clone()),
                amount_minor: line.partner_amount_minor.or(line.switch_amount_minor),
                detail: line.detail.clone(),
                raw_message: None,
            });
        }
    }
}

/// PayShap credits that need a person, each with the raw message where one was held, and
/// the held messages that no transfer accounts for (they could not even be read).
fn payshap_exceptions(data: &DayData, found: &mut Vec<Exception>) {
    let held_by_uetr: HashMap<&str, &str> = data
        .payshap_held
        .iter()
        .filter_map(|m| Some((m.uetr.as_deref()?, m.body.as_str())))
        .collect();
    for transfer in &data.payshap_received {
        let mut add = |kind, detail: String| {
            found.push(Exception {
                kind,
                reference: transfer.uetr.clone(),
                partner_id: None,
                amount_minor: Some(transfer.amount_minor),
                detail,
                raw_message: held_by_uetr
                    .get(transfer.uetr.as_str())
                    .map(|b| (*b).to_owned()),
            });
        };
        if transfer.proxy_known == 0 && transfer.tran_id.is_none() {
            let proxy = transfer.proxy_id.as_deref().unwrap_or("no proxy");
            add(
                ExceptionKind::PayShapUnknownProxy,
                format!("{} completion for {proxy}", transfer.outcome),
            );
        }
        match transfer.exception.as_deref() {
            Some(note) if note.starts_with("outcome conflict") => {
                add(ExceptionKind::PayShapOutcomeConflict, note.to_owned())
            }
            Some(note) if note.starts_with("not credited") => {
                add(ExceptionKind::PayShapNotCredited, note.to_owned())
            }
            Some(note) => add(ExceptionKind::PayShapUnapplied, note.to_owned()),
            None => {}
        }
    }
    let known: std::collections::HashSet<&str> = data
        .payshap_received
        .iter()
        .map(|t| t.uetr.as_str())
        .collect();
    for held in &data.payshap_held {
        let unverified = held.unverified == 1;
        let accounted = held.uetr.as_deref().is_some_and(|u| known.contains(u));
        let done = held.applied_at.is_some() || held.closed_at.is_some();
        if done || (accounted && !unverified) {
            continue;
        }
        found.push(Exception {
            kind: if unverified {
                ExceptionKind::PayShapUnverified
            } else {
                ExceptionKind::PayShapMessageHeld
            },
            reference: held
                .uetr
                .clone()
                .unwrap_or_else(|| held.message_hash.clone()),
            partner_id: None,
            amount_minor: None,
            detail: held.reason.clone(),
            raw_message: Some(held.body.clone()),
        });
    }
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}
