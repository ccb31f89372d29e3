//! What a run cost: CPU of the switch and of the PostgreSQL server processes (from
//! `/proc`), and the database's committed transactions (`pg_stat_database`).

use sqlx::Connection;

/// Linux reports process CPU in clock ticks of 1/100 s (`USER_HZ`, fixed on Linux).
const TICKS_PER_SECOND: f64 = 100.0;
/// PostgreSQL publishes a backend's transaction counts at most once a second; reading the
/// counter again sooner could miss the run's last commits.
const STATS_FLUSH_MS: u64 = 1_200;

/// CPU ticks (user + system) of one process, if it is there.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start with the state; utime and
    // stime are the 12th and 13th of them.
    let rest = stat.rsplit_once(") ")?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of every PostgreSQL server process on this machine.
fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .filter_map(process_ticks)
        .sum()
}

async fn committed(database_url: &str) -> Option<i64> {
    let mut conn = sqlx::PgConnection::connect(database_url).await.ok()?;
    sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .ok()
}

/// Counters at one moment.
pub struct Usage {
    switch_ticks: u64,
    database_ticks: u64,
    commits: Option<i64>,
}

impl Usage {
    pub async fn now(switch_pid: u32, database_url: &str) -> Self {
        let postgres = database_url.starts_with("postgres");
        Self {
            switch_ticks: process_ticks(switch_pid).unwrap_or(0),
            database_ticks: if postgres { postgres_ticks() } else { 0 },
            commits: if postgres {
                committed(database_url).await
            } else {
                None
            },
        }
    }

    /// Counters at the end of the run, once the database has published its counts.
    pub async fn after_flush(switch_pid: u32, database_url: &str) -> Self {
        let switch_ticks = process_ticks(switch_pid).unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(STATS_FLUSH_MS)).await;
        Self {
            switch_ticks,
            ..Self::now(switch_pid, database_url).await
        }
    }
}

/// Per completed payment: switch CPU ms, database CPU ms and database commits; `None` where
/// there is nothing to divide by (no completed payment) or nothing measured (the embedded
/// store runs inside the switch, so its CPU is the switch's, and it has no commit counter).
pub fn per_payment(
    before: &Usage,
    after: &Usage,
    payments: usize,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    if payments == 0 {
        return (None, None, None);
    }
    let n = payments as f64;
    let ms = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1000.0 / n;
    let commits = match (before.commits, after.commits) {
        (Some(b), Some(a)) => Some((a - b) as f64 / n),
        _ => None,
    };
    let database = commits.map(|_| ms(after.database_ticks.saturating_sub(before.database_ticks)));
    (
        Some(ms(after.switch_ticks.saturating_sub(before.switch_ticks))),
        database,
        commits,
    )
}

/// A per-payment figure as the report prints it.
pub fn figure(value: Option<f64>, decimals: usize) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.decimals$}"))
}
