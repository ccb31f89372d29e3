//! The parsed values of PayShap: mobile numbers, bank identifier codes and proxy keys.

use serde::{Deserialize, Serialize};

use super::invalid::InvalidValue;

/// A South African mobile number in international form without `+`: `27821234567`.
/// Accepts `0821234567`, `+27821234567`, `+27-821234567`, `27 82 123 4567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Msisdn(String);

impl Msisdn {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '+' | '(' | ')'))
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidValue::new("msisdn", "must be digits"));
        }
        let international = match digits.strip_prefix('0') {
            Some(national) if national.len() == 9 => format!("27{national}"),
            _ => digits,
        };
        if !(international.starts_with("27") && international.len() == 11) {
            return Err(InvalidValue::new(
                "msisdn",
                "must be a South African mobile number",
            ));
        }
        Ok(Self(international))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Msisdn {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Msisdn> for String {
    fn from(value: Msisdn) -> Self {
        value.0
    }
}

/// ISO 9362 business identifier code: 4 letters bank, 2 letters country, 2 location, and an
/// optional 3-character branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bicfi(String);

impl Bicfi {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let code = raw.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        let well_formed = (code.len() == 8 || code.len() == 11)
            && bytes[..6].iter().all(u8::is_ascii_uppercase)
            && bytes[6..].iter().all(u8::is_ascii_alphanumeric);
        if !well_formed {
            return Err(InvalidValue::new(
                "bicfi",
                "must be an 8 or 11 character BIC",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Bicfi {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Bicfi> for String {
    fn from(value: Bicfi) -> Self {
        value.0
    }
}

/// Longest proxy value ZA RPP carries.
pub const PROXY_VALUE_MAX_CHARS: usize = 2048;
/// Longest namespace we accept; namespaces are short labels such as a bank's product code.
pub const NAMESPACE_MAX_CHARS: usize = 64;
/// Longest account number (ISO 20022 `Max34Text`).
pub const ACCOUNT_NUMBER_MAX_CHARS: usize = 34;

/// What a payer names to be paid: a mobile number or custom alias within a namespace, or a
/// bank account at an agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProxyKey {
    Mobile { namespace: String, msisdn: Msisdn },
    Custom { namespace: String, value: String },
    Generic { bicfi: Bicfi, account: String },
}

impl ProxyKey {
    /// `schema` is `MOBILE`, `CUSTOM` or `GENERIC`; `context` the namespace (or the BICFI for
    /// GENERIC).
    pub fn parse(schema: &str, context: &str, value: &str) -> Result<Self, InvalidValue> {
        match schema {
            "MOBILE" => Ok(Self::Mobile {
                namespace: namespace(context)?,
                msisdn: Msisdn::parse(value)?,
            }),
            "CUSTOM" => {
                let chars = value.chars().count();
                if chars == 0
                    || chars > PROXY_VALUE_MAX_CHARS
                    || value.chars().any(char::is_control)
                {
                    return Err(InvalidValue::new(
                        "identifier.value",
                        format!("must be 1 to {PROXY_VALUE_MAX_CHARS} printable characters"),
                    ));
                }
                Ok(Self::Custom {
                    namespace: namespace(context)?,
                    value: value.to_owned(),
                })
            }
            "GENERIC" => {
                let account = value.trim();
                if account.is_empty()
                    || account.len() > ACCOUNT_NUMBER_MAX_CHARS
                    || !account.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(InvalidValue::new(
                        "identifier.value",
                        "account number must be 1 to 34 letters or digits",
                    ));
                }
                Ok(Self::Generic {
                    bicfi: Bicfi::parse(context)?,
                    account: account.to_owned(),
                })
            }
            _ => Err(InvalidValue::new(
                "identifier.schema",
                "must be MOBILE, CUSTOM or GENERIC",
            )),
        }
    }

    pub fn schema(&self) -> &'static str {
        match self {
            Self::Mobile { .. } => "MOBILE",
            Self::Custom { .. } => "CUSTOM",
            Self::Generic { .. } => "GENERIC",
        }
    }

    /// The proxy value as the scheme shows it.
    pub fn value(&self) -> &str {
        match self {
            Self::Mobile { msisdn, .. } => msisdn.as_str(),
            Self::Custom { value, .. } => value,
            Self::Generic { account, .. } => account,
        }
    }

    /// The namespace, or the BICFI of a GENERIC account.
    pub fn context(&self) -> &str {
        match self {
            Self::Mobile { namespace, .. } | Self::Custom { namespace, .. } => namespace,
            Self::Generic { bicfi, .. } => bicfi.as_str(),
        }
    }

    /// The registry key and aggregate id: `SCHEMA|context|value`.
    pub fn id(&self) -> String {
        format!("{}|{}|{}", self.schema(), self.context(), self.value())
    }

    /// The key an [`Self::id`] names, if it is well formed.
    pub fn from_id(id: &str) -> Option<Self> {
        let mut parts = id.splitn(3, '|');
        let (schema, context, value) = (parts.next()?, parts.next()?, parts.next()?);
        Self::parse(schema, context, value).ok()
    }
}

fn namespace(raw: &str) -> Result<String, InvalidValue> {
    let trimmed = raw.trim();
    if trimmed.is_empty()
        || trimmed.len() > NAMESPACE_MAX_CHARS
        || trimmed.contains('|')
        || trimmed.chars().any(char::is_control)
    {
        return Err(InvalidValue::new(
            "identifier.namespace",
            "is required: 1 to 64 characters without '|'",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod proxy_value_tests {
    use super::*;

    #[test]
    fn msisdns_normalise_to_international_form() {
        for raw in [
            "0821234567",
            "+27821234567",
            "+27-821234567",
            "27 82 123 4567",
        ] {
            assert_eq!(Msisdn::parse(raw).unwrap().as_str(), "27821234567", "{raw}");
        }
        assert!(Msisdn::parse("12345").is_err());
        assert!(Msisdn::parse("0821234567x").is_err());
    }

    #[test]
    fn bicfi_is_8_or_11_characters() {
        assert!(Bicfi::parse("SBZAZAJJ").is_ok());
        assert!(Bicfi::parse("sbzazajjxxx").is_ok());
        assert!(Bicfi::parse("SBZAZA").is_err());
        assert!(Bicfi::parse("1BZAZAJJ").is_err());
    }

    #[test]
    fn proxy_keys_need_their_context() {
        let mobile = ProxyKey::parse("MOBILE", "shop", "0821234567").unwrap();
        assert_eq!(mobile.id(), "MOBILE|shop|27821234567");
        assert!(ProxyKey::parse("MOBILE", "", "0821234567").is_err());
        assert!(ProxyKey::parse("GENERIC", "", "12345").is_err());
        assert_eq!(
            ProxyKey::parse("GENERIC", "SBZAZAJJ", "12345")
                .unwrap()
                .id(),
            "GENERIC|SBZAZAJJ|12345"
        );
        assert!(ProxyKey::parse("EMAIL", "x", "y").is_err());
        assert!(ProxyKey::parse("CUSTOM", "ns", &"x".repeat(2049)).is_err());
    }

    #[test]
    fn an_id_names_its_key_again() {
        let key = ProxyKey::parse("MOBILE", "bankapp", "083 111 2222").unwrap();
        assert_eq!(ProxyKey::from_id(&key.id()), Some(key));
        assert_eq!(ProxyKey::from_id("MOBILE|bankapp"), None);
        assert_eq!(ProxyKey::from_id("EMAIL|x|y"), None);
    }
}
