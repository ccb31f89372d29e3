//! Store-and-forward over real HTTP: advices reach the partner until it answers, survive
//! outages, restarts (SIGKILL) and a second instance, and park instead of being dropped.

use std::time::Duration;

use crate::common::process::ServeProcess;
use crate::common::qr::*;
use crate::common::*;
use aggregates::Payment;
use projections::rebuild::rebuild;
use qrswitch::config::Config;
use qrswitch::partner_sim::{Mode, Received, SimRunning};
use serde_json::{json, Value};

const PAY_TIMEOUT: Duration = Duration::from_secs(10);
const PARTNER_TIMEOUT: Duration = Duration::from_millis(1_500);
/// Upper bound of any wait in these tests.
const PATIENCE: Duration = Duration::from_secs(30);

fn saf_config(mut config: Config, sim: &SimRunning) -> Config {
    config = with_partners(
        config,
        vec![partner_config(PARTNER, 27, sim, PARTNER_TIMEOUT)],
        PAY_TIMEOUT,
    );
    config.saf.poll_interval_ms = 50;
    config.saf.backoff_base_ms = 50;
    config.saf.backoff_cap_ms = 400;
    config
}

/// A payment approved by the simulator: (tranId, the pay message).
async fn approved_payment(qr: &QrClient, cents: i64) -> (String, Value) {
    approved_payment_with(qr, PARTNER, cents).await
}

async fn approved_payment_with(qr: &QrClient, partner: &str, cents: i64) -> (String, Value) {
    let tran_id = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        qr.post("/scans", &scan_notification(&tran_id, partner))
            .await
            .0,
        202
    );
    let pay = payment_request(&tran_id, cents);
    let (status, answer) = qr.post("/payments", &pay).await;
    assert_eq!(status, 201, "{answer}");
    (tran_id, pay)
}

fn confirmation(pay: &Value, with_tran_id: bool) -> Value {
    let mut advice = json!({
        "id": new_id(),
        "requestId": pay["id"],
        "time": now_text(),
        "thirdPartyIdentifiers": pay["thirdPartyIdentifiers"],
        "amounts": { "approvedAmount": pay["amounts"]["requestAmount"] },
    });
    if with_tran_id {
        advice["tranId"] = pay["tranId"].clone();
    }
    advice
}

fn reversal(pay: &Value, reason: &str) -> Value {
    let mut advice = confirmation(pay, true);
    advice["reversalReason"] = reason.into();
    advice
}

async fn is_completed(app: &qrswitch::app::App, tran_id: &str) -> bool {
    app.payments.load(tran_id).await.unwrap().is_completed()
}

async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn final_answers(received: &[Received], advice_id: &str) -> usize {
    received
        .iter()
        .filter(|r| r.message_id.as_deref() == Some(advice_id) && (200..300).contains(&r.status))
        .count()
}

/// The partner is down (500s), then up: every advice arrives, each acknowledged once, the
/// payments complete, and the rebuilt outbox equals the live one.
async fn partner_down_then_up_every_advice_arrives_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let switch = TestServer::start(saf_config(db.config(), &sim)).await;
    let qr = QrClient::new(&switch.base_url);
    let (confirmed, confirmed_pay) = approved_payment(&qr, 1_000).await;
    let (reversed, reversed_pay) = approved_payment(&qr, 2_000).await;
    let (found_by_request, found_pay) = approved_payment(&qr, 3_000).await;

    set_sim_mode(&sim, Mode::Fail).await;
    let advices = [
        (
            "/payments/confirmations",
            confirmation(&confirmed_pay, true),
        ),
        ("/payments/reversals", reversal(&reversed_pay, "CANCELLED")),
        ("/payments/confirmations", confirmation(&found_pay, false)),
    ];
    for (path, advice) in &advices {
        let (status, echo) = qr.post(path, advice).await;
        assert_eq!(status, 202, "{echo}");
        assert_eq!(echo["id"], advice["id"]);
    }
    // The POS resends from its own queue: accepted, no second effect.
    assert_eq!(qr.post(advices[0].0, &advices[0].1).await.0, 202);

    wait_until(
        "every advice attempted twice while the partner is down",
        || async {
            let received = sim_received(&sim).await;
            advices.iter().all(|(_, a)| {
                received
                    .iter()
                    .filter(|r| r.message_id.as_deref() == a["id"].as_str() && r.status == 500)
                    .count()
                    >= 2
            })
        },
    )
    .await;
    set_sim_mode(&sim, Mode::Approve).await;
    let app = switch.app().clone();
    wait_until("all three payments completed", || async {
        is_completed(&app, &confirmed).await
            && is_completed(&app, &reversed).await
            && is_completed(&app, &found_by_request).await
    })
    .await;

    let received = sim_received(&sim).await;
    for (path, advice) in &advices {
        let id = advice["id"].as_str().unwrap();
        assert_eq!(final_answers(&received, id), 1, "{id} acknowledged once");
        let forwarded = received
            .iter()
            .find(|r| r.message_id.as_deref() == Some(id))
            .unwrap();
        let definition = if path.ends_with("confirmations") {
            "PaymentConfirmation"
        } else {
            "PaymentReversal"
        };
        contract::check(definition, &forwarded.body);
        assert_eq!(forwarded.body["partner"]["id"], PARTNER);
    }
    let forwarded_by_request = received
        .iter()
        .find(|r| r.message_id.as_deref() == advices[2].1["id"].as_str())
        .unwrap();
    assert_eq!(
        forwarded_by_request.tran_id.as_deref(),
        Some(found_by_request.as_str())
    );

    let metrics = switch.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("qrswitch_saf_depth"), "{metrics}");
    assert!(metrics.contains("qrswitch_saf_attempts_total"));

    app.catch_up_all().await.unwrap();
    let views = app.store.views().pool().clone();
    let live = projections::saf_outbox::all(&views).await.unwrap();
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|row| row.status == "DELIVERED"));
    // The final answer released each claim and counted its attempt: the bookkeeping shows
    // every send the partner saw (failed ones and the acknowledged one), no claim, no error.
    let bookkeeping = || async {
        sqlx::query_as::<_, (String, i64, Option<String>, Option<String>)>(
            "SELECT a.delivery_id, a.attempts, a.claimed_by, a.last_error
               FROM saf_attempts a ORDER BY a.delivery_id",
        )
        .fetch_all(&views)
        .await
        .unwrap()
    };
    let attempts = bookkeeping().await;
    assert_eq!(attempts.len(), 3);
    for (row, (delivery_id, tried, claimed_by, last_error)) in live.iter().zip(&attempts) {
        assert_eq!(&row.delivery_id, delivery_id);
        let advice_id = serde_json::from_str::<Value>(&row.message).unwrap()["id"].clone();
        let sent = received
            .iter()
            .filter(|r| r.message_id.as_deref() == advice_id.as_str())
            .count();
        assert_eq!(
            *tried,
            i64::try_from(sent).unwrap(),
            "{delivery_id}: attempts"
        );
        assert_eq!(claimed_by, &None, "{delivery_id}: claim released");
        assert_eq!(last_error, &None, "{delivery_id}: delivered");
    }
    let projector = app.projector(projections::saf_outbox::NAME).unwrap();
    rebuild(
        app.store.views(),
        std::slice::from_ref(projector),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(projections::saf_outbox::all(&views).await.unwrap(), live);
    assert_eq!(
        bookkeeping().await,
        attempts,
        "a rebuild leaves attempts alone"
    );
    switch.stop().await;
    sim.stop().await;
}
on_both_backends!(
    partner_down_then_up_every_advice_arrives_once,
    super::partner_down_then_up_every_advice_arrives_once
);

/// The POS confirms while its `pay` is still waiting on the partner: the confirmation is
/// kept, forwarded once the partner approves, and the payment completes.
async fn confirmation_before_the_pay_answer_completes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sim = start_sim(Mode::Delay(800), PARTNER, None).await;
    let switch = TestServer::start(saf_config(db.config(), &sim)).await;
    let qr = QrClient::new(&switch.base_url);
    let tran_id = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        qr.post("/scans", &scan_notification(&tran_id, PARTNER))
            .await
            .0,
        202
    );
    let pay = payment_request(&tran_id, 500);
    let pending_pay = {
        let qr = qr.clone();
        let pay = pay.clone();
        tokio::spawn(async move { qr.post("/payments", &pay).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let advice = confirmation(&pay, true);
    let (status, echo) = qr.post("/payments/confirmations", &advice).await;
    assert_eq!(status, 202, "{echo}");
    let (status, answer) = pending_pay.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    let app = switch.app().clone();
    wait_until("payment completed", || is_completed(&app, &tran_id)).await;
    let received = sim_received(&sim).await;
    assert_eq!(final_answers(&received, advice["id"].as_str().unwrap()), 1);
    switch.stop().await;
    sim.stop().await;
}
on_both_backends!(
    confirmation_before_the_pay_answer_completes,
    super::confirmation_before_the_pay_answer_completes
);

/// The documented outcomes: first advice wins; unknown payments are 404; a reversal of a
/// declined payment completes with nothing to forward; a confirmation of it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advice_outcomes_are_as_documented() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let switch = TestServer::start(saf_config(db.config(), &sim)).await;
    let qr = QrClient::new(&switch.base_url);
    let app = switch.app().clone();

    let (tran_id, pay) = approved_payment(&qr, 100).await;
    assert_eq!(
        qr.post("/payments/confirmations", &confirmation(&pay, true))
            .await
            .0,
        202
    );
    let (status, answer) = qr
        .post("/payments/reversals", &reversal(&pay, "CANCELLED"))
        .await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("TRANSACTION_NOT_SUPPORTED"))
    );
    wait_until("confirmed payment completed", || {
        is_completed(&app, &tran_id)
    })
    .await;

    let mut unknown = confirmation(&pay, true);
    unknown["tranId"] = "00000000000000000000000000000000".into();
    let (status, answer) = qr.post("/payments/confirmations", &unknown).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (404, Some("UNABLE_TO_LOCATE_RECORD"))
    );
    let mut unknown_request = confirmation(&pay, false);
    unknown_request["requestId"] = new_id().into();
    assert_eq!(
        qr.post("/payments/confirmations", &unknown_request).await.0,
        404
    );

    set_sim_mode(&sim, Mode::Decline).await;
    let declined = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    qr.post("/scans", &scan_notification(&declined, PARTNER))
        .await;
    let declined_pay = payment_request(&declined, 100);
    assert_eq!(qr.post("/payments", &declined_pay).await.0, 400);
    let (status, answer) = qr
        .post(
            "/payments/confirmations",
            &confirmation(&declined_pay, true),
        )
        .await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("TRANSACTION_NOT_SUPPORTED"))
    );
    assert_eq!(
        qr.post("/payments/reversals", &reversal(&declined_pay, "CANCELLED"))
            .await
            .0,
        202
    );
    assert!(
        is_completed(&app, &declined).await,
        "nothing to forward: complete at once"
    );
    let reversals = sim_received(&sim)
        .await
        .into_iter()
        .filter(|r| r.operation == "reversal")
        .count();
    assert_eq!(reversals, 0);
    switch.stop().await;
    sim.stop().await;
}

/// A delivery unanswered past the maximum age is parked (not dropped), shows in the ops
/// queue, and is delivered after ops unpark it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_past_maximum_age_is_parked_until_unparked() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut config = saf_config(db.config(), &sim);
    config.saf.max_age_ms = 1_000;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let app = switch.app().clone();
    let (tran_id, pay) = approved_payment(&qr, 100).await;
    set_sim_mode(&sim, Mode::Fail).await;
    let advice = confirmation(&pay, true);
    let advice_id = advice["id"].as_str().unwrap().to_owned();
    assert_eq!(qr.post("/payments/confirmations", &advice).await.0, 202);

    let parked_url = format!("{}/ops/saf?status=PARKED", switch.base_url);
    wait_until("delivery parked", || async {
        let parked: Vec<Value> = reqwest::get(&parked_url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        parked
            .iter()
            .any(|e| e["delivery"]["deliveryId"] == advice_id.as_str())
    })
    .await;
    let parked: Vec<Value> = reqwest::get(&parked_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &parked[0]["delivery"];
    assert!(entry["attempts"].as_i64().unwrap() >= 1, "{entry}");
    assert!(entry["lastError"].as_str().unwrap().contains("500"));
    assert!(parked[0]["ageSeconds"].is_i64());
    let attempts_when_parked = sim_received(&sim).await.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim_received(&sim).await.len(),
        attempts_when_parked,
        "parked: no more attempts"
    );
    assert!(!is_completed(&app, &tran_id).await);

    set_sim_mode(&sim, Mode::Approve).await;
    let http = reqwest::Client::new();
    let unpark = http
        .post(format!("{}/ops/saf/{advice_id}/unpark", switch.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unpark.status(), 200);
    wait_until("delivered after unpark", || is_completed(&app, &tran_id)).await;
    let again = http
        .post(format!("{}/ops/saf/{advice_id}/park", switch.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "a delivered advice cannot be parked");
    let missing = http
        .post(format!("{}/ops/saf/nope/retry", switch.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    switch.stop().await;
    sim.stop().await;
}

/// Two instances on one PostgreSQL drain one queue: every advice is sent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_send_the_same_delivery_twice() {
    const PAYMENTS: usize = 8;
    postgres_or_skip!("saf::two_instances_never_send_the_same_delivery_twice");
    let db = TestDb::new(Backend::Postgres).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let config = saf_config(db.config(), &sim);
    let first = TestServer::start(config.clone()).await;
    let second = TestServer::start(config).await;
    let clients = [
        QrClient::new(&first.base_url),
        QrClient::new(&second.base_url),
    ];
    let mut payments = Vec::new();
    for i in 0..PAYMENTS {
        payments.push(approved_payment(&clients[i % 2], 100 + i as i64).await);
    }
    // Slow answers keep deliveries in flight long enough for both dispatchers to see them.
    set_sim_mode(&sim, Mode::Delay(300)).await;
    let mut advice_ids = Vec::new();
    for (i, (_, pay)) in payments.iter().enumerate() {
        let advice = confirmation(pay, true);
        advice_ids.push(advice["id"].as_str().unwrap().to_owned());
        assert_eq!(
            clients[i % 2]
                .post("/payments/confirmations", &advice)
                .await
                .0,
            202
        );
    }
    let app = first.app().clone();
    wait_until("all payments completed", || async {
        for (tran_id, _) in &payments {
            if !is_completed(&app, tran_id).await {
                return false;
            }
        }
        true
    })
    .await;
    let received = sim_received(&sim).await;
    for id in &advice_ids {
        let sends = received
            .iter()
            .filter(|r| r.message_id.as_deref() == Some(id))
            .count();
        assert_eq!(sends, 1, "advice {id} sent {sends} times");
    }
    first.stop().await;
    second.stop().await;
    sim.stop().await;
}

/// SIGKILL while the queue holds undelivered advices: after a restart the queue drains and
/// every advice is acknowledged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_a_non_empty_queue_loses_nothing() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let config_path = db.dir().join("switch.toml");
    std::fs::write(
        &config_path,
        format!(
            "[saf]\npoll_interval_ms = 50\nbackoff_base_ms = 50\nbackoff_cap_ms = 400\n\n\
             [[partners]]\nid = \"{PARTNER}\"\nname = \"Demo\"\nqr_guid = \"za.co.demo\"\n\
             template_tag = 27\nbase_url = \"{}/qr/v1\"\ntimeout_ms = 1500\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let config_arg = config_path.to_str().unwrap().to_owned();
    let switch = ServeProcess::spawn(db.dir(), None, &["--config", &config_arg]);
    let qr = QrClient::new(&format!("http://{}", switch.addr));
    let mut advices = Vec::new();
    for cents in [100, 200, 300] {
        let (tran_id, pay) = approved_payment(&qr, cents).await;
        advices.push((tran_id, pay));
    }
    set_sim_mode(&sim, Mode::Fail).await;
    let mut advice_ids = Vec::new();
    for (_, pay) in &advices {
        let advice = confirmation(pay, true);
        advice_ids.push(advice["id"].as_str().unwrap().to_owned());
        assert_eq!(qr.post("/payments/confirmations", &advice).await.0, 202);
    }
    wait_until("advices attempted and failing", || async {
        let received = sim_received(&sim).await;
        advice_ids
            .iter()
            .all(|id| received.iter().any(|r| r.message_id.as_deref() == Some(id)))
    })
    .await;
    drop(switch); // SIGKILL
    set_sim_mode(&sim, Mode::Approve).await;

    let restarted = ServeProcess::spawn(db.dir(), None, &["--config", &config_arg]);
    wait_until("queue drained after restart", || async {
        let received = sim_received(&sim).await;
        advice_ids
            .iter()
            .all(|id| final_answers(&received, id) == 1)
    })
    .await;
    let mut config = db.config();
    config.database.url = format!("sqlite://{}", db.dir().join("qrswitch.db").display());
    let reader = qrswitch::app::App::build(config).await.unwrap();
    for (tran_id, _) in &advices {
        let reader = reader.clone();
        wait_until("completed", || {
            let reader = reader.clone();
            let tran_id = tran_id.clone();
            async move { is_completed(&reader, &tran_id).await }
        })
        .await;
        let events = reader.store.event_repository();
        let types: Vec<String> =
            cqrs_es::persist::PersistedEventRepository::get_events::<Payment>(&events, tran_id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.event_type)
                .collect();
        assert_eq!(types.iter().filter(|t| *t == "AdviceDelivered").count(), 1);
    }
    let received = sim_received(&sim).await;
    for id in &advice_ids {
        assert_eq!(final_answers(&received, id), 1);
    }
    reader.store.close().await;
    assert!(restarted.terminate().success());
    sim.stop().await;
}

/// One partner hangs on every advice: the other partner's advices are delivered regardless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_partner_does_not_hold_up_another() {
    let db = TestDb::new(Backend::Sqlite).await;
    let slow = start_sim(Mode::Approve, PARTNER, None).await;
    let fast = start_sim(Mode::Approve, OTHER_PARTNER, None).await;
    let mut config = saf_config(db.config(), &slow);
    config
        .partners
        .push(partner_config(OTHER_PARTNER, 28, &fast, PARTNER_TIMEOUT));
    config.partners[0].max_in_flight = Some(1);
    // Long enough that, were slots shared, the other partner would visibly wait for it.
    config.partners[0].timeout_ms = 5_000;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let app = switch.app().clone();
    let mut stuck = Vec::new();
    for cents in [100, 200] {
        stuck.push(approved_payment_with(&qr, PARTNER, cents).await);
    }
    let mut flowing = Vec::new();
    for cents in [300, 400, 500] {
        flowing.push(approved_payment_with(&qr, OTHER_PARTNER, cents).await);
    }
    set_sim_mode(&slow, Mode::Hang).await;
    for (_, pay) in stuck.iter().chain(&flowing) {
        assert_eq!(
            qr.post("/payments/confirmations", &confirmation(pay, true))
                .await
                .0,
            202
        );
    }
    let started = tokio::time::Instant::now();
    wait_until("the other partner's advices delivered", || async {
        for (tran_id, _) in &flowing {
            if !is_completed(&app, tran_id).await {
                return false;
            }
        }
        true
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "delivered while the hanging partner still holds its slot ({:?})",
        started.elapsed()
    );
    for (tran_id, _) in &stuck {
        assert!(
            !is_completed(&app, tran_id).await,
            "the hanging partner has not answered"
        );
    }
    let at_slow = sim_received(&slow)
        .await
        .into_iter()
        .filter(|r| r.operation == "confirmation")
        .count();
    assert!(at_slow >= 1, "the hanging partner is being tried");
    switch.stop().await;
    slow.stop().await;
    fast.stop().await;
}
