//! How a partner names an approved payment on its side.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest reference kept, in characters; the contract's own limit for `issuerReference`
/// is 40, and nothing a partner sends should grow an event without bound.
const MAX_REFERENCE_CHARS: usize = 64;

/// At most this many tender references are kept.
const MAX_TENDER_REFERENCES: usize = 8;

/// The partner's references for a payment it approved, as its answer gave them: what a
/// finance team matches against the partner's settlement file and the customer's slip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerReference {
    /// `slipData.issuerReference`: printed on the slip, unique at the partner.
    pub issuer_reference: Option<String>,
    /// `tenders[].reference`, in the answer's order.
    pub tender_references: Vec<String>,
    pub rrn: Option<String>,
    pub stan: Option<String>,
    /// A PayShap credit's UETR, when a credit paid the QR.
    pub payshap_uetr: Option<String>,
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(MAX_REFERENCE_CHARS).collect())
}

impl PartnerReference {
    /// The references in a partner's answer (a `PaymentResponse`, or the record of a
    /// PayShap credit). Fields it lacks stay empty; nothing here can fail.
    pub fn from_response(response: &Value) -> Self {
        Self {
            issuer_reference: text(&response["slipData"]["issuerReference"]),
            tender_references: response["tenders"]
                .as_array()
                .map(|tenders| {
                    tenders
                        .iter()
                        .filter_map(|t| text(&t["reference"]))
                        .take(MAX_TENDER_REFERENCES)
                        .collect()
                })
                .unwrap_or_default(),
            rrn: text(&response["rrn"]),
            stan: text(&response["stan"]),
            payshap_uetr: text(&response["payshapUetr"]),
        }
    }

    /// The references as a person reads them, e.g. `issuer ABC123, tender SIM-1`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |label: &str, value: &Option<String>| {
            if let Some(value) = value {
                parts.push(format!("{label} {value}"));
            }
        };
        add("issuer", &self.issuer_reference);
        add("rrn", &self.rrn);
        add("stan", &self.stan);
        add("uetr", &self.payshap_uetr);
        for tender in &self.tender_references {
            parts.push(format!("tender {tender}"));
        }
        if parts.is_empty() {
            "no partner reference".to_owned()
        } else {
            parts.join(", ")
        }
    }
}
