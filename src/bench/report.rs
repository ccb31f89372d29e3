//! The bench's printed report: a table of step latencies, then the run's figures, then one
//! `summary:` line of key=value pairs for scripts.

use std::sync::atomic::Ordering;

use super::baseline::BASELINE_CONNECTIONS;
use super::measure::Measurements;
use super::usage;

/// What one run measured.
pub(super) struct Run<'a> {
    pub lanes: usize,
    pub resolve_rate: u32,
    pub baseline_seconds: u64,
    pub database_url: &'a str,
    pub m: &'a Measurements,
    pub completed: usize,
    /// Seconds of load, then of the SAF drain after it.
    pub seconds: (f64, f64),
    pub peak_mib: Option<f64>,
    pub baseline_tps: f64,
    /// Switch CPU ms, database CPU ms and database commits per completed payment.
    pub per_payment: (Option<f64>, Option<f64>, Option<f64>),
}

/// Prints the report; the number of errors the run saw.
pub(super) fn print(run: Run<'_>) -> u64 {
    let Run {
        m,
        completed,
        seconds: (load_seconds, drain_seconds),
        ..
    } = run;
    let backend = backend(run.database_url);
    let per_second = completed as f64 / (load_seconds + drain_seconds);
    println!(
        "qrswitch bench — {backend}, {} lanes, {:.1} s load, resolve stream {}/s",
        run.lanes, load_seconds, run.resolve_rate
    );
    print_steps(m);
    println!("completed payments       {completed} ({per_second:.1}/s over load + SAF drain)");
    println!("SAF drain after load     {drain_seconds:.2} s");
    println!(
        "switch peak memory       {}",
        run.peak_mib
            .map_or("unknown".to_owned(), |m| format!("{m:.1} MiB"))
    );
    println!(
        "baseline insert tx/s     {:.1} ({BASELINE_CONNECTIONS} connections, {} s)",
        run.baseline_tps, run.baseline_seconds
    );
    let (switch_cpu, database_cpu, commits) = run.per_payment;
    let commits = usage::figure(commits, 1);
    let (switch_cpu, database_cpu) = (usage::figure(switch_cpu, 2), usage::figure(database_cpu, 2));
    println!(
        "per completed payment    switch CPU {switch_cpu} ms, database CPU {database_cpu} ms, database commits {commits}"
    );
    let errors = m.errors.load(Ordering::Relaxed);
    if let Some(first) = m
        .first_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        println!("first error              {first}");
    }
    let (_, _, _, pay_p99) = m.pay.summary();
    let (_, _, _, resolve_p99) = m.resolve.summary();
    println!(
        "summary: backend={backend} payments_per_s={per_second:.1} baseline_tx_per_s={:.1} ratio={:.3} pay_p99_ms={pay_p99:.1} resolve_p99_ms={resolve_p99:.2} switch_cpu_ms_per_payment={switch_cpu} db_cpu_ms_per_payment={database_cpu} db_commits_per_payment={commits} peak_mib={:.1} errors={errors}",
        run.baseline_tps,
        per_second / run.baseline_tps,
        run.peak_mib.unwrap_or(0.0)
    );
    errors
}

fn print_steps(m: &Measurements) {
    println!(
        "{:<22} {:>8} {:>9} {:>9} {:>9}",
        "step", "count", "p50 ms", "p95 ms", "p99 ms"
    );
    for (name, samples) in [
        ("createQrCode", &m.create_qr),
        ("notifyScan", &m.scan),
        ("pay (waits for scan)", &m.pay),
        ("confirmPayment", &m.confirm),
        ("identifier determ.", &m.resolve),
    ] {
        let (count, p50, p95, p99) = samples.summary();
        println!("{name:<22} {count:>8} {p50:>9.2} {p95:>9.2} {p99:>9.2}");
    }
}

fn backend(database_url: &str) -> &'static str {
    if database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}
