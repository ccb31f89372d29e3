//! The rule of each data object, by ID: names, formats and lengths as EMV MPM v1.1 lists
//! them (tables 3.3 to 3.8 and 4.1), and the presence rules of the payload as a whole.

use super::model::{join, split, Field, Findings, Rule, ALL, STRICT};
use crate::emv::rules::{QrScheme, GUID_MAX_CHARS};

/// Broken where the currency is required: everywhere but the lenient scheme.
const NEEDS_CURRENCY: &[QrScheme] = &[QrScheme::EmvcoMerchant, QrScheme::ElectrumMerchantMinimal];
const MINIMAL: &[QrScheme] = &[QrScheme::ElectrumMerchantMinimal];
/// Whether the minimal scheme holds root ID `id`: 00, 01, the templates, 53, 54 and 63.
fn in_minimal_scheme(id: u8) -> bool {
    matches!(id, 0 | 1 | 26..=51 | 53 | 54 | 63)
}

/// The standard's name for a top-level ID.
pub(super) fn name(id: u8) -> &'static str {
    match id {
        0 => "Payload Format Indicator",
        1 => "Point of Initiation Method",
        2..=3 => "Merchant Account Information (Visa)",
        4..=5 => "Merchant Account Information (Mastercard)",
        6..=8 | 17..=25 => "Merchant Account Information (EMVCo)",
        9..=10 => "Merchant Account Information (Discover)",
        11..=12 => "Merchant Account Information (American Express)",
        13..=14 => "Merchant Account Information (JCB)",
        15..=16 => "Merchant Account Information (UnionPay)",
        26..=51 => "Merchant Account Information template",
        52 => "Merchant Category Code",
        53 => "Transaction Currency",
        54 => "Transaction Amount",
        55 => "Tip or Convenience Indicator",
        56 => "Value of Convenience Fee Fixed",
        57 => "Value of Convenience Fee Percentage",
        58 => "Country Code",
        59 => "Merchant Name",
        60 => "Merchant City",
        61 => "Postal Code",
        62 => "Additional Data Field Template",
        63 => "CRC",
        64 => "Merchant Information - Language Template",
        65..=79 => "Reserved for future use",
        _ => "Unreserved Template",
    }
}

fn additional_data_name(id: u8) -> &'static str {
    match id {
        1 => "Bill Number",
        2 => "Mobile Number",
        3 => "Store Label",
        4 => "Loyalty Number",
        5 => "Reference Label",
        6 => "Customer Label",
        7 => "Terminal Label",
        8 => "Purpose of Transaction",
        9 => "Additional Consumer Data Request",
        10 => "Merchant Tax ID",
        11 => "Merchant Channel",
        12..=49 => "Reserved for future use",
        _ => "Payment System specific template",
    }
}

fn language_name(id: u8) -> &'static str {
    match id {
        0 => "Language Preference",
        1 => "Merchant Name - Alternate Language",
        2 => "Merchant City - Alternate Language",
        _ => "Reserved for future use",
    }
}

/// One top-level data object, checked by its own rule.
pub(super) fn read_root(id: u8, value: &str, findings: &mut Findings) -> Field {
    let place = format!("{id:02}");
    let children = match id {
        26..=51 | 80..=99 => guid_template(&place, value, findings, |_| "Payment network specific"),
        62 => additional_data(&place, value, findings),
        64 => language(&place, value, findings),
        _ => {
            common_characters(&place, value, findings);
            primitive(id, value, findings);
            Vec::new()
        }
    };
    Field {
        id: place,
        name: name(id),
        value: value.to_owned(),
        children,
    }
}

/// Every value outside template 64 is in the common character set (printable ASCII).
fn common_characters(place: &str, value: &str, findings: &mut Findings) {
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        let message = format!("{place} holds {c:?}, outside EMV's common character set");
        findings.add(place, Rule::Format, message, ALL);
    }
}

fn too_long(place: &str, value: &str, max: usize, findings: &mut Findings) {
    let chars = value.chars().count();
    if chars > max {
        let message = format!("{place} is {chars} characters; at most {max}");
        findings.add(place, Rule::Length, message, ALL);
    }
}

fn digits(value: &str, n: usize) -> bool {
    value.len() == n && value.bytes().all(|b| b.is_ascii_digit())
}

/// An amount (54, 56): digits with at most one `.` as the decimal mark, not zero.
fn amount(place: &str, value: &str, findings: &mut Findings) {
    let (whole, cents) = value.split_once('.').unwrap_or((value, ""));
    let formed = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && cents.bytes().all(|b| b.is_ascii_digit());
    if !formed {
        let message = format!(
            "{place} {value:?} is not an amount: digits and at most one '.' as decimal mark"
        );
        findings.add(place, Rule::Format, message, ALL);
    } else if value.bytes().all(|b| b == b'0' || b == b'.') {
        findings.add(
            place,
            Rule::Format,
            format!("{place} must not be zero"),
            ALL,
        );
    }
    too_long(place, value, 13, findings);
}

fn primitive(id: u8, value: &str, findings: &mut Findings) {
    let place = format!("{id:02}");
    let mut wrong = |rule: &str| {
        let message = format!("{place} ({}) {rule}, not {value:?}", name(id));
        findings.add(&place, Rule::Format, message, ALL);
    };
    match id {
        0 if value != "01" => wrong("must be 01"),
        1 if value != "11" && value != "12" => wrong("must be 11 (static) or 12 (dynamic)"),
        52 if !digits(value, 4) => wrong("must be 4 digits"),
        53 if !digits(value, 3) => wrong("must be 3 digits (ISO 4217 numeric)"),
        55 if !matches!(value, "01" | "02" | "03") => wrong("must be 01, 02 or 03"),
        58 if !(value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic())) => {
            wrong("must be 2 letters (ISO 3166-1 alpha-2)")
        }
        54 | 56 => amount(&place, value, findings),
        57 => {
            let formed = value.len() == 5
                && value.as_bytes()[2] == b'.'
                && value.bytes().filter(u8::is_ascii_digit).count() == 4;
            if !formed || !("00.01"..="99.99").contains(&value) {
                wrong("must be a percentage from 00.01 to 99.99");
            }
        }
        59 => too_long(&place, value, 25, findings),
        60 => too_long(&place, value, 15, findings),
        61 => too_long(&place, value, 10, findings),
        65..=79 => {
            let message = format!("{place} is reserved for future use and must not be present");
            findings.add(&place, Rule::Reserved, message, ALL);
        }
        _ => {}
    }
}

/// A template whose 00 is a globally unique identifier (26–51, 80–99, and 50–99 in 62).
fn guid_template(
    place: &str,
    value: &str,
    findings: &mut Findings,
    sub_name: fn(u8) -> &'static str,
) -> Vec<Field> {
    let children = split(value, place, findings);
    match children.iter().find(|(id, _)| *id == 0) {
        None => {
            let message = format!("template {place} has no globally unique identifier (00)");
            findings.add(place, Rule::Presence, message, ALL);
        }
        Some((_, guid)) => too_long(&join(place, 0), guid, GUID_MAX_CHARS, findings),
    }
    children
        .into_iter()
        .map(|(id, value)| {
            let sub = join(place, id);
            common_characters(&sub, &value, findings);
            let name = if id == 0 {
                "Globally Unique Identifier"
            } else {
                sub_name(id)
            };
            leaf(sub, name, value)
        })
        .collect()
}

fn leaf(id: String, name: &'static str, value: String) -> Field {
    Field {
        id,
        name,
        value,
        children: Vec::new(),
    }
}

fn additional_data(place: &str, value: &str, findings: &mut Findings) -> Vec<Field> {
    let mut fields = Vec::new();
    for (id, value) in split(value, place, findings) {
        let sub = join(place, id);
        let children = match id {
            50..=99 => guid_template(&sub, &value, findings, |_| "Payment system specific"),
            _ => {
                common_characters(&sub, &value, findings);
                additional_data_rule(&sub, id, &value, findings);
                Vec::new()
            }
        };
        fields.push(Field {
            id: sub,
            name: additional_data_name(id),
            value,
            children,
        });
    }
    fields
}

fn additional_data_rule(sub: &str, id: u8, value: &str, findings: &mut Findings) {
    match id {
        1..=8 => too_long(sub, value, 25, findings),
        9 => {
            let mut seen = String::new();
            for c in value.chars() {
                if !matches!(c, 'A' | 'M' | 'E') || seen.contains(c) {
                    let message = format!("{sub} may hold A, M and E, each once, not {value:?}");
                    findings.add(sub, Rule::Format, message, ALL);
                    break;
                }
                seen.push(c);
            }
            too_long(sub, value, 3, findings);
        }
        10 => too_long(sub, value, 20, findings),
        11 if value.chars().count() != 3 => {
            let message = format!("{sub} (Merchant Channel) must be 3 characters");
            findings.add(sub, Rule::Length, message, ALL);
        }
        12..=49 => {
            let message = format!("{sub} is reserved for future use and must not be present");
            findings.add(sub, Rule::Reserved, message, ALL);
        }
        _ => {}
    }
}

/// Template 64: the merchant's name (and city) in another language, any characters.
fn language(place: &str, value: &str, findings: &mut Findings) -> Vec<Field> {
    let children = split(value, place, findings);
    let has = |id: u8| children.iter().any(|(i, _)| *i == id);
    for (id, what) in [
        (0, "Language Preference"),
        (1, "Merchant Name - Alternate Language"),
    ] {
        if !has(id) {
            let message = format!("template 64 needs {what} ({id:02})");
            findings.add(place, Rule::Presence, message, ALL);
        }
    }
    for (id, value) in &children {
        let sub = join(place, *id);
        match id {
            0 if !(value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic())) => {
                let message = format!("{sub} must be 2 letters (ISO 639), not {value:?}");
                findings.add(&sub, Rule::Format, message, ALL);
            }
            1 => too_long(&sub, value, 25, findings),
            2 => too_long(&sub, value, 15, findings),
            3..=99 => {
                let message = format!("{sub} is reserved for future use and must not be present");
                findings.add(&sub, Rule::Reserved, message, ALL);
            }
            _ => {}
        }
    }
    children
        .into_iter()
        .map(|(id, value)| leaf(join(place, id), language_name(id), value))
        .collect()
}

fn present(fields: &[Field], id: u8) -> Option<&str> {
    let id = format!("{id:02}");
    fields.iter().find(|f| f.id == id).map(|f| f.value.as_str())
}

/// What must be there: 00, a merchant account, the merchant objects, and 55's partners.
pub(super) fn check_root_presence(fields: &[Field], findings: &mut Findings) {
    if present(fields, 0).is_none() {
        findings.add(
            "00",
            Rule::Presence,
            "00 (Payload Format Indicator) is missing",
            ALL,
        );
    }
    let accounts = fields
        .iter()
        .filter(|f| f.id.parse::<u8>().is_ok_and(|id| (2..=51).contains(&id)))
        .count();
    if accounts == 0 {
        let message = "no merchant account information (02-51)";
        findings.add("", Rule::Presence, message, ALL);
    }
    for id in [52, 58, 59, 60] {
        if present(fields, id).is_none() {
            let message = format!("{id} ({}) is missing", name(id));
            findings.add(&format!("{id}"), Rule::Presence, message, STRICT);
        }
    }
    if present(fields, 53).is_none() {
        let message = "53 (Transaction Currency) is missing";
        findings.add("53", Rule::Presence, message, NEEDS_CURRENCY);
    }
    let indicator = present(fields, 55);
    for (id, needs) in [(56, "02"), (57, "03")] {
        let message = match (indicator == Some(needs), present(fields, id).is_some()) {
            (true, false) => format!("55 is {needs}, so {id} ({}) must be present", name(id)),
            (false, true) => format!("{id} ({}) is present but 55 is not {needs}", name(id)),
            _ => continue,
        };
        findings.add(&format!("{id}"), Rule::Conditional, message, ALL);
    }
}

/// The minimal scheme holds its few objects and nothing else.
pub(super) fn check_minimal_shape(fields: &[Field], findings: &mut Findings) {
    let ids = fields.iter().filter_map(|f| f.id.parse::<u8>().ok());
    let mut templates = 0;
    for id in ids {
        if (26..=51).contains(&id) {
            templates += 1;
        } else if !in_minimal_scheme(id) {
            let message = format!("{id:02} ({}) is not part of the minimal scheme", name(id));
            findings.add(&format!("{id:02}"), Rule::Scheme, message, MINIMAL);
        }
    }
    if templates == 0 {
        let message = "the minimal scheme needs a merchant account template (26-51)";
        findings.add("", Rule::Presence, message, MINIMAL);
    }
}
