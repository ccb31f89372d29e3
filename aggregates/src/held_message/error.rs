#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldMessageError {
    /// Nothing came: there is nothing to keep.
    #[error("an empty body is not a message")]
    EmptyBody,
    /// A held message must say why it was not applied, or nobody can act on it.
    #[error("a held message needs a reason")]
    NoReason,
    /// Only a held message can be applied.
    #[error("no such held message")]
    NotHeld,
    /// Applied once: never again.
    #[error("the held message was applied already")]
    AlreadyApplied,
    #[error("the held message is closed: nothing more can be done with it")]
    Closed,
    #[error(transparent)]
    Case(#[from] crate::case::CaseError),
}
