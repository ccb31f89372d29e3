#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeScheduleError {
    #[error("fee terms are not valid: {0}")]
    InvalidTerms(String),
}
