//! The money, checked from the events (`qrswitch verify`): every authorised payment has one
//! outcome and at most one fate after it; each settlement line is its payment's amount less
//! the fee the schedule in force charged, and the lines sum to every total; every PayShap
//! credit is applied at most once. The events are folded here on their own, not through the
//! views, so a view that drifted from its events is a breach too.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aggregates::fee_schedule::{FeeScheduleEvent, FeeTerms};
use aggregates::payshap_transfer::PayShapEvent;
use aggregates::{AdviceKind, PaymentEvent};
use chrono::{DateTime, NaiveDate, Utc};
use projections::feed::{self, FeedPosition, StoredEvent};

use crate::backoffice::calendar::BusinessCalendar;
use crate::backoffice::day::DayData;
use crate::backoffice::settlement::{settlement, Settlement, SettlementTotal};
use crate::store::Store;

/// Events read per page of the fold: a few megabytes.
const PAGE_EVENTS: i64 = 5_000;

/// One breach of an invariant, with the stream it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub stream: String,
    pub what: String,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.stream, self.what)
    }
}

/// What the fold found, and every breach.
#[derive(Debug, Default)]
pub struct MoneyCheck {
    pub payments: usize,
    pub authorised: usize,
    /// Authorised, neither confirmed nor reversed yet: in flight, not a breach.
    pub awaiting_advice: usize,
    pub credits: usize,
    pub days: usize,
    /// Which views the settlement was checked on, and why.
    pub views: String,
    pub breaches: Vec<Breach>,
}

/// One payment as its events tell it.
#[derive(Debug, Default)]
struct Fold {
    amount_minor: Option<i64>,
    requested_at: Option<DateTime<Utc>>,
    outcomes: Vec<&'static str>,
    /// The fee the terms in force charged at the authorisation, and their version.
    fee: Option<(i64, i64)>,
    confirmed: bool,
    reversed: bool,
}

/// Every fold of the feed: payments by tranId, credits by UETR.
#[derive(Default)]
struct Books {
    payments: BTreeMap<String, Fold>,
    /// Each credit's streams, once per credit event.
    credits: BTreeMap<String, Vec<String>>,
    terms: HashMap<String, (FeeTerms, i64)>,
    /// The last event folded.
    position: FeedPosition,
}

impl Books {
    fn fold(&mut self, stored: &StoredEvent) -> anyhow::Result<()> {
        let stream = format!("{}/{}", stored.aggregate_type, stored.aggregate_id);
        match stored.aggregate_type.as_str() {
            "Payment" => {
                let event = stored.payment()?;
                if let PaymentEvent::PayShapCredited { uetr, .. } = event {
                    self.credits.entry(uetr.clone()).or_default().push(stream);
                }
                let payment = self
                    .payments
                    .entry(stored.aggregate_id.clone())
                    .or_default();
                fold_payment(payment, event, &self.terms);
            }
            "PayShapTransfer" => {
                if let PayShapEvent::Credited { uetr, .. } = stored.decode()? {
                    self.credits.entry(uetr).or_default().push(stream);
                }
            }
            "FeeSchedule" => {
                let FeeScheduleEvent::TermsSet {
                    partner_id,
                    terms,
                    version,
                    ..
                } = stored.decode()?;
                self.terms
                    .insert(partner_id.to_string(), (terms, i64::from(version)));
            }
            _ => {}
        }
        Ok(())
    }
}

fn fold_payment(
    payment: &mut Fold,
    event: &PaymentEvent,
    terms: &HashMap<String, (FeeTerms, i64)>,
) {
    match event {
        PaymentEvent::PaymentRequested {
            amount,
            requested_at,
            ..
        } => {
            payment.amount_minor = Some(amount.minor_units());
            payment.requested_at = Some(*requested_at);
        }
        PaymentEvent::Authorised { partner_id, .. } => {
            payment.outcomes.push("Authorised");
            let (terms, version) = terms
                .get(partner_id.as_str())
                .copied()
                .unwrap_or((FeeTerms::FREE, 0));
            payment.fee = Some((terms.fee_for(payment.amount_minor.unwrap_or(0)), version));
        }
        PaymentEvent::Declined { .. } => payment.outcomes.push("Declined"),
        PaymentEvent::TimedOut { .. } => payment.outcomes.push("TimedOut"),
        PaymentEvent::Advised { advice, .. } => match advice {
            AdviceKind::Confirmation => payment.confirmed = true,
            AdviceKind::Reversal { .. } => payment.reversed = true,
        },
        _ => {}
    }
}

/// Folds the whole feed, then checks the payments, the credits and the settlement of
/// `day` (every day with payments when `None`).
pub async fn check(
    store: &Store,
    calendar: &BusinessCalendar,
    day: Option<NaiveDate>,
) -> anyhow::Result<MoneyCheck> {
    let books = read_books(store).await?;
    let mut check = MoneyCheck {
        payments: books.payments.len(),
        credits: books.credits.len(),
        ..MoneyCheck::default()
    };
    check_fates(&books, &mut check);
    for (uetr, streams) in &books.credits {
        if streams.len() > 1 {
            check.breaches.push(Breach {
                stream: streams[0].clone(),
                what: format!(
                    "PayShap credit {uetr} applied {} times ({})",
                    streams.len(),
                    streams.join(", ")
                ),
            });
        }
    }
    let days: BTreeSet<NaiveDate> = match day {
        Some(day) => BTreeSet::from([day]),
        None => books
            .payments
            .values()
            .filter_map(|p| p.requested_at)
            .map(|at| calendar.day_of(at))
            .collect(),
    };
    check.days = days.len();
    let (pool, views) = settlement_views(store, books.position).await?;
    check.views = views;
    let mut conn = pool.acquire().await?;
    for day in days {
        // Each line is checked against the events.
        let data = DayData::load(&mut conn, calendar, day, Utc::now(), books.position).await?;
        check_settlement(&settlement(&data), &books, &mut check.breaches);
    }
    Ok(check)
}

/// The views the settlement is checked on: the live ones, which finance reads, when the
/// store is migrated (a line that disagrees with its events is then a breach; a view that is
/// only behind lacks lines, which is none); else, for a store a migration behind, the same
/// views replayed from the feed into a scratch database, so that `verify` changes nothing in
/// a store it only reads.
async fn settlement_views(
    store: &Store,
    position: FeedPosition,
) -> anyhow::Result<(sqlx::AnyPool, String)> {
    let Err(reason) = store.readiness().await else {
        return Ok((store.views().pool().clone(), "live views".to_owned()));
    };
    let views: Vec<std::sync::Arc<dyn projections::Projection>> = vec![
        std::sync::Arc::new(projections::recon::ReconProjection),
        std::sync::Arc::new(projections::payshap_transfers::PayShapTransfersProjection),
    ];
    let scratch = projections::scratch::replay_until(
        store.views(),
        &crate::store::SQLITE_MIGRATIONS,
        &views,
        position,
    )
    .await?;
    Ok((
        scratch,
        format!("views replayed from the events ({reason})"),
    ))
}

async fn read_books(store: &Store) -> anyhow::Result<Books> {
    let mut books = Books::default();
    let mut conn = store.views().pool().acquire().await?;
    let mut after = FeedPosition::START;
    loop {
        let page = feed::read_after(&mut conn, store.backend(), after, PAGE_EVENTS).await?;
        let Some(last) = page.last() else { break };
        after = last.feed_position;
        books.position = after;
        for stored in &page {
            books.fold(stored)?;
        }
    }
    Ok(books)
}

fn check_fates(books: &Books, check: &mut MoneyCheck) {
    for (tran_id, payment) in &books.payments {
        let stream = format!("Payment/{tran_id}");
        let mut breach = |what: String| {
            check.breaches.push(Breach {
                stream: stream.clone(),
                what,
            })
        };
        if payment.outcomes.len() > 1 {
            breach(format!(
                "{} outcomes ({}), where a payment has one",
                payment.outcomes.len(),
                payment.outcomes.join(", ")
            ));
        }
        if payment.outcomes.first() != Some(&"Authorised") {
            continue;
        }
        check.authorised += 1;
        match (payment.confirmed, payment.reversed) {
            (true, true) => breach("both confirmed and reversed".to_owned()),
            (false, false) => check.awaiting_advice += 1,
            _ => {}
        }
    }
}

/// Each line against its payment's events, and the lines against every total.
fn check_settlement(settled: &Settlement, books: &Books, breaches: &mut Vec<Breach>) {
    let day = &settled.business_day;
    for line in &settled.lines {
        let stream = format!("Payment/{}", line.tran_id);
        let payment = books.payments.get(&line.tran_id);
        let mut breach = |what: String| {
            breaches.push(Breach {
                stream: stream.clone(),
                what: format!("settlement of {day}: {what}"),
            })
        };
        let Some(payment) = payment.filter(|p| p.confirmed && p.fee.is_some()) else {
            breach("settled, but its events show no confirmed authorisation".to_owned());
            continue;
        };
        if payment.amount_minor != Some(line.gross_minor) {
            breach(format!(
                "gross {} where the payment was for {:?}",
                line.gross_minor, payment.amount_minor
            ));
        }
        if let Some((fee, version)) = payment.fee {
            if (line.fee_minor, line.fee_version) != (fee, version) {
                breach(format!(
                    "fee {} (terms v{}) where the terms in force charged {fee} (v{version})",
                    line.fee_minor, line.fee_version
                ));
            }
        }
        if line.net_minor != line.gross_minor - line.fee_minor {
            breach(format!(
                "net {} is not gross {} less fee {}",
                line.net_minor, line.gross_minor, line.fee_minor
            ));
        }
    }
    let mut sum = SettlementTotal::default();
    for line in &settled.lines {
        sum.count += 1;
        sum.gross_minor += line.gross_minor;
        sum.fee_minor += line.fee_minor;
        sum.net_minor += line.net_minor;
    }
    for (name, totals) in [
        ("partners", &settled.by_partner),
        ("retailers", &settled.by_retailer),
    ] {
        let mut of_parties = SettlementTotal::default();
        for t in totals {
            of_parties.count += t.count;
            of_parties.gross_minor += t.gross_minor;
            of_parties.fee_minor += t.fee_minor;
            of_parties.net_minor += t.net_minor;
        }
        let figures = |t: &SettlementTotal| (t.count, t.gross_minor, t.fee_minor, t.net_minor);
        if figures(&of_parties) != figures(&sum) || figures(&settled.total) != figures(&sum) {
            breaches.push(Breach {
                stream: format!("settlement/{day}"),
                what: format!(
                    "lines sum to {:?}, the {name} to {:?}, the total says {:?}",
                    figures(&sum),
                    figures(&of_parties),
                    figures(&settled.total)
                ),
            });
        }
    }
}
