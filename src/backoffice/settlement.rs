//! Settlement of a business day: one line per payment that settles (authorised and
//! confirmed), with its gross amount, the fee charged when it was authorised and the net
//! the retailer receives; then the same summed per partner and per retailer. Totals are
//! sums of the lines, in integer minor units, so they always agree to the cent.

use std::collections::BTreeMap;

use serde::Serialize;

use super::day::{is_settled, DayData, REPORT_CURRENCY};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementLine {
    pub tran_id: String,
    pub partner_id: String,
    pub retailer_id: String,
    pub store_id: String,
    pub lane_id: String,
    pub requested_at: String,
    pub gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    /// The version of the partner's fee terms that charged it (0: no terms, no fee).
    pub fee_version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementTotal {
    pub party_id: String,
    pub count: u64,
    pub gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
}

impl SettlementTotal {
    fn add(&mut self, line: &SettlementLine) {
        self.count += 1;
        self.gross_minor += line.gross_minor;
        self.fee_minor += line.fee_minor;
        self.net_minor += line.net_minor;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub business_day: String,
    pub currency: &'static str,
    /// What each partner owes: gross collected, our fees, net due to its retailers.
    pub by_partner: Vec<SettlementTotal>,
    /// What each retailer is due: gross sold, fees deducted, net.
    pub by_retailer: Vec<SettlementTotal>,
    pub total: SettlementTotal,
    pub lines: Vec<SettlementLine>,
}

pub fn settlement(data: &DayData) -> Settlement {
    let lines: Vec<SettlementLine> = data
        .payments
        .iter()
        .filter(|row| is_settled(row))
        .map(|row| {
            let gross = row.amount_minor.unwrap_or(0);
            let fee = row.fee_minor.unwrap_or(0);
            SettlementLine {
                tran_id: row.tran_id.clone(),
                partner_id: row.partner_id.clone().unwrap_or_default(),
                retailer_id: row.retailer_id.clone(),
                store_id: row.store_id.clone(),
                lane_id: row.lane_id.clone(),
                requested_at: row.requested_at.clone().unwrap_or_default(),
                gross_minor: gross,
                fee_minor: fee,
                net_minor: gross - fee,
                fee_version: row.fee_version.unwrap_or(0),
            }
        })
        .collect();
    let mut by_partner: BTreeMap<String, SettlementTotal> = BTreeMap::new();
    let mut by_retailer: BTreeMap<String, SettlementTotal> = BTreeMap::new();
    let mut total = SettlementTotal {
        party_id: "TOTAL".to_owned(),
        ..SettlementTotal::default()
    };
    for line in &lines {
        for (totals, party) in [
            (&mut by_partner, &line.partner_id),
            (&mut by_retailer, &line.retailer_id),
        ] {
            totals
                .entry(party.clone())
                .or_insert_with(|| SettlementTotal {
                    party_id: party.clone(),
                    ..SettlementTotal::default()
                })
                .add(line);
        }
        total.add(line);
    }
    Settlement {
        business_day: data.day.to_string(),
        currency: REPORT_CURRENCY,
        by_partner: by_partner.into_values().collect(),
        by_retailer: by_retailer.into_values().collect(),
        total,
        lines,
    }
}
