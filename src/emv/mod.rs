//! EMV merchant-presented QR (MPM) payloads: the text a customer's app reads from the QR.
//!
//! - [`tlv`]: the ID-length-value format, encode and decode, with its length limits.
//! - [`crc`]: CRC-16/CCITT-FALSE over the payload, as data object 63.
//! - [`payload`]: building the payload for a payment in either scheme, and validating one.

pub mod crc;
pub mod payload;
pub mod tlv;

pub use payload::{MerchantAccount, PayloadSpec, QrScheme, ValidatedPayload};
pub use tlv::{DataObject, TlvError};
