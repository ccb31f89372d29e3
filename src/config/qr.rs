//! What goes into the QR codes beyond the templates: the short code a customer can key in,
//! each partner's own sub-fields, and per merchant the card networks' accounts (IDs 02–25)
//! and unreserved templates (IDs 80–99), so that one code serves several apps.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::emv::{DataObject, MerchantAccount};

/// Which reference a partner's template carries in its sub-field 01.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrReference {
    /// The payment's tranId (32 hex characters).
    #[default]
    TranId,
    /// The payment's numeric short code (`[qr] short_code_digits` digits), as the codes
    /// Electrum issues at tills carry it.
    ShortCode,
}

/// One merchant's (a retailer's, by its `client.id`) extra accounts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrMerchantConfig {
    pub client_id: String,
    /// Card networks' merchant account primitives by ID, e.g. `"02" = "4111…"` (Visa).
    #[serde(default)]
    pub network_accounts: BTreeMap<String, String>,
    /// Unreserved templates (80–99).
    #[serde(default)]
    pub templates: Vec<QrTemplateConfig>,
}

/// An unreserved template: its tag, GUID and sub-fields by ID.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrTemplateConfig {
    pub tag: u8,
    pub guid: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// `{"02": "x"}` as data objects; every key two digits within `ids`, every value 1–99
/// characters.
pub fn data_objects(
    fields: &BTreeMap<String, String>,
    ids: std::ops::RangeInclusive<u8>,
) -> Result<Vec<DataObject>, String> {
    fields
        .iter()
        .map(|(key, value)| {
            let id: u8 = key
                .parse()
                .ok()
                .filter(|id| key.len() == 2 && ids.contains(id))
                .ok_or_else(|| format!("field {key:?} is not an ID within {ids:?}"))?;
            if value.is_empty() || value.chars().count() > 99 {
                return Err(format!("field {key} must be 1 to 99 characters"));
            }
            Ok(DataObject::new(id, value.clone()))
        })
        .collect()
}

impl QrMerchantConfig {
    /// The card networks' primitives, checked.
    pub fn network_objects(&self) -> Result<Vec<DataObject>, String> {
        data_objects(&self.network_accounts, 2..=25)
    }

    /// The unreserved templates, checked.
    pub fn unreserved(&self) -> Result<Vec<MerchantAccount>, String> {
        self.templates
            .iter()
            .map(|t| {
                if !(80..=99).contains(&t.tag) {
                    return Err(format!("template tag {} is not within 80-99", t.tag));
                }
                let mut extra = data_objects(&t.fields, 1..=99)?;
                let reference = match extra.iter().position(|o| o.id == 1) {
                    Some(at) => extra.remove(at).value,
                    None => String::new(),
                };
                Ok(MerchantAccount {
                    tag: t.tag,
                    guid: t.guid.clone(),
                    reference,
                    extra,
                })
            })
            .collect()
    }
}
