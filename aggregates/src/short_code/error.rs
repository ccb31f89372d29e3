#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortCodeError {
    /// Another live payment holds the code.
    #[error("the short code is held by another live payment")]
    Taken,
    /// A claim must last beyond the moment it is made.
    #[error("the claim would expire before it is made")]
    AlreadyExpired,
}
