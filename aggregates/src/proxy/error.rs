#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("the proxy is already registered")]
    AlreadyRegistered,
    #[error("the proxy is not registered")]
    NotRegistered,
    #[error("the proxy is retired")]
    Retired,
    #[error("the change changes nothing")]
    NothingToChange,
    #[error("owner names must be 1 to 140 characters")]
    InvalidName,
}
