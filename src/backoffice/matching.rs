//! Three-way matching of a partner's settlement file: what the retailer advised (its
//! confirmation or reversal), what the switch recorded (the partner's answer) and what the
//! partner says it settled (a line of its file). Lines meet by tranId.

use std::collections::{BTreeMap, BTreeSet};

use projections::recon::{ReconPaymentRow, StatementRow};
use serde::Serialize;

use super::day::{is_settled, DayData};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchResult {
    /// All three agree: approved, confirmed, and settled by the partner for the same amount.
    Matched,
    /// The switch settles it but the partner's file does not list it.
    MissingAtPartner,
    /// The partner lists it but the switch has nothing to settle (unknown, declined, timed
    /// out, reversed by the retailer, not yet confirmed, or another partner's).
    MissingAtSwitch,
    /// Both settle it, for different amounts.
    AmountMismatch,
}

impl MatchResult {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchResult::Matched => "MATCHED",
            MatchResult::MissingAtPartner => "MISSING_AT_PARTNER",
            MatchResult::MissingAtSwitch => "MISSING_AT_SWITCH",
            MatchResult::AmountMismatch => "AMOUNT_MISMATCH",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchLine {
    pub partner_id: String,
    pub tran_id: String,
    pub result: MatchResult,
    /// What the retailer advised: `CONFIRMATION`, `REVERSAL` or nothing yet.
    pub retailer_advice: Option<String>,
    /// What the switch recorded: `AUTHORISED`, `DECLINED`, `TIMED_OUT` or nothing.
    pub switch_outcome: Option<String>,
    pub switch_amount_minor: Option<i64>,
    pub partner_amount_minor: Option<i64>,
    pub partner_reference: Option<String>,
    pub line_number: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerMatching {
    pub partner_id: String,
    /// The imported file, or none yet (then nothing can be matched).
    pub statement: Option<StatementRow>,
    pub matched: u64,
    pub missing_at_partner: u64,
    pub missing_at_switch: u64,
    pub amount_mismatch: u64,
    pub lines: Vec<MatchLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Matching {
    pub business_day: String,
    pub partners: Vec<PartnerMatching>,
}

pub fn matching(data: &DayData) -> Matching {
    let mut partners: BTreeSet<String> = data
        .payments
        .iter()
        .filter(|row| is_settled(row))
        .filter_map(|row| row.partner_id.clone())
        .collect();
    partners.extend(data.statements.iter().map(|s| s.partner_id.clone()));
    let partners = partners
        .into_iter()
        .map(|partner_id| match_partner(data, partner_id))
        .collect();
    Matching {
        business_day: data.day.to_string(),
        partners,
    }
}

fn match_partner(data: &DayData, partner_id: String) -> PartnerMatching {
    let statement = data
        .statements
        .iter()
        .find(|s| s.partner_id == partner_id)
        .cloned();
    let mut lines = Vec::new();
    if statement.is_some() {
        let mut listed = BTreeSet::new();
        for line in data
            .statement_lines
            .iter()
            .filter(|l| l.partner_id == partner_id)
        {
            listed.insert(line.tran_id.as_str());
            let switch = data.named_payments.get(&line.tran_id);
            let (result, detail) = judge_listed(switch, &partner_id, line.amount_minor);
            lines.push(MatchLine {
                partner_id: partner_id.clone(),
                tran_id: line.tran_id.clone(),
                result,
                retailer_advice: switch.and_then(|row| row.advice.clone()),
                switch_outcome: switch.and_then(|row| row.outcome.clone()),
                switch_amount_minor: switch.and_then(|row| row.amount_minor),
                partner_amount_minor: Some(line.amount_minor),
                partner_reference: Some(line.partner_reference.clone()),
                line_number: Some(line.line_number),
                detail,
            });
        }
        let unlisted = data.payments.iter().filter(|row| {
            is_settled(row)
                && row.partner_id.as_deref() == Some(partner_id.as_str())
                && !listed.contains(row.tran_id.as_str())
        });
        for row in unlisted {
            lines.push(MatchLine {
                partner_id: partner_id.clone(),
                tran_id: row.tran_id.clone(),
                result: MatchResult::MissingAtPartner,
                retailer_advice: row.advice.clone(),
                switch_outcome: row.outcome.clone(),
                switch_amount_minor: row.amount_minor,
                partner_amount_minor: None,
                partner_reference: None,
                line_number: None,
                detail: "approved and confirmed, not in the partner's file".to_owned(),
            });
        }
    }
    lines.sort_by(|a, b| (a.result, &a.tran_id).cmp(&(b.result, &b.tran_id)));
    let mut counts: BTreeMap<MatchResult, u64> = BTreeMap::new();
    for line in &lines {
        *counts.entry(line.result).or_default() += 1;
    }
    let count = |result| counts.get(&result).copied().unwrap_or(0);
    PartnerMatching {
        matched: count(MatchResult::Matched),
        missing_at_partner: count(MatchResult::MissingAtPartner),
        missing_at_switch: count(MatchResult::MissingAtSwitch),
        amount_mismatch: count(MatchResult::AmountMismatch),
        partner_id,
        statement,
        lines,
    }
}

/// A line of the partner's file against the switch's record of that tranId.
fn judge_listed(
    switch: Option<&ReconPaymentRow>,
    partner_id: &str,
    partner_amount_minor: i64,
) -> (MatchResult, String) {
    let Some(row) = switch else {
        return (
            MatchResult::MissingAtSwitch,
            "the switch has no payment with this tranId".to_owned(),
        );
    };
    if row.partner_id.as_deref() != Some(partner_id) {
        return (
            MatchResult::MissingAtSwitch,
            format!(
                "the switch routed it to {}",
                row.partner_id.as_deref().unwrap_or("no partner")
            ),
        );
    }
    if !is_settled(row) {
        let state = match (row.outcome.as_deref(), row.advice.as_deref()) {
            (_, Some("REVERSAL")) => "reversed by the retailer",
            (Some("AUTHORISED"), _) => "approved but not confirmed by the retailer",
            (Some("DECLINED"), _) => "declined",
            (Some("TIMED_OUT"), _) => "timed out",
            _ => "without an outcome",
        };
        return (
            MatchResult::MissingAtSwitch,
            format!("the switch has it {state}"),
        );
    }
    let switch_amount = row.amount_minor.unwrap_or(0);
    if switch_amount != partner_amount_minor {
        return (
            MatchResult::AmountMismatch,
            format!("switch {switch_amount}, partner {partner_amount_minor} minor units"),
        );
    }
    (MatchResult::Matched, String::new())
}
