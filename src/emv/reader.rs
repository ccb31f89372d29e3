//! A reader of EMV QRCPS merchant-presented payloads (MPM, version 1.1): every data object
//! 00–99 with its presence, format and length rule, the order rules (00 first, 63 last) and
//! the CRC. It never stops at the first problem and never panics: it returns the fields it
//! could read and every finding, each naming the data object, the rule broken and which of
//! the contract's schemes that breaks.
//!
//! The schemes (`docs/adr/0012-qr-schemes-and-the-emv-reader.md`):
//! - `EMVCO_MERCHANT`: the standard, every mandatory object present.
//! - `PSEUDO_EMVCO_MERCHANT`: the standard's structure, formats and CRC, where the
//!   standard's mandatory merchant objects (52, 53, 58, 59, 60) may be absent.
//! - `ELECTRUM_MERCHANT_MINIMAL`: the shape Electrum issues at tills: 00, merchant account
//!   templates (26–51), 53, 54 when the amount is known, and 63; 01 is tolerated.

mod ids;
mod model;

use model::{join, split, Findings, ALL};
pub use model::{Field, Finding, Rule, SCHEMES};

use super::crc::checksum_hex;
use super::rules::QrScheme;
use super::tlv::PAYLOAD_MAX_CHARS;

/// What a payload says and every rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
}

impl Reading {
    /// Whether no finding rules `scheme` out.
    pub fn satisfies(&self, scheme: QrScheme) -> bool {
        !self.findings.iter().any(|f| f.breaks.contains(&scheme))
    }

    /// The schemes the payload satisfies.
    pub fn satisfied(&self) -> Vec<QrScheme> {
        SCHEMES.into_iter().filter(|s| self.satisfies(*s)).collect()
    }

    /// The findings that rule `scheme` out.
    pub fn breaking(&self, scheme: QrScheme) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.breaks.contains(&scheme))
    }

    /// The value of the top-level data object `id`.
    pub fn value(&self, id: u8) -> Option<&str> {
        let id = format!("{id:02}");
        self.fields
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.value.as_str())
    }

    /// The value of `sub` inside the top-level template `id`.
    pub fn sub_value(&self, id: u8, sub: u8) -> Option<&str> {
        let id = format!("{id:02}");
        let sub = join(&id, sub);
        self.fields
            .iter()
            .find(|f| f.id == id)?
            .children
            .iter()
            .find(|c| c.id == sub)
            .map(|c| c.value.as_str())
    }
}

/// Reads `text` as an MPM payload; never fails, never panics.
pub fn read(text: &str) -> Reading {
    let mut findings = Findings::default();
    let chars = text.chars().count();
    if chars == 0 {
        findings.add("", Rule::Structure, "the payload is empty", ALL);
        return Reading {
            fields: Vec::new(),
            findings: findings.into_vec(),
        };
    }
    if chars > PAYLOAD_MAX_CHARS {
        findings.add(
            "",
            Rule::Length,
            format!("the payload is {chars} characters; EMV allows {PAYLOAD_MAX_CHARS}"),
            ALL,
        );
    }
    let objects = split(text, "", &mut findings);
    check_order(&objects, &mut findings);
    check_crc(text, &objects, &mut findings);
    let fields = objects
        .iter()
        .map(|(id, value)| ids::read_root(*id, value, &mut findings))
        .collect::<Vec<_>>();
    ids::check_root_presence(&fields, &mut findings);
    ids::check_minimal_shape(&fields, &mut findings);
    Reading {
        fields,
        findings: findings.into_vec(),
    }
}

fn check_order(objects: &[(u8, String)], findings: &mut Findings) {
    if let Some((first, _)) = objects.first() {
        if *first != 0 {
            let message = format!("00 must be the first data object; {first:02} is");
            findings.add("00", Rule::Order, message, ALL);
        }
    }
    let crc_at = objects.iter().position(|(id, _)| *id == 63);
    if crc_at.is_some_and(|at| at + 1 != objects.len()) {
        findings.add(
            "63",
            Rule::Order,
            "63 (CRC) must be the last data object",
            ALL,
        );
    }
}

/// The CRC covers everything up to and including `6304`; hex digits are compared without
/// regard to case (the standard does not fix it, and tills print both).
fn check_crc(text: &str, objects: &[(u8, String)], findings: &mut Findings) {
    let Some((_, stated)) = objects.iter().find(|(id, _)| *id == 63) else {
        findings.add("63", Rule::Presence, "63 (CRC) is missing", ALL);
        return;
    };
    if stated.len() != 4 || !stated.bytes().all(|b| b.is_ascii_hexdigit()) {
        let message = format!("63 (CRC) must be four hex digits, not {stated:?}");
        findings.add("63", Rule::Format, message, ALL);
        return;
    }
    let Some(covered) = text
        .strip_suffix(stated.as_str())
        .filter(|c| c.ends_with("6304"))
    else {
        return; // not last: the order finding says so
    };
    let computed = checksum_hex(covered);
    if !computed.eq_ignore_ascii_case(stated) {
        let message = format!("63 (CRC) is {stated} but the payload sums to {computed}");
        findings.add("63", Rule::Crc, message, ALL);
    }
}

#[cfg(test)]
mod tests;
