//! Who may call what.
//!
//! - [`credentials`]: configured users (HTTP Basic, argon2 hashes) and their roles.
//! - [`limiter`]: failed authentications counted per source address.
//! - [`party`]: the authenticated caller and the role checks handlers make.
//! - [`tls`]: rustls for our listener (optionally verifying client certificates) and for
//!   calls to partners.
//! - [`mask`]: what may appear in logs and pages of MSISDNs, tokens and names.
//! - [`session`]: console logins as encrypted cookies, and their CSRF tokens.

pub mod credentials;
pub mod limiter;
pub mod mask;
pub mod party;
pub mod session;
pub mod tls;

pub use party::{Party, Role};
