//! Our client of Electrum's API (EPC), built once for every call we make to it:
//!
//! - [`token`]: the sponsor bank's OIDC client-credentials token, cached and renewed at
//!   half its lifetime, where the bank requires one.
//! - [`client`]: one signed request and its verified answer, classed as acknowledged,
//!   refused for good, or unknown (to be tried again).
//! - [`status_report`]: the `PaymentStatusReport` our partner-auth decision travels in.
//! - [`decisions`]: sends each decision until Electrum acknowledges it or the scheme's
//!   deadline passes; survives restarts (the pending ones are read back from the view).
//! - [`in_flight`]: one send at a time per key on this instance.
//! - [`outbound`] and [`refunds`]: held money back to the payer as an outbound credit
//!   transfer, sent until accepted, parked after the tries allowed.
//! - [`resolve`]: the payer's account from the proxy it paid from, where a refund needs it.

pub mod client;
pub mod decisions;
pub mod in_flight;
pub mod outbound;
pub mod refunds;
pub mod resolve;
pub mod status_report;
pub mod token;
