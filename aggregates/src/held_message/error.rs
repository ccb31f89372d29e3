#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldMessageError {
    /// Nothing came: there is nothing to keep.
    #[error("an empty body is not a message")]
    EmptyBody,
    /// A held message must say why it was not applied, or nobody can act on it.
    #[error("a held message needs a reason")]
    NoReason,
}
