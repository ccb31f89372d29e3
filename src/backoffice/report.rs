//! The day's recon figures: counts and amounts by stage of the payment, in total and by
//! partner, retailer, store and lane. Every breakdown adds up to the totals by construction:
//! each payment is counted once in the totals and once in each breakdown.

use std::collections::BTreeMap;

use projections::recon::ReconPaymentRow;
use serde::Serialize;

use super::day::{is_settled, DayData, REPORT_CURRENCY};

/// How many, and how much in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub count: u64,
    pub amount_minor: i64,
}

impl Tally {
    pub fn add(&mut self, amount_minor: i64) {
        self.count += 1;
        self.amount_minor += amount_minor;
    }
}

/// The stages finance follows a payment through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Payment requests from the POS.
    pub requested: Tally,
    /// Approved by the partner (or paid by a PayShap credit).
    pub authorised: Tally,
    pub declined: Tally,
    /// No answer in time (no scan, or no answer from the partner).
    pub timed_out: Tally,
    /// Authorised and confirmed by the POS: these settle.
    pub confirmed: Tally,
    /// Reversed by the POS (after approval, or voiding a pending one).
    pub reversed: Tally,
    /// Nothing more to do: outcome known, advice delivered and acknowledged.
    pub completed: Tally,
}

impl Figures {
    pub fn count(&mut self, row: &ReconPaymentRow) {
        let amount = row.amount_minor.unwrap_or(0);
        self.requested.add(amount);
        match row.outcome.as_deref() {
            Some("AUTHORISED") => self.authorised.add(amount),
            Some("DECLINED") => self.declined.add(amount),
            Some("TIMED_OUT") => self.timed_out.add(amount),
            _ => {}
        }
        if is_settled(row) {
            self.confirmed.add(amount);
        }
        if row.advice.as_deref() == Some("REVERSAL") {
            self.reversed.add(amount);
        }
        if row.completed_at.is_some() {
            self.completed.add(amount);
        }
    }
}

/// The figures of one partner, retailer, store or lane; only the fields naming it are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retailer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane_id: Option<String>,
    pub figures: Figures,
}

/// Inbound PayShap credit transfers of the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayShapReceipts {
    /// Completions first reported during the day, whatever their outcome.
    pub reported: Tally,
    /// Of those, the ones not approved (rejected, cancelled or still pending).
    pub not_approved: Tally,
    /// Money credited during the day (the mark-off extract lists these).
    pub credited: Tally,
    /// Of the credits, the ones paying a QR payment.
    pub credited_to_qr_payments: Tally,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayReport {
    pub business_day: String,
    pub from: String,
    pub to: String,
    pub currency: &'static str,
    pub other_currency_payments: usize,
    pub totals: Figures,
    pub by_partner: Vec<Breakdown>,
    pub by_retailer: Vec<Breakdown>,
    pub by_store: Vec<Breakdown>,
    pub by_lane: Vec<Breakdown>,
    pub payshap: PayShapReceipts,
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Partner,
    Retailer,
    Store,
    Lane,
}

/// The label a payment without a partner (no scan) is reported under.
pub const NO_PARTNER: &str = "(none)";

impl GroupBy {
    fn key(self, row: &ReconPaymentRow) -> Breakdown {
        let partner = row
            .partner_id
            .clone()
            .unwrap_or_else(|| NO_PARTNER.to_owned());
        let (partner_id, retailer_id, store_id, lane_id) = match self {
            GroupBy::Partner => (Some(partner), None, None, None),
            GroupBy::Retailer => (None, Some(row.retailer_id.clone()), None, None),
            GroupBy::Store => (
                None,
                Some(row.retailer_id.clone()),
                Some(row.store_id.clone()),
                None,
            ),
            GroupBy::Lane => (
                None,
                Some(row.retailer_id.clone()),
                Some(row.store_id.clone()),
                Some(row.lane_id.clone()),
            ),
        };
        Breakdown {
            partner_id,
            retailer_id,
            store_id,
            lane_id,
            figures: Figures::default(),
        }
    }

    fn breakdown(self, rows: &[ReconPaymentRow]) -> Vec<Breakdown> {
        let mut groups: BTreeMap<(String, String, String, String), Breakdown> = BTreeMap::new();
        for row in rows {
            let empty = self.key(row);
            let key = (
                empty.partner_id.clone().unwrap_or_default(),
                empty.retailer_id.clone().unwrap_or_default(),
                empty.store_id.clone().unwrap_or_default(),
                empty.lane_id.clone().unwrap_or_default(),
            );
            groups.entry(key).or_insert(empty).figures.count(row);
        }
        groups.into_values().collect()
    }
}

pub fn day_report(data: &DayData) -> DayReport {
    let mut totals = Figures::default();
    for row in &data.payments {
        totals.count(row);
    }
    let mut payshap = PayShapReceipts::default();
    for transfer in &data.payshap_received {
        payshap.reported.add(transfer.amount_minor);
        if transfer.outcome != "APPROVED" {
            payshap.not_approved.add(transfer.amount_minor);
        }
    }
    for transfer in &data.payshap_credited {
        payshap.credited.add(transfer.amount_minor);
        if transfer.tran_id.is_some() {
            payshap.credited_to_qr_payments.add(transfer.amount_minor);
        }
    }
    DayReport {
        business_day: data.day.to_string(),
        from: data.from.to_rfc3339(),
        to: data.to.to_rfc3339(),
        currency: REPORT_CURRENCY,
        other_currency_payments: data.other_currency_payments,
        totals,
        by_partner: GroupBy::Partner.breakdown(&data.payments),
        by_retailer: GroupBy::Retailer.breakdown(&data.payments),
        by_store: GroupBy::Store.breakdown(&data.payments),
        by_lane: GroupBy::Lane.breakdown(&data.payments),
        payshap,
    }
}

impl DayReport {
    pub fn breakdown(&self, by: GroupBy) -> &[Breakdown] {
        match by {
            GroupBy::Partner => &self.by_partner,
            GroupBy::Retailer => &self.by_retailer,
            GroupBy::Store => &self.by_store,
            GroupBy::Lane => &self.by_lane,
        }
    }
}
