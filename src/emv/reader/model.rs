//! What the reader reports: the rules, the findings, the fields read, and the reading of
//! ID-length-value text that every level of a payload shares.

use serde::Serialize;

use crate::emv::rules::QrScheme;

/// Every scheme of the contract, in the order they are reported.
pub const SCHEMES: [QrScheme; 3] = [
    QrScheme::EmvcoMerchant,
    QrScheme::PseudoEmvcoMerchant,
    QrScheme::ElectrumMerchantMinimal,
];
pub(crate) const ALL: &[QrScheme] = &SCHEMES;
/// Broken only where the standard's mandatory merchant objects are required.
pub(crate) const STRICT: &[QrScheme] = &[QrScheme::EmvcoMerchant];

/// Which kind of rule a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// The ID-length-value structure itself.
    Structure,
    /// A data object that must be present is not (or must not be, and is).
    Presence,
    /// A value's characters or form.
    Format,
    /// A value's length.
    Length,
    /// 00 first, 63 last.
    Order,
    /// The same ID twice in one place.
    Duplicate,
    /// An ID the standard reserves for future use.
    Reserved,
    /// The checksum (63).
    Crc,
    /// Objects that must come together (55 with 56 or 57).
    Conditional,
    /// Outside what a scheme allows though valid EMV.
    Scheme,
}

/// One rule a payload breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The data object: `54`, `62.09` inside a template, or empty for the whole payload.
    pub id: String,
    pub rule: Rule,
    pub message: String,
    /// The schemes this finding rules out.
    #[schema(value_type = Vec<String>)]
    pub breaks: Vec<QrScheme>,
}

/// One data object as read, with its own data objects when it is a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Field {
    pub id: String,
    pub name: &'static str,
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<Field>,
}

/// Findings as they are gathered.
#[derive(Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    pub(crate) fn add(
        &mut self,
        id: &str,
        rule: Rule,
        message: impl Into<String>,
        breaks: &[QrScheme],
    ) {
        self.0.push(Finding {
            id: id.to_owned(),
            rule,
            message: message.into(),
            breaks: breaks.to_vec(),
        });
    }

    pub(crate) fn into_vec(self) -> Vec<Finding> {
        self.0
    }
}

/// Splits `text` into (ID, value) pairs, as far as its structure allows; a broken structure
/// is a finding at `place` (the template's ID, or empty for the payload), and what followed
/// it is not read. Lengths count characters, as EMV does.
pub(crate) fn split(text: &str, place: &str, findings: &mut Findings) -> Vec<(u8, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut objects = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let digits = |from: usize| -> Option<u8> {
            let [tens, ones] = chars.get(from..from + 2)? else {
                return None;
            };
            let (tens, ones) = (tens.to_digit(10)?, ones.to_digit(10)?);
            u8::try_from(tens * 10 + ones).ok()
        };
        let (Some(id), Some(len)) = (digits(at), digits(at + 2)) else {
            findings.add(
                place,
                Rule::Structure,
                format!("at character {at}: an ID and a length of two digits each were expected"),
                ALL,
            );
            break;
        };
        let (start, len) = (at + 4, usize::from(len));
        let Some(value) = chars.get(start..start + len) else {
            let message = format!("data object {id:02} says {len} characters; fewer follow");
            findings.add(&join(place, id), Rule::Structure, message, ALL);
            break;
        };
        if len == 0 {
            let message = format!("data object {id:02} is empty");
            findings.add(&join(place, id), Rule::Length, message, ALL);
        }
        objects.push((id, value.iter().collect()));
        at = start + len;
    }
    let mut seen = std::collections::HashSet::new();
    for (id, _) in &objects {
        if !seen.insert(*id) {
            let message = format!("data object {id:02} appears twice");
            findings.add(&join(place, *id), Rule::Duplicate, message, ALL);
        }
    }
    objects
}

/// `62.09` for `09` inside `62`; `54` at the top.
pub(crate) fn join(place: &str, id: u8) -> String {
    if place.is_empty() {
        format!("{id:02}")
    } else {
        format!("{place}.{id:02}")
    }
}
