//! Security: who may call what (every endpoint × every role × own and other party), TLS and
//! client certificates, refusals to expose the switch unsafely, failed-attempt limiting, and
//! logs free of passwords, tokens and MSISDNs.

use std::sync::OnceLock;
use std::time::Duration;

use crate::common::qr::*;
use crate::common::*;
use qrswitch::config::{Config, TlsConfig, UserConfig};
use qrswitch::partner_sim::Mode;
use qrswitch::security::Role;
use serde_json::{json, Value};

const USERS: [(&str, Role); 8] = [
    ("shop-a", Role::Retailer),
    ("shop-b", Role::Retailer),
    (PARTNER, Role::Partner),
    (OTHER_PARTNER, Role::Partner),
    ("the-scheme", Role::Scheme),
    ("finance", Role::Backoffice),
    ("ops", Role::Ops),
    ("auditor", Role::Auditor),
];

fn password(user: &str) -> String {
    format!("{user}-secret-pw")
}

/// Hashing is slow by design; once per test process.
fn users() -> Vec<UserConfig> {
    static USERS_CONFIG: OnceLock<Vec<UserConfig>> = OnceLock::new();
    USERS_CONFIG
        .get_or_init(|| {
            USERS
                .iter()
                .map(|(name, role)| UserConfig {
                    name: (*name).to_owned(),
                    role: *role,
                    password_hash: qrswitch::security::credentials::hash_password(&password(name))
                        .unwrap(),
                })
                .collect()
        })
        .clone()
}

fn secured(mut config: Config) -> Config {
    config.users = users();
    config
}

#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    WrongPassword,
    User(&'static str),
}

async fn call(base: &str, caller: Caller, method: &str, path: &str, body: Option<&Value>) -> u16 {
    let client = reqwest::Client::new();
    let url = format!("{base}{path}");
    let mut request = match method {
        "GET" => client.get(&url),
        _ => client.post(&url),
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    request = match caller {
        Caller::Anonymous => request,
        Caller::WrongPassword => request.basic_auth("shop-a", Some("not-the-password")),
        Caller::User(user) => request.basic_auth(user, Some(password(user))),
    };
    request.send().await.unwrap().status().as_u16()
}

fn qr_request_for(client_id: &str) -> Value {
    let mut request = create_qr_request(None);
    request["client"]["id"] = client_id.into();
    request
}

/// Every endpoint × every caller: 401 without valid credentials, 403 for the wrong role or
/// for acting as another party, and another retailer's payment indistinguishable from an
/// unknown one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut config = secured(with_partners(
        db.config(),
        vec![
            partner_config(PARTNER, 27, &sim, Duration::from_secs(1)),
            partner_config(OTHER_PARTNER, 28, &sim, Duration::from_secs(1)),
        ],
        Duration::from_secs(2),
    ));
    config.security.max_failed_auth_per_source = 10_000;
    let switch = TestServer::start(config).await;
    let base = switch.base_url.clone();

    // A QR of shop-a's, created by shop-a.
    let created = reqwest::Client::new()
        .post(format!("{base}/qr/v1/qrCodes"))
        .basic_auth("shop-a", Some(password("shop-a")))
        .json(&qr_request_for("shop-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let unknown = "0123456789abcdef0123456789abcdef";

    let mut pay_a = payment_request(unknown, 100);
    pay_a["client"]["id"] = "shop-a".into();
    let advice = json!({ "id": new_id(), "requestId": new_id(), "time": now_text(),
                         "thirdPartyIdentifiers": [], "tranId": unknown });
    let mut reversal = advice.clone();
    reversal["reversalReason"] = "CANCELLED".into();
    let scan_as_partner = scan_notification(&tran_id, PARTNER);

    // (method, path, body, callers allowed past authorisation)
    let all: Vec<&str> = USERS.iter().map(|(u, _)| *u).collect();
    // Who reads the books; the auditor reads them all and writes nothing.
    let readers = vec!["finance", "ops", "auditor"];
    let cases: Vec<(&str, String, Option<Value>, Vec<&str>)> = vec![
        (
            "POST",
            "/qr/v1/qrCodes".into(),
            Some(qr_request_for("shop-a")),
            vec!["shop-a"],
        ),
        (
            "POST",
            "/qr/v1/payments".into(),
            Some(pay_a),
            vec!["shop-a"],
        ),
        (
            "POST",
            "/qr/v1/payments/confirmations".into(),
            Some(advice),
            vec!["shop-a", "shop-b"],
        ),
        (
            "POST",
            "/qr/v1/payments/reversals".into(),
            Some(reversal),
            vec!["shop-a", "shop-b"],
        ),
        (
            "GET",
            format!("/qr/v1/qrCodes/{tran_id}/image.png"),
            None,
            vec!["shop-a", "shop-b"],
        ),
        (
            "POST",
            "/qr/v1/scans".into(),
            Some(scan_as_partner),
            vec![PARTNER],
        ),
        ("GET", "/ops/saf".into(), None, readers.clone()),
        (
            "POST",
            "/ops/saf/no-such-delivery/retry".into(),
            None,
            vec!["ops"],
        ),
        ("GET", "/metrics".into(), None, vec!["finance", "ops"]),
        (
            "POST",
            "/identifiers/inbound/identifier-determination-sync".into(),
            Some(json!({})),
            vec!["the-scheme"],
        ),
        (
            "POST",
            "/transactions/inbound/credit-transfer-completion".into(),
            Some(json!({})),
            vec!["the-scheme"],
        ),
        (
            "POST",
            "/admin/proxies".into(),
            Some(
                json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567",
                         "knownAsName": "Shop", "legalName": "Shop Ltd",
                         "accountCreationDate": "2020-01-01", "status": "active" }),
            ),
            vec!["ops"],
        ),
        (
            "GET",
            "/admin/proxies/MOBILE%7Cshop%7C27821234567".into(),
            None,
            readers.clone(),
        ),
        (
            "GET",
            "/backoffice/payshap/markoff.csv?date=2026-11-21".into(),
            None,
            readers.clone(),
        ),
        ("GET", "/backoffice/".into(), None, readers.clone()),
        ("GET", "/audit/feed".into(), None, readers.clone()),
        (
            "GET",
            format!("/audit/payments/{tran_id}/events"),
            None,
            readers.clone(),
        ),
        (
            "GET",
            format!("/audit/streams/Payment/{tran_id}/events?limit=5"),
            None,
            readers.clone(),
        ),
        (
            "GET",
            "/audit/days/2026-11-21/events.ndjson".into(),
            None,
            readers.clone(),
        ),
        (
            "GET",
            "/backoffice/api/days/2026-11-21/settlement?format=csv".into(),
            None,
            readers.clone(),
        ),
        ("GET", "/backoffice/api/fees".into(), None, readers.clone()),
        (
            "POST",
            format!("/backoffice/api/days/2026-11-21/statements/{PARTNER}"),
            Some(json!({})),
            vec!["finance"],
        ),
        ("GET", "/health".into(), None, all.clone()),
        ("GET", "/ready".into(), None, all.clone()),
    ];
    for (method, path, body, allowed) in &cases {
        let probe = path == "/health" || path == "/ready";
        for caller in [Caller::Anonymous, Caller::WrongPassword] {
            let status = call(&base, caller, method, path, body.as_ref()).await;
            let expected = if probe { 200 } else { 401 };
            assert_eq!(status, expected, "{caller:?} {method} {path}");
        }
        for (user, _) in USERS {
            let status = call(&base, Caller::User(user), method, path, body.as_ref()).await;
            if allowed.contains(&user) {
                assert!(
                    status != 401 && status != 403,
                    "{user} {method} {path}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{user} {method} {path}");
            }
        }
    }

    // Own and other party.
    let as_user = |user: &'static str| Caller::User(user);
    assert_eq!(
        call(
            &base,
            as_user("shop-b"),
            "POST",
            "/qr/v1/qrCodes",
            Some(&qr_request_for("shop-a"))
        )
        .await,
        403
    );
    let scan_as_other = scan_notification(&tran_id, OTHER_PARTNER);
    assert_eq!(
        call(
            &base,
            as_user(PARTNER),
            "POST",
            "/qr/v1/scans",
            Some(&scan_as_other)
        )
        .await,
        403
    );
    let image = format!("/qr/v1/qrCodes/{tran_id}/image.png");
    let unknown_image = format!("/qr/v1/qrCodes/{unknown}/image.png");
    assert_eq!(
        call(&base, as_user("shop-a"), "GET", &image, None).await,
        200
    );
    assert_eq!(
        call(&base, as_user("shop-b"), "GET", &image, None).await,
        404
    );
    assert_eq!(
        call(&base, as_user("shop-b"), "GET", &unknown_image, None).await,
        404
    );
    let mut pay_other = payment_request(&tran_id, 100);
    pay_other["client"]["id"] = "shop-b".into();
    let (status, other) = post_as(&base, "shop-b", "/qr/v1/payments", &pay_other).await;
    let mut pay_unknown = payment_request(unknown, 100);
    pay_unknown["client"]["id"] = "shop-b".into();
    let (_, unknown_answer) = post_as(&base, "shop-b", "/qr/v1/payments", &pay_unknown).await;
    assert_eq!(status, 400);
    assert_eq!(
        other["errorType"], unknown_answer["errorType"],
        "no hint that it exists"
    );
    assert_eq!(other["errorMessage"], unknown_answer["errorMessage"]);
    switch.stop().await;
    sim.stop().await;
}

async fn post_as(base: &str, user: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .basic_auth(user, Some(password(user)))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_from_one_source_are_limited() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = secured(db.config());
    config.security.max_failed_auth_per_source = 3;
    let switch = TestServer::start(config).await;
    for _ in 0..3 {
        assert_eq!(
            call(
                &switch.base_url,
                Caller::WrongPassword,
                "GET",
                "/ops/saf",
                None
            )
            .await,
            401
        );
    }
    assert_eq!(
        call(
            &switch.base_url,
            Caller::WrongPassword,
            "GET",
            "/ops/saf",
            None
        )
        .await,
        429
    );
    assert_eq!(
        call(
            &switch.base_url,
            Caller::User("ops"),
            "GET",
            "/ops/saf",
            None
        )
        .await,
        429,
        "blocked before credentials are checked"
    );
    assert_eq!(
        call(&switch.base_url, Caller::Anonymous, "GET", "/health", None).await,
        200
    );
    switch.stop().await;
}

/// A certificate authority, a server certificate for 127.0.0.1 and a client certificate,
/// written as PEM files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca, &ca_key)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let client = CertificateParams::new(vec!["qrswitch-client".to_owned()])
            .unwrap()
            .signed_by(&client_key, &ca, &ca_key)
            .unwrap();
        let write = |name: &str, pem: String| std::fs::write(dir.path().join(name), pem).unwrap();
        write("ca.pem", ca.pem());
        write("server.pem", server.pem());
        write("server.key", server_key.serialize_pem());
        write("client.pem", client.pem());
        write("client.key", client_key.serialize_pem());
        Self { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn tls(&self, client_ca: bool) -> TlsConfig {
        TlsConfig {
            cert_path: self.path("server.pem"),
            key_path: self.path("server.key"),
            client_ca_path: client_ca.then(|| self.path("ca.pem")),
            require_client_cert: true,
        }
    }

    /// A client that trusts our CA, optionally presenting the client certificate, built the
    /// way the switch builds its partner clients.
    fn client(&self, with_certificate: bool) -> reqwest::Client {
        let sim = qrswitch::config::PartnerConfig {
            id: "peer".into(),
            name: "peer".into(),
            qr_guid: "za.co.peer".into(),
            template_tag: 30,
            qr_reference: Default::default(),
            qr_fields: Default::default(),
            base_url: "https://127.0.0.1".into(),
            username: None,
            password: None,
            timeout_ms: 5_000,
            enabled: true,
            max_in_flight: None,
            ca_path: Some(self.path("ca.pem")),
            client_cert_path: with_certificate.then(|| self.path("client.pem")),
            client_key_path: with_certificate.then(|| self.path("client.key")),
        };
        qrswitch::security::tls::partner_client(&sim).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_generated_certificate() {
    qrswitch::security::tls::install_crypto_provider();
    let pki = Pki::new();
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.server.tls = Some(pki.tls(false));
    let switch = TestServer::start(config).await;
    let https = switch.base_url.replace("http://", "https://");
    let response = pki
        .client(false)
        .get(format!("{https}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        reqwest::get(format!("{}/health", switch.base_url))
            .await
            .is_err(),
        "no plain HTTP on a TLS listener"
    );
    let untrusting = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(
        untrusting
            .get(format!("{https}/health"))
            .send()
            .await
            .is_err(),
        "unknown CA refused"
    );
    switch.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate() {
    qrswitch::security::tls::install_crypto_provider();
    let pki = Pki::new();
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.server.tls = Some(pki.tls(true));
    let switch = TestServer::start(config).await;
    let https = switch.base_url.replace("http://", "https://");
    let with = pki
        .client(true)
        .get(format!("{https}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        with.status(),
        200,
        "client certificate from the configured CA"
    );
    let without = pki
        .client(false)
        .get(format!("{https}/health"))
        .send()
        .await;
    assert!(without.is_err(), "no client certificate: handshake refused");
    switch.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_exposure_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let start = |config: Config| async move {
        let app = qrswitch::app::App::build(config).await.unwrap();
        qrswitch::server::start(app)
            .await
            .map_err(|e| e.to_string())
    };
    let mut open_everywhere = db.config();
    open_everywhere.server.listen = "0.0.0.0:0".parse().unwrap();
    let error = start(open_everywhere.clone()).await.err().expect("refused");
    assert!(error.contains("without configured users"), "{error}");

    let plain = secured(open_everywhere);
    let error = start(plain.clone()).await.err().expect("refused");
    assert!(error.contains("refusing plain HTTP"), "{error}");

    let mut allowed = plain;
    allowed.server.allow_plain_http = true;
    let running = start(allowed).await.expect("explicitly allowed");
    running.stop().await.unwrap();
}

/// A whole payment run through the binary: its logs hold no password, token or MSISDN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_full_payment_hold_no_secrets() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut users_toml = String::new();
    for user in users() {
        let role = format!("{:?}", user.role).to_lowercase();
        users_toml.push_str(&format!(
            "[[users]]\nname = \"{}\"\nrole = \"{role}\"\npassword_hash = \"{}\"\n\n",
            user.name, user.password_hash
        ));
    }
    let config_path = db.dir().join("switch.toml");
    std::fs::write(
        &config_path,
        format!(
            "[saf]\npoll_interval_ms = 50\n\n[[partners]]\nid = \"{PARTNER}\"\nname = \"Demo\"\n\
             qr_guid = \"za.co.demo\"\ntemplate_tag = 27\nbase_url = \"{}/qr/v1\"\n\
             username = \"switch\"\npassword = \"upstream-secret-pw\"\n\n{users_toml}",
            sim.base_url()
        ),
    )
    .unwrap();
    let config_arg = config_path.to_str().unwrap().to_owned();
    // Everything at debug, dependencies included: the strictest case.
    let switch = crate::common::process::ServeProcess::spawn_with_log_filter(
        db.dir(),
        None,
        &["--config", &config_arg, "serve"],
        "qrswitch listening",
        "debug",
    );
    let base = format!("http://{}", switch.addr);
    let msisdn = "27821234567";
    let token = "tok-SECRET-7f3a9c";
    let mut create = qr_request_for("shop-a");
    create["customer"] = json!({ "firstName": "Thandiwe", "msisdn": msisdn });
    let (status, created) = post_as(&base, "shop-a", "/qr/v1/qrCodes", &create).await;
    assert_eq!(status, 201);
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let mut scan = scan_notification(&tran_id, PARTNER);
    scan["partnerPaymentToken"] = token.into();
    assert_eq!(post_as(&base, PARTNER, "/qr/v1/scans", &scan).await.0, 202);
    let mut pay = payment_request(&tran_id, 900);
    pay["client"]["id"] = "shop-a".into();
    let (status, answer) = post_as(&base, "shop-a", "/qr/v1/payments", &pay).await;
    assert_eq!(status, 201, "{answer}");
    let confirmation = json!({ "id": new_id(), "requestId": pay["id"], "time": now_text(),
                               "thirdPartyIdentifiers": [], "tranId": tran_id });
    assert_eq!(
        post_as(
            &base,
            "shop-a",
            "/qr/v1/payments/confirmations",
            &confirmation
        )
        .await
        .0,
        202
    );
    assert_eq!(
        call(&base, Caller::WrongPassword, "GET", "/ops/saf", None).await,
        401
    );
    tokio::time::sleep(Duration::from_millis(500)).await; // the advice is delivered
    assert!(sim_received(&sim)
        .await
        .iter()
        .any(|r| r.operation == "confirmation"));
    let logs = switch.drain_logs().join("\n");
    assert!(
        logs.contains("/qr/v1/payments"),
        "request lines were captured"
    );
    assert!(
        logs.contains("authentication failed"),
        "the failed attempt was logged"
    );
    for secret in [
        msisdn,
        token,
        "Thandiwe",
        "not-the-password",
        "upstream-secret-pw",
    ] {
        assert!(!logs.contains(secret), "logs contain {secret}");
    }
    for (user, _) in USERS {
        assert!(!logs.contains(&password(user)), "logs contain a password");
    }
    assert!(switch.terminate().success());
    sim.stop().await;
}
