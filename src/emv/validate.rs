//! Validating a payload against one scheme: the reader's findings that rule the scheme out
//! refuse it, the first one named.

use super::reader::{read, Reading};
use super::rules::{invalid, MerchantAccount, PayloadError, QrScheme};
use super::tlv::DataObject;

/// What a valid payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPayload {
    pub objects: Vec<DataObject>,
    pub accounts: Vec<MerchantAccount>,
}

impl ValidatedPayload {
    pub fn value(&self, id: u8) -> Option<&str> {
        self.objects
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.value.as_str())
    }
}

/// Checks `text` against the rules of `scheme`.
pub fn validate(text: &str, scheme: QrScheme) -> Result<ValidatedPayload, PayloadError> {
    let reading = read(text);
    if let Some(finding) = reading.breaking(scheme).next() {
        let extra = reading.breaking(scheme).count() - 1;
        let more = match extra {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Err(invalid(format!("{}{more}", finding.message)));
    }
    Ok(validated(&reading))
}

fn validated(reading: &Reading) -> ValidatedPayload {
    let objects = reading
        .fields
        .iter()
        .filter_map(|f| Some(DataObject::new(f.id.parse().ok()?, f.value.clone())))
        .collect();
    let accounts = merchant_accounts(reading);
    ValidatedPayload { objects, accounts }
}

/// The merchant account templates (26–51): GUID and reference (sub-object 01).
pub fn merchant_accounts(reading: &Reading) -> Vec<MerchantAccount> {
    reading
        .fields
        .iter()
        .filter_map(|f| {
            let tag: u8 = f.id.parse().ok()?;
            if !(26..=51).contains(&tag) {
                return None;
            }
            let sub = |id: &str| {
                f.children
                    .iter()
                    .find(|c| c.id.ends_with(id))
                    .map(|c| c.value.clone())
            };
            let extra = f
                .children
                .iter()
                .filter_map(|c| {
                    let id: u8 = c.id.rsplit('.').next()?.parse().ok()?;
                    (id > 1).then(|| DataObject::new(id, c.value.clone()))
                })
                .collect();
            Some(MerchantAccount {
                tag,
                guid: sub(".00")?,
                reference: sub(".01").unwrap_or_default(),
                extra,
            })
        })
        .collect()
}
