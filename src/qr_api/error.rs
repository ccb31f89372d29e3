//! The one error type of the `/qr/v1` surface: an `ErrorDetail` body with the status the
//! contract documents for it. Every domain refusal is mapped here and nowhere else; internal
//! causes are logged and never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use aggregates::PaymentError;
use cqrs_es::AggregateError;

use crate::qr_wire::{ErrorDetail, ErrorType};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {:?}: {}", detail.error_type, detail.error_message)]
pub struct QrApiError {
    pub status: StatusCode,
    /// Boxed: the error travels in every handler's `Result`, the detail is large.
    pub detail: Box<ErrorDetail>,
}

impl QrApiError {
    pub fn new(status: StatusCode, error_type: ErrorType, message: &str) -> Self {
        Self {
            status,
            detail: Box::new(ErrorDetail::new(error_type, message)),
        }
    }

    /// 403: the caller's role or identity does not allow this; says nothing more.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::GeneralError,
            "not allowed for this user",
        )
    }

    pub fn format(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorType::FormatError, message)
    }

    /// An internal failure: logged with its cause, answered without it. 503 because the
    /// sender may retry; nothing was changed.
    pub fn unavailable(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::GeneralError,
            "service unavailable, try again",
        )
    }

    /// Names the message this error answers (`originalId`) and the transaction.
    pub fn about(mut self, message_id: Option<&str>, tran_id: Option<&str>) -> Self {
        if let Some(id) = message_id {
            self.detail.original_id = Some(id.to_owned());
        }
        if let Some(tran_id) = tran_id {
            self.detail.tran_id = Some(tran_id.to_owned());
        }
        self
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail.detail_message = Some(detail);
        self
    }
}

impl ResponseError for QrApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        crate::http::with_retry_after(HttpResponse::build(self.status).json(&*self.detail))
    }
}

impl From<AggregateError<PaymentError>> for QrApiError {
    fn from(error: AggregateError<PaymentError>) -> Self {
        use ErrorType as T;
        let bad =
            |error_type, message: &str| Self::new(StatusCode::BAD_REQUEST, error_type, message);
        match error {
            AggregateError::UserError(refusal) => match refusal {
                PaymentError::QrAlreadyIssued => {
                    bad(T::DuplicateRecord, "QR code already issued for this id")
                }
                PaymentError::ExpiryNotAfterIssue => {
                    bad(T::FormatError, "QR expiry must be in the future")
                }
                PaymentError::UnknownTransaction => bad(T::InvalidTranId, "unknown tranId"),
                PaymentError::DuplicateMessage(_) => {
                    bad(T::DuplicateRecord, "message id already used")
                }
                PaymentError::QrExpired => bad(T::InvalidTranId, "QR code has expired"),
                PaymentError::PaymentAlreadyRequested => {
                    bad(T::DuplicateRecord, "payment already requested")
                }
                PaymentError::AmountMismatch { .. } => {
                    bad(T::InvalidAmount, "amount differs from the QR amount")
                }
                PaymentError::AlreadyScanned {
                    by_same_partner: true,
                } => bad(T::DuplicateRecord, "QR code already scanned"),
                PaymentError::AlreadyScanned {
                    by_same_partner: false,
                } => bad(T::RoutingError, "QR code scanned by another partner"),
                PaymentError::AlreadyFinal => bad(T::InvalidTranId, "payment is no longer open"),
                PaymentError::AdviceConflict(what) => bad(
                    T::TransactionNotSupported,
                    &format!("payment already {what}"),
                ),
                PaymentError::NotApproved => {
                    bad(T::TransactionNotSupported, "payment was not approved")
                }
                PaymentError::NotAwaitingAuthorisation
                | PaymentError::NothingWaiting
                | PaymentError::UnknownDelivery(_)
                | PaymentError::DeliveryNotInState(_) => {
                    bad(T::TransactionNotSupported, "payment is not in that state")
                }
            },
            AggregateError::AggregateConflict => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                T::GeneralError,
                "busy transaction, try again",
            ),
            other => Self::unavailable("payment command failed", &other),
        }
    }
}

impl From<crate::security::party::Forbidden> for QrApiError {
    fn from(_: crate::security::party::Forbidden) -> Self {
        Self::forbidden()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_ids_fit_the_contract_limits() {
        let error = QrApiError::format(&"x".repeat(100));
        assert_eq!(error.detail.error_message.chars().count(), 40);
        assert_eq!(error.detail.id.len(), 20);
    }

    #[test]
    fn duplicate_message_is_a_duplicate_record() {
        let error: QrApiError =
            AggregateError::UserError(PaymentError::DuplicateMessage("m".into())).into();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.detail.error_type, ErrorType::DuplicateRecord);
    }
}
