//! The payload of one QR code, in one of the contract's schemes.
//!
//! `EMVCO_MERCHANT` is full EMV MPM: 00, 01 = `12` (dynamic: one QR per payment), one
//! merchant account template (26–51) per enabled partner plus ours, 52 MCC, 53 currency,
//! 54 amount when known, 58 country, 59 name, 60 city, 62 additional data (reference and
//! terminal labels), 63 CRC. `PSEUDO_EMVCO_MERCHANT` is the same where the mandatory merchant
//! fields may be absent. `ELECTRUM_MERCHANT_MINIMAL` is 00 plus the templates only.

use std::collections::HashSet;

use aggregates::values::Amount;

use super::crc::checksum_hex;
use super::tlv::{self, DataObject, PAYLOAD_MAX_CHARS};

use super::rules::{invalid, PAYLOAD_FORMAT_INDICATOR};
pub use super::rules::{
    MerchantAccount, PayloadError, QrScheme, ADDITIONAL_DATA_MAX_CHARS, AMOUNT_MAX_CHARS,
    GUID_MAX_CHARS, MERCHANT_ACCOUNT_TAGS, MERCHANT_CITY_MAX_CHARS, MERCHANT_NAME_MAX_CHARS,
};
use super::validate::validate;

const DYNAMIC_QR: &str = "12";

/// Everything that goes into a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadSpec {
    pub scheme: QrScheme,
    pub accounts: Vec<MerchantAccount>,
    pub merchant_category_code: Option<String>,
    pub amount: Option<Amount>,
    pub currency: String,
    pub country: Option<String>,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    pub reference_label: Option<String>,
    pub terminal_label: Option<String>,
    /// Card networks' merchant account primitives (IDs 02–25), so that one code also
    /// serves their apps; full schemes only.
    pub network_accounts: Vec<DataObject>,
    /// Unreserved templates (IDs 80–99), each with its GUID; full schemes only.
    pub unreserved_templates: Vec<MerchantAccount>,
}

impl PayloadSpec {
    pub fn encode(&self) -> Result<String, PayloadError> {
        let mut objects = vec![DataObject::new(0, PAYLOAD_FORMAT_INDICATOR)];
        let full = self.scheme != QrScheme::ElectrumMerchantMinimal;
        if full {
            objects.push(DataObject::new(1, DYNAMIC_QR));
            objects.extend(self.network_objects()?);
        }
        let mut tags = HashSet::new();
        for account in &self.accounts {
            if !MERCHANT_ACCOUNT_TAGS.contains(&account.tag) || !tags.insert(account.tag) {
                return Err(invalid(format!(
                    "merchant account tag {} must be unique and within 26-51",
                    account.tag
                )));
            }
            objects.push(DataObject::new(account.tag, encode_account(account)?));
        }
        if full {
            push_optional(&mut objects, 52, self.merchant_category_code.as_deref());
        }
        objects.push(DataObject::new(53, self.currency.clone()));
        if let Some(amount) = self.amount {
            objects.push(DataObject::new(54, format_amount(amount)));
        }
        if full {
            self.push_merchant(&mut objects)?;
        }
        let mut text = tlv::encode(&objects)?;
        text.push_str("6304");
        let crc = checksum_hex(&text);
        text.push_str(&crc);
        let chars = text.chars().count();
        if chars > PAYLOAD_MAX_CHARS {
            return Err(PayloadError::TooLong(chars));
        }
        let validated = validate(&text, self.scheme)?;
        debug_assert_eq!(validated.accounts, self.accounts);
        Ok(text)
    }

    /// The card networks' primitives (02–25), in ID order.
    fn network_objects(&self) -> Result<Vec<DataObject>, PayloadError> {
        let mut network = self.network_accounts.clone();
        network.sort_by_key(|o| o.id);
        for pair in network.windows(2) {
            if pair[0].id == pair[1].id {
                return Err(invalid(format!(
                    "network account {:02} given twice",
                    pair[0].id
                )));
            }
        }
        match network.iter().find(|o| !(2..=25).contains(&o.id)) {
            Some(other) => Err(invalid(format!(
                "network account {:02} is not within 02-25",
                other.id
            ))),
            None => Ok(network),
        }
    }

    /// 58, 59, 60, the additional data (62) and the unreserved templates (80–99).
    fn push_merchant(&self, objects: &mut Vec<DataObject>) -> Result<(), PayloadError> {
        push_optional(objects, 58, self.country.as_deref());
        let name = self
            .merchant_name
            .as_deref()
            .map(|n| printable(n, MERCHANT_NAME_MAX_CHARS));
        push_optional(objects, 59, name.as_deref());
        let city = self
            .merchant_city
            .as_deref()
            .map(|c| printable(c, MERCHANT_CITY_MAX_CHARS));
        push_optional(objects, 60, city.as_deref());
        let mut additional = Vec::new();
        let reference = self
            .reference_label
            .as_deref()
            .map(|r| printable(r, ADDITIONAL_DATA_MAX_CHARS));
        push_optional(&mut additional, 5, reference.as_deref());
        let terminal = self
            .terminal_label
            .as_deref()
            .map(|t| printable(t, ADDITIONAL_DATA_MAX_CHARS));
        push_optional(&mut additional, 7, terminal.as_deref());
        if !additional.is_empty() {
            objects.push(DataObject::new(62, tlv::encode(&additional)?));
        }
        let mut unreserved = self.unreserved_templates.clone();
        unreserved.sort_by_key(|t| t.tag);
        for template in &unreserved {
            if !(80..=99).contains(&template.tag) {
                return Err(invalid(format!(
                    "unreserved template {} is not within 80-99",
                    template.tag
                )));
            }
            objects.push(DataObject::new(template.tag, encode_account(template)?));
        }
        Ok(())
    }
}

fn encode_account(account: &MerchantAccount) -> Result<String, PayloadError> {
    if account.guid.is_empty() || account.guid.chars().count() > GUID_MAX_CHARS {
        return Err(invalid(format!(
            "GUID of template {} must be 1 to {GUID_MAX_CHARS} characters",
            account.tag
        )));
    }
    let mut objects = vec![DataObject::new(0, account.guid.clone())];
    push_optional(&mut objects, 1, Some(&account.reference));
    let mut extra = account.extra.clone();
    extra.sort_by_key(|o| o.id);
    objects.extend(extra.into_iter().filter(|o| o.id > 1));
    Ok(tlv::encode(&objects)?)
}

fn push_optional(objects: &mut Vec<DataObject>, id: u8, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        objects.push(DataObject::new(id, value));
    }
}

/// Keeps printable ASCII (what every scanner shows alike) and cuts to `max` characters.
fn printable(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Minor units as a decimal with two places: 2500 → `25.00`.
pub fn format_amount(amount: Amount) -> String {
    let minor = amount.minor_units();
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::values::Currency;
    use proptest::prelude::*;

    fn spec(scheme: QrScheme) -> PayloadSpec {
        PayloadSpec {
            scheme,
            accounts: vec![
                MerchantAccount {
                    tag: 26,
                    guid: "za.co.mp".into(),
                    reference: "0f8e6c1a2b3c4d5e6f708192a3b4c5d6".into(),
                    extra: Vec::new(),
                },
                MerchantAccount {
                    tag: 27,
                    guid: "za.co.qrswitch".into(),
                    reference: "0f8e6c1a2b3c4d5e6f708192a3b4c5d6".into(),
                    extra: Vec::new(),
                },
            ],
            merchant_category_code: Some("5411".into()),
            amount: Some(Amount::new(2500, Currency::ZAR).unwrap()),
            currency: "710".into(),
            country: Some("ZA".into()),
            merchant_name: Some("Corner Shop".into()),
            merchant_city: Some("Cape Town".into()),
            reference_label: Some("INV-1".into()),
            terminal_label: Some("lane-7".into()),
            network_accounts: Vec::new(),
            unreserved_templates: Vec::new(),
        }
    }

    #[test]
    fn full_payload_has_every_field_and_a_valid_crc() {
        let text = spec(QrScheme::EmvcoMerchant).encode().unwrap();
        assert!(text.starts_with("000201010212"));
        assert!(text.contains("5303710"));
        assert!(text.contains("540525.00"));
        assert!(text.contains("5802ZA"));
        assert!(text.contains("5911Corner Shop"));
        assert!(text.contains("6009Cape Town"));
        assert!(text.contains("62190505INV-10706lane-7"));
        let crc = &text[text.len() - 4..];
        assert_eq!(crc, checksum_hex(&text[..text.len() - 4]));
        assert!(crc
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let validated = validate(&text, QrScheme::EmvcoMerchant).unwrap();
        assert_eq!(validated.accounts.len(), 2);
    }

    #[test]
    fn minimal_payload_has_the_shape_tills_issue() {
        let text = spec(QrScheme::ElectrumMerchantMinimal).encode().unwrap();
        let objects = tlv::decode(&text).unwrap();
        let ids: Vec<u8> = objects.iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![0, 26, 27, 53, 54, 63]);
    }

    #[test]
    fn validator_rejects_a_wrong_crc_and_missing_fields() {
        let text = spec(QrScheme::EmvcoMerchant).encode().unwrap();
        let mut tampered = text.clone();
        tampered.replace_range(text.len() - 4.., "0000");
        assert!(validate(&tampered, QrScheme::EmvcoMerchant).is_err());

        let mut no_name = spec(QrScheme::EmvcoMerchant);
        no_name.merchant_name = None;
        assert!(no_name.encode().is_err(), "59 is mandatory in full EMVCo");
        no_name.scheme = QrScheme::PseudoEmvcoMerchant;
        assert!(no_name.encode().is_ok(), "pseudo EMVCo may leave it out");
    }

    #[test]
    fn overlong_names_are_cut_to_their_limits() {
        let mut long = spec(QrScheme::EmvcoMerchant);
        long.merchant_name = Some("A very long merchant name indeed".into());
        long.merchant_city = Some("Port Elizabeth North".into());
        let text = long.encode().unwrap();
        let validated = validate(&text, QrScheme::EmvcoMerchant).unwrap();
        assert_eq!(validated.value(59), Some("A very long merchant name"));
        assert_eq!(validated.value(60), Some("Port Elizabeth"));
    }

    #[test]
    fn too_many_partners_overflow_the_payload_limit() {
        let mut crowded = spec(QrScheme::EmvcoMerchant);
        crowded.accounts = (26..=51)
            .map(|tag| MerchantAccount {
                tag,
                guid: format!("za.co.partner{tag}"),
                reference: "0f8e6c1a2b3c4d5e6f708192a3b4c5d6".into(),
                extra: Vec::new(),
            })
            .collect();
        assert!(matches!(crowded.encode(), Err(PayloadError::TooLong(_))));
    }

    proptest! {
        /// Random bytes read as a payload (lossily, as a scanner hands text over) and
        /// near-misses of a real one: validated or refused, never a panic.
        #[test]
        fn any_text_validates_or_is_refused(
            bytes in prop::collection::vec(any::<u8>(), 0..400),
            cut in 0usize..200,
            flip in any::<u8>(),
        ) {
            let text = String::from_utf8_lossy(&bytes);
            for scheme in [QrScheme::EmvcoMerchant, QrScheme::ElectrumMerchantMinimal] {
                let _ = validate(&text, scheme);
                let real = spec(scheme).encode().unwrap();
                let mut near: Vec<u8> = real.into_bytes();
                let at = cut % near.len();
                near[at] ^= flip;
                near.truncate(at.max(1) + cut % 7);
                let _ = validate(&String::from_utf8_lossy(&near), scheme);
            }
        }

        #[test]
        fn any_spec_within_limits_round_trips(
            cents in 1i64..1_000_000_000,
            name in "[A-Za-z][A-Za-z0-9 ]{0,39}",
            reference in "[0-9a-f]{8,32}",
            partners in 1usize..4,
            scheme in prop_oneof![Just(QrScheme::EmvcoMerchant), Just(QrScheme::ElectrumMerchantMinimal)],
        ) {
            let mut spec = spec(scheme);
            spec.amount = Some(Amount::new(cents, Currency::ZAR).unwrap());
            spec.merchant_name = Some(name);
            spec.accounts = (0..partners)
                .map(|i| MerchantAccount { tag: 26 + i as u8, guid: format!("za.co.p{i}"), reference: reference.clone(), extra: Vec::new() })
                .collect();
            let text = spec.encode().unwrap();
            let validated = validate(&text, scheme).unwrap();
            prop_assert_eq!(&validated.accounts, &spec.accounts);
            if scheme == QrScheme::EmvcoMerchant {
                prop_assert_eq!(validated.value(54).map(str::to_owned), Some(format_amount(spec.amount.unwrap())));
            }
        }

        /// Generate, then read with the reader: every field the spec put in comes back, in
        /// every scheme, with network accounts, partner sub-fields and unreserved templates.
        #[test]
        fn generate_then_read_gives_back_every_field(
            cents in 1i64..1_000_000_000,
            name in "[A-Za-z][A-Za-z0-9 ]{0,23}[A-Za-z]",
            city in "[A-Za-z]{1,15}",
            reference in "[0-9]{10}|[0-9a-f]{32}",
            extra in "[A-Z0-9]{1,20}",
            scheme in prop_oneof![
                Just(QrScheme::EmvcoMerchant),
                Just(QrScheme::PseudoEmvcoMerchant),
                Just(QrScheme::ElectrumMerchantMinimal)
            ],
        ) {
            let mut spec = spec(scheme);
            spec.amount = Some(Amount::new(cents, Currency::ZAR).unwrap());
            spec.merchant_name = Some(name.clone());
            spec.merchant_city = Some(city.clone());
            spec.accounts[0].reference = reference.clone();
            spec.accounts[0].extra = vec![DataObject::new(2, extra.clone())];
            spec.network_accounts = vec![DataObject::new(4, extra.clone())];
            spec.unreserved_templates = vec![MerchantAccount {
                tag: 80, guid: "com.example.loyalty".into(), reference: extra.clone(), extra: Vec::new(),
            }];
            let text = spec.encode().unwrap();
            let reading = crate::emv::reader::read(&text);
            prop_assert!(reading.satisfies(scheme), "{:?}", reading.findings);
            prop_assert_eq!(reading.sub_value(26, 1), Some(reference.as_str()));
            prop_assert_eq!(reading.sub_value(26, 2), Some(extra.as_str()));
            prop_assert_eq!(reading.value(53), Some("710"));
            let amount = format_amount(spec.amount.unwrap());
            prop_assert_eq!(reading.value(54), Some(amount.as_str()));
            let full = scheme != QrScheme::ElectrumMerchantMinimal;
            prop_assert_eq!(reading.value(59), full.then_some(name.as_str()));
            prop_assert_eq!(reading.value(60), full.then_some(city.as_str()));
            prop_assert_eq!(reading.value(4), full.then_some(extra.as_str()));
            prop_assert_eq!(reading.sub_value(80, 1), full.then_some(extra.as_str()));
        }
    }
}
