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
