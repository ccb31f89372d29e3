use crate::case::CaseError;

/// Completions are always accepted (must-deliver); only working a case can be refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayShapError {
    /// Only money we hold but could not apply is a case.
    #[error("this transfer is not an open exception: nothing to work")]
    NotACase,
    #[error(transparent)]
    Case(#[from] CaseError),
}
