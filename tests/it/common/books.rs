//! The books of a fault test. POS lanes drive whole payments (QR, scan, pay, advice) through
//! whatever the test breaks and note every answer; afterwards the books are checked:
//! every acknowledged message is in the store, every acknowledged confirmation reached its
//! partner, no partner saw a second authorisation for a tranId, no partner got a reversal
//! the POS did not send except a documented timeout reversal, the queue drained, nothing
//! hung past its limit, and the read models equal a rebuild from the events.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::rebuild::rebuild;
use qrswitch::app::App;
use qrswitch::partner_sim::SimRunning;
use serde_json::{json, Value};

use super::qr::*;

/// Longest any one request may take before a lane counts it as hung: the POS's own pay
/// timeout in these tests is well under it.
pub const HANG_LIMIT: Duration = Duration::from_secs(30);
/// How long a POS keeps offering an advice the switch cannot take yet: it must outlast
/// every outage the tests make.
const ADVICE_PATIENCE: Duration = Duration::from_secs(120);
/// Pause after a refusal, before the lane tries again.
const PAUSE_AFTER_REFUSAL: Duration = Duration::from_millis(100);
/// How long the queue may take to drain once the faults are over.
const DRAIN_LIMIT: Duration = Duration::from_secs(90);

/// One answer as a POS saw it (status 0: no answer within [`HANG_LIMIT`] or no connection).
pub struct Answer {
    pub status: u16,
    /// A 503 that did not say when to try again.
    pub unclean_refusal: bool,
    pub body: Value,
    pub took: Duration,
}

/// A POS (and the partner's app, for the scan) talking to the switch's `/qr/v1`.
#[derive(Clone)]
pub struct Pos {
    base_url: String,
    http: reqwest::Client,
}

impl Pos {
    pub fn new(switch_base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(HANG_LIMIT)
            .build()
            .unwrap();
        Self {
            base_url: format!("{switch_base_url}/qr/v1"),
            http,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let asked = Instant::now();
        let sent = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(body)
            .send()
            .await;
        let Ok(response) = sent else {
            return Answer {
                status: 0,
                unclean_refusal: false,
                body: Value::Null,
                took: asked.elapsed(),
            };
        };
        let status = response.status().as_u16();
        let unclean_refusal = status == 503 && !response.headers().contains_key("retry-after");
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status >= 400 {
            assert!(
                body.get("errorType").is_some(),
                "a refusal on /qr/v1 is an ErrorDetail: {status} {text}"
            );
        }
        Answer {
            status,
            unclean_refusal,
            body,
            took: asked.elapsed(),
        }
    }
}

/// One payment a lane started, and what the switch acknowledged of it.
#[derive(Debug, Clone)]
pub struct Flow {
    pub tran_id: String,
    pub partner: String,
    pub scanned: bool,
    pub pay_status: Option<u16>,
    /// How long the `pay` took to be answered.
    pub pay_took: Option<Duration>,
    pub confirmed: bool,
    /// The POS sent a reversal (whether or not it was acknowledged).
    pub reversal_sent: bool,
    pub reversed: bool,
}

/// What one lane did.
#[derive(Debug, Default)]
pub struct Tally {
    pub flows: Vec<Flow>,
    /// Answers by status, over every request the lane made.
    pub statuses: HashMap<u16, u64>,
    /// How long each answered `pay` took.
    pub pay_latencies: Vec<Duration>,
    /// The slowest answer of any kind.
    pub slowest: Duration,
    /// 503s without `Retry-After`.
    pub unclean_refusals: u64,
    /// How long each answer took: refusals (503) and the rest.
    pub refused_in: Vec<Duration>,
    pub answered_in: Vec<Duration>,
}

impl Tally {
    fn note(&mut self, answer: &Answer) {
        *self.statuses.entry(answer.status).or_default() += 1;
        self.unclean_refusals += u64::from(answer.unclean_refusal);
        match answer.status {
            0 => {}
            503 => self.refused_in.push(answer.took),
            _ => self.answered_in.push(answer.took),
        }
        self.slowest = self.slowest.max(answer.took);
    }

    pub fn merge(tallies: Vec<Tally>) -> Tally {
        let mut all = Tally::default();
        for tally in tallies {
            all.flows.extend(tally.flows);
            for (status, n) in tally.statuses {
                *all.statuses.entry(status).or_default() += n;
            }
            all.pay_latencies.extend(tally.pay_latencies);
            all.slowest = all.slowest.max(tally.slowest);
            all.unclean_refusals += tally.unclean_refusals;
            all.refused_in.extend(tally.refused_in);
            all.answered_in.extend(tally.answered_in);
        }
        all
    }

    pub fn approved(&self) -> usize {
        self.flows
            .iter()
            .filter(|f| f.pay_status == Some(201))
            .count()
    }

    /// The `q` quantile (0 to 1) of `durations`.
    pub fn quantile(durations: &[Duration], q: f64) -> Duration {
        let mut sorted = durations.to_vec();
        sorted.sort();
        let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(at).copied().unwrap_or_default()
    }

    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// POS lanes running until [`Lanes::stop`]; each drives one payment after another.
pub struct Lanes {
    stop: Arc<AtomicBool>,
    lanes: Vec<tokio::task::JoinHandle<Tally>>,
}

impl Lanes {
    /// `count` lanes per partner named, each paying through `pos`, a payment every `gap`
    /// at most (a till serves one customer at a time).
    pub fn start(pos: &Pos, partners: &[&str], count: usize, gap: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut lanes = Vec::new();
        for partner in partners {
            for _ in 0..count {
                let (pos, partner, stop) = (pos.clone(), partner.to_string(), Arc::clone(&stop));
                lanes.push(tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while !stop.load(Ordering::Relaxed) {
                        let began = tokio::time::Instant::now();
                        one_payment(&pos, &partner, &mut tally).await;
                        tokio::time::sleep_until(began + gap).await;
                    }
                    tally
                }));
            }
        }
        Self { stop, lanes }
    }

    /// Lets each lane finish the payment it is in, then returns what they all did.
    pub async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut tallies = Vec::new();
        for lane in self.lanes {
            tallies.push(lane.await.expect("lane ran"));
        }
        Tally::merge(tallies)
    }
}

/// One whole payment: QR, scan, pay, then the advice its outcome calls for.
pub async fn one_payment(pos: &Pos, partner: &str, tally: &mut Tally) {
    let created = pos.post("/qrCodes", &create_qr_request(None)).await;
    tally.note(&created);
    if created.status != 201 {
        tokio::time::sleep(PAUSE_AFTER_REFUSAL).await;
        return;
    }
    let tran_id = created.body["tranId"].as_str().unwrap().to_owned();
    let mut flow = Flow {
        tran_id: tran_id.clone(),
        partner: partner.to_owned(),
        scanned: false,
        pay_status: None,
        pay_took: None,
        confirmed: false,
        reversal_sent: false,
        reversed: false,
    };
    let scanned = pos
        .post("/scans", &scan_notification(&tran_id, partner))
        .await;
    tally.note(&scanned);
    flow.scanned = scanned.status == 202;
    if !flow.scanned {
        tally.flows.push(flow);
        tokio::time::sleep(PAUSE_AFTER_REFUSAL).await;
        return;
    }
    let pay = payment_request(&tran_id, 1_000 + (tally.flows.len() as i64 % 97));
    let paid = pos.post("/payments", &pay).await;
    tally.note(&paid);
    flow.pay_status = Some(paid.status);
    flow.pay_took = Some(paid.took);
    if paid.status != 0 {
        tally.pay_latencies.push(paid.took);
    }
    match paid.status {
        201 => flow.confirmed = advise(pos, "/payments/confirmations", &advice(&pay), tally).await,
        400..=499 => {}
        // The outcome is unknown to the POS: it reverses, as the contract asks.
        _ => {
            flow.reversal_sent = true;
            let mut reversal = advice(&pay);
            reversal["reversalReason"] = json!("TIMEOUT");
            flow.reversed = advise(pos, "/payments/reversals", &reversal, tally).await;
        }
    }
    tally.flows.push(flow);
}

/// An advice for `pay`, as its POS sends it.
fn advice(pay: &Value) -> Value {
    json!({
        "id": new_id(),
        "requestId": pay["id"],
        "time": now_text(),
        "thirdPartyIdentifiers": pay["thirdPartyIdentifiers"],
        "amounts": { "approvedAmount": pay["amounts"]["requestAmount"] },
        "tranId": pay["tranId"],
    })
}

/// Offers the advice until the switch takes it (202) or refuses it for good (4xx); a POS
/// must deliver its advices. True when acknowledged.
async fn advise(pos: &Pos, path: &str, body: &Value, tally: &mut Tally) -> bool {
    let began = Instant::now();
    loop {
        let answer = pos.post(path, body).await;
        tally.note(&answer);
        match answer.status {
            202 => return true,
            400..=499 => return false,
            _ if began.elapsed() > ADVICE_PATIENCE => return false,
            _ => tokio::time::sleep(PAUSE_AFTER_REFUSAL).await,
        }
    }
}

/// What the books showed.
#[derive(Debug, Default)]
pub struct Figures {
    pub payments: usize,
    pub approved: usize,
    pub acknowledged: usize,
    pub lost: usize,
    pub doubled: usize,
    pub unexpected_reversals: usize,
    pub undelivered: usize,
    pub hung: u64,
}

/// Waits for the queue to drain, checks the books and prints the figures as
/// `{case}: …`, then fails on any loss, double effect, stray reversal, hang or view that
/// differs from a rebuild. `extra` is appended to the printed line.
pub async fn check_books(
    case: &str,
    app: &App,
    partners: &[&SimRunning],
    tally: &Tally,
    extra: &str,
) -> Figures {
    let pending = drain(app).await;
    let stored = stored_events(app).await;
    let mut authorisations: HashMap<String, usize> = HashMap::new();
    let mut confirmations: HashSet<String> = HashSet::new();
    let mut reversals: Vec<String> = Vec::new();
    for sim in partners {
        for received in sim.received() {
            let Some(tran_id) = received.tran_id.clone() else {
                continue;
            };
            match received.operation.as_str() {
                "payment" => *authorisations.entry(tran_id).or_default() += 1,
                "confirmation" if (200..300).contains(&received.status) => {
                    confirmations.insert(tran_id);
                }
                "reversal" => reversals.push(tran_id),
                _ => {}
            }
        }
    }
    let mut figures = Figures {
        payments: tally.flows.len(),
        approved: tally.approved(),
        hung: tally.count(0),
        undelivered: pending,
        ..Figures::default()
    };
    for flow in &tally.flows {
        let events = stored.get(&flow.tran_id).cloned().unwrap_or_default();
        let has = |event: &str| events.iter().any(|e| e == event);
        let mut expect = |acknowledged: bool, event: &str| {
            if acknowledged {
                figures.acknowledged += 1;
                if !has(event) {
                    figures.lost += 1;
                    crate::figures!("{case}: {} acknowledged, no {event} stored", flow.tran_id);
                }
            }
        };
        expect(true, "QrIssued");
        expect(flow.scanned, "ScanReceived");
        expect(flow.pay_status == Some(201), "Authorised");
        expect(flow.confirmed, "Advised");
        expect(flow.reversed, "Advised");
        if flow.confirmed && !confirmations.contains(&flow.tran_id) {
            figures.undelivered += 1;
            crate::figures!(
                "{case}: {} confirmed, never reached its partner",
                flow.tran_id
            );
        }
    }
    figures.doubled = authorisations.values().filter(|n| **n > 1).count();
    let caused: HashSet<&str> = tally
        .flows
        .iter()
        .filter(|f| f.reversal_sent)
        .map(|f| f.tran_id.as_str())
        .collect();
    for tran_id in &reversals {
        let timed_out = stored
            .get(tran_id)
            .is_some_and(|events| events.iter().any(|e| e == "TimeoutReversalQueued"));
        if !caused.contains(tran_id.as_str()) && !timed_out {
            figures.unexpected_reversals += 1;
            crate::figures!("{case}: {tran_id} reversed at the partner, nobody asked");
        }
    }
    let views_match = views_equal_a_rebuild(app).await;
    crate::figures!(
        "{case}: payments {}, approved {}, acknowledged {}, lost {}, doubled {}, \
         unexpected reversals {}, undelivered {}, hung {}, views equal a rebuild: {views_match}{extra}",
        figures.payments,
        figures.approved,
        figures.acknowledged,
        figures.lost,
        figures.doubled,
        figures.unexpected_reversals,
        figures.undelivered,
        figures.hung,
    );
    assert_eq!(figures.lost, 0, "{case}: acknowledged messages lost");
    assert_eq!(figures.doubled, 0, "{case}: a second authorisation");
    assert_eq!(figures.unexpected_reversals, 0, "{case}: stray reversals");
    assert_eq!(figures.undelivered, 0, "{case}: advices not delivered");
    assert_eq!(
        figures.hung, 0,
        "{case}: requests unanswered within {HANG_LIMIT:?}"
    );
    assert!(views_match, "{case}: the views differ from a rebuild");
    assert_eq!(
        tally.unclean_refusals, 0,
        "{case}: a 503 without Retry-After"
    );
    figures
}

/// Waits until no delivery is pending (at most [`DRAIN_LIMIT`]); returns how many are not
/// delivered then: still pending, or parked.
async fn drain(app: &App) -> usize {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let count = |status: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM saf_outbox WHERE status = $1")
            .bind(status)
            .fetch_one(app.store.views().pool())
            .await
            .unwrap_or(i64::MAX)
    };
    loop {
        let _ = app.catch_up_all().await;
        let pending = count("PENDING").await;
        if pending == 0 || Instant::now() > deadline {
            let parked = count("PARKED").await;
            return usize::try_from(pending.saturating_add(parked)).unwrap_or(usize::MAX);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every payment's stored event types, in order, by tranId.
async fn stored_events(app: &App) -> HashMap<String, Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT aggregate_id, event_type FROM events WHERE aggregate_type = 'Payment'
          ORDER BY aggregate_id, sequence",
    )
    .fetch_all(app.store.views().pool())
    .await
    .expect("events readable");
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    for (tran_id, event_type) in rows {
        stored.entry(tran_id).or_default().push(event_type);
    }
    stored
}

pub type ViewRows = (
    Vec<projections::payment_status::PaymentStatusRow>,
    Vec<projections::saf_outbox::OutboxRow>,
    Vec<projections::recon::ReconDeliveryRow>,
    Vec<projections::recon::ReconPaymentRow>,
);

/// Every row of the views folded per batch, in key order.
pub async fn view_rows(app: &App) -> ViewRows {
    let pool = app.store.views().pool();
    (
        projections::payment_status::all(pool).await.unwrap(),
        projections::saf_outbox::all(pool).await.unwrap(),
        sqlx::query_as("SELECT * FROM recon_deliveries ORDER BY delivery_id")
            .fetch_all(pool)
            .await
            .unwrap(),
        sqlx::query_as("SELECT * FROM recon_payments ORDER BY tran_id")
            .fetch_all(pool)
            .await
            .unwrap(),
    )
}

/// Rebuilds every view from the events and compares its rows with the live ones.
pub async fn views_equal_a_rebuild(app: &App) -> bool {
    app.catch_up_all().await.expect("views catch up");
    let live = view_rows(app).await;
    for name in ["recon", "payshap_transfers", "payment_status", "saf_outbox"] {
        let projector = app.projector(name).expect("projection");
        rebuild(
            app.store.views(),
            std::slice::from_ref(projector),
            &|_, _| {},
        )
        .await
        .expect("rebuild");
    }
    view_rows(app).await == live
}
