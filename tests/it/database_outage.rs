//! PostgreSQL unreachable for 30 s, then back, with the switch running and POS lanes paying
//! throughout: the switch reaches its database through a TCP proxy that severs every
//! connection and refuses new ones. During the outage each request gets a clean 503 within
//! its limit and `/ready` fails; afterwards everything resumes by itself, with no restart,
//! and the books balance.

use std::time::{Duration, Instant};

use crate::common::books::{check_books, Lanes, Pos};
use crate::common::commit_ack_loss::CommitAckLoss;
use crate::common::fault_proxy::{Fault, FaultProxy};
use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::Mode;

/// How long a request may wait for a database connection (the switch's own limit).
const ACQUIRE_LIMIT: Duration = Duration::from_millis(1_500);
/// How long the database stays away.
const OUTAGE: Duration = Duration::from_secs(30);
/// How long the switch may take to notice the database is back.
const RECOVERY_LIMIT: Duration = Duration::from_secs(20);

/// The test database's URL, and the address of its server for a proxy to stand before.
async fn server_of(db: &TestDb) -> (reqwest::Url, std::net::SocketAddr) {
    let url = reqwest::Url::parse(&db.url).unwrap();
    let server = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let server = tokio::net::lookup_host(server)
        .await
        .unwrap()
        .next()
        .unwrap();
    (url, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_then_back_is_503_then_normal_service() {
    let _heavy = heavy_slot().await;
    postgres_or_skip!("database_outage::postgres_unreachable_then_back_is_503_then_normal_service");
    let db = TestDb::new(Backend::Postgres).await;
    let (mut url, upstream) = server_of(&db).await;
    let proxy = FaultProxy::start(upstream, Fault::PassThrough).await;
    url.set_port(Some(proxy.addr.port())).unwrap();
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut config = with_partners(
        db.config(),
        vec![partner_config(PARTNER, 27, &sim, Duration::from_secs(2))],
        Duration::from_secs(5),
    );
    config.database.url = url.to_string();
    config.database.acquire_timeout_ms = ACQUIRE_LIMIT.as_millis() as u64;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let lanes = Lanes::start(
        &Pos::new(&switch.base_url),
        &[PARTNER],
        2,
        Duration::from_millis(200),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut acknowledged = 0;
    assert_eq!(
        qr.post_unchecked("/qrCodes", &create_qr_request(None))
            .await
            .0,
        201
    );
    acknowledged += 1;

    proxy.set(Fault::Refuse);
    proxy.cut_all();
    let outage_began = Instant::now();
    let mut refused = 0;
    while outage_began.elapsed() < OUTAGE {
        let asked = Instant::now();
        let (status, body) = qr
            .post_unchecked("/qrCodes", &create_qr_request(None))
            .await;
        let took = asked.elapsed();
        assert_eq!(
            status, 503,
            "a clean 503 while the database is away: {body}"
        );
        assert!(
            took < ACQUIRE_LIMIT + Duration::from_secs(2),
            "answered within its limit, not hung: {took:?}"
        );
        assert_eq!(switch.get("/ready").await.status(), 503, "not ready");
        refused += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    proxy.set(Fault::PassThrough);
    let back = Instant::now();
    loop {
        if switch.get("/ready").await.status() == 200 {
            break;
        }
        assert!(back.elapsed() < RECOVERY_LIMIT, "not ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovery = back.elapsed();
    // A whole payment goes through again, on the same switch process.
    let created = qr.create_qr(None).await;
    let tran_id = created["tranId"].as_str().unwrap();
    assert_eq!(
        qr.post("/scans", &scan_notification(tran_id, PARTNER))
            .await
            .0,
        202
    );
    let (status, answer) = qr.post("/payments", &payment_request(tran_id, 1_000)).await;
    assert_eq!(status, 201, "{answer}");
    acknowledged += 2;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tally = lanes.stop().await;
    check_books(
        "database unreachable 30 s",
        switch.app(),
        &[&sim],
        &tally,
        &format!(
            ", probe requests acknowledged {acknowledged}, refused during the outage {refused} \
             (503) plus {} from the lanes, slowest answer {} ms, ready again {:.1} s after the \
             database",
            tally.count(503),
            tally.slowest.as_millis(),
            recovery.as_secs_f64()
        ),
    )
    .await;
    switch.stop().await;
    sim.stop().await;
}

/// Routing's claim commits, and its connection is reset before the acknowledgement is read
/// (as a database switchover does to connections in flight): routing tries the claim again,
/// finds its own `AuthorisationRequested` in the stream, and calls the partner once. The POS
/// gets its approval, not a timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_committed_on_a_lost_connection_still_reaches_the_partner_once() {
    postgres_or_skip!(
        "database_outage::a_claim_committed_on_a_lost_connection_still_reaches_the_partner_once"
    );
    // Given a switch whose database connections pass a proxy that loses the commit
    // acknowledgement of the first claim.
    let db = TestDb::new(Backend::Postgres).await;
    let (mut url, upstream) = server_of(&db).await;
    let proxy = CommitAckLoss::start(upstream, b"AuthorisationRequested").await;
    url.set_port(Some(proxy.addr.port())).unwrap();
    url.query_pairs_mut().append_pair("sslmode", "disable");
    let (mut config, sim) = approving_partner(&db).await;
    config.database.url = url.to_string();
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);

    // When a QR is scanned and paid.
    let tran_id = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = qr
        .post("/scans", &scan_notification(&tran_id, PARTNER))
        .await;
    assert_eq!(status, 202);
    let (status, answer) = qr
        .post_unchecked("/payments", &payment_request(&tran_id, 1_000))
        .await;

    // Then the claim's acknowledgement was lost, and the payment was still approved.
    assert_eq!(proxy.lost(), 1, "the proxy lost one commit acknowledgement");
    assert_eq!(
        status, 201,
        "approved despite the lost acknowledgement: {answer}"
    );
    let types = stored_event_types(switch.app(), "Payment", &tran_id).await;
    let claims = types
        .iter()
        .filter(|t| *t == "AuthorisationRequested")
        .count();
    assert_eq!(claims, 1, "one claim: {types:?}");
    assert!(types.iter().any(|t| t == "Authorised"), "{types:?}");
    let calls = sim_received(&sim)
        .await
        .into_iter()
        .filter(|r| r.tran_id.as_deref() == Some(tran_id.as_str()) && r.operation == "payment")
        .count();
    assert_eq!(calls, 1, "the partner was asked once");
    switch.stop().await;
    sim.stop().await;
}
