//! A partner's fee terms and the fee they charge on an amount.

use serde::{Deserialize, Serialize};

use super::error::FeeScheduleError;

/// One basis point is a hundredth of a percent.
pub const BASIS_POINTS_PER_WHOLE: i64 = 10_000;

/// The terms of one partner's schedule. All amounts are minor units of the transaction's
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTerms {
    pub basis_points: u32,
    pub fixed_minor: i64,
    pub minimum_minor: i64,
    /// No cap when absent.
    pub maximum_minor: Option<i64>,
}

impl FeeTerms {
    /// No fee at all: what a partner without a schedule pays.
    pub const FREE: FeeTerms = FeeTerms {
        basis_points: 0,
        fixed_minor: 0,
        minimum_minor: 0,
        maximum_minor: None,
    };

    pub fn check(&self) -> Result<(), FeeScheduleError> {
        let invalid = |reason: &str| Err(FeeScheduleError::InvalidTerms(reason.to_owned()));
        if i64::from(self.basis_points) > BASIS_POINTS_PER_WHOLE {
            return invalid("basis_points must be at most 10000 (100 %)");
        }
        if self.fixed_minor < 0 || self.minimum_minor < 0 {
            return invalid("fixed_minor and minimum_minor must not be negative");
        }
        if let Some(maximum) = self.maximum_minor {
            if maximum < self.minimum_minor {
                return invalid("maximum_minor must not be below minimum_minor");
            }
        }
        Ok(())
    }

    /// The fee charged on `amount_minor` (non-negative minor units).
    pub fn fee_for(&self, amount_minor: i64) -> i64 {
        let amount = i128::from(amount_minor.max(0));
        let percentage = (amount * i128::from(self.basis_points)
            + i128::from(BASIS_POINTS_PER_WHOLE / 2))
            / i128::from(BASIS_POINTS_PER_WHOLE);
        let mut fee = i128::from(self.fixed_minor) + percentage;
        fee = fee.max(i128::from(self.minimum_minor));
        if let Some(maximum) = self.maximum_minor {
            fee = fee.min(i128::from(maximum));
        }
        // Bounded by the amount, which is an i64: the conversion cannot fail.
        i64::try_from(fee.min(amount)).unwrap_or(i64::MAX)
    }
}
