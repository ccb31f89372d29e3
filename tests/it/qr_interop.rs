//! QR codes as the ecosystem has them: a corpus of public payloads with the verdict the
//! standard gives each (checked by our reader and, where installed, the independent
//! `cemacqr` validator), and the codes we generate in Electrum's till shape: read back from
//! their PNG, paid by keying in the short code, and inspected over HTTP, in the console and
//! from the command line.

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use qrswitch::emv::inspect::{inspect, payload_from_image};
use qrswitch::emv::QrScheme::{self, ElectrumMerchantMinimal as Minimal};
use qrswitch::emv::QrScheme::{EmvcoMerchant as Strict, PseudoEmvcoMerchant as Pseudo};

use crate::common::qr::*;
use crate::common::*;

/// A public payload, the schemes the standard (and our schemes' definitions) say it
/// satisfies, and where it was published.
struct Sample {
    payload: &'static str,
    satisfies: &'static [QrScheme],
    source: &'static str,
}

const CORPUS: &[Sample] = &[
    Sample {
        payload: "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A",
        satisfies: &[Strict, Pseudo],
        source: "EMVCo, EMV QR Code Specification for Payment Systems: Merchant-Presented Mode v1.1, its example payload (tip prompt, 62, 64 and template 91)",
    },
    Sample {
        payload: "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
        satisfies: &[Strict, Pseudo],
        source: "Banco Central do Brasil, Manual de Padrões para Iniciação do Pix: its static BR Code example",
    },
    Sample {
        payload: "00020126260008za.co.mp0110248723666427530023za.co.electrum.picknpay0122ydgKJviKSomaVw0297RaZw5303710540571.406304CE9C",
        satisfies: &[Pseudo, Minimal],
        source: "a South African till's code (Pick n Pay, via Electrum), in blinkbitcoin/blink-client src/parsing/merchants.spec.ts",
    },
    Sample {
        payload: "00020129530023za.co.electrum.picknpay0122RD2HAK3KTI53EC/confirm520458125303710540115802ZA5916cryptoqrtestscan6002CT63049BE2",
        satisfies: &[Strict, Pseudo],
        source: "a South African test code of the same acquirer, in blinkbitcoin/blink-client src/parsing/index.spec.ts",
    },
    Sample {
        payload: "00020101021129370016A000000677010111011300660000000005802TH530376463048956",
        satisfies: &[Pseudo],
        source: "Thai PromptPay (phone number), the expected output of a public PromptPay builder's test; it carries no 52, 59 or 60",
    },
    Sample {
        payload: "00020101021129370016A000000677010111011300668123456785802TH530376463045D82",
        satisfies: &[Pseudo],
        source: "Thai PromptPay, a public payment library's reference payload; no 52, 59 or 60",
    },
    Sample {
        payload: "00020101021126400009SG.PAYNOW010120213200002150HWCF030115204000053037025802SG5923NATIONAL HEALTHCARE GRO6009Singapore6304DF3F",
        satisfies: &[Strict, Pseudo],
        source: "Singapore SGQR/PayNow for a charity fund, the test code of the pyPayNowSg library",
    },
    Sample {
        payload: "00020101021226580009SG.PAYNOW010120213201929813CSPP030100414202308011802005204000053037025402205802SG5925SHOPEEPAY PRIVATE LIMITED6009SINGAPORE62270123SPP1844414393533165284563047A0C",
        satisfies: &[Strict, Pseudo],
        source: "Singapore SGQR/PayNow with an amount and a bill reference, a public QR library's fixture",
    },
    Sample {
        payload: "00020201021126410014A000000615000101065016640209123456789520499995303458540510.005802MY5909QRCSDNBHD6005BANGI6304343F",
        satisfies: &[],
        source: "Malaysian DuitNow, a public validator's sample: its 00 is 02 where EMV requires 01",
    },
    Sample {
        payload: "00020101021226480009SG.PAYNOW010120213201402246R030105204000053037025802SG5913MERCHANT NAME6009SINGAPORE62070103SG16304",
        satisfies: &[],
        source: "a simulated SGQR scan in a public app: its CRC (63) has no value",
    },
    Sample {
        payload: "00020101021229370016A000000677010111011300668284999015802TH530376454046.0063044B37",
        satisfies: &[],
        source: "a PromptPay code as a public page assembles it, with the fixed CRC it appends whatever the amount",
    },
];

/// The independent validator (`cemacqr`'s EMVCo profile), where installed: whether it finds
/// `payload` valid.
fn independent_verdict(payload: &str) -> Option<bool> {
    let python = std::env::var("QRSWITCH_EMV_VALIDATOR").unwrap_or_else(|_| "python3".to_owned());
    let output = crate::emv_independent::run_validator(&python, payload).ok()?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    report["ok"].as_bool()
}

/// Given each public payload, when our reader and the independent validator read it, then
/// each satisfies exactly the schemes the standard gives it, and the validator agrees on
/// strict EMV.
#[test]
fn every_corpus_payload_gets_the_standards_verdict() {
    let mut checked_independently = 0;
    let mut unanswered = Vec::new();
    for sample in CORPUS {
        let inspection = inspect(sample.payload);
        assert_eq!(
            inspection.satisfies, sample.satisfies,
            "{}: {:#?}",
            sample.source, inspection.findings
        );
        let verdict = independent_verdict(sample.payload);
        if verdict.is_none() {
            unanswered.push(sample.source);
        }
        if let Some(valid) = verdict {
            checked_independently += 1;
            assert_eq!(
                valid,
                sample.satisfies.contains(&Strict),
                "the independent validator disagrees on {} ({})",
                sample.payload,
                sample.source
            );
        }
    }
    if checked_independently == 0 {
        assert!(
            std::env::var_os("QRSWITCH_EMV_VALIDATOR").is_none(),
            "QRSWITCH_EMV_VALIDATOR is set but cemacqr did not answer"
        );
        figures!("corpus: independent check skipped (no Python with cemacqr)");
    } else {
        // cemacqr gives no report for a payload it cannot parse at all (a CRC with no
        // value); ours finds it broken, which is the standard's verdict too.
        figures!(
            "corpus: {} public payloads, {checked_independently} also checked by cemacqr, no disagreement; cemacqr could not parse: {unanswered:?}",
            CORPUS.len()
        );
    }
}

/// A switch whose first partner's template carries the short code (tag 26, as the codes
/// Electrum issues carry it) and whose second carries the tranId; ours is tag 28.
async fn till_shaped_switch(db: &TestDb) -> (TestServer, qrswitch::partner_sim::SimRunning) {
    let sim = start_sim(qrswitch::partner_sim::Mode::Approve, PARTNER, None).await;
    let mut keyed = partner_config(PARTNER, 26, &sim, Duration::from_secs(2));
    keyed.qr_guid = "za.co.mp".into();
    keyed.qr_reference = qrswitch::config::QrReference::ShortCode;
    let mut other = partner_config(OTHER_PARTNER, 27, &sim, Duration::from_secs(2));
    other.qr_guid = "za.co.electrum.demoshop".into();
    let mut config = with_partners(db.config(), vec![keyed, other], Duration::from_secs(5));
    config.qr.template_tag = 28;
    config.qr.default_scheme = Minimal;
    config.saf.poll_interval_ms = 50;
    (TestServer::start(config).await, sim)
}

on_both_backends!(
    a_till_shaped_code_is_paid_by_its_short_code,
    super::a_till_shaped_code_is_paid_by_its_short_code
);

/// Given a switch issuing the minimal scheme, when a POS asks for a code, then it has the
/// till's shape (00, templates, 53, 54, 63), its PNG decodes to it, and a partner that
/// names the short code in place of the tranId completes the payment; an unknown code is
/// refused.
async fn a_till_shaped_code_is_paid_by_its_short_code(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (switch, sim) = till_shaped_switch(&db).await;
    let pos = QrClient::new(&switch.base_url);
    let mut request = create_qr_request(Some(7_140));
    request["qrProperties"]["scheme"] = "ELECTRUM_MERCHANT_MINIMAL".into();
    let (status, created) = pos.post("/qrCodes", &request).await;
    assert_eq!(status, 201, "{created}");
    let (tran_id, payload) = (
        created["tranId"].as_str().unwrap().to_owned(),
        created["qrCode"].as_str().unwrap().to_owned(),
    );
    let inspection = inspect(&payload);
    let ids: Vec<&str> = inspection.fields.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["00", "26", "27", "28", "53", "54", "63"], "{payload}");
    assert_eq!(inspection.satisfies, [Pseudo, Minimal]);
    let short_code = inspection.fields[1].children[1].value.clone();
    assert!(short_code.len() == 10 && short_code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(inspection.fields[2].children[1].value, tran_id);

    let (status, _, png) = pos
        .get_bytes(&format!("/qrCodes/{tran_id}/image.png"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        payload_from_image(&png).unwrap(),
        payload,
        "the PNG reads back"
    );

    let paid = pos.spawn_pay(&tran_id, 7_140);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let partner = QrClient::new(&switch.base_url);
    let (status, answer) = partner
        .post("/scans", &scan_notification(&short_code, PARTNER))
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = paid.await.unwrap();
    assert_eq!(status, 201, "paid by the keyed-in code: {answer}");
    assert_eq!(answer["tranId"], tran_id.as_str());

    // EMV forbids a zero amount (54): refused, nothing issued.
    let (status, answer) = pos.post("/qrCodes", &create_qr_request(Some(0))).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errorType"], "INVALID_AMOUNT");

    let unknown = if short_code == "0000000000" {
        "0000000001"
    } else {
        "0000000000"
    };
    let (status, answer) = partner
        .post("/scans", &scan_notification(unknown, PARTNER))
        .await;
    assert_eq!(status, 404, "{answer}");
    switch.stop().await;
    sim.stop().await;
}

/// Given a running switch, when a code is posted to the inspection endpoint as text, as a
/// picture, or as nothing, then the first two get the reader's verdict and the last a 400;
/// the console's inspector shows the same verdict for a pasted code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_inspected_over_http_and_in_the_console() {
    let db = TestDb::new(Backend::Sqlite).await;
    let switch = TestServer::start(db.config()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/tools/qr/inspect", switch.base_url);
    let till = CORPUS[2].payload;
    let ask = |body: serde_json::Value| {
        let request = http.post(&url).json(&body);
        async move { request.send().await.unwrap() }
    };
    let answer: serde_json::Value = ask(serde_json::json!({ "payload": till }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["satisfies"],
        serde_json::json!(["PSEUDO_EMVCO_MERCHANT", "ELECTRUM_MERCHANT_MINIMAL"])
    );
    assert_eq!(answer["findings"][0]["id"], "52");

    let png = qrswitch::qr_api::image::png(till).unwrap();
    let picture = base64::engine::general_purpose::STANDARD.encode(png);
    let answer: serde_json::Value = ask(serde_json::json!({ "image": picture }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["payload"], till, "read from the picture");

    for body in [
        serde_json::json!({}),
        serde_json::json!({ "image": "not base64!" }),
    ] {
        let refused = ask(body).await;
        assert_eq!(refused.status(), 400);
    }

    let console = console_inspection(&http, &switch.base_url, till).await;
    assert!(
        console.contains("PSEUDO_EMVCO_MERCHANT, ELECTRUM_MERCHANT_MINIMAL"),
        "{console}"
    );
    assert!(console.contains("za.co.electrum.picknpay"));
    assert!(console.contains("52 (Merchant Category Code) is missing"));
    switch.stop().await;
}

/// The console's inspector form, filled in and sent as a browser sends it.
async fn console_inspection(http: &reqwest::Client, base: &str, payload: &str) -> String {
    let form = http
        .get(format!("{base}/backoffice/qr"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = form.find(marker).expect("a CSRF token") + marker.len();
    let csrf = &form[start..start + form[start..].find('"').unwrap()];
    let boundary = "qrswitch-test-boundary";
    let mut body = String::new();
    for (name, value) in [("csrf", csrf), ("payload", payload)] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let page = http
        .post(format!("{base}/backoffice/qr"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

/// `qrswitch qr inspect`: exit 0 for a code that satisfies a scheme, 1 for one that
/// satisfies none, the findings as JSON, and a picture read with `--image`.
#[test]
fn the_command_line_inspects_payloads_and_pictures() {
    let qrswitch = env!("CARGO_BIN_EXE_qrswitch");
    let run = |args: &[&str]| Command::new(qrswitch).args(args).output().unwrap();
    let till = CORPUS[2].payload;
    let good = run(&["qr", "inspect", till]);
    assert_eq!(good.status.code(), Some(0));
    let text = String::from_utf8_lossy(&good.stdout);
    assert!(
        text.contains("satisfies  PSEUDO_EMVCO_MERCHANT, ELECTRUM_MERCHANT_MINIMAL"),
        "{text}"
    );

    let broken = CORPUS
        .iter()
        .find(|s| s.satisfies.is_empty())
        .unwrap()
        .payload;
    let bad = run(&["qr", "inspect", "--json", broken]);
    assert_eq!(bad.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(json["satisfies"], serde_json::json!([]));
    assert!(!json["findings"].as_array().unwrap().is_empty());

    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("till.png");
    std::fs::write(&picture, qrswitch::qr_api::image::png(till).unwrap()).unwrap();
    let read = run(&[
        "qr",
        "inspect",
        "--json",
        "--image",
        picture.to_str().unwrap(),
    ]);
    assert_eq!(read.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(json["payload"], till);
}
