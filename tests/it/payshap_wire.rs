//! PayShap on the wire as Electrum's EPC publishes it: completions with every field Electrum
//! sends, authentic messages that cannot be applied held and raised, resolution answers with
//! exactly the published fields, ES256 message signatures checked on the way in (401 for
//! every kind of bad one, nothing stored) and put on every answer, verified here by our own
//! code and by an independent JWT implementation (PyJWT).

use std::collections::BTreeSet;

use crate::common::scheme::*;
use crate::common::*;
use qrswitch::payshap::signing::SigningKey;
use qrswitch::payshap::{COMPLETION_PATH, RESOLUTION_PATH};
use qrswitch::scheme_sim::{resolution_request, Answer};
use serde_json::{json, Value};

const BANK_BIC: &str = "SBZAZAJJ";

struct Scheme {
    _db: TestDb,
    server: TestServer,
}

impl Scheme {
    async fn start(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = db.config();
        config.payshap.qr_enabled = true;
        with_demo_signing(&mut config);
        let server = TestServer::start(config).await;
        Self { _db: db, server }
    }

    async fn send(&self, path: &str, body: &[u8], token: Option<String>) -> Answer {
        scheme_client(&self.server.base_url)
            .send(path, body, token, Some(TRACEPARENT))
            .await
            .unwrap()
    }

    async fn register(&self, schema: &str, context: &str, value: &str) {
        let mut body = json!({
            "schema": schema, "value": value, "knownAsName": "Corner Shop",
            "legalName": "Corner Shop (Pty) Ltd", "accountCreationDate": "2019-03-14",
            "status": "active", "resolutionAllowed": true,
        });
        body[if schema == "GENERIC" {
            "bicfi"
        } else {
            "namespace"
        }] = context.into();
        let response = reqwest::Client::new()
            .post(format!("{}/admin/proxies", self.server.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        self.server.app().catch_up_all().await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.server.app().store.views().pool())
            .await
            .unwrap()
    }

    async fn event_types(&self, aggregate_type: &str, id: &str) -> Vec<String> {
        stored_event_types(self.server.app(), aggregate_type, id).await
    }

    async fn exceptions_today(&self) -> Vec<Value> {
        self.server.app().catch_up_all().await.unwrap();
        let url = format!(
            "{}/backoffice/api/days/{}/exceptions",
            self.server.base_url,
            self.server.app().calendar.day_of(chrono::Utc::now())
        );
        let answer: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        answer["exceptions"].as_array().unwrap().clone()
    }
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn mobile(value: &str) -> Value {
    json!({ "schema": "MOBILE", "namespace": "shop", "value": value })
}

fn uetr() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Every key of every object in `value`, as `path.key`, and fails on any `null`.
fn shape(value: &Value, path: &str, keys: &mut BTreeSet<String>) {
    match value {
        Value::Null => panic!("null at {path}"),
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}.{key}");
                keys.insert(here.clone());
                shape(child, &here, keys);
            }
        }
        _ => {}
    }
}

fn keys_of(value: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    shape(value, "", &mut keys);
    keys
}

/// A completion with every field Electrum sends is credited once, with the amount, the
/// debtor's name and the end-to-end id it carries; its redelivery changes nothing. An
/// account (GENERIC) credit is matched to the account registered at its bank.
async fn published_completion_credits_once(backend: Backend) {
    let scheme = Scheme::start(backend).await;
    scheme.register("MOBILE", "shop", "0821234567").await;
    scheme.register("GENERIC", BANK_BIC, "62001234567").await;
    let id = uetr();
    let body = completion_report(&id, "m-1", "APPROVED", "49.99", mobile("0821234567"));
    for _ in 0..2 {
        let answer = scheme.send(COMPLETION_PATH, body.as_bytes(), None).await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        assert!(answer.raw.is_empty(), "202 has no body");
    }
    assert_eq!(
        scheme.event_types("PayShapTransfer", &id).await,
        ["CompletionReceived", "Credited"]
    );
    let account = uetr();
    let generic = json!({ "schema": "GENERIC", "namespace": BANK_BIC, "value": "62001234567" });
    let body = completion_report(&account, "m-2", "APPROVED", "1200.5", generic);
    assert_eq!(
        scheme
            .send(COMPLETION_PATH, body.as_bytes(), None)
            .await
            .status,
        202
    );
    scheme.server.app().catch_up_all().await.unwrap();
    let views = scheme.server.app().store.views().pool().clone();
    let row = projections::payshap_transfers::find(&views, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.credited,
            row.amount_minor,
            row.messages,
            row.proxy_known
        ),
        (1, 4_999, 1, 1)
    );
    assert_eq!(row.debtor_name.as_deref(), Some("Payer Person"));
    assert_eq!(row.end_to_end_id, Some(format!("E2E{}", &id[..8])));
    let row = projections::payshap_transfers::find(&views, &account)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.credited, row.amount_minor, row.proxy_known),
        (1, 120_050, 1)
    );
    assert_eq!(
        row.proxy_id.as_deref(),
        Some("GENERIC|SBZAZAJJ|62001234567")
    );
    assert!(scheme.exceptions_today().await.is_empty());
    scheme.server.stop().await;
}
on_both_backends!(
    published_completion_credits_once,
    super::published_completion_credits_once
);

/// Authentic completions that cannot be applied are held as they came, before the answer,
/// and raised in the back office with the raw message: nothing must-deliver is lost.
async fn unappliable_completions_are_held(backend: Backend) {
    let scheme = Scheme::start(backend).await;
    let stranger = uetr();
    let unknown = completion_report(&stranger, "m-u", "APPROVED", "10.00", mobile("0827777777"));
    let answer = scheme.send(COMPLETION_PATH, unknown.as_bytes(), None).await;
    assert_eq!(answer.status, 202, "unknown proxy: recorded and answered");
    let broken = uetr();
    let malformed = completion_report(&broken, "m-b", "APPROVED", "\"4x.99\"", mobile("0821"));
    let answer = scheme
        .send(COMPLETION_PATH, malformed.as_bytes(), None)
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.signature, Some(Ok(())), "failures are signed too");
    assert!(answer.body["detail"]
        .as_str()
        .unwrap()
        .contains("bankSettlementAmount"));
    let answer = scheme
        .send(COMPLETION_PATH, malformed.as_bytes(), None)
        .await;
    assert_eq!(answer.status, 400, "redelivered: same answer");
    assert_eq!(
        scheme
            .count("SELECT COUNT(*) FROM events WHERE aggregate_type = 'HeldMessage'")
            .await,
        2,
        "the unknown proxy's and the malformed one, each once"
    );
    assert!(scheme
        .event_types("PayShapTransfer", &broken)
        .await
        .is_empty());
    let exceptions = scheme.exceptions_today().await;
    let find = |kind: &str, reference: &str| {
        exceptions
            .iter()
            .find(|e| e["kind"] == kind && e["reference"] == reference)
            .unwrap_or_else(|| panic!("{kind} {reference}: {exceptions:?}"))
            .clone()
    };
    let held = find("PAYSHAP_MESSAGE_HELD", &broken);
    assert_eq!(held["rawMessage"], malformed.as_str());
    assert!(held["detail"].as_str().unwrap().contains("4x.99"));
    let unknown_proxy = find("PAYSHAP_UNKNOWN_PROXY", &stranger);
    assert_eq!(unknown_proxy["rawMessage"], unknown.as_str());
    assert_eq!(unknown_proxy["amountMinor"], 1_000);
    // The held row keeps the signature and trace context it came with.
    let headers: String = sqlx::query_scalar("SELECT headers FROM held_messages WHERE uetr = $1")
        .bind(&broken)
        .fetch_one(scheme.server.app().store.views().pool())
        .await
        .unwrap();
    let headers: Value = serde_json::from_str(&headers).unwrap();
    assert_eq!(headers["traceparent"], TRACEPARENT);
    assert!(headers["x-jwt-signature"]
        .as_str()
        .unwrap()
        .starts_with("ey"));
    scheme.server.stop().await;
}
on_both_backends!(
    unappliable_completions_are_held,
    super::unappliable_completions_are_held
);

/// Positive and negative resolution answers carry exactly the published fields: no `null`,
/// no `accountInformation` on a negative, GENERIC accounts in `traditionalIdentifier`.
async fn resolution_answers_have_the_published_fields(backend: Backend) {
    let scheme = Scheme::start(backend).await;
    scheme.register("MOBILE", "shop", "0821234567").await;
    scheme.register("GENERIC", BANK_BIC, "62001234567").await;
    let resolve = |identifier: Value, bicfi: Option<&'static str>| {
        let body = resolution_request(&uetr(), identifier, bicfi).to_string();
        let scheme = &scheme;
        async move {
            let answer = scheme.send(RESOLUTION_PATH, body.as_bytes(), None).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            assert_eq!(answer.signature, Some(Ok(())));
            answer.body
        }
    };
    let envelope = [
        ".schema",
        ".messageIdentifiers",
        ".messageIdentifiers.messageIdentification",
        ".messageIdentifiers.creationDateTime",
        ".originalMessageIdentifiers",
        ".originalMessageIdentifiers.messageIdentification",
        ".originalMessageIdentifiers.creationDateTime",
        ".supplementaryData",
        ".supplementaryData.channel",
        ".report",
        ".report.schema",
        ".report.originalUetr",
        ".report.originalVerificationIdentification",
        ".report.originalRequestor",
        ".report.originalRequestor.knownAsName",
        ".report.instructingAgent",
        ".report.instructingAgent.bicfi",
        ".report.instructedAgent",
        ".report.instructedAgent.bicfi",
        ".report.reportInformation",
        ".report.reportInformation.outcome",
    ];
    let with = |extra: &[&str]| -> BTreeSet<String> {
        envelope
            .iter()
            .chain(extra)
            .map(|k| (*k).to_owned())
            .collect()
    };
    let info = ".report.reportInformation";
    let positive = resolve(mobile("0821234567"), None).await;
    let owner = [
        ".accountOwner",
        ".accountOwner.knownAsName",
        ".accountOwner.legalName",
    ];
    let proxy = [
        ".proxy",
        ".proxy.schema",
        ".proxy.value",
        ".proxy.namespace",
    ];
    let account = [
        ".traditionalIdentifier",
        ".traditionalIdentifier.schema",
        ".traditionalIdentifier.value",
    ];
    let mut expected: Vec<String> = owner.iter().map(|k| format!("{info}{k}")).collect();
    expected.push(format!("{info}.accountInformation"));
    expected.push(format!("{info}.accountInformation.creationDate"));
    for k in proxy.iter().chain(&account) {
        expected.push(format!("{info}.accountInformation{k}"));
    }
    let expected_refs: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(keys_of(&positive), with(&expected_refs), "{positive}");
    let created = positive["report"]["reportInformation"]["accountInformation"]["creationDate"]
        .as_str()
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(created).expect("creationDate is a date-time");

    let negative = resolve(mobile("0829999999"), None).await;
    let reason = [
        format!("{info}.reasonCode"),
        format!("{info}.reasonDescription"),
    ];
    let reason_refs: Vec<&str> = reason.iter().map(String::as_str).collect();
    assert_eq!(keys_of(&negative), with(&reason_refs), "{negative}");
    assert_eq!(negative["report"]["reportInformation"]["outcome"], "FAILED");

    let generic = resolve(
        json!({ "schema": "GENERIC", "value": "62001234567" }),
        Some(BANK_BIC),
    )
    .await;
    let information = &generic["report"]["reportInformation"]["accountInformation"];
    assert!(information.get("proxy").is_none(), "{generic}");
    assert_eq!(
        information["traditionalIdentifier"],
        json!({ "schema": "GENERIC", "value": "62001234567" })
    );

    // The scheme simulator's command line does the same from a shell.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scheme-sim", "--switch-url", &scheme.server.base_url])
        .args([
            "resolve",
            "--schema",
            "MOBILE",
            "--namespace",
            "shop",
            "--value",
            "0821234567",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("status: 200") && printed.contains("\"SUCCESSFUL\""),
        "{printed}"
    );
    assert!(printed.contains("answer signature: verified"), "{printed}");
    scheme.server.stop().await;
}
on_both_backends!(
    resolution_answers_have_the_published_fields,
    super::resolution_answers_have_the_published_fields
);

/// A tampered body, a wrong key, an expired token, an HS256 token and a missing header:
/// each 401 with `{message, detail}` (signed), counted, and nothing applied: the refused
/// completions are kept as unverified held messages, once per distinct body, and nothing
/// else is stored.
async fn unauthentic_messages_are_refused(backend: Backend) {
    let scheme = Scheme::start(backend).await;
    let body = completion_report(&uetr(), "m-1", "APPROVED", "10.00", mobile("0821234567"));
    let signer = scheme_signer();
    let now = chrono::Utc::now().timestamp();
    let (stranger_key, _) = qrswitch::payshap::signing::generate_pair().unwrap();
    let stranger = SigningKey::from_pem(stranger_key.as_bytes(), "mallory").unwrap();
    let tampered = body.replace("10.00", "99.00");
    let cases: Vec<(&str, &str, Option<String>, &str)> = vec![
        (
            "tampered body",
            &tampered,
            Some(signer.sign(body.as_bytes()).unwrap()),
            "digest",
        ),
        (
            "wrong key",
            &body,
            Some(stranger.sign(body.as_bytes()).unwrap()),
            "does not verify",
        ),
        (
            "expired",
            &body,
            Some(signer.sign_at(body.as_bytes(), now - 3_600).unwrap()),
            "expired",
        ),
        ("missing", &body, Some(String::new()), "missing"),
        ("not a JWT", &body, Some("garbage".to_owned()), "not a JWT"),
    ];
    for (case, sent, token, detail) in cases {
        for path in [COMPLETION_PATH, RESOLUTION_PATH] {
            let answer = scheme.send(path, sent.as_bytes(), token.clone()).await;
            assert_eq!(answer.status, 401, "{case} {path}: {}", answer.body);
            assert_eq!(answer.body["message"], "not authenticated", "{case}");
            assert!(
                answer.body["detail"].as_str().unwrap().contains(detail),
                "{case}: {}",
                answer.body
            );
            assert_eq!(
                answer.signature,
                Some(Ok(())),
                "{case}: the refusal is signed"
            );
        }
    }
    assert_eq!(
        scheme
            .count("SELECT COUNT(*) FROM events WHERE aggregate_type <> 'HeldMessage'")
            .await,
        0,
        "nothing applied"
    );
    assert_eq!(
        scheme
            .count("SELECT COUNT(*) FROM events WHERE aggregate_id LIKE 'unverified-%'")
            .await,
        2,
        "the two completions kept unverified"
    );
    let metrics = reqwest::get(format!("{}/metrics", scheme.server.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in ["digest", "signature", "expired", "missing", "malformed"] {
        let line = format!("qrswitch_payshap_signature_refused_total{{reason=\"{reason}\"}}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    scheme.server.stop().await;
}
on_both_backends!(
    unauthentic_messages_are_refused,
    super::unauthentic_messages_are_refused
);

/// The Python that can check a JWT independently: PyJWT with `cryptography`.
pub(crate) fn pyjwt_python() -> Option<String> {
    let candidate = std::env::var("QRSWITCH_PYJWT_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&candidate)
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(candidate)
}

pub(crate) const PYJWT_CHECK: &str = r#"
import base64, hashlib, sys, jwt
public_key, body_path, token = open(sys.argv[1], "rb").read(), sys.argv[2], sys.argv[3]
body = open(body_path, "rb").read()
assert jwt.get_unverified_header(token)["alg"] == "ES256"
claims = jwt.decode(token, public_key, algorithms=["ES256"], options={"require": ["iat", "exp"]})
digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
assert claims["electrum.co.za/content-digest"] == digest, "digest differs"
print("verified by PyJWT", claims["iss"])
"#;

/// Our answers' signatures verify with PyJWT, and stop verifying when one byte changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_verify_with_an_independent_jwt_implementation() {
    let Some(python) = pyjwt_python() else {
        assert!(
            std::env::var("QRSWITCH_REQUIRE_PYJWT").is_err(),
            "QRSWITCH_REQUIRE_PYJWT is set but PyJWT is not importable"
        );
        eprintln!("skipped: PyJWT and cryptography are not installed (CI installs them)");
        return;
    };
    let scheme = Scheme::start(Backend::Sqlite).await;
    let body = resolution_request(&uetr(), mobile("0820000000"), None).to_string();
    let response = reqwest::Client::new()
        .post(format!("{}{RESOLUTION_PATH}", scheme.server.base_url))
        .header(
            "x-jwt-signature",
            scheme_signer().sign(body.as_bytes()).unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.headers()["x-jwt-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer = response.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let check = |bytes: &[u8]| {
        let path = dir.path().join("body.json");
        std::fs::write(&path, bytes).unwrap();
        std::process::Command::new(&python)
            .args(["-c", PYJWT_CHECK])
            .arg(demo_key("demo-switch.pub.pem"))
            .arg(&path)
            .arg(&token)
            .output()
            .unwrap()
    };
    let output = check(&answer);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("verified by PyJWT qrswitch-test"));
    let mut changed = answer.to_vec();
    changed[10] ^= 1;
    assert!(
        !check(&changed).status.success(),
        "a changed answer must not verify"
    );
    scheme.server.stop().await;
}

/// Must-deliver: a completion sent while the switch is not listening yet is delivered again
/// and again by the simulator, and credited once when the switch comes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_is_delivered_until_answered() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let id = uetr();
    let body = completion_report(&id, "m-1", "APPROVED", "5.00", mobile("0821234567"));
    let sender = tokio::spawn(async move {
        scheme_client(&base)
            .complete(body.as_bytes())
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.server.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let server = TestServer::start(config).await;
    let answer = sender.await.unwrap();
    assert_eq!(answer.status, 202);
    assert!(answer.attempts > 1, "delivered {} time(s)", answer.attempts);
    let types = stored_event_types(server.app(), "PayShapTransfer", &id).await;
    assert_eq!(types, ["CompletionReceived", "Credited"]);
    server.stop().await;
}

/// With users configured, the signature alone authenticates the scheme; HTTP Basic, when
/// sent, must be right and of the scheme role; with `require_basic` it must be sent too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_http_basic_together() {
    use qrswitch::config::UserConfig;
    use qrswitch::security::credentials::hash_password;
    let user = |name: &str, role| UserConfig {
        name: name.to_owned(),
        role,
        password_hash: hash_password(&format!("{name}-pw")).unwrap(),
    };
    let users = vec![
        user("demo-scheme", qrswitch::security::Role::Scheme),
        user("demo-retailer", qrswitch::security::Role::Retailer),
    ];
    for require_basic in [false, true] {
        let db = TestDb::new(Backend::Sqlite).await;
        let mut config = db.config();
        with_demo_signing(&mut config);
        config.users = users.clone();
        if let Some(signing) = config.payshap.signing.as_mut() {
            signing.require_basic = require_basic;
        }
        let server = TestServer::start(config).await;
        let body = resolution_request(&uetr(), mobile("0820000000"), None).to_string();
        let status = |client: qrswitch::scheme_sim::SchemeClient| {
            let body = body.clone();
            async move {
                client
                    .send(RESOLUTION_PATH, body.as_bytes(), None, None)
                    .await
                    .unwrap()
                    .status
            }
        };
        let base = server.base_url.clone();
        let signed_only = status(scheme_client(&base)).await;
        assert_eq!(
            signed_only,
            if require_basic { 401 } else { 200 },
            "require_basic={require_basic}"
        );
        let with_scheme = scheme_client(&base).with_basic("demo-scheme", "demo-scheme-pw");
        assert_eq!(
            status(with_scheme).await,
            200,
            "require_basic={require_basic}"
        );
        let retailer = scheme_client(&base).with_basic("demo-retailer", "demo-retailer-pw");
        assert_eq!(
            status(retailer).await,
            403,
            "a retailer may not, even signed"
        );
        let wrong = scheme_client(&base).with_basic("demo-scheme", "nope");
        assert_eq!(status(wrong).await, 401, "wrong Basic password");
        // And the other surfaces still want Basic.
        let ops = reqwest::get(format!("{base}/ops/saf")).await.unwrap();
        assert_eq!(ops.status(), 401);
        server.stop().await;
    }
}
