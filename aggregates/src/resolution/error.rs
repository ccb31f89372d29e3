#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionError {
    /// The same UETR was resolved before: a repeat of the same request.
    #[error("this resolution is already recorded")]
    AlreadyRecorded,
}
