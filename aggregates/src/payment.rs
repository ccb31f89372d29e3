//! The `Payment` aggregate: one QR code, its payment request, the scan that claims it, the
//! authorisation by that partner and its outcome. Its id is the tranId.
//!
//! Scan and payment request may arrive in either order (the POS sends both while the QR is
//! shown); whichever arrives second completes the pair and the aggregate records `Matched`,
//! as long as the scan is still inside its hold window. The authorisation is claimed with
//! `StartAuthorisation` before the partner is called, so only one caller ever calls it.

mod advice;
mod apply;
mod authorisation;
mod command;
mod decide;
mod error;
mod event;
mod issue;
mod payshap;
mod reference;
mod state;

pub use command::{AdviceKind, AuthorisationOutcome, DeliveryResult, PaymentCommand};
pub use error::PaymentError;
pub use event::{PaymentEvent, WaitingFor};
pub use reference::PartnerReference;
pub use state::{
    Advice, Delivery, DeliveryStatus, IssuedQr, Outcome, PayShapCredit, Payment, Request, Scan,
    Stage,
};

#[cfg(test)]
mod tests;
