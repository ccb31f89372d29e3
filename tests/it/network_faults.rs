//! A slow and a flaky network between the switch and a partner, through a fault-injecting
//! TCP proxy: timeouts fire at their configured values, and an answer cut off after the
//! partner approved ends as a timeout with its reversal, never as a second authorisation.

use std::time::{Duration, Instant};

use crate::common::books::{check_books, Lanes, Pos};
use crate::common::fault_proxy::{Fault, FaultProxy};
use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::{Mode, SimRunning};

const PAY_TIMEOUT: Duration = Duration::from_millis(4_000);
const PARTNER_TIMEOUT: Duration = Duration::from_millis(1_000);

struct Fixture {
    _db: TestDb,
    switch: TestServer,
    sim: SimRunning,
    proxy: FaultProxy,
    qr: QrClient,
}

impl Fixture {
    async fn start(fault: Fault) -> Self {
        let db = TestDb::new(Backend::Sqlite).await;
        let sim = start_sim(Mode::Approve, PARTNER, None).await;
        let upstream = sim
            .base_url()
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let proxy = FaultProxy::start(upstream, fault).await;
        let mut partner = partner_config(PARTNER, 27, &sim, PARTNER_TIMEOUT);
        partner.base_url = proxy.base_url();
        let mut config = with_partners(db.config(), vec![partner], PAY_TIMEOUT);
        // Retries of the timeout reversal come quickly here.
        config.saf.backoff_base_ms = 100;
        config.saf.backoff_cap_ms = 500;
        let switch = TestServer::start(config).await;
        let qr = QrClient::new(&switch.base_url);
        Self {
            _db: db,
            switch,
            sim,
            proxy,
            qr,
        }
    }

    /// A QR scanned by the partner and paid: the POS's answer and how long it took.
    async fn pay(&self) -> (String, u16, serde_json::Value, Duration) {
        let created = self.qr.create_qr(None).await;
        let tran_id = created["tranId"].as_str().unwrap().to_owned();
        let (status, _) = self
            .qr
            .post("/scans", &scan_notification(&tran_id, PARTNER))
            .await;
        assert_eq!(status, 202);
        let started = Instant::now();
        let (status, answer) = self
            .qr
            .post("/payments", &payment_request(&tran_id, 1_000))
            .await;
        (tran_id, status, answer, started.elapsed())
    }

    /// What the partner received for `tran_id`, by operation.
    async fn received(&self, tran_id: &str) -> Vec<String> {
        sim_received(&self.sim)
            .await
            .into_iter()
            .filter(|r| r.tran_id.as_deref() == Some(tran_id))
            .map(|r| r.operation)
            .collect()
    }

    async fn stop(self) {
        self.switch.stop().await;
        self.sim.stop().await;
    }
}

/// Latency under the partner's timeout only slows the answer down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_under_the_timeout_still_approves() {
    let fx = Fixture::start(Fault::Latency(Duration::from_millis(300))).await;
    let (tran_id, status, answer, took) = fx.pay().await;
    assert_eq!(status, 201, "{answer}");
    assert!(took >= Duration::from_millis(300), "took {took:?}");
    assert_eq!(fx.received(&tran_id).await, ["payment"]);
    fx.stop().await;
}

/// A partner that accepts the connection and never answers: the call gives up at the
/// partner's configured timeout, the POS hears at once, and a reversal is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_never_answers_times_out_at_its_configured_limit() {
    let fx = Fixture::start(Fault::BlackHole).await;
    let (tran_id, status, answer, took) = fx.pay().await;
    assert_eq!(status, 504, "{answer}");
    assert!(took >= PARTNER_TIMEOUT, "gave up after {took:?}");
    assert!(
        took < PARTNER_TIMEOUT + Duration::from_millis(1_500),
        "the partner's timeout, not the POS's, ended it: {took:?}"
    );
    let app = fx.switch.app();
    let payment = app.payments.load(&tran_id).await.unwrap();
    let reversal = format!("{tran_id}-timeout-reversal");
    assert!(payment.delivery(&reversal).is_some(), "reversal queued");
    fx.stop().await;
}

/// The partner approves, the connection is reset before the switch reads the answer: the
/// POS gets a timeout, the partner a reversal once the network is back, and never a
/// second authorisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_off_after_approval_ends_in_a_reversal_not_a_second_authorisation() {
    let fx = Fixture::start(Fault::CutMidResponse).await;
    let (tran_id, status, answer, _) = fx.pay().await;
    assert_eq!(status, 504, "{answer}");
    // The timeout reversal is queued at once and its request passes the cut too (only its
    // answer is lost), so the partner may already hold reversals here; never a second
    // authorisation.
    let seen = fx.received(&tran_id).await;
    assert_eq!(
        seen.iter().filter(|op| *op == "payment").count(),
        1,
        "the partner saw the authorisation once: {seen:?}"
    );
    fx.proxy.set(Fault::PassThrough);
    let mut received = Vec::new();
    for _ in 0..100 {
        received = fx.received(&tran_id).await;
        if received.iter().any(|op| op == "reversal") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The reversal may itself have met the cut before the network came back, and is then
    // resent: the partner may see it more than once, the authorisation only once.
    assert_eq!(
        received.first().map(String::as_str),
        Some("payment"),
        "{received:?}"
    );
    assert!(
        received[1..].iter().all(|op| op == "reversal") && received.len() >= 2,
        "one authorisation, then only its reversal: {received:?}"
    );
    fx.stop().await;
}

/// How long each fault lasts in the flaky-network case, and how often the cycle runs.
const FAULT_SPELL: Duration = Duration::from_millis(1_500);
const CYCLES: usize = 2;

/// POS lanes pay throughout while the network to the partner cycles through latency,
/// answers cut off mid-response, connections that go half-open, and a partner that accepts
/// and never answers. Every `pay` is answered within the partner's timeout plus a margin;
/// afterwards the books balance: no second authorisation, and every reversal the partner
/// got was asked for by its POS or is a documented timeout reversal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_network_under_load_loses_nothing_and_doubles_nothing() {
    let _heavy = heavy_slot().await;
    let fx = Fixture::start(Fault::PassThrough).await;
    let pos = Pos::new(&fx.switch.base_url);
    let lanes = Lanes::start(&pos, &[PARTNER], 3, Duration::from_millis(50));
    tokio::time::sleep(FAULT_SPELL).await;
    let mut spells = 0;
    for _ in 0..CYCLES {
        for fault in [
            Fault::Latency(Duration::from_millis(300)),
            Fault::CutMidResponse,
            Fault::BlackHole,
        ] {
            // Open connections are severed, so the switch meets the fault on its next one.
            fx.proxy.set(fault);
            fx.proxy.cut_all();
            tokio::time::sleep(FAULT_SPELL).await;
            spells += 1;
        }
        fx.proxy.set(Fault::PassThrough);
        fx.proxy.stall_all();
        tokio::time::sleep(FAULT_SPELL).await;
        spells += 1;
    }
    fx.proxy.set(Fault::PassThrough);
    tokio::time::sleep(FAULT_SPELL).await;
    let tally = lanes.stop().await;
    let slowest_pay = tally
        .pay_latencies
        .iter()
        .max()
        .copied()
        .unwrap_or_default();
    let timed_out = tally.count(504);
    check_books(
        "flaky network",
        fx.switch.app(),
        &[&fx.sim],
        &tally,
        &format!(
            ", fault spells {spells}, pays answered 504 {timed_out}, slowest pay {} ms \
             (partner timeout {} ms)",
            slowest_pay.as_millis(),
            PARTNER_TIMEOUT.as_millis()
        ),
    )
    .await;
    assert!(timed_out > 0, "the faults made some pays time out");
    assert!(tally.approved() > 0, "and some went through");
    assert!(
        slowest_pay < PARTNER_TIMEOUT + Duration::from_millis(1_500),
        "each pay ended at the partner's timeout at the latest: {slowest_pay:?}"
    );
    fx.stop().await;
}
