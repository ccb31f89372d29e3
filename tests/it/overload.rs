//! More requests than the switch takes at once: the excess is refused at once with 503,
//! `Retry-After` and its surface's error shape; the requests already accepted are answered
//! as usual; the probes keep answering; and once the load passes, service is normal.

use std::time::{Duration, Instant};

use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::Mode;

/// Requests the switch handles at once in this test.
const IN_FLIGHT: usize = 3;
/// How long the partner takes, so that waiting `pay`s hold their slots.
const PARTNER_DELAY_MS: u64 = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excess_requests_are_refused_at_once_and_accepted_ones_are_answered() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Delay(PARTNER_DELAY_MS), PARTNER, None).await;
    let mut config = with_partners(
        db.config(),
        vec![partner_config(PARTNER, 27, &sim, Duration::from_secs(5))],
        Duration::from_secs(10),
    );
    config.server.max_in_flight_requests = IN_FLIGHT;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);

    // Fill every slot with a `pay` waiting on the slow partner.
    let mut waiting = Vec::new();
    for _ in 0..IN_FLIGHT {
        let created = qr.create_qr(None).await;
        let tran_id = created["tranId"].as_str().unwrap().to_owned();
        assert_eq!(
            qr.post("/scans", &scan_notification(&tran_id, PARTNER))
                .await
                .0,
            202
        );
        waiting.push(qr.spawn_pay(&tran_id, 1_000));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let http = reqwest::Client::new();
    let asked = Instant::now();
    let refused = http
        .post(format!("{}/qr/v1/qrCodes", switch.base_url))
        .json(&create_qr_request(None))
        .send()
        .await
        .unwrap();
    let took = asked.elapsed();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(
        took < Duration::from_millis(500),
        "refused at once, took {took:?}"
    );
    let detail: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        detail["errorType"], "GENERAL_ERROR",
        "an ErrorDetail: {detail}"
    );
    let elsewhere = http
        .get(format!("{}/backoffice/api/fees", switch.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 503);
    let body: serde_json::Value = elsewhere.json().await.unwrap();
    assert_eq!(body["code"], "OVERLOADED", "{body}");
    assert_eq!(
        switch.get("/health").await.status(),
        200,
        "probes still answer"
    );

    for pay in waiting {
        let (status, answer) = pay.await.unwrap();
        assert_eq!(
            status, 201,
            "accepted before the excess, answered as usual: {answer}"
        );
    }
    assert_eq!(
        qr.post_unchecked("/qrCodes", &create_qr_request(None))
            .await
            .0,
        201,
        "normal service once the load has passed"
    );
    let metrics = http
        .get(format!("{}/metrics", switch.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("qrswitch_requests_shed_total"),
        "{metrics}"
    );
    switch.stop().await;
    sim.stop().await;
}
