//! Partner-auth in the published shapes, against the scheme simulator playing both sides of
//! Electrum: it sends `CreditTransfer` to our credit-transfer-authorisation (202 within 1 s,
//! signed), and takes our decision at its credit-transfer-authorisation-response, where it
//! demands a bearer token from its token endpoint and our signature. A live proxy is
//! approved and its completion credited; an unknown one is refused with BE23 and a
//! completion after the refusal credits nothing. Decisions survive 503s, are given up at
//! the scheme's deadline when nobody answers or the answer is late, and one recorded by an
//! instance that stopped before sending it is sent by the instance that carries on.

use std::time::{Duration, Instant};

use crate::common::scheme::*;
use crate::common::*;
use crate::payshap_signed::Wire;
use aggregates::payshap_transfer::{AuthorisationRequest, Decision, PayShapCommand};
use qrswitch::config::{Config, ElectrumConfig, OAuthConfig};
use qrswitch::payshap::signing::VerifyingKey;
use qrswitch::payshap::AUTHORISATION_PATH;
use qrswitch::scheme_sim::electrum::{self, ElectrumSim, ElectrumSimConfig};
use qrswitch::scheme_sim::{credit_transfer, Creditor};
use serde_json::{json, Value};

const LIVE: &str = "0821234567";
const UNKNOWN: &str = "0829999999";
/// The retailer whose QR payments we authorise (by merchant).
const MERCHANT: &str = "demo-retailer";
/// The switch gives up on a decision nobody acknowledged after this (scheme: 10 s).
const SWITCH_DEADLINE_MS: u64 = 3_000;
/// The simulator refuses decisions that arrive later than this after its request.
const SIM_DEADLINE: Duration = Duration::from_millis(1_500);

struct Rig {
    server: TestServer,
    sim: ElectrumSim,
    _db: TestDb,
}

fn start_sim() -> ElectrumSim {
    let switch_pem = std::fs::read(demo_key("demo-switch.pub.pem")).unwrap();
    electrum::start(ElectrumSimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        signer: scheme_signer(),
        switch_key: VerifyingKey::from_pem(&switch_pem, 30_000, 300_000).unwrap(),
        client: Some(("qrswitch".to_owned(), "demo-secret".to_owned())),
        token_lifetime: Duration::from_secs(4),
        deadline: SIM_DEADLINE,
    })
    .unwrap()
}

fn partner_auth_config(db: &TestDb, sim: &ElectrumSim) -> Config {
    let mut config = db.config();
    with_demo_signing(&mut config);
    let secret = db.dir().join("electrum-client-secret");
    std::fs::write(&secret, "demo-secret\n").unwrap();
    config.payshap.partner_auth.namespaces = vec!["shop".to_owned()];
    config.payshap.electrum = Some(ElectrumConfig {
        base_url: sim.base_url(),
        timeout_ms: 400,
        first_backoff_ms: 50,
        max_backoff_ms: 200,
        decision_deadline_ms: SWITCH_DEADLINE_MS,
        refund_max_attempts: 8,
        oauth: Some(OAuthConfig {
            token_url: format!("{}{}", sim.base_url(), electrum::TOKEN_PATH),
            client_id: "qrswitch".to_owned(),
            client_secret_file: secret,
            scopes: vec!["payments".to_owned()],
        }),
    });
    config
}

impl Rig {
    async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    async fn start_with(backend: Backend, change: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend).await;
        let sim = start_sim();
        let mut config = partner_auth_config(&db, &sim);
        change(&mut config);
        let server = TestServer::start(config).await;
        let rig = Self {
            server,
            sim,
            _db: db,
        };
        let registration = json!({
            "schema": "MOBILE", "namespace": "shop", "value": LIVE, "knownAsName": "Corner Shop",
            "legalName": "Corner Shop (Pty) Ltd", "accountCreationDate": "2019-03-14",
            "status": "active", "resolutionAllowed": true,
        });
        let response = reqwest::Client::new()
            .post(format!("{}/admin/proxies", rig.server.base_url))
            .json(&registration)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        rig.server.app().catch_up_all().await.unwrap();
        rig
    }

    /// Sends Electrum's authorisation request for a credit to `msisdn`; the answer must be
    /// 202, signed, within the scheme's 1 s.
    async fn authorise(&self, uetr: &str, msisdn: &str, amount: &str) -> String {
        let creditor = Creditor::Proxy {
            schema: "MOBILE",
            namespace: "shop",
            value: msisdn,
        };
        self.authorise_to(uetr, creditor, amount).await
    }

    async fn authorise_to(&self, uetr: &str, creditor: Creditor<'_>, amount: &str) -> String {
        let message_id = uuid::Uuid::new_v4().simple().to_string();
        let body = credit_transfer(uetr, &message_id, amount, creditor);
        self.sim.asking(uetr);
        let started = Instant::now();
        let response = reqwest::Client::new()
            .post(format!("{}{AUTHORISATION_PATH}", self.server.base_url))
            .header(
                "x-jwt-signature",
                scheme_signer().sign(body.as_bytes()).unwrap(),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "acknowledged within 1 s"
        );
        let answer = Wire::from(response).await;
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        answer.assert_signed("the authorisation's 202");
        message_id
    }

    async fn complete(&self, uetr: &str, msisdn: &str) -> u16 {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": msisdn });
        let body = completion_report(uetr, &id, "APPROVED", "25.00", proxy);
        let answer = scheme_client(&self.server.base_url)
            .complete(body.as_bytes())
            .await
            .unwrap();
        answer.status
    }

    /// The decision's row once its delivery has ended (or the last one seen).
    async fn settled(&self, uetr: &str) -> Value {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            self.server.app().catch_up_all().await.unwrap();
            let rows: Value = self
                .server
                .get("/ops/payshap/authorisations")
                .await
                .json()
                .await
                .unwrap();
            let row = rows
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["uetr"] == uetr)
                .cloned()
                .unwrap_or(Value::Null);
            if row["delivery"] != "PENDING" && !row.is_null() || Instant::now() > until {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn approves_a_live_proxy_and_refuses_an_unknown_one(backend: Backend) {
    let rig = Rig::start(backend).await;
    // Given a live proxy, when Electrum asks, then we approve, and its completion credits.
    let approved = uuid::Uuid::new_v4().to_string();
    let asked = rig.authorise(&approved, LIVE, "25.00").await;
    let decision = rig
        .sim
        .decision(&approved, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(decision.outcome, "APPROVED");
    assert_eq!(
        decision.original_message_id, asked,
        "the report names the request"
    );
    assert!(
        decision.after.unwrap() < Duration::from_secs(10),
        "inside the scheme's 10 s"
    );
    assert_eq!(rig.settled(&approved).await["delivery"], "DELIVERED");
    assert_eq!(rig.complete(&approved, LIVE).await, 202);
    let app = rig.server.app();
    let events = stored_event_types(app, "PayShapTransfer", &approved).await;
    assert_eq!(
        events,
        [
            "AuthorisationRequested",
            "AuthorisationDecided",
            "DecisionDelivered",
            "CompletionReceived",
            "Credited"
        ]
    );
    // An unsigned request is refused 401, signed, and nothing is decided.
    let unsigned = reqwest::Client::new()
        .post(format!("{}{AUTHORISATION_PATH}", rig.server.base_url))
        .body(credit_transfer(
            &uuid::Uuid::new_v4().to_string(),
            "m-unsigned",
            "1.00",
            Creditor::Proxy {
                schema: "MOBILE",
                namespace: "shop",
                value: LIVE,
            },
        ))
        .send()
        .await
        .unwrap();
    let unsigned = Wire::from(unsigned).await;
    assert_eq!(unsigned.status, 401);
    unsigned.assert_signed("the unsigned authorisation's 401");
    // Given an unknown proxy, then we refuse with BE23, and a completion after it is an
    // exception, never a credit.
    let refused = uuid::Uuid::new_v4().to_string();
    rig.authorise(&refused, UNKNOWN, "25.00").await;
    let decision = rig
        .sim
        .decision(&refused, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        (decision.outcome.as_str(), decision.reason.as_deref()),
        ("REJECTED", Some("BE23"))
    );
    assert_eq!(
        rig.complete(&refused, UNKNOWN).await,
        202,
        "acknowledged all the same"
    );
    let events = stored_event_types(app, "PayShapTransfer", &refused).await;
    assert!(
        events.contains(&"CompletionRefused".to_owned()),
        "{events:?}"
    );
    assert!(!events.contains(&"Credited".to_owned()), "{events:?}");
    app.catch_up_all().await.unwrap();
    let transfer: Value =
        sqlx::query_scalar::<_, String>("SELECT exception FROM payshap_transfers WHERE uetr = $1")
            .bind(&refused)
            .fetch_one(app.store.views().pool())
            .await
            .map(Value::String)
            .unwrap();
    assert_eq!(
        transfer,
        "not credited: completion after our refusal (BE23)"
    );
    assert_eq!(rig.settled(&refused).await["reasonCode"], "BE23");
    assert!(
        rig.sim.tokens_issued() >= 1,
        "a bearer token was fetched and used"
    );
    rig.server.stop().await;
    rig.sim.stop().await;
}

on_both_backends!(
    approves_and_refuses,
    super::approves_a_live_proxy_and_refuses_an_unknown_one
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_retried_and_given_up_at_the_deadline() {
    let rig = Rig::start(Backend::Sqlite).await;
    // Two 503s, then acknowledged: the same message three times.
    rig.sim.fail_next(2);
    let retried = uuid::Uuid::new_v4().to_string();
    rig.authorise(&retried, LIVE, "25.00").await;
    let row = rig.settled(&retried).await;
    assert_eq!(
        (row["delivery"].as_str(), row["attempts"].as_i64()),
        (Some("DELIVERED"), Some(3))
    );
    let sent: Vec<_> = rig
        .sim
        .arrived()
        .into_iter()
        .filter(|d| d.uetr == retried)
        .collect();
    assert_eq!(
        sent.iter().map(|d| d.status).collect::<Vec<_>>(),
        [503, 503, 202]
    );
    assert!(
        sent.windows(2).all(|w| w[0].message_id == w[1].message_id),
        "one message, resent"
    );
    // Nobody answers: given up at the switch's deadline, visibly.
    rig.sim.set_silent(true);
    let unanswered = uuid::Uuid::new_v4().to_string();
    rig.authorise(&unanswered, LIVE, "25.00").await;
    let row = rig.settled(&unanswered).await;
    rig.sim.set_silent(false);
    assert_eq!(row["delivery"], "UNDELIVERED");
    assert!(
        row["deliveryNote"].as_str().unwrap().contains("deadline"),
        "{row}"
    );
    // The answer comes after the scheme's deadline: Electrum refuses it, we record why.
    rig.sim.fail_next(u32::MAX);
    let late = uuid::Uuid::new_v4().to_string();
    rig.authorise(&late, LIVE, "25.00").await;
    tokio::time::sleep(SIM_DEADLINE + Duration::from_millis(200)).await;
    rig.sim.fail_next(0);
    let row = rig.settled(&late).await;
    assert_eq!(row["delivery"], "UNDELIVERED");
    assert!(
        row["deliveryNote"].as_str().unwrap().contains("422"),
        "{row}"
    );
    // Tokens last 4 s here: past 2 s the client fetched a fresh one before sending.
    assert!(rig.sim.tokens_issued() >= 2, "renewed at half-life");
    rig.server.stop().await;
    rig.sim.stop().await;
}

/// A decision recorded by an instance that stopped before sending it (nothing in flight
/// here knows of it) is found in the view and sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_recorded_but_never_sent_is_sent_after_all() {
    let rig = Rig::start(Backend::Sqlite).await;
    let uetr = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let command = PayShapCommand::Authorise {
        request: AuthorisationRequest {
            message_id: "orphan-request".to_owned(),
            uetr: uetr.clone(),
            end_to_end_id: Some("E2Eorphan".to_owned()),
            amount: rand(2_500),
            proxy_id: Some(format!("MOBILE|shop|{LIVE}")),
            tran_id: None,
            debtor_name: None,
            created_at: now.to_rfc3339(),
            received_at: now,
        },
        decision: Decision {
            approved: true,
            reason_code: None,
            reason: "approved".to_owned(),
            decided_at: now,
        },
    };
    rig.server
        .app()
        .payshap
        .execute(&uetr, command, &metadata("demo-scheme"))
        .await
        .unwrap();
    let decision = rig.sim.decision(&uetr, Duration::from_secs(5)).await;
    assert_eq!(
        decision.map(|d| d.original_message_id).as_deref(),
        Some("orphan-request")
    );
    assert_eq!(rig.settled(&uetr).await["delivery"], "DELIVERED");
    rig.server.stop().await;
    rig.sim.stop().await;
}

/// Per merchant: a QR payment of a partner-auth merchant is approved for the amount it asks
/// and refused (AG03) for another; a completion for it that we never approved credits nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qr_payment_is_authorised_for_its_own_amount() {
    let rig = Rig::start_with(Backend::Sqlite, |config| {
        config.payshap.partner_auth.merchants = vec![MERCHANT.to_owned()];
    })
    .await;
    let app = rig.server.app();
    let tran_id = issue_and_request(app, 2_500).await;
    let qr = || Creditor::Proxy {
        schema: "CUSTOM",
        namespace: "qrswitch",
        value: tran_id.as_str(),
    };
    let other_amount = uuid::Uuid::new_v4().to_string();
    rig.authorise_to(&other_amount, qr(), "30.00").await;
    let decision = rig
        .sim
        .decision(&other_amount, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        (decision.outcome.as_str(), decision.reason.as_deref()),
        ("REJECTED", Some("AG03"))
    );
    let its_amount = uuid::Uuid::new_v4().to_string();
    rig.authorise_to(&its_amount, qr(), "25.00").await;
    let decision = rig
        .sim
        .decision(&its_amount, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(decision.outcome, "APPROVED");
    let never_asked = uuid::Uuid::new_v4().to_string();
    let proxy = json!({ "schema": "CUSTOM", "namespace": "qrswitch", "value": tran_id.as_str() });
    let body = completion_report(&never_asked, "m-unasked", "APPROVED", "25.00", proxy);
    let answer = scheme_client(&rig.server.base_url)
        .complete(body.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    let events = stored_event_types(app, "PayShapTransfer", &never_asked).await;
    assert_eq!(
        events,
        ["CompletionReceived", "CompletionRefused"],
        "never credited"
    );
    rig.server.stop().await;
    rig.sim.stop().await;
}
