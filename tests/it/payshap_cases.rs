//! Held credits worked to closure, with four eyes on the steps that move money: a credit
//! to an unknown proxy is applied once its proxy is registered (asked by one user, approved
//! by another); one closed with a reason is applied to nothing and takes no other step;
//! self-approval is refused. A refund to the payer, approved, survives a first 503 and a
//! restart of the switch between request and result, and reaches the payer exactly once.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::scheme::*;
use crate::common::*;
use qrswitch::config::{Config, ElectrumConfig, UserConfig};
use qrswitch::payshap::approvals::refund_uetr;
use qrswitch::payshap::signing::VerifyingKey;
use qrswitch::scheme_sim::electrum::{self, ElectrumSim, ElectrumSimConfig};
use qrswitch::security::Role;
use serde_json::{json, Value};

const USERS: [(&str, Role); 4] = [
    ("maker", Role::Backoffice),
    ("checker", Role::Approver),
    ("second-checker", Role::Approver),
    ("ops", Role::Ops),
];

pub fn users() -> Vec<UserConfig> {
    static USERS_CONFIG: OnceLock<Vec<UserConfig>> = OnceLock::new();
    USERS_CONFIG
        .get_or_init(|| {
            USERS
                .iter()
                .map(|(name, role)| UserConfig {
                    name: (*name).to_owned(),
                    role: *role,
                    password_hash: qrswitch::security::credentials::hash_password(&format!(
                        "{name}-pw"
                    ))
                    .unwrap(),
                })
                .collect()
        })
        .clone()
}

pub fn start_sim() -> ElectrumSim {
    let switch_pem = std::fs::read(demo_key("demo-switch.pub.pem")).unwrap();
    electrum::start(ElectrumSimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        signer: scheme_signer(),
        switch_key: VerifyingKey::from_pem(&switch_pem, 30_000, 300_000).unwrap(),
        client: None,
        token_lifetime: Duration::from_secs(60),
        deadline: Duration::from_secs(10),
    })
    .unwrap()
}

pub fn config(db: &TestDb, sim: &ElectrumSim) -> Config {
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.users = users();
    config.payshap.electrum = Some(ElectrumConfig {
        base_url: sim.base_url(),
        timeout_ms: 500,
        first_backoff_ms: 50,
        max_backoff_ms: 200,
        decision_deadline_ms: 3_000,
        refund_max_attempts: 8,
        oauth: None,
    });
    config
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    async fn call(
        &self,
        user: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(user, Some(format!("{user}-pw")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(user, reqwest::Method::POST, path, Some(body))
            .await
    }

    /// `approver` approves request `approval`: the status and the decision.
    pub async fn approve(&self, approver: &str, approval: &str) -> (u16, Value) {
        let path = format!("/backoffice/api/approvals/{approval}/approve");
        self.post(approver, &path, json!({})).await
    }

    /// A console page as `user` sees it.
    pub async fn page(&self, user: &str, path: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(user, Some(format!("{user}-pw")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }

    pub async fn get(&self, user: &str, path: &str) -> Value {
        self.call(user, reqwest::Method::GET, path, None).await.1
    }

    /// Asks as `maker` and returns the request's id.
    pub async fn ask(&self, maker: &str, action: Value) -> String {
        let (status, asked) = self
            .post(
                maker,
                "/backoffice/api/approvals",
                json!({"action": action, "reason": "worked from the exceptions list"}),
            )
            .await;
        assert_eq!(status, 201, "{asked}");
        asked["approvalId"].as_str().unwrap().to_owned()
    }
}

/// Delivers a completion to `msisdn` (a proxy the registry does not know yet).
async fn held_credit(base: &str, msisdn: &str, amount: &str) -> String {
    let uetr = uuid::Uuid::new_v4().to_string();
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": msisdn });
    let body = completion_report(&uetr, &format!("m-{msisdn}"), "APPROVED", amount, proxy);
    let answer = scheme_client(base).complete(body.as_bytes()).await.unwrap();
    assert_eq!(answer.status, 202);
    uetr
}

pub async fn case_status(server: &TestServer, uetr: &str) -> Option<String> {
    server.app().catch_up_all().await.unwrap();
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT case_status FROM payshap_transfers WHERE uetr = $1",
    )
    .bind(uetr)
    .fetch_one(server.app().store.views().pool())
    .await
    .unwrap()
}

async fn worked_to_closure(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sim = start_sim();
    let server = TestServer::start(config(&db, &sim)).await;
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let held = held_credit(&server.base_url, "0820000001", "30.00").await;
    assert_eq!(case_status(&server, &held).await.as_deref(), Some("OPEN"));
    let open = client.get("maker", "/backoffice/api/cases").await;
    let listed = open
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["transfer"]["uetr"] == held.as_str())
        .cloned();
    assert_eq!(
        listed.unwrap()["transfer"]["amountMinor"],
        3_000,
        "age and amount listed"
    );
    // Applying before the proxy is known fails, visibly, and leaves the case open.
    let apply = json!({"action": "APPLY", "uetr": held, "note": "registered late"});
    let early = client.ask("maker", apply.clone()).await;
    let (_, decided) = client.approve("checker", &early).await;
    assert_eq!(decided["status"], "FAILED", "{decided}");
    // Self-approval is refused; an approver may not be a maker's only check.
    let own = client.ask("checker", apply.clone()).await;
    let (status, refused) = client.approve("checker", &own).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("four eyes"), "{refused}");
    let (status, _) = client.approve("maker", &own).await;
    assert_eq!(status, 403, "a maker is no approver");
    // Registered, asked by one, approved by another: applied once.
    let registration = json!({
        "schema": "MOBILE", "namespace": "shop", "value": "0820000001", "knownAsName": "Corner Shop",
        "legalName": "Corner Shop (Pty) Ltd", "accountCreationDate": "2019-03-14",
        "status": "active", "resolutionAllowed": true,
    });
    assert_eq!(
        client.post("ops", "/admin/proxies", registration).await.0,
        201
    );
    server.app().catch_up_all().await.unwrap();
    let approval = client.ask("maker", apply.clone()).await;
    let (_, decided) = client.approve("second-checker", &approval).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    assert_eq!(
        case_status(&server, &held).await.as_deref(),
        Some("APPLIED")
    );
    let (status, _) = client
        .post(
            "maker",
            "/backoffice/api/approvals",
            json!({"action": apply, "reason": "again"}),
        )
        .await;
    assert_eq!(status, 409, "an applied case takes no other step");
    let events = stored_event_types(server.app(), "PayShapTransfer", &held).await;
    assert_eq!(
        events.iter().filter(|e| *e == "Credited").count(),
        1,
        "{events:?}"
    );
    // Closed with a reason: nothing else may happen to it.
    let closed = held_credit(&server.base_url, "0820000002", "12.00").await;
    case_status(&server, &closed).await;
    let path = format!("/backoffice/api/cases/{closed}/close");
    let (status, _) = client
        .post("maker", &path, json!({"reasonCode": "BORED", "note": "x"}))
        .await;
    assert_eq!(status, 409, "an unknown reason is refused");
    let (status, _) = client
        .post(
            "maker",
            &path,
            json!({"reasonCode": "DUPLICATE", "note": "paid twice by the payer's bank"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        case_status(&server, &closed).await.as_deref(),
        Some("CLOSED")
    );
    let refund = json!({"action": "REFUND", "uetr": closed});
    let (status, said) = client
        .post(
            "maker",
            "/backoffice/api/approvals",
            json!({"action": refund, "reason": "return it"}),
        )
        .await;
    assert_eq!(status, 409, "{said}");
    assert!(said.to_string().contains("CLOSED"), "{said}");
    server.stop().await;
    sim.stop().await;
}

on_both_backends!(worked_to_closure_on, super::worked_to_closure);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_survives_a_restart_and_a_first_503_and_pays_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim();
    let server = TestServer::start(config(&db, &sim)).await;
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let held = held_credit(&server.base_url, "0820000003", "45.50").await;
    case_status(&server, &held).await;
    // Results are held back until the switch has restarted; the first send gets a 503.
    sim.set_switch_url(None);
    sim.fail_next(1);
    let approval = client
        .ask("maker", json!({"action": "REFUND", "uetr": held}))
        .await;
    let (_, decided) = client.approve("checker", &approval).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let refund = refund_uetr(&approval);
    let until = Instant::now() + Duration::from_secs(10);
    while sim.outbound(&refund).0 < 2 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sim.outbound(&refund),
        (2, 1),
        "a 503, then accepted: paid once"
    );
    assert_eq!(
        case_status(&server, &held).await.as_deref(),
        Some("RETURNING")
    );
    server.stop().await;
    let server = TestServer::start(config(&db, &sim)).await;
    sim.set_switch_url(Some(&server.base_url));
    let until = Instant::now() + Duration::from_secs(10);
    while case_status(&server, &held).await.as_deref() != Some("RETURNED") && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        case_status(&server, &held).await.as_deref(),
        Some("RETURNED")
    );
    assert_eq!(
        stored_event_types(server.app(), "Refund", &refund).await,
        [
            "RefundRequested",
            "RefundSent",
            "RefundResultReceived",
            "RefundSettled"
        ]
    );
    assert_eq!(
        sim.outbound(&refund),
        (2, 1),
        "the payer was paid exactly once"
    );
    server.stop().await;
    sim.stop().await;
}

/// An authorised QR payment, made through the payment's own commands.
async fn authorised_payment(app: &qrswitch::app::App) -> String {
    let tran_id = issue_and_request(app, 2_000).await;
    let run = |command| async {
        app.payments
            .execute(tran_id.as_str(), command, &metadata("wallet-x"))
            .await
            .unwrap();
    };
    run(scan_by("wallet-x")).await;
    run(aggregates::PaymentCommand::StartAuthorisation {
        at: chrono::Utc::now(),
    })
    .await;
    run(aggregates::PaymentCommand::RecordAuthorisation {
        outcome: aggregates::AuthorisationOutcome::Approved {
            response: json!({"approved": true}),
        },
        at: chrono::Utc::now(),
    })
    .await;
    tran_id.to_string()
}

/// A manual reversal and new fee terms move money too: each takes a second person, and new
/// terms approved stay in force when the configured ones are put in force again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_reversal_and_new_fee_terms_take_a_second_person() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim();
    let server = TestServer::start(config(&db, &sim)).await;
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let app = server.app();
    let tran_id = authorised_payment(app).await;
    let reversal = json!({"action": "MANUAL_REVERSAL", "tranId": tran_id, "reason": "lane lost power before advising"});
    let own = client.ask("checker", reversal.clone()).await;
    let (status, _) = client.approve("checker", &own).await;
    assert_eq!(status, 409, "self-approval is refused");
    let asked = client.ask("maker", reversal).await;
    let (_, decided) = client.approve("checker", &asked).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let events = stored_event_types(app, "Payment", &tran_id).await;
    assert!(events.contains(&"Advised".to_owned()), "{events:?}");
    // New terms for a partner, approved, then the configured ones put in force again (a
    // restart): the approved ones stay.
    let terms =
        json!({"basis_points": 120, "fixed_minor": 0, "minimum_minor": 0, "maximum_minor": null});
    let asked = client
        .ask(
            "maker",
            json!({"action": "FEE_TERMS", "partnerId": "wallet-x", "terms": terms}),
        )
        .await;
    let (_, decided) = client.approve("checker", &asked).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let schedule = app.fee_schedules.load("wallet-x").await.unwrap();
    assert_eq!(schedule.terms().map(|t| t.basis_points), Some(120));
    let rejected = client
        .ask(
            "maker",
            json!({"action": "FEE_TERMS", "partnerId": "wallet-x", "terms": terms}),
        )
        .await;
    let (_, said) = client
        .post(
            "second-checker",
            &format!("/backoffice/api/approvals/{rejected}/reject"),
            json!({"note": "no change asked"}),
        )
        .await;
    assert_eq!(said["status"], "REJECTED");
    let (status, _) = client.approve("checker", &rejected).await;
    assert_eq!(status, 409, "a rejected request stays rejected");
    server.stop().await;
    sim.stop().await;
}

/// A refund the payer's bank rejects holds the money again (the case OPEN, visibly); the
/// result delivered twice changes nothing the second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refund_holds_the_money_again_and_a_repeated_result_changes_nothing() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim();
    let server = TestServer::start(config(&db, &sim)).await;
    sim.set_switch_url(Some(&server.base_url));
    sim.set_refund_outcome("REJECTED");
    sim.set_repeat_results(true);
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let held = held_credit(&server.base_url, "0820000004", "19.99").await;
    case_status(&server, &held).await;
    let approval = client
        .ask("maker", json!({"action": "REFUND", "uetr": held}))
        .await;
    let (_, decided) = client.approve("checker", &approval).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let refund = refund_uetr(&approval);
    let until = Instant::now() + Duration::from_secs(10);
    while sim.results_acknowledged(&refund) < 2 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sim.results_acknowledged(&refund),
        2,
        "delivered, then repeated"
    );
    let events = stored_event_types(server.app(), "Refund", &refund).await;
    let count = |name: &str| events.iter().filter(|e| *e == name).count();
    assert_eq!(
        (count("RefundResultReceived"), count("RefundFailed")),
        (1, 1),
        "the repeat changed nothing: {events:?}"
    );
    assert_eq!(
        case_status(&server, &held).await.as_deref(),
        Some("OPEN"),
        "held again"
    );
    assert_eq!(sim.outbound(&refund).1, 0, "nothing paid out");
    let steps = stored_event_types(server.app(), "PayShapTransfer", &held).await;
    assert_eq!(
        steps.iter().filter(|e| *e == "CaseStepTaken").count(),
        2,
        "return, then return failed: {steps:?}"
    );
    server.stop().await;
    sim.stop().await;
}
