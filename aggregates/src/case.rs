//! Working an exception to closure. Money we hold but cannot apply (a held completion, an
//! unapplied or refused credit) is an open case until it is applied after a fix, attributed
//! to a merchant or payment, returned to the payer, or closed with a reason. Each step is an
//! event on the message's own aggregate; every other move is refused with a clear error.
//!
//! ```text
//! OPEN ──apply──▶ APPLIED        OPEN ──return──▶ RETURNING ──returned──▶ RETURNED
//! OPEN ──attribute──▶ ATTRIBUTED              RETURNING ──return failed──▶ OPEN
//! OPEN ──close──▶ CLOSED
//! ```

use serde::{Deserialize, Serialize};

/// Reasons a case may be closed with (it moves no money).
pub const CLOSE_REASONS: [&str; 4] = ["DUPLICATE", "RESOLVED_AT_BANK", "NOT_OURS", "WRITTEN_OFF"];

/// Longest note kept, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    #[default]
    Open,
    Applied,
    Attributed,
    /// A refund to the payer is on its way; the money is not ours to apply meanwhile.
    Returning,
    Returned,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "OPEN",
            CaseStatus::Applied => "APPLIED",
            CaseStatus::Attributed => "ATTRIBUTED",
            CaseStatus::Returning => "RETURNING",
            CaseStatus::Returned => "RETURNED",
            CaseStatus::Closed => "CLOSED",
        }
    }

    /// Still needs someone (open, or its refund not settled).
    pub fn is_open(self) -> bool {
        matches!(self, CaseStatus::Open | CaseStatus::Returning)
    }

    /// The status after `step`, or why the step is not allowed now.
    pub fn after(self, step: &CaseStep) -> Result<CaseStatus, CaseError> {
        step.check()?;
        let next = match (self, step) {
            (CaseStatus::Open, CaseStep::Apply { .. }) => CaseStatus::Applied,
            (CaseStatus::Open, CaseStep::Attribute { .. }) => CaseStatus::Attributed,
            (CaseStatus::Open, CaseStep::Return { .. }) => CaseStatus::Returning,
            (CaseStatus::Open, CaseStep::Close { .. }) => CaseStatus::Closed,
            (CaseStatus::Returning, CaseStep::Returned { .. }) => CaseStatus::Returned,
            (CaseStatus::Returning, CaseStep::ReturnFailed { .. }) => CaseStatus::Open,
            (status, step) => {
                return Err(CaseError::NotAllowed {
                    step: step.name(),
                    status: status.as_str(),
                })
            }
        };
        Ok(next)
    }
}

/// One step in working a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStep {
    /// Applied after a fix (the proxy registered late, the payment found).
    Apply { note: String },
    /// The money belongs to this merchant or payment (`to`).
    Attribute { to: String, note: String },
    /// A refund to the payer is requested, as the outbound credit transfer `refund_uetr`.
    Return { refund_uetr: String },
    /// The refund reached the payer.
    Returned { refund_uetr: String },
    /// The refund failed: the money is held again, visibly.
    ReturnFailed { refund_uetr: String, reason: String },
    /// Closed with one of [`CLOSE_REASONS`] and a note; moves no money.
    Close { reason_code: String, note: String },
}

impl CaseStep {
    pub fn name(&self) -> &'static str {
        match self {
            CaseStep::Apply { .. } => "apply",
            CaseStep::Attribute { .. } => "attribute",
            CaseStep::Return { .. } => "return",
            CaseStep::Returned { .. } => "returned",
            CaseStep::ReturnFailed { .. } => "return failed",
            CaseStep::Close { .. } => "close",
        }
    }

    /// Where a valid step leads (for views replaying recorded steps).
    pub fn leads_to(&self) -> CaseStatus {
        match self {
            CaseStep::Apply { .. } => CaseStatus::Applied,
            CaseStep::Attribute { .. } => CaseStatus::Attributed,
            CaseStep::Return { .. } => CaseStatus::Returning,
            CaseStep::Returned { .. } => CaseStatus::Returned,
            CaseStep::ReturnFailed { .. } => CaseStatus::Open,
            CaseStep::Close { .. } => CaseStatus::Closed,
        }
    }

    fn check(&self) -> Result<(), CaseError> {
        let blank = |text: &str| text.trim().is_empty();
        match self {
            CaseStep::Attribute { to, .. } if blank(to) => Err(CaseError::NoTarget),
            CaseStep::Close { reason_code, .. }
                if !CLOSE_REASONS.contains(&reason_code.as_str()) =>
            {
                Err(CaseError::UnknownReason(reason_code.clone()))
            }
            CaseStep::Close { note, .. }
            | CaseStep::Apply { note }
            | CaseStep::Attribute { note, .. }
                if blank(note) || note.chars().count() > NOTE_MAX_CHARS =>
            {
                Err(CaseError::Note)
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{step} is not allowed on a case that is {status}")]
    NotAllowed {
        step: &'static str,
        status: &'static str,
    },
    #[error("a note of 1 to 500 characters is required")]
    Note,
    #[error("attribute to what: a merchant or a payment is required")]
    NoTarget,
    #[error("close reason {0:?} is not one of DUPLICATE, RESOLVED_AT_BANK, NOT_OURS, WRITTEN_OFF")]
    UnknownReason(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close() -> CaseStep {
        CaseStep::Close {
            reason_code: "DUPLICATE".into(),
            note: "sent twice".into(),
        }
    }

    #[test]
    fn an_open_case_takes_each_first_step_and_nothing_after_its_end() {
        let apply = CaseStep::Apply {
            note: "proxy registered".into(),
        };
        assert_eq!(CaseStatus::Open.after(&apply), Ok(CaseStatus::Applied));
        assert_eq!(CaseStatus::Open.after(&close()), Ok(CaseStatus::Closed));
        for done in [
            CaseStatus::Applied,
            CaseStatus::Closed,
            CaseStatus::Returned,
        ] {
            assert!(matches!(
                done.after(&close()),
                Err(CaseError::NotAllowed { .. })
            ));
            assert!(!done.is_open());
        }
    }

    #[test]
    fn a_refund_settles_or_fails_back_to_open() {
        let refund = |uetr: &str| CaseStep::Return {
            refund_uetr: uetr.into(),
        };
        let returning = CaseStatus::Open.after(&refund("r1")).unwrap();
        assert_eq!(returning, CaseStatus::Returning);
        assert!(matches!(
            returning.after(&close()),
            Err(CaseError::NotAllowed { .. })
        ));
        let failed = CaseStep::ReturnFailed {
            refund_uetr: "r1".into(),
            reason: "AC04".into(),
        };
        assert_eq!(returning.after(&failed), Ok(CaseStatus::Open));
        let settled = CaseStep::Returned {
            refund_uetr: "r1".into(),
        };
        assert_eq!(returning.after(&settled), Ok(CaseStatus::Returned));
        assert!(matches!(
            CaseStatus::Open.after(&settled),
            Err(CaseError::NotAllowed { .. })
        ));
    }

    #[test]
    fn bad_steps_are_refused_with_the_reason() {
        let unknown = CaseStep::Close {
            reason_code: "BORED".into(),
            note: "x".into(),
        };
        assert_eq!(
            CaseStatus::Open.after(&unknown),
            Err(CaseError::UnknownReason("BORED".into()))
        );
        let silent = CaseStep::Apply { note: " ".into() };
        assert_eq!(CaseStatus::Open.after(&silent), Err(CaseError::Note));
        let nowhere = CaseStep::Attribute {
            to: "".into(),
            note: "x".into(),
        };
        assert_eq!(CaseStatus::Open.after(&nowhere), Err(CaseError::NoTarget));
    }
}
