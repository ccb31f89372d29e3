#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("this approval was requested already")]
    AlreadyRequested,
    #[error("only a pending request can be approved or rejected")]
    NotPending,
    #[error("the request expired: ask again")]
    Expired,
    #[error("four eyes: the maker cannot approve or reject their own request")]
    SelfApproval,
    #[error("a reason is required")]
    NoReason,
    #[error("only an approved request is carried out")]
    NotApproved,
}
