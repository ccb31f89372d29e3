//! Our EMV payloads checked by an independent implementation: the `cemacqr` Python package's
//! EMVCo profile (a third-party EMV QRCPS validator). CI installs it; elsewhere point
//! `QRSWITCH_EMV_VALIDATOR` at a Python that has it, or the test says it skipped.

use std::process::Command;

use crate::common::qr::*;
use crate::common::*;
use aggregates::values::{Amount, Currency};
use qrswitch::emv::{MerchantAccount, PayloadSpec, QrScheme};
use qrswitch::partner_sim::Mode;

fn validator_python() -> Option<String> {
    let python = std::env::var("QRSWITCH_EMV_VALIDATOR").unwrap_or_else(|_| "python3".to_owned());
    let available = Command::new(&python)
        .args(["-c", "import cemacqr"])
        .output()
        .is_ok_and(|o| o.status.success());
    if available {
        Some(python)
    } else {
        eprintln!("skipped: independent EMV validation (no Python with cemacqr; set QRSWITCH_EMV_VALIDATOR)");
        None
    }
}

/// `cemacqr check --profile emvco --json PAYLOAD` run by `python`.
pub(crate) fn run_validator(python: &str, payload: &str) -> std::io::Result<std::process::Output> {
    Command::new(python)
        .args([
            "-m",
            "cemacqr",
            "check",
            "--profile",
            "emvco",
            "--json",
            payload,
        ])
        .output()
}

/// The independent validator's verdict on `payload` as JSON.
fn check(python: &str, payload: &str) -> serde_json::Value {
    let output = run_validator(python, payload).expect("validator runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "validator said: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        output.status.success(),
        "independent validator rejects {payload}: {report:#}"
    );
    report
}

fn spec(partners: u8, cents: Option<i64>, name: &str) -> PayloadSpec {
    let tran_id = "6f1c2a9e8b7d4c3a9e8b7d4c3a9e8b7d";
    PayloadSpec {
        scheme: QrScheme::EmvcoMerchant,
        accounts: (0..partners)
            .map(|i| MerchantAccount {
                tag: 26 + i,
                guid: format!("za.co.partner{i}"),
                reference: tran_id.to_owned(),
                extra: Vec::new(),
            })
            .collect(),
        merchant_category_code: Some("5411".into()),
        amount: cents.map(|c| Amount::new(c, Currency::ZAR).unwrap()),
        currency: "710".into(),
        country: Some("ZA".into()),
        merchant_name: Some(name.into()),
        merchant_city: Some("Cape Town".into()),
        reference_label: Some("INV-20261121-0001".into()),
        terminal_label: Some("LANE0007".into()),
        network_accounts: Vec::new(),
        unreserved_templates: Vec::new(),
    }
}

#[test]
fn generated_payloads_pass_an_independent_emv_validator() {
    let Some(python) = validator_python() else {
        return;
    };
    let cases = [
        spec(1, Some(2_500), "Corner Shop"),
        spec(3, None, "Demo Store Rosebank"),
        spec(6, Some(99_999_999), "A very long merchant name that is cut"),
        spec(2, Some(1), "Spaza"),
    ];
    for case in cases {
        let payload = case.encode().unwrap();
        let report = check(&python, &payload);
        assert_eq!(report["ok"], true, "{report:#}");
    }
    // Not vacuous: the same validator refuses a payload whose CRC was tampered with.
    let mut tampered = spec(1, Some(2_500), "Corner Shop").encode().unwrap();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let refused = Command::new(&python)
        .args(["-m", "cemacqr", "check", "--profile", "emvco", &tampered])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a bad CRC must be refused");
}

/// The same for a QR minted through the API, as a POS receives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_minted_payload_passes_an_independent_emv_validator() {
    let Some(python) = validator_python() else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let config = with_partners(
        db.config(),
        vec![partner_config(
            PARTNER,
            27,
            &sim,
            std::time::Duration::from_secs(1),
        )],
        std::time::Duration::from_secs(5),
    );
    let switch = TestServer::start(config).await;
    let created = QrClient::new(&switch.base_url)
        .create_qr(Some(15_000))
        .await;
    let report = check(&python, created["qrCode"].as_str().unwrap());
    assert_eq!(report["ok"], true, "{report:#}");
    switch.stop().await;
    sim.stop().await;
}
