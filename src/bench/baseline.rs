//! The raw-database baseline a run is compared with: single-row insert transactions into an
//! events-shaped table on the same store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

/// Connections the baseline uses: as many as the switch's pool may.
pub const BASELINE_CONNECTIONS: u32 = 16;

/// Single-row insert transactions per second into an events-shaped table on the same store,
/// from as many connections as the switch may use.
pub async fn baseline(database_url: &str, duration: Duration) -> anyhow::Result<f64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(BASELINE_CONNECTIONS)
        .connect(database_url)
        .await?;
    let table = format!("bench_baseline_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!(
        "CREATE TABLE {table} (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
            sequence bigint NOT NULL, event_type text NOT NULL, event_version text NOT NULL,
            payload text NOT NULL, metadata text NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, sequence))"
    ))
    .execute(&pool)
    .await?;
    let inserted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let payload =
        json!({ "PaymentRequested": { "amount": { "minor_units": 1234, "currency": "710" },
        "message": { "id": uuid::Uuid::new_v4().to_string(), "tranId": "0123456789abcdef0123456789abcdef" } } })
        .to_string();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..BASELINE_CONNECTIONS {
        let (pool, table, inserted, payload) = (
            pool.clone(),
            table.clone(),
            Arc::clone(&inserted),
            payload.clone(),
        );
        workers.spawn(async move {
            let sql = format!("INSERT INTO {table} VALUES ('Payment', $1, 1, 'PaymentRequested', '1.0', $2, '{{}}')");
            let mut n = 0u64;
            while Instant::now() < deadline {
                let key = format!("{worker}-{n}");
                if sqlx::query(&sql).bind(key).bind(&payload).execute(&pool).await.is_ok() {
                    inserted.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        });
    }
    let started = Instant::now();
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(inserted.load(Ordering::Relaxed) as f64 / elapsed)
}
