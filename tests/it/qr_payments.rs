//! QR payments end to end over real HTTP: POS → switch → partner simulator → switch → POS.
//! Every body exchanged with the switch is checked against the published contract.

use std::time::Duration;

use crate::common::qr::*;
use crate::common::*;
use aggregates::Payment;
use cqrs_es::persist::PersistedEventRepository;
use qrswitch::emv::payload::QrScheme;
use qrswitch::emv::validate::validate;
use qrswitch::partner_sim::{Mode, SimRunning};

/// Long enough for a debug build on a loaded 2-core machine, short enough for a test.
const PAY_TIMEOUT: Duration = Duration::from_millis(2_500);
const PARTNER_TIMEOUT: Duration = Duration::from_millis(1_500);

struct Fixture {
    _db: TestDb,
    switch: TestServer,
    sim: SimRunning,
    other_sim: SimRunning,
    qr: QrClient,
}

impl Fixture {
    async fn start(backend: Backend, mode: Mode) -> Self {
        let db = TestDb::new(backend).await;
        let sim = start_sim(mode, PARTNER, None).await;
        let other_sim = start_sim(Mode::Approve, OTHER_PARTNER, None).await;
        let config = with_partners(
            db.config(),
            vec![
                partner_config(PARTNER, 27, &sim, PARTNER_TIMEOUT),
                partner_config(OTHER_PARTNER, 28, &other_sim, PARTNER_TIMEOUT),
            ],
            PAY_TIMEOUT,
        );
        let switch = TestServer::start(config).await;
        let qr = QrClient::new(&switch.base_url);
        Self {
            _db: db,
            switch,
            sim,
            other_sim,
            qr,
        }
    }

    async fn scan(&self, tran_id: &str, partner: &str) -> (u16, serde_json::Value) {
        self.qr
            .post("/scans", &scan_notification(tran_id, partner))
            .await
    }

    async fn event_types(&self, tran_id: &str) -> Vec<String> {
        self.switch
            .app()
            .store
            .event_repository()
            .get_events::<Payment>(tran_id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    async fn stop(self) {
        self.switch.stop().await;
        self.sim.stop().await;
        self.other_sim.stop().await;
    }
}

fn tran_id_of(created: &serde_json::Value) -> String {
    created["tranId"].as_str().unwrap().to_owned()
}

async fn happy_path(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let created = fx.qr.create_qr(Some(2_500)).await;
    let tran_id = tran_id_of(&created);
    let payload = created["qrCode"].as_str().unwrap();
    let validated = validate(payload, QrScheme::EmvcoMerchant).expect("valid EMV payload");
    let guids: Vec<_> = validated.accounts.iter().map(|a| a.guid.as_str()).collect();
    assert_eq!(
        guids,
        ["za.co.qrswitch", "za.co.demopartner", "za.co.otherpartner"]
    );
    assert!(validated.accounts.iter().all(|a| a.reference == tran_id));
    assert_eq!(validated.value(54), Some("25.00"));

    let pay = fx.qr.spawn_pay(&tran_id, 2_500);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _) = fx.scan(&tran_id, PARTNER).await;
    assert_eq!(status, 202);
    let (status, answer) = pay.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["tranId"], tran_id.as_str());
    assert_eq!(answer["partner"]["id"], PARTNER);
    assert_eq!(answer["amounts"]["approvedAmount"]["amount"], 2_500);
    assert_eq!(answer["tenders"][0]["tenderType"], "WALLET");

    let received = sim_received(&fx.sim).await;
    assert_eq!(received.len(), 1, "the partner is asked exactly once");
    assert_eq!(received[0].operation, "payment");
    assert_eq!(received[0].tran_id.as_deref(), Some(tran_id.as_str()));
    let upstream = &received[0].body;
    contract::check("PaymentRequest", upstream);
    assert_eq!(upstream["partner"]["id"], PARTNER);
    assert!(upstream["partnerPaymentToken"]
        .as_str()
        .unwrap()
        .starts_with("token-"));
    assert!(sim_received(&fx.other_sim).await.is_empty());
    assert_eq!(
        fx.event_types(&tran_id).await,
        [
            "QrIssued",
            "PaymentRequested",
            "ScanReceived",
            "Matched",
            "AuthorisationRequested",
            "Authorised"
        ]
    );
    fx.stop().await;
}
on_both_backends!(happy_path, super::happy_path);

async fn scan_before_payment_request(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    assert_eq!(fx.scan(&tran_id, PARTNER).await.0, 202);
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 999))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["amounts"]["approvedAmount"]["amount"], 999);
    assert_eq!(sim_received(&fx.sim).await.len(), 1);
    fx.stop().await;
}
on_both_backends!(
    scan_before_payment_request,
    super::scan_before_payment_request
);

async fn no_scan_times_out_and_a_late_scan_is_refused(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    let started = std::time::Instant::now();
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 100))
        .await;
    assert_eq!(status, 504, "{answer}");
    assert_eq!(answer["errorType"], "NO_SCAN_RECEIVED");
    assert!(started.elapsed() >= PAY_TIMEOUT);

    let (status, answer) = fx.scan(&tran_id, PARTNER).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errorType"], "INVALID_TRAN_ID");
    assert!(
        sim_received(&fx.sim).await.is_empty(),
        "nobody to authorise"
    );
    assert_eq!(
        fx.event_types(&tran_id).await,
        ["QrIssued", "PaymentRequested", "TimedOut"]
    );
    fx.stop().await;
}
on_both_backends!(
    no_scan_times_out_and_a_late_scan_is_refused,
    super::no_scan_times_out_and_a_late_scan_is_refused
);

async fn partner_decline_reaches_the_pos(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Decline).await;
    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    assert_eq!(fx.scan(&tran_id, PARTNER).await.0, 202);
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 100))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errorType"], "DECLINED_BY_PARTNER");
    assert_eq!(answer["tranId"], tran_id.as_str());
    assert_eq!(fx.event_types(&tran_id).await.last().unwrap(), "Declined");
    fx.stop().await;
}
on_both_backends!(
    partner_decline_reaches_the_pos,
    super::partner_decline_reaches_the_pos
);

/// The partner never answers: the POS gets 504 and a timeout reversal is recorded for the
/// partner, since it may have approved.
async fn partner_hangs(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Hang).await;
    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    assert_eq!(fx.scan(&tran_id, PARTNER).await.0, 202);
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 100))
        .await;
    assert_eq!(status, 504, "{answer}");
    assert_eq!(answer["errorType"], "UPSTREAM_UNAVAILABLE");
    let events = fx.event_types(&tran_id).await;
    let timed_out = events
        .iter()
        .position(|e| e == "TimedOut")
        .expect("timed out");
    assert_eq!(
        &events[timed_out..timed_out + 3],
        ["TimedOut", "TimeoutReversalQueued", "DeliveryScheduled"]
    );
    fx.stop().await;
}
on_both_backends!(partner_hangs, super::partner_hangs);

/// A 5xx is no answer either: outcome unknown, reversal queued, POS told at once.
async fn partner_failure_is_unknown(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Fail).await;
    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    assert_eq!(fx.scan(&tran_id, PARTNER).await.0, 202);
    let started = std::time::Instant::now();
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 100))
        .await;
    assert_eq!(status, 504, "{answer}");
    assert!(
        started.elapsed() < PAY_TIMEOUT,
        "no need to wait for the timeout"
    );
    let events = fx.event_types(&tran_id).await;
    assert!(
        events.contains(&"TimeoutReversalQueued".to_owned()),
        "{events:?}"
    );
    fx.stop().await;
}
on_both_backends!(
    partner_failure_is_unknown,
    super::partner_failure_is_unknown
);

/// The POS's wait ends before the partner's answer: 504, reversal queued, and the late
/// approval is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_partner_answer_is_ignored() {
    let delay_ms = PAY_TIMEOUT.as_millis() as u64 + 500;
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Delay(delay_ms), PARTNER, None).await;
    let config = with_partners(
        db.config(),
        vec![partner_config(
            PARTNER,
            27,
            &sim,
            Duration::from_millis(delay_ms + 2_000),
        )],
        PAY_TIMEOUT,
    );
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let tran_id = tran_id_of(&qr.create_qr(None).await);
    qr.post("/scans", &scan_notification(&tran_id, PARTNER))
        .await;
    let (status, answer) = qr.post("/payments", &payment_request(&tran_id, 100)).await;
    assert_eq!(status, 504, "{answer}");
    tokio::time::sleep(Duration::from_millis(1_000)).await; // the approval arrives meanwhile
    let events: Vec<String> = switch
        .app()
        .store
        .event_repository()
        .get_events::<Payment>(&tran_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert!(
        events.contains(&"TimeoutReversalQueued".to_owned()),
        "{events:?}"
    );
    assert!(!events.contains(&"Authorised".to_owned()));
    let payments = sim_received(&sim)
        .await
        .into_iter()
        .filter(|r| r.operation == "payment")
        .count();
    assert_eq!(payments, 1);
    switch.stop().await;
    sim.stop().await;
}

async fn duplicate_message_ids_are_refused(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let request = create_qr_request(None);
    assert_eq!(fx.qr.post("/qrCodes", &request).await.0, 201);
    let (status, answer) = fx.qr.post("/qrCodes", &request).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("DUPLICATE_RECORD"))
    );

    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    let scan = scan_notification(&tran_id, PARTNER);
    assert_eq!(fx.qr.post("/scans", &scan).await.0, 202);
    let (status, answer) = fx.qr.post("/scans", &scan).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("DUPLICATE_RECORD"))
    );

    let mut pay = payment_request(&tran_id, 100);
    pay["id"] = scan["id"].clone();
    let (status, answer) = fx.qr.post("/payments", &pay).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("DUPLICATE_RECORD"))
    );
    fx.stop().await;
}
on_both_backends!(
    duplicate_message_ids_are_refused,
    super::duplicate_message_ids_are_refused
);

async fn unknown_and_contested_tran_ids(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let unknown = "00000000000000000000000000000000";
    let (status, answer) = fx.scan(unknown, PARTNER).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("INVALID_TRAN_ID"))
    );
    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(unknown, 100))
        .await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("INVALID_TRAN_ID"))
    );

    let tran_id = tran_id_of(&fx.qr.create_qr(None).await);
    let (status, answer) = fx.scan(&tran_id, "stranger-partner").await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("PARTNER_UNKNOWN"))
    );
    assert_eq!(fx.scan(&tran_id, PARTNER).await.0, 202);
    let (status, answer) = fx.scan(&tran_id, OTHER_PARTNER).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("ROUTING_ERROR"))
    );

    let (status, answer) = fx
        .qr
        .post("/payments", &payment_request(&tran_id, 100))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["partner"]["id"], PARTNER,
        "the first scanner keeps the payment"
    );
    fx.stop().await;
}
on_both_backends!(
    unknown_and_contested_tran_ids,
    super::unknown_and_contested_tran_ids
);

async fn bad_input_is_a_format_error_and_changes_nothing(backend: Backend) {
    let fx = Fixture::start(backend, Mode::Approve).await;
    let head_before = fx
        .switch
        .get("/ready")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["store"]["head_position"]
        .clone();

    let mut missing_client = create_qr_request(None);
    missing_client.as_object_mut().unwrap().remove("client");
    let mut bad_enum = create_qr_request(None);
    bad_enum["qrProperties"]["scheme"] = "NOT_A_SCHEME".into();
    let mut bad_time = create_qr_request(None);
    bad_time["time"] = "yesterday".into();
    let mut bad_currency = create_qr_request(Some(100));
    bad_currency["qrProperties"]["value"]["currency"] = "ZAR".into();
    let mut empty_id = create_qr_request(None);
    empty_id["id"] = "".into();
    for body in [missing_client, bad_enum, bad_time, bad_currency, empty_id] {
        let (status, answer) = fx.qr.post_unchecked("/qrCodes", &body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        contract::check("ErrorDetail", &answer);
    }
    let response = reqwest::Client::new()
        .post(format!("{}/qrCodes", fx.qr.base_url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["errorType"], "FORMAT_ERROR");
    contract::check("ErrorDetail", &answer);

    let huge = serde_json::json!({ "id": "x".repeat(200 * 1024) });
    let (status, answer) = fx.qr.post_unchecked("/payments", &huge).await;
    assert_eq!(status, 413, "{answer}");

    let head_after = fx
        .switch
        .get("/ready")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["store"]["head_position"]
        .clone();
    assert_eq!(head_before, head_after, "no event stored for bad input");
    fx.stop().await;
}
on_both_backends!(
    bad_input_is_a_format_error_and_changes_nothing,
    super::bad_input_is_a_format_error_and_changes_nothing
);

/// The PNG a pin entry device shows decodes, with an ordinary QR reader, to the exact
/// payload; the SVG is an SVG; unknown tranIds get 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_images_decode_to_the_payload() {
    let fx = Fixture::start(Backend::Sqlite, Mode::Approve).await;
    let created = fx.qr.create_qr(Some(12_345)).await;
    let tran_id = tran_id_of(&created);
    let (status, content_type, png) = fx
        .qr
        .get_bytes(&format!("/qrCodes/{tran_id}/image.png"))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    let decoded = decode_png_qr(&png);
    assert_eq!(decoded, created["qrCode"].as_str().unwrap());

    let (status, content_type, svg) = fx
        .qr
        .get_bytes(&format!("/qrCodes/{tran_id}/image.svg"))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));

    let (status, _, _) = fx.qr.get_bytes("/qrCodes/0000/image.png").await;
    assert_eq!(status, 404);
    fx.stop().await;
}

fn decode_png_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("QR decodes");
    content
}

/// Two switch instances on one PostgreSQL: the POS waits on one, the partner's scan lands
/// on the other, and the waiting POS still gets its approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_on_one_instance_answers_pay_waiting_on_another() {
    postgres_or_skip!("qr_payments::scan_on_one_instance_answers_pay_waiting_on_another");
    let db = TestDb::new(Backend::Postgres).await;
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let config = with_partners(
        db.config(),
        vec![partner_config(PARTNER, 27, &sim, PARTNER_TIMEOUT)],
        Duration::from_secs(10),
    );
    let first = TestServer::start(config.clone()).await;
    let second = TestServer::start(config).await;
    let pos = QrClient::new(&first.base_url);
    let partner_side = QrClient::new(&second.base_url);

    let tran_id = tran_id_of(&pos.create_qr(None).await);
    let pay = pos.spawn_pay(&tran_id, 4_321);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let (status, _) = partner_side
        .post("/scans", &scan_notification(&tran_id, PARTNER))
        .await;
    assert_eq!(status, 202);
    let (status, answer) = pay.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "woken by the other instance's commit, not by a timeout"
    );
    assert_eq!(answer["amounts"]["approvedAmount"]["amount"], 4_321);
    assert_eq!(sim_received(&sim).await.len(), 1);
    first.stop().await;
    second.stop().await;
    sim.stop().await;
}

/// The contract checks are not vacuous: a body that breaks the contract is reported.
#[test]
fn contract_check_rejects_an_invalid_body() {
    let Some(contract) = contract::contract() else {
        return;
    };
    let mut error =
        serde_json::json!({ "id": "x", "errorType": "GENERAL_ERROR", "errorMessage": "m" });
    assert!(contract.errors("ErrorDetail", &error).is_empty());
    error["id"] = "an id that is longer than twenty characters".into();
    assert!(!contract.errors("ErrorDetail", &error).is_empty());
    assert!(!contract
        .errors("PaymentRequest", &serde_json::json!({ "id": "x" }))
        .is_empty());
}

/// The instance holding a POS's `pay` died: the deadline sweeper of any instance times the
/// payment out, queuing a reversal when the partner was being asked.
async fn sweeper_times_out_payments_whose_waiter_died(backend: Backend) {
    use aggregates::PaymentCommand;
    use chrono::{Duration as Span, Utc};

    let db = TestDb::new(backend).await;
    let mut config = db.config();
    config.payments.sweep_grace_ms = 0;
    let app = qrswitch::app::App::build(config).await.unwrap();
    let waiting_for_scan = issue_and_request(&app, 100).await;
    let authorising = issue_and_request(&app, 200).await;
    let meta = metadata("demo-partner");
    app.payments
        .execute(authorising.as_str(), scan_by("demo-partner"), &meta)
        .await
        .unwrap();
    app.payments
        .execute(
            authorising.as_str(),
            PaymentCommand::StartAuthorisation { at: Utc::now() },
            &meta,
        )
        .await
        .unwrap();
    let answered = issue_and_request(&app, 300).await;
    app.payments
        .execute(
            answered.as_str(),
            PaymentCommand::TimeOut { at: Utc::now() },
            &meta,
        )
        .await
        .unwrap();
    app.catch_up_all().await.unwrap();
    assert_eq!(
        qrswitch::sweeper::sweep(&sweeper_of(&app)).await.unwrap(),
        0,
        "nothing due yet"
    );

    // Sixty seconds on: the deadlines (respond_by = request + 60 s) have passed.
    let later =
        (Utc::now() + Span::seconds(61)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let overdue = projections::payment_status::overdue(app.store.views().pool(), &later, 10)
        .await
        .unwrap();
    assert_eq!(overdue.len(), 2, "the answered payment is not overdue");
    sqlx::query("UPDATE payment_status SET respond_by = '2000-01-01T00:00:00.000000Z' WHERE status <> 'TIMED_OUT'")
        .execute(app.store.views().pool())
        .await
        .unwrap();
    assert_eq!(
        qrswitch::sweeper::sweep(&sweeper_of(&app)).await.unwrap(),
        2
    );
    let types = |id: String| {
        let app = app.clone();
        async move {
            app.store
                .event_repository()
                .get_events::<Payment>(&id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.event_type)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        types(waiting_for_scan.to_string()).await.last().unwrap(),
        "TimedOut"
    );
    assert!(types(authorising.to_string())
        .await
        .contains(&"TimeoutReversalQueued".to_owned()));
}
on_both_backends!(
    sweeper_times_out_payments_whose_waiter_died,
    super::sweeper_times_out_payments_whose_waiter_died
);

fn sweeper_of(app: &qrswitch::app::App) -> qrswitch::sweeper::Sweeper {
    qrswitch::sweeper::Sweeper {
        settings: app.config.payments.clone(),
        store: app.store.clone(),
        payments: std::sync::Arc::clone(&app.payments),
    }
}
