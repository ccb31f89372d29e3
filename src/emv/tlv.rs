//! EMV MPM data objects: a two-digit ID, a two-digit length, then that many characters.
//! Templates (26–51, 62, 64, 80–99) hold further data objects in their value.

use std::fmt;

/// Longest value of one data object: its length field has two digits.
pub const VALUE_MAX_CHARS: usize = 99;
/// Longest whole payload EMV MPM allows.
pub const PAYLOAD_MAX_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    pub id: u8,
    pub value: String,
}

impl DataObject {
    pub fn new(id: u8, value: impl Into<String>) -> Self {
        Self {
            id,
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("data object id {0} is not two digits")]
    BadId(u8),
    #[error("data object {id:02} is {chars} characters; the most is {VALUE_MAX_CHARS}")]
    ValueTooLong { id: u8, chars: usize },
    #[error("data object {0:02} is empty")]
    EmptyValue(u8),
    #[error("truncated at character {0}")]
    Truncated(usize),
    #[error("id or length at character {0} is not two digits")]
    NotDigits(usize),
}

/// Appends `objects` in order as ID-length-value text.
pub fn encode(objects: &[DataObject]) -> Result<String, TlvError> {
    let mut out = String::new();
    for object in objects {
        encode_into(&mut out, object)?;
    }
    Ok(out)
}

pub fn encode_into(out: &mut String, object: &DataObject) -> Result<(), TlvError> {
    if object.id > 99 {
        return Err(TlvError::BadId(object.id));
    }
    let chars = object.value.chars().count();
    if chars == 0 {
        return Err(TlvError::EmptyValue(object.id));
    }
    if chars > VALUE_MAX_CHARS {
        return Err(TlvError::ValueTooLong {
            id: object.id,
            chars,
        });
    }
    out.push_str(&format!("{:02}{chars:02}", object.id));
    out.push_str(&object.value);
    Ok(())
}

/// Splits `text` into its data objects. Lengths count characters, not bytes, as EMV does.
pub fn decode(text: &str) -> Result<Vec<DataObject>, TlvError> {
    let chars: Vec<char> = text.chars().collect();
    let mut objects = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let id = two_digits(&chars, at)?;
        let len = usize::from(two_digits(&chars, at + 2)?);
        let start = at + 4;
        let end = start + len;
        if end > chars.len() {
            return Err(TlvError::Truncated(at));
        }
        if len == 0 {
            return Err(TlvError::EmptyValue(id));
        }
        objects.push(DataObject {
            id,
            value: chars[start..end].iter().collect(),
        });
        at = end;
    }
    Ok(objects)
}

fn two_digits(chars: &[char], at: usize) -> Result<u8, TlvError> {
    let pair = chars.get(at..at + 2).ok_or(TlvError::Truncated(at))?;
    let mut value = 0u8;
    for c in pair {
        let digit = c.to_digit(10).ok_or(TlvError::NotDigits(at))?;
        value = value * 10 + digit as u8;
    }
    Ok(value)
}

impl fmt::Display for DataObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{}", self.id, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_id_and_length_as_two_digits() {
        let text = encode(&[DataObject::new(0, "01"), DataObject::new(59, "Corner Shop")]).unwrap();
        assert_eq!(text, "0002015911Corner Shop");
    }

    #[test]
    fn refuses_empty_and_oversized_values() {
        assert_eq!(
            encode(&[DataObject::new(59, "")]),
            Err(TlvError::EmptyValue(59))
        );
        let long = "x".repeat(100);
        assert!(matches!(
            encode(&[DataObject::new(59, long)]),
            Err(TlvError::ValueTooLong { id: 59, chars: 100 })
        ));
    }

    #[test]
    fn decode_reports_truncation_and_bad_digits() {
        assert_eq!(decode("000201590"), Err(TlvError::Truncated(8)));
        assert_eq!(decode("0002015911Corner"), Err(TlvError::Truncated(6)));
        assert_eq!(decode("0A0201"), Err(TlvError::NotDigits(0)));
    }

    fn data_object() -> impl Strategy<Value = DataObject> {
        (0u8..=99, "[ -~]{1,99}").prop_map(|(id, value)| DataObject { id, value })
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(objects in prop::collection::vec(data_object(), 0..12)) {
            let text = encode(&objects).unwrap();
            prop_assert_eq!(decode(&text).unwrap(), objects);
        }

        /// Any text at all, including what a camera misreads: an answer, never a panic.
        #[test]
        fn any_text_decodes_or_is_refused(text in "\\PC{0,300}") {
            let _ = decode(&text);
        }
    }
}
