//! EMV merchant-presented QR (MPM) payloads: the text a customer's app reads from the QR.
//!
//! - [`tlv`]: the ID-length-value format, encode and decode, with its length limits.
//! - [`reader`]: every data object 00-99 read with its rules, findings per scheme;
//!   [`inspect`]: the verdict on any payload, typed or read from a picture.
//! - [`crc`]: CRC-16/CCITT-FALSE over the payload, as data object 63.
//! - [`rules`]: the schemes, the merchant account template and the fields' limits.
//! - [`payload`]: building the payload for a payment in either scheme; [`validate`]:
//!   checking one against a scheme's rules.

pub mod crc;
pub mod inspect;
pub mod payload;
pub mod reader;
pub mod rules;
pub mod tlv;
pub mod validate;

pub use payload::{MerchantAccount, PayloadSpec, QrScheme};
pub use tlv::{DataObject, TlvError};
pub use validate::{validate, ValidatedPayload};
