//! `qrswitch bench-search`: how fast the console's payment search answers over many
//! payments. It fills the recon view of the configured store (refused unless that view is
//! empty: a bench store, never a real one) with `--payments` generated rows in SQL, then runs
//! the console's own searches (`projections::search::payments`, the code the page calls)
//! `--rounds` times each and prints each one's rows, median and slowest time. The rows are
//! removed again at the end unless `--keep` is given.

use std::time::{Duration, Instant};

use anyhow::bail;
use projections::search::{self, OutcomeFilter, PaymentOrder, PaymentQuery};
use projections::Backend;

use crate::config::Config;
use crate::store::Store;

/// The generated rows' shape: 50 retailers, 2,000 stores with 8 lanes each, 5 partners,
/// 4 outcomes, over 30 days, amounts from R1 to R500.
const POSTGRES_SEED: &str = "
INSERT INTO recon_payments (tran_id, retailer_id, store_id, lane_id, partner_id, amount_minor,
    currency, requested_at, outcome, pos_reference, last_sequence)
SELECT 'bench-search-' || x, 'retailer-' || (x % 50), 'store-' || (x % 2000), 'lane-' || (x % 8),
       'partner-' || (x % 5), 100 + (x * 7919) % 49900, '710',
       to_char(timestamp '2026-11-01' + x * (interval '30 days' / $1), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
       (ARRAY['AUTHORISED', 'DECLINED', 'TIMED_OUT', NULL])[1 + x % 4], 'POS-' || x, 1
  FROM generate_series(1, $1) AS x";

const SQLITE_SEED: &str = "
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1)
INSERT INTO recon_payments (tran_id, retailer_id, store_id, lane_id, partner_id, amount_minor,
    currency, requested_at, outcome, pos_reference, last_sequence)
SELECT 'bench-search-' || x, 'retailer-' || (x % 50), 'store-' || (x % 2000), 'lane-' || (x % 8),
       'partner-' || (x % 5), 100 + (x * 7919) % 49900, '710',
       strftime('%Y-%m-%dT%H:%M:%S', '2026-11-01', '+' || (x * 2592000 / $1) || ' seconds') || '.000000Z',
       CASE x % 4 WHEN 0 THEN 'AUTHORISED' WHEN 1 THEN 'DECLINED' WHEN 2 THEN 'TIMED_OUT' END,
       'POS-' || x, 1
  FROM n";

/// The searches a console user makes, by name: look-ups, then listings.
fn searches(payments: i64) -> Vec<(&'static str, PaymentQuery)> {
    let mut all = lookups(payments);
    all.extend(listings());
    all
}

/// One newest-first page of 50.
fn page(query: PaymentQuery) -> PaymentQuery {
    PaymentQuery {
        limit: 50,
        descending: true,
        ..query
    }
}

/// The start and end of a November 2026 day, as the view stores times.
fn day(d: u32) -> (Option<String>, Option<String>) {
    (
        Some(format!("2026-11-{d:02}T00:00:00.000000Z")),
        Some(format!("2026-11-{:02}T00:00:00.000000Z", d + 1)),
    )
}

/// Searches for one payment or one party's.
fn lookups(payments: i64) -> Vec<(&'static str, PaymentQuery)> {
    let (from, to) = day(15);
    vec![
        (
            "tranId",
            page(PaymentQuery {
                tran_id: Some(format!("bench-search-{}", payments / 2)),
                ..Default::default()
            }),
        ),
        (
            "POS reference",
            page(PaymentQuery {
                pos_reference: Some(format!("POS-{}", payments / 3)),
                ..Default::default()
            }),
        ),
        (
            "retailer, newest first",
            page(PaymentQuery {
                retailer_id: Some("retailer-7".into()),
                ..Default::default()
            }),
        ),
        (
            "retailer and day",
            page(PaymentQuery {
                retailer_id: Some("retailer-7".into()),
                requested_from: from,
                requested_to: to,
                ..Default::default()
            }),
        ),
        (
            "store and lane",
            page(PaymentQuery {
                store_id: Some("store-1234".into()),
                lane_id: Some("lane-2".into()),
                ..Default::default()
            }),
        ),
    ]
}

/// Listings by outcome, amount and day, pages deep.
fn listings() -> Vec<(&'static str, PaymentQuery)> {
    let (from, to) = day(15);
    vec![
        (
            "partner, declined",
            page(PaymentQuery {
                partner_id: Some("partner-3".into()),
                outcome: Some(OutcomeFilter::Declined),
                ..Default::default()
            }),
        ),
        (
            "amount R100-R101 by amount",
            page(PaymentQuery {
                min_minor: Some(10_000),
                max_minor: Some(10_100),
                order: PaymentOrder::Amount,
                ..Default::default()
            }),
        ),
        (
            "day, page 20",
            page(PaymentQuery {
                requested_from: from,
                requested_to: to,
                offset: 950,
                ..Default::default()
            }),
        ),
        ("everything, newest first", page(PaymentQuery::default())),
        (
            "everything, largest first",
            page(PaymentQuery {
                order: PaymentOrder::Amount,
                ..Default::default()
            }),
        ),
    ]
}

pub async fn run(config: &Config, payments: i64, rounds: usize, keep: bool) -> anyhow::Result<()> {
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    let pool = store.views().pool().clone();
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recon_payments")
        .fetch_one(&pool)
        .await?;
    if existing > 0 {
        bail!("the recon view holds {existing} payments: run bench-search on an empty bench store");
    }
    let started = Instant::now();
    let seed = match store.backend() {
        Backend::Postgres => POSTGRES_SEED,
        Backend::Sqlite => SQLITE_SEED,
    };
    sqlx::query(seed).bind(payments).execute(&pool).await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("ANALYZE recon_payments").execute(&pool).await?;
    }
    println!(
        "search over {payments} payments ({}), seeded in {:.1} s; {rounds} rounds each",
        store.backend().name(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<28} {:>5} {:>9} {:>9}",
        "search", "rows", "p50 ms", "max ms"
    );
    let result = time_searches(&store, payments, rounds).await;
    if !keep {
        sqlx::query("DELETE FROM recon_payments WHERE tran_id LIKE 'bench-search-%'")
            .execute(&pool)
            .await?;
    }
    store.close().await;
    result
}

async fn time_searches(store: &Store, payments: i64, rounds: usize) -> anyhow::Result<()> {
    let mut conn = store.views().pool().acquire().await?;
    for (name, query) in searches(payments) {
        let mut times: Vec<Duration> = Vec::with_capacity(rounds);
        let mut rows = 0;
        for _ in 0..rounds.max(1) {
            let started = Instant::now();
            rows = search::payments(&mut conn, &query).await?.rows.len();
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        println!(
            "{name:<28} {rows:>5} {:>9.2} {:>9.2}",
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}
