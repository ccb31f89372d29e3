//! `qrswitch bench`: how fast is the switch, measured end to end over HTTP on this machine.
//!
//! It starts the switch as a child process (so its peak memory is its own) on the store
//! `DATABASE_URL` names (a temporary SQLite file if unset), a partner simulator in this
//! process, then drives `--lanes` POS lanes at once through the whole flow with no think
//! time: createQrCode → pay (waiting) + the partner's scan → approval → confirmation advice →
//! store-and-forward delivery acknowledged. Alongside, a stream of PayShap identifier
//! determinations at `--resolve-rate` per second. Afterwards it measures a raw-database
//! baseline on the same store (single-row insert transactions into an events-shaped table)
//! and reports payments/s against it. Traffic goes to loopback only; everything is bounded
//! by `--duration` plus fixed drain and start-up limits.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use crate::drive::{post, Advice, Lane, Parties, Step};
use crate::partner_sim::{self, Mode, SimConfig, SimRunning};
use crate::scheme_sim::SchemeClient;

mod baseline;
mod measure;
mod parties;
mod report;
pub mod search;
mod switch;
mod usage;

use baseline::baseline;

use measure::Measurements;
use parties::{BenchKeys, OPS, PARTNER, RETAILER};
use switch::Switch;

/// The bench's POS and partner.
const PARTIES: Parties = Parties {
    retailer: RETAILER,
    partner: PARTNER,
    partner_name: "Bench Partner",
    retailer_name: "Bench Store",
};

/// Longest the store-and-forward queue gets to drain after the load stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub duration: Duration,
    pub lanes: usize,
    pub resolve_rate: u32,
    pub baseline: Duration,
    pub database_url: Option<String>,
    /// Export the switch's spans to this OTLP/HTTP collector, to measure what tracing costs.
    pub otlp_endpoint: Option<String>,
}

/// One full payment on `lane`, its steps' latencies recorded.
async fn one_payment(
    http: &reqwest::Client,
    switch: &str,
    lane: usize,
    m: &Measurements,
) -> Result<(), String> {
    let lane = Lane {
        http,
        switch,
        lane,
        parties: PARTIES,
    };
    lane.pay(1234, Advice::Confirm, |step, started| match step {
        Step::CreateQr => m.create_qr.add(started),
        Step::Scan => m.scan.add(started),
        Step::Pay => m.pay.add(started),
        Step::Confirm => m.confirm.add(started),
    })
    .await?;
    m.payments.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// One signed resolution, its answer's signature checked; its round trip is what counts
/// (the scheme's clock runs from sending to the answer, not over our signing and checking).
async fn resolve_once(scheme: &SchemeClient, m: &Measurements) {
    let identifier = json!({ "schema": "MOBILE", "namespace": "bench", "value": "0821234567" });
    let message =
        crate::scheme_sim::resolution_request(&uuid::Uuid::new_v4().to_string(), identifier, None);
    match scheme.resolve(&message).await {
        Ok(answer)
            if answer.status == 200
                && answer.signature == Some(Ok(()))
                && answer.body["report"]["reportInformation"]["outcome"] == "SUCCESSFUL" =>
        {
            m.resolve.add_duration(answer.round_trip)
        }
        Ok(answer) => m.error(format!(
            "resolution {} ({:?}): {}",
            answer.status, answer.signature, answer.body
        )),
        Err(error) => m.error(format!("resolution: {error}")),
    }
}

/// The resolution stream at `rate` per second until `deadline`, on a thread and runtime of
/// its own: Electrum asks from another machine, so its requests must not wait behind this
/// process's 32 lanes and partner simulator for a turn on the client's runtime.
fn resolution_stream(
    keys: &BenchKeys,
    base: &str,
    rate: u32,
    deadline: Instant,
    m: &Arc<Measurements>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let scheme = Arc::new(keys.client(base)?);
    let m = Arc::clone(m);
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    Ok(std::thread::spawn(move || {
        runtime.block_on(async move {
            let mut ticker = tokio::time::interval(period);
            let mut inflight = tokio::task::JoinSet::new();
            while Instant::now() < deadline {
                ticker.tick().await;
                let (scheme, m) = (Arc::clone(&scheme), Arc::clone(&m));
                inflight.spawn(async move { resolve_once(&scheme, &m).await });
            }
            while inflight.join_next().await.is_some() {}
        });
    }))
}

pub async fn run(options: BenchOptions) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", scratch.path().join("bench.db").display()));
    let sim = partner_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse()?,
        mode: Mode::Approve,
        partner_id: "bench-partner".to_owned(),
        partner_name: "Bench Partner".to_owned(),
        switch_url: None,
        switch_password: None,
    })?;
    let keys = BenchKeys::make(scratch.path())?;
    let mut sections = parties::users_toml()?;
    if let Some(endpoint) = &options.otlp_endpoint {
        sections.push_str(&format!("\n[tracing]\notlp_endpoint = {endpoint:?}\n"));
    }
    let switch = Switch::start(&database_url, &sim, &keys, &sections)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.lanes * 2 + 16)
        .timeout(Duration::from_secs(40))
        .build()?;
    register_proxy(&http, &switch).await?;

    let m = Arc::new(Measurements::default());
    let usage_before = usage::Usage::now(switch.child.id(), &database_url).await;
    let started = Instant::now();
    load(&options, &http, &switch, &keys, &m).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    let (completed, drain_seconds) = drain(&sim, &m).await;
    let peak_mib = switch.peak_memory_mib();
    let usage_after = usage::Usage::after_flush(switch.child.id(), &database_url).await;
    let per_payment = usage::per_payment(&usage_before, &usage_after, completed);
    drop(switch);
    sim.stop().await;

    let baseline_tps = baseline(&database_url, options.baseline).await?;
    let errors = report::print(report::Run {
        lanes: options.lanes,
        resolve_rate: options.resolve_rate,
        baseline_seconds: options.baseline.as_secs(),
        database_url: &database_url,
        m: &m,
        completed,
        seconds: (load_seconds, drain_seconds),
        peak_mib,
        baseline_tps,
        per_payment,
    });
    if errors > 0 {
        bail!("{errors} errors");
    }
    Ok(())
}

/// The proxy the resolution stream asks for.
async fn register_proxy(http: &reqwest::Client, switch: &Switch) -> anyhow::Result<()> {
    let (status, answer) = post(
        http,
        &switch.url("/admin/proxies"),
        &json!({
            "schema": "MOBILE", "namespace": "bench", "value": "0821234567", "knownAsName": "Bench",
            "legalName": "Bench (Pty) Ltd", "accountCreationDate": "2020-01-01", "status": "active",
        }),
        OPS,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    if status != 201 && status != 409 {
        bail!("registering the bench proxy: {status} {answer}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // the registry view catches up
    Ok(())
}

/// `--lanes` POS lanes with no think time, and the resolution stream, for `--duration`.
async fn load(
    options: &BenchOptions,
    http: &reqwest::Client,
    switch: &Switch,
    keys: &BenchKeys,
    m: &Arc<Measurements>,
) -> anyhow::Result<()> {
    let base = format!("http://{}", switch.addr);
    let deadline = Instant::now() + options.duration;
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..options.lanes {
        let (http, base, m) = (http.clone(), base.clone(), Arc::clone(m));
        lanes.spawn(async move {
            while Instant::now() < deadline {
                if let Err(error) = one_payment(&http, &base, lane, &m).await {
                    m.error(error);
                }
            }
        });
    }
    // Electrum's calls go to the scheme's own listener, as a deployment points them there.
    let scheme = format!("http://{}", switch.scheme_addr);
    let stream = (options.resolve_rate > 0)
        .then(|| resolution_stream(keys, &scheme, options.resolve_rate, deadline, m))
        .transpose()?;
    while lanes.join_next().await.is_some() {}
    if let Some(stream) = stream {
        tokio::task::spawn_blocking(move || stream.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the resolution stream panicked"))?;
    }
    Ok(())
}

/// Waits until every accepted payment's confirmation is delivered and acknowledged by the
/// partner (a completed payment), or [`DRAIN_LIMIT`]; how many, and the seconds it took.
async fn drain(sim: &SimRunning, m: &Measurements) -> (usize, f64) {
    let payments = m.payments.load(Ordering::Relaxed) as usize;
    let drain_started = Instant::now();
    while sim.acknowledged("confirmation") < payments && drain_started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let completed = sim.acknowledged("confirmation");
    if completed < payments {
        m.error(format!(
            "{} confirmations never delivered",
            payments - completed
        ));
    }
    (completed, drain_started.elapsed().as_secs_f64())
}
