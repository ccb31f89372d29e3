//! Parsed value types. Constructors reject bad input; once built, a value is valid.

use std::fmt;

use serde::{Deserialize, Serialize};

mod invalid;
mod proxy;

pub use invalid::InvalidValue;
pub use proxy::{
    Bicfi, Msisdn, ProxyKey, ACCOUNT_NUMBER_MAX_CHARS, NAMESPACE_MAX_CHARS, PROXY_VALUE_MAX_CHARS,
};

/// Longest tranId we accept. Ours are 32 hex characters; the limit leaves room for ids minted
/// elsewhere while keeping them short enough for an EMV template (99 characters at most).
pub const TRAN_ID_MAX_CHARS: usize = 64;

/// The transaction id that ties a QR code, its payment request, the scan and every advice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TranId(String);

impl TranId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > TRAN_ID_MAX_CHARS {
            return Err(InvalidValue::new(
                "tranId",
                format!("must be 1 to {TRAN_ID_MAX_CHARS} characters"),
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(InvalidValue::new(
                "tranId",
                "may contain only letters, digits and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TranId {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TranId> for String {
    fn from(value: TranId) -> Self {
        value.0
    }
}

impl fmt::Display for TranId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest party id (retailer `client.id`, partner id). It doubles as the HTTP Basic user name.
pub const PARTY_ID_MAX_CHARS: usize = 64;

/// The id of a retailer or partner as it appears in `Institution.id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartyId(String);

impl PartyId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > PARTY_ID_MAX_CHARS {
            return Err(InvalidValue::new(
                "id",
                format!("party id must be 1 to {PARTY_ID_MAX_CHARS} characters"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidValue::new("id", "party id has control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PartyId {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PartyId> for String {
    fn from(value: PartyId) -> Self {
        value.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 4217 numeric currency code, as the contract's `LedgerAmount.currency` (`[0-9]{3}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// South African rand, the currency of every QR this switch issues by default.
    pub const ZAR: Currency = Currency(*b"710");

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bytes: [u8; 3] = raw
            .as_bytes()
            .try_into()
            .map_err(|_| InvalidValue::new("currency", "must be 3 digits (ISO 4217 numeric)"))?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(InvalidValue::new(
                "currency",
                "must be 3 digits (ISO 4217 numeric)",
            ));
        }
        Ok(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // The constructor admits ASCII digits only.
        std::str::from_utf8(&self.0).unwrap_or("000")
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest amount accepted, in minor units: 10^13 cents is R100 billion, far beyond any till,
/// and well inside i64 so sums of a day's traffic cannot overflow.
pub const AMOUNT_MAX_MINOR_UNITS: i64 = 10_000_000_000_000;

/// Money as integer minor units (cents for ZAR) with its currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    minor_units: i64,
    currency: Currency,
}

impl Amount {
    pub fn new(minor_units: i64, currency: Currency) -> Result<Self, InvalidValue> {
        if !(0..=AMOUNT_MAX_MINOR_UNITS).contains(&minor_units) {
            return Err(InvalidValue::new(
                "amount",
                format!("must be between 0 and {AMOUNT_MAX_MINOR_UNITS} minor units"),
            ));
        }
        Ok(Self {
            minor_units,
            currency,
        })
    }

    pub fn minor_units(&self) -> i64 {
        self.minor_units
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} minor units of {}", self.minor_units, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tran_id_accepts_hex_and_dashes_and_rejects_the_rest() {
        assert!(TranId::parse("0f8e6c1a2b3c4d5e6f708192a3b4c5d6").is_ok());
        assert!(TranId::parse("abc-123").is_ok());
        assert!(TranId::parse("").is_err());
        assert!(TranId::parse("has space").is_err());
        assert!(TranId::parse(&"a".repeat(TRAN_ID_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn tran_id_deserialisation_parses() {
        let ok: Result<TranId, _> = serde_json::from_str("\"abc\"");
        assert!(ok.is_ok());
        let bad: Result<TranId, _> = serde_json::from_str("\"a b\"");
        assert!(bad.is_err());
    }

    #[test]
    fn currency_is_three_digits() {
        assert_eq!(Currency::parse("710"), Ok(Currency::ZAR));
        assert!(Currency::parse("ZAR").is_err());
        assert!(Currency::parse("71").is_err());
    }

    #[test]
    fn amount_is_bounded_and_non_negative() {
        assert!(Amount::new(0, Currency::ZAR).is_ok());
        assert!(Amount::new(-1, Currency::ZAR).is_err());
        assert!(Amount::new(AMOUNT_MAX_MINOR_UNITS + 1, Currency::ZAR).is_err());
    }

    #[test]
    fn party_id_is_trimmed_and_bounded() {
        assert_eq!(PartyId::parse(" shop ").unwrap().as_str(), "shop");
        assert!(PartyId::parse("  ").is_err());
        assert!(PartyId::parse("a\u{7}b").is_err());
    }
}
