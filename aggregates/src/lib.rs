//! The qrswitch domain, free of I/O.
//!
//! - [`values`]: parsed value types (tranId, money, party ids). Everything that crosses into
//!   the domain is parsed into one of these first, so handlers never re-check a string.
//! - [`payment`]: the `Payment` aggregate (id = tranId), the golden thread of one QR payment
//!   from QR issue to completion.
//! - [`proxy`]: the `Proxy` aggregate, one entry of the PayShap proxy registry.
//! - [`resolution`]: one recorded proxy resolution (no financial effect).
//! - [`payshap_transfer`]: the `PayShapTransfer` aggregate, one inbound PayShap credit.
//! - [`held_message`]: an authentic inbound message that could not be applied, kept as it
//!   came.
//! - [`fee_schedule`]: the `FeeSchedule` aggregate, a partner's fee terms over time.
//! - [`partner_statement`]: the `PartnerStatement` aggregate, a partner's settlement file
//!   for one business day as imported.
//! - [`upcast`]: stored events of an older `event_version`, read in today's shape.
//!
//! Aggregates decide (`handle`) and remember (`apply`); storage, HTTP and time come from the
//! outside. Commands carry the time they were received so that `handle` stays deterministic.

pub mod approval;
pub mod case;
pub mod electrum_recon;
pub mod fee_schedule;
pub mod held_message;
pub mod partner_statement;
pub mod payment;
pub mod payshap_transfer;
pub mod proxy;
pub mod refund;
pub mod resolution;
pub mod role;
pub mod short_code;
pub mod upcast;
pub mod values;

pub use payment::{
    AdviceKind, AuthorisationOutcome, DeliveryResult, DeliveryStatus, Outcome, PartnerReference,
    Payment, PaymentCommand, PaymentError, PaymentEvent, Stage, WaitingFor,
};
