//! `[backoffice]`: the business day, overdue advices, fees.

use serde::Deserialize;

/// Reconciliation and settlement: the business day, when an advice is overdue, fees.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackofficeConfig {
    /// IANA time zone of the business day, e.g. `Africa/Johannesburg`.
    pub time_zone: String,
    /// Local time (`HH:MM`) at which a business day ends; a payment requested at or after
    /// it belongs to the next day. `00:00` means midnight: days are calendar days.
    pub cutoff: String,
    /// An authorised payment without an advice from the POS for this long is an exception.
    /// A POS normally advises within seconds; an hour allows for a lane that lost power.
    pub advice_due_within_ms: u64,
    /// Largest partner settlement file accepted. 16 MiB holds about 150 000 lines, more
    /// than a partner settles with one retailer in a day.
    pub statement_max_bytes: usize,
    /// Fee terms per partner. A partner without terms is charged nothing.
    pub fees: Vec<FeeConfig>,
    /// A four-eyes request not decided within this long expires (ask again). A day lets
    /// an approver on another shift see it.
    pub approval_expires_after_ms: u64,
}

impl Default for BackofficeConfig {
    fn default() -> Self {
        Self {
            time_zone: "Africa/Johannesburg".to_owned(),
            cutoff: "00:00".to_owned(),
            advice_due_within_ms: 3_600_000,
            statement_max_bytes: 16 * 1024 * 1024,
            fees: Vec::new(),
            approval_expires_after_ms: 86_400_000,
        }
    }
}

/// One partner's fee terms (see `aggregates::fee_schedule` for how a fee is worked out).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeConfig {
    pub partner_id: String,
    /// Hundredths of a percent of the amount, rounded half up to whole minor units.
    #[serde(default)]
    pub basis_points: u32,
    #[serde(default)]
    pub fixed_minor: i64,
    #[serde(default)]
    pub minimum_minor: i64,
    #[serde(default)]
    pub maximum_minor: Option<i64>,
}

impl FeeConfig {
    pub fn terms(&self) -> aggregates::fee_schedule::FeeTerms {
        aggregates::fee_schedule::FeeTerms {
            basis_points: self.basis_points,
            fixed_minor: self.fixed_minor,
            minimum_minor: self.minimum_minor,
            maximum_minor: self.maximum_minor,
        }
    }
}
