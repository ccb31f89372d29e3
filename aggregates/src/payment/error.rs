use crate::values::Amount;

/// Why a payment command was refused. Each maps to one documented answer on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("a QR code was already issued with this tranId")]
    QrAlreadyIssued,
    #[error("the QR expiry must be after its issue time")]
    ExpiryNotAfterIssue,
    /// Also the answer for another retailer's tranId, so that existence never leaks.
    #[error("no transaction with this tranId")]
    UnknownTransaction,
    #[error("message id {0} was already used for this transaction")]
    DuplicateMessage(String),
    #[error("the QR code has expired")]
    QrExpired,
    #[error("a payment was already requested for this tranId")]
    PaymentAlreadyRequested,
    #[error("amount {requested} differs from the QR amount {qr}")]
    AmountMismatch { qr: Amount, requested: Amount },
    #[error("this QR code was already scanned")]
    AlreadyScanned { by_same_partner: bool },
    /// A scan or answer for a payment that already has its final outcome.
    #[error("the payment already has its outcome")]
    AlreadyFinal,
    #[error("the payment is not waiting for an authorisation")]
    NotAwaitingAuthorisation,
    #[error("no payment request is waiting")]
    NothingWaiting,
    /// The first advice wins: a confirmed payment cannot be reversed, nor the reverse.
    #[error("the payment was already {0}")]
    AdviceConflict(&'static str),
    /// A confirmation for a payment that was not approved.
    #[error("the payment was not approved")]
    NotApproved,
    #[error("no delivery {0} on this payment")]
    UnknownDelivery(String),
    #[error("delivery {0} is not in a state that allows this")]
    DeliveryNotInState(String),
}
