//! The books of a fault test. POS lanes ([`super::lanes`]) drive whole payments through
//! whatever the test breaks and note every answer; afterwards the books are checked:
//! every acknowledged message is in the store, every acknowledged confirmation reached its
//! partner, no partner saw a second authorisation for a tranId, no partner got a reversal
//! the POS did not send except a documented timeout reversal, the queue drained, nothing
//! hung past its limit, and the read models equal a rebuild from the events.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use projections::rebuild::rebuild;
use qrswitch::app::App;
use qrswitch::partner_sim::SimRunning;

pub use super::lanes::{one_payment, Flow, Lanes, Pos, Tally, HANG_LIMIT};

/// How long the queue may take to drain once the faults are over.
const DRAIN_LIMIT: Duration = Duration::from_secs(90);

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

/// What the partner simulators received, by tranId.
struct PartnersSaw {
    authorisations: HashMap<String, usize>,
    confirmations: HashSet<String>,
    reversals: Vec<String>,
}

impl PartnersSaw {
    fn collect(partners: &[&SimRunning]) -> Self {
        let mut seen = Self {
            authorisations: HashMap::new(),
            confirmations: HashSet::new(),
            reversals: Vec::new(),
        };
        for received in partners.iter().flat_map(|sim| sim.received()) {
            let Some(tran_id) = received.tran_id.clone() else {
                continue;
            };
            match received.operation.as_str() {
                "payment" => *seen.authorisations.entry(tran_id).or_default() += 1,
                "confirmation" if (200..300).contains(&received.status) => {
                    seen.confirmations.insert(tran_id);
                }
                "reversal" => seen.reversals.push(tran_id),
                _ => {}
            }
        }
        seen
    }
}

/// Every acknowledged message of every flow has its event; every confirmation reached its
/// partner.
fn count_flows(
    case: &str,
    tally: &Tally,
    stored: &HashMap<String, Vec<String>>,
    seen: &PartnersSaw,
    figures: &mut Figures,
) {
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
        if flow.confirmed && !seen.confirmations.contains(&flow.tran_id) {
            figures.undelivered += 1;
            crate::figures!(
                "{case}: {} confirmed, never reached its partner",
                flow.tran_id
            );
        }
    }
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
    let seen = PartnersSaw::collect(partners);
    let mut figures = Figures {
        payments: tally.flows.len(),
        approved: tally.approved(),
        hung: tally.count(0),
        undelivered: pending,
        ..Figures::default()
    };
    count_flows(case, tally, &stored, &seen, &mut figures);
    figures.doubled = seen.authorisations.values().filter(|n| **n > 1).count();
    let caused: HashSet<&str> = tally
        .flows
        .iter()
        .filter(|f| f.reversal_sent)
        .map(|f| f.tran_id.as_str())
        .collect();
    for tran_id in &seen.reversals {
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

/// Rebuilds every view from the events and compares its rows with the live ones. An event
/// committed while the two are taken (a sweeper's timeout, say) makes the rebuild see a
/// longer feed than the live views did: rows that differ only for payments or deliveries
/// such events touched are taken again (up to five times); any other difference fails.
pub async fn views_equal_a_rebuild(app: &App) -> bool {
    for _attempt in 1..=5 {
        settle(app).await;
        let (_, head_before) = feed_now(app).await;
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
        let rebuilt = view_rows(app).await;
        if rebuilt == live {
            return true;
        }
        let differences = [
            differences("payment_status", &live.0, &rebuilt.0),
            differences("saf_outbox", &live.1, &rebuilt.1),
            differences("recon_deliveries", &live.2, &rebuilt.2),
            differences("recon_payments", &live.3, &rebuilt.3),
        ]
        .concat();
        let late = touched_since(app, head_before.unwrap_or(0)).await;
        let unexplained: Vec<&String> = differences
            .iter()
            .filter(|row| !late.iter().any(|id| row.contains(id.as_str())))
            .collect();
        if !unexplained.is_empty() {
            for row in unexplained.iter().take(6) {
                eprintln!("views differ from a rebuild: {row}");
            }
            return false;
        }
        eprintln!("views compared while {late:?} changed; comparing again");
    }
    false
}

/// The rows of one view found on one side only, as `VIEW live|rebuilt: ROW`.
fn differences<T: PartialEq + std::fmt::Debug>(
    view: &str,
    live: &[T],
    rebuilt: &[T],
) -> Vec<String> {
    let only = |side: &str, these: &[T], others: &[T]| -> Vec<String> {
        these
            .iter()
            .filter(|row| !others.contains(row))
            .map(|row| format!("{view} {side}: {row:?}"))
            .collect()
    };
    [only("live", live, rebuilt), only("rebuilt", rebuilt, live)].concat()
}

/// How many events are stored, and the highest position: changes with every commit.
async fn feed_now(app: &App) -> (i64, Option<i64>) {
    sqlx::query_as("SELECT COUNT(*), MAX(position) FROM events")
        .fetch_one(app.store.views().pool())
        .await
        .expect("events readable")
}

/// The aggregates with an event after position `head`.
async fn touched_since(app: &App, head: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM events WHERE position > $1")
        .bind(head)
        .fetch_all(app.store.views().pool())
        .await
        .expect("events readable")
}

/// Waits (at most 10 s) until no event has been committed for 300 ms. Late work such as
/// the sweeper's timeouts of payments cut off by a fault may still commit after the queue
/// drained; a rebuild that saw events the live views had not yet been asked for would
/// differ for that reason alone.
async fn settle(app: &App) {
    const QUIET: Duration = Duration::from_millis(300);
    let started = Instant::now();
    let mut last = feed_now(app).await;
    while started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(QUIET).await;
        let now = feed_now(app).await;
        if now == last {
            return;
        }
        last = now;
    }
}
