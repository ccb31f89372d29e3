//! One partner down for a minute under steady traffic, then back. Its advices queue, none
//! is parked before its configured age, the backlog drains oldest first with no more than
//! the partner's limit in flight, and a second partner's payments and advices go on as
//! before throughout.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::books::{check_books, one_payment, Lanes, Pos, Tally};
use crate::common::fault_proxy::{Fault, FaultProxy};
use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::Mode;

/// How long the partner is away.
const OUTAGE: Duration = Duration::from_secs(60);
/// Advices in flight to one partner at once.
const IN_FLIGHT: usize = 4;
/// A delivery this old is parked: past the outage and the drain, so none may be.
const MAX_AGE: Duration = Duration::from_secs(100);
/// Lanes per partner, and the least time each takes per payment.
const LANES: usize = 2;
const GAP: Duration = Duration::from_millis(250);
/// How long the backlog may take to drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How long the partner takes per message once it is back.
const PARTNER_DELAY_MS: u64 = 50;
/// Payments approved just before the outage whose confirmations the POS sends during it.
const CONFIRMED_DURING_OUTAGE: usize = 10;
/// The other partner's slowest `pay` and slowest delivery, before, during and after.
const OTHER_PAY_LIMIT: Duration = Duration::from_secs(2);
const OTHER_DELIVERY_LIMIT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_down_for_a_minute_queues_then_drains_oldest_first() {
    let _heavy = heavy_slot().await;
    postgres_or_skip!(
        "partner_outage::a_partner_down_for_a_minute_queues_then_drains_oldest_first"
    );
    let db = TestDb::new(Backend::Postgres).await;
    let down = start_sim(Mode::Approve, PARTNER, None).await;
    let other = start_sim(Mode::Approve, OTHER_PARTNER, None).await;
    let proxy = FaultProxy::start(down.addr, Fault::PassThrough).await;
    let mut via_proxy = partner_config(PARTNER, 27, &down, Duration::from_secs(1));
    via_proxy.base_url = proxy.base_url();
    let mut config = with_partners(
        db.config(),
        vec![
            via_proxy,
            partner_config(OTHER_PARTNER, 28, &other, Duration::from_secs(1)),
        ],
        Duration::from_secs(5),
    );
    config.server.workers = 2;
    config.saf.poll_interval_ms = 100;
    config.saf.backoff_base_ms = 200;
    config.saf.backoff_cap_ms = 5_000;
    config.saf.max_age_ms = MAX_AGE.as_millis() as u64;
    config.saf.max_in_flight_per_partner = IN_FLIGHT;
    let switch = TestServer::start(config).await;
    let pos = Pos::new(&switch.base_url);
    let lanes = Lanes::start(&pos, &[PARTNER, OTHER_PARTNER], LANES, GAP);

    // Approved before the outage; the POS confirms once the partner is already away.
    let qr = QrClient::new(&switch.base_url);
    let mut held = Vec::new();
    for _ in 0..CONFIRMED_DURING_OUTAGE {
        let tran_id = qr.create_qr(None).await["tranId"]
            .as_str()
            .unwrap()
            .to_owned();
        qr.post("/scans", &scan_notification(&tran_id, PARTNER))
            .await;
        let pay = payment_request(&tran_id, 2_500);
        assert_eq!(qr.post("/payments", &pay).await.0, 201);
        held.push(pay);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    proxy.set(Fault::Refuse);
    proxy.cut_all();
    let outage_began = Instant::now();
    for pay in &held {
        let advice = confirmation_for(pay);
        assert_eq!(qr.post("/payments/confirmations", &advice).await.0, 202);
    }
    tokio::time::sleep(OUTAGE.saturating_sub(outage_began.elapsed())).await;
    let queued = pending_for(switch.app(), PARTNER).await;
    // A partner that takes its time, so that the drain shows how many it is sent at once.
    set_sim_mode(&down, Mode::Delay(PARTNER_DELAY_MS)).await;
    proxy.set(Fault::PassThrough);
    let back = Instant::now();
    let back_at = chrono::Utc::now();
    // Traffic goes on while the backlog drains.
    let drained = backlog_drained(switch.app(), back_at).await;
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(back.elapsed())).await;
    let mut tally = lanes.stop().await;
    for pay in &held {
        tally.flows.push(crate::common::books::Flow {
            tran_id: pay["tranId"].as_str().unwrap().to_owned(),
            partner: PARTNER.to_owned(),
            scanned: true,
            pay_status: Some(201),
            pay_took: None,
            confirmed: true,
            reversal_sent: false,
            reversed: false,
        });
    }
    // A last payment each, after the drain began.
    one_payment(&pos, OTHER_PARTNER, &mut tally).await;

    let figures = check_books(
        "partner down 60 s",
        switch.app(),
        &[&down, &other],
        &tally,
        &format!(
            ", queued at the end of the outage {queued}, backlog drained {:.1} s after the partner's return",
            drained.as_secs_f64()
        ),
    )
    .await;
    assert!(
        queued >= CONFIRMED_DURING_OUTAGE,
        "advices queued: {queued}"
    );
    assert!(figures.approved > 0);

    let displacement = backlog_displacement(switch.app(), &down, back_at).await;
    let peak = down.peak_advices_in_flight();
    crate::figures!(
        "partner down 60 s: backlog order (largest displacement from age order) {displacement}, \
         peak advices in flight at the partner {peak} (limit {IN_FLIGHT})"
    );
    assert!(peak <= IN_FLIGHT && peak > 1, "concurrency bounded: {peak}");
    assert!(
        displacement <= 2 * IN_FLIGHT,
        "the backlog drains in order of age: displaced by {displacement}"
    );
    other_partner_unaffected(switch.app(), &tally).await;
    switch.stop().await;
    down.stop().await;
    other.stop().await;
}

/// Deliveries to `partner` not yet final.
async fn pending_for(app: &qrswitch::app::App, partner: &str) -> usize {
    let _ = app.catch_up_all().await;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM saf_outbox WHERE status = 'PENDING' AND partner_id = $1",
    )
    .bind(partner)
    .fetch_one(app.store.views().pool())
    .await
    .unwrap();
    n as usize
}

/// Waits until nothing scheduled for the partner before `back` is pending; returns how long
/// that took.
async fn backlog_drained(
    app: &qrswitch::app::App,
    back: chrono::DateTime<chrono::Utc>,
) -> Duration {
    let began = Instant::now();
    loop {
        let _ = app.catch_up_all().await;
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM saf_outbox
              WHERE partner_id = $1 AND status = 'PENDING' AND scheduled_at < $2",
        )
        .bind(PARTNER)
        .bind(projections::time::to_view_text(back))
        .fetch_one(app.store.views().pool())
        .await
        .unwrap();
        if left == 0 {
            return began.elapsed();
        }
        assert!(
            began.elapsed() < DRAIN_LIMIT,
            "backlog of {left} not drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The backlog (advices scheduled before the partner came back) in the order the partner
/// acknowledged them, against the order of their age: the largest distance of one advice
/// from its place by age, after the first [`IN_FLIGHT`].
async fn backlog_displacement(
    app: &qrswitch::app::App,
    partner: &qrswitch::partner_sim::SimRunning,
    back: chrono::DateTime<chrono::Utc>,
) -> usize {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tran_id, kind, scheduled_at FROM saf_outbox WHERE partner_id = $1 AND scheduled_at < $2",
    )
    .bind(PARTNER)
    .bind(projections::time::to_view_text(back))
    .fetch_all(app.store.views().pool())
    .await
    .unwrap();
    let age: HashMap<(String, String), String> = rows
        .into_iter()
        .map(|(tran_id, kind, at)| ((tran_id, kind), at))
        .collect();
    let mut arrived = Vec::new();
    for received in partner.received() {
        let kind = match received.operation.as_str() {
            "confirmation" => "CONFIRMATION",
            "reversal" => "REVERSAL",
            _ => continue,
        };
        let key = (
            received.tran_id.clone().unwrap_or_default(),
            kind.to_owned(),
        );
        let at = chrono::DateTime::parse_from_rfc3339(&received.received_at).unwrap();
        if !(200..300).contains(&received.status) || at < back {
            continue;
        }
        if let Some(at) = age.get(&key) {
            arrived.push((at.clone(), key));
        }
    }
    // The first few were claimed on their own backoff before the partner's return was known.
    let arrived: Vec<_> = arrived.into_iter().skip(IN_FLIGHT).collect();
    let mut by_age = arrived.clone();
    by_age.sort();
    let place: HashMap<_, _> = by_age
        .iter()
        .enumerate()
        .map(|(i, (_, k))| (k.clone(), i))
        .collect();
    arrived
        .iter()
        .enumerate()
        .map(|(i, (_, key))| place[key].abs_diff(i))
        .max()
        .unwrap_or(0)
}

/// The other partner's payments were all approved, promptly, and its advices delivered
/// promptly, before, during and after the outage.
async fn other_partner_unaffected(app: &qrswitch::app::App, tally: &Tally) {
    let others: Vec<_> = tally
        .flows
        .iter()
        .filter(|f| f.partner == OTHER_PARTNER && f.scanned)
        .collect();
    assert!(
        others.len() > 50,
        "other partner's payments: {}",
        others.len()
    );
    assert!(
        others.iter().all(|f| f.pay_status == Some(201)),
        "every payment to the other partner approved"
    );
    let slowest_pay = others
        .iter()
        .filter_map(|f| f.pay_took)
        .max()
        .unwrap_or_default();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT scheduled_at, finished_at FROM saf_outbox WHERE partner_id = $1")
            .bind(OTHER_PARTNER)
            .fetch_all(app.store.views().pool())
            .await
            .unwrap();
    let slowest = rows
        .iter()
        .filter_map(|(scheduled, finished)| {
            let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
            Some(parse(finished.as_deref()?)? - parse(scheduled)?)
        })
        .max()
        .unwrap_or_default();
    crate::figures!(
        "partner down 60 s: other partner {} payments, all approved, slowest pay {} ms; \
         {} advices, slowest delivery {} ms",
        others.len(),
        slowest_pay.as_millis(),
        rows.len(),
        slowest.num_milliseconds()
    );
    assert!(
        slowest_pay < OTHER_PAY_LIMIT,
        "other partner's pay: {slowest_pay:?}"
    );
    assert!(
        slowest.to_std().unwrap_or_default() < OTHER_DELIVERY_LIMIT,
        "other partner's deliveries: {slowest}"
    );
}
