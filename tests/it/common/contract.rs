//! The published QR contract as JSON Schema, to check every body the tests send and receive.
//! The contract lives beside the checkout (`../shared/contracts`); without it the checks are
//! skipped, said so once, and everything else still runs.

use std::sync::OnceLock;

use serde_json::{json, Value};

pub struct Contract {
    definitions: Value,
}

const CONTRACT_PATH: &str = "../shared/contracts/electrum-qr-v1.swagger.yaml";

/// The contract, or `None` (announced once) when the file is not there.
pub fn contract() -> Option<&'static Contract> {
    static CONTRACT: OnceLock<Option<Contract>> = OnceLock::new();
    CONTRACT
        .get_or_init(|| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CONTRACT_PATH);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let swagger: Value = serde_yaml_ng::from_str(&text).expect("contract parses");
                    Some(Contract {
                        definitions: swagger["definitions"].clone(),
                    })
                }
                Err(_) => {
                    eprintln!(
                        "skipped: contract schema checks ({CONTRACT_PATH} not found beside the checkout)"
                    );
                    None
                }
            }
        })
        .as_ref()
}

impl Contract {
    /// Errors of `body` against definition `name`, as text; empty when valid.
    pub fn errors(&self, name: &str, body: &Value) -> Vec<String> {
        assert!(
            self.definitions.get(name).is_some(),
            "no definition {name} in the contract"
        );
        let schema = json!({
            "$ref": format!("#/definitions/{name}"),
            "definitions": self.definitions,
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .expect("contract schema compiles");
        validator
            .iter_errors(body)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect()
    }

    pub fn assert_valid(&self, name: &str, body: &Value) {
        let errors = self.errors(name, body);
        assert!(
            errors.is_empty(),
            "{name} does not match the contract: {errors:#?}\n{body:#}"
        );
    }
}

/// Checks `body` against `name` if the contract is available.
pub fn check(name: &str, body: &Value) {
    if let Some(contract) = contract() {
        contract.assert_valid(name, body);
    }
}

/// The contract's request and success-response definitions of a `/qr/v1` path.
pub fn definitions_of(path: &str) -> (&'static str, Option<&'static str>) {
    match path {
        "/qrCodes" => ("CreateQrCodeRequest", Some("CreateQrCodeResponse")),
        "/scans" => ("ScanNotification", None),
        "/payments" => ("PaymentRequest", Some("PaymentResponse")),
        "/payments/confirmations" => ("PaymentConfirmation", Some("PaymentConfirmation")),
        "/payments/reversals" => ("PaymentReversal", Some("PaymentReversal")),
        other => panic!("{other} is not a contract path"),
    }
}
