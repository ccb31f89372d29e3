//! POS lanes for the fault tests: each drives whole payments (QR, scan, pay, then the
//! advice its outcome calls for) through whatever the test breaks, one after another, and
//! notes every answer for the books ([`super::books`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        201 => {
            flow.confirmed = advise(
                pos,
                "/payments/confirmations",
                &confirmation_for(&pay),
                tally,
            )
            .await
        }
        400..=499 => {}
        // The outcome is unknown to the POS: it reverses, as the contract asks.
        _ => {
            flow.reversal_sent = true;
            let mut reversal = confirmation_for(&pay);
            reversal["reversalReason"] = json!("TIMEOUT");
            flow.reversed = advise(pos, "/payments/reversals", &reversal, tally).await;
        }
    }
    tally.flows.push(flow);
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
