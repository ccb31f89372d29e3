//! The PayShap scheme side as tests play it: the demo key pairs from `examples/keys/`, the
//! switch configured to verify and sign with them, and the scheme simulator's client.

use std::path::PathBuf;

use qrswitch::config::{Config, SigningConfig};
use qrswitch::payshap::signing::{SigningKey, VerifyingKey};
use qrswitch::scheme_sim::{self, Creditor, SchemeClient};
use serde_json::Value;

/// The corporate client's collection account in the tests' configuration.
pub const COLLECTION_ACCOUNT: &str = "62000000001";

pub fn demo_key(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/keys")).join(name)
}

/// Signed PayShap on `config`, with the demo keys.
pub fn with_demo_signing(config: &mut Config) {
    config.payshap.collection_account = COLLECTION_ACCOUNT.to_owned();
    config.payshap.signing = Some(SigningConfig {
        scheme_public_key: demo_key("demo-scheme.pub.pem"),
        private_key: demo_key("demo-switch.pem"),
        issuer: "qrswitch-test".to_owned(),
        scheme_party: "demo-scheme".to_owned(),
        clock_skew_ms: 30_000,
        max_token_age_ms: 300_000,
        require_basic: false,
        scheme_public_keys_dir: None,
        key_id: None,
    });
}

pub fn scheme_signer() -> SigningKey {
    let pem = std::fs::read(demo_key("demo-scheme.pem")).unwrap();
    SigningKey::from_pem(&pem, "electrum-test").unwrap()
}

pub fn switch_verifier() -> VerifyingKey {
    let pem = std::fs::read(demo_key("demo-switch.pub.pem")).unwrap();
    VerifyingKey::from_pem(&pem, 30_000, 300_000).unwrap()
}

/// The scheme simulator, signing with the demo scheme key and checking the switch's answers.
pub fn scheme_client(base_url: &str) -> SchemeClient {
    SchemeClient::new(base_url, Some(scheme_signer()), Some(switch_verifier()))
}

/// A completion with every field Electrum sends, to `proxy` (`{schema, namespace, value}`)
/// or, for `GENERIC`, to the account `value` at the bank named in `namespace`.
pub fn completion_report(
    uetr: &str,
    message_id: &str,
    outcome: &str,
    amount: &str,
    proxy: Value,
) -> String {
    let text = |key: &str| proxy[key].as_str().unwrap_or_default().to_owned();
    let (schema, namespace, value) = (text("schema"), text("namespace"), text("value"));
    let creditor = if schema == "GENERIC" {
        Creditor::Account {
            bicfi: &namespace,
            number: &value,
        }
    } else {
        Creditor::Proxy {
            schema: &schema,
            namespace: &namespace,
            value: &value,
        }
    };
    scheme_sim::completion_report(uetr, message_id, outcome, amount, creditor)
}
