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

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::partner_sim::{self, Mode, SimConfig, SimRunning};
use crate::scheme_sim::SchemeClient;

mod baseline;
mod parties;
pub mod search;
mod usage;

use baseline::{baseline, BASELINE_CONNECTIONS};

use parties::{BenchKeys, OPS, PARTNER, RETAILER};

/// Longest the switch child gets to report its address.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
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

/// Latencies of one step, in milliseconds.
#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl Samples {
    fn add(&self, since: Instant) {
        let ms = since.elapsed().as_secs_f64() * 1000.0;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(ms);
    }

    fn summary(&self) -> (usize, f64, f64, f64) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        all.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if all.is_empty() {
                0.0
            } else {
                all[((all.len() - 1) as f64 * q).round() as usize]
            }
        };
        (all.len(), at(0.50), at(0.95), at(0.99))
    }
}

#[derive(Default)]
struct Measurements {
    create_qr: Samples,
    scan: Samples,
    pay: Samples,
    confirm: Samples,
    resolve: Samples,
    errors: AtomicU64,
    payments: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Measurements {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(what);
        }
    }
}

/// The switch under test, killed when dropped.
struct Switch {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Switch {
    fn start(
        database_url: &str,
        sim: &SimRunning,
        keys: &BenchKeys,
        users: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{database_url}\"\nmax_connections = 40\n\n\
                 [payments]\npay_timeout_ms = 30000\n\n\
                 [saf]\nbackoff_base_ms = 100\n\
                 max_in_flight_per_partner = 32\n\n\
                 [payshap]\nqr_enabled = false\ncollection_account = \"62000000001\"\n\n\
                 [payshap.signing]\nscheme_public_key = \"{}\"\nprivate_key = \"{}\"\n\n\
                 [[partners]]\nid = \"bench-partner\"\nname = \"Bench Partner\"\n\
                 qr_guid = \"za.co.bench\"\ntemplate_tag = 27\nbase_url = \"{}/qr/v1\"\n\
                 timeout_ms = 10000\n\n{users}",
                keys.scheme_public.display(),
                keys.switch_private.display(),
                sim.base_url()
            ),
        )?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--config", config.to_str().unwrap_or_default(), "serve"])
            .env("QRSWITCH_LISTEN", "127.0.0.1:0")
            .env("QRSWITCH_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,qrswitch::server=info")
            .env_remove("DATABASE_URL")
            .env_remove("QRSWITCH_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the switch")?;
        let stderr = child.stderr.take().context("switch stderr")?;
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reported = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !reported {
                    if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                        if entry["fields"]["message"] == "qrswitch listening" {
                            let _ = sender.send(
                                entry["fields"]["addr"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            );
                            reported = true;
                            continue;
                        }
                    }
                }
                // Warnings and errors of the switch stay visible.
                eprintln!("switch: {line}");
            }
        });
        let addr = receiver
            .recv_timeout(STARTUP_LIMIT)
            .context("the switch did not report its address")?
            .parse()?;
        Ok(Self {
            child,
            addr,
            _dir: dir,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Peak resident memory of the switch process, in MiB.
    fn peak_memory_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn originator(lane: usize) -> Value {
    json!({
        "institution": { "id": "bench-group", "name": "Bench Group" },
        "terminalId": format!("LANE{lane:04}"),
        "merchant": { "merchantType": "5411", "merchantId": "000000000000001",
            "merchantName": { "name": "Bench Store", "city": "Johannesburg", "region": "GP", "country": "ZA" } }
    })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    (user, password): (&str, &str),
) -> Result<(u16, Value), String> {
    let response = http
        .post(url)
        .basic_auth(user, Some(password))
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// One full payment; returns an error text for anything but the happy path.
async fn one_payment(
    http: &reqwest::Client,
    switch: &str,
    lane: usize,
    m: &Measurements,
) -> Result<(), String> {
    let client = json!({ "id": "bench-retailer", "name": "Bench Retailer" });
    let started = Instant::now();
    let (status, created) = post(http, &format!("{switch}/qr/v1/qrCodes"), &json!({
        "id": id(), "time": now_text(), "originator": originator(lane), "client": client,
        "qrProperties": { "scheme": "EMVCO_MERCHANT", "value": { "amount": 1234, "currency": "710" } },
    }), RETAILER).await?;
    if status != 201 {
        return Err(format!("createQrCode {status}: {created}"));
    }
    m.create_qr.add(started);
    let tran_id = created["tranId"].as_str().unwrap_or_default().to_owned();
    let pay_id = id();
    let pay_body = json!({
        "id": pay_id, "time": now_text(), "originator": originator(lane), "client": client,
        "thirdPartyIdentifiers": [{ "institutionId": "bench-retailer", "transactionIdentifier": format!("L{lane}") }],
        "amounts": { "requestAmount": { "amount": 1234, "currency": "710" } }, "tranId": tran_id,
    });
    let pay = {
        let http = http.clone();
        let url = format!("{switch}/qr/v1/payments");
        tokio::spawn(async move {
            let started = Instant::now();
            (post(&http, &url, &pay_body, RETAILER).await, started)
        })
    };
    let started = Instant::now();
    let (status, answer) = post(http, &format!("{switch}/qr/v1/scans"), &json!({
        "id": id(), "time": now_text(), "partner": { "id": "bench-partner", "name": "Bench Partner" },
        "tranId": tran_id, "partnerPaymentToken": format!("tok-{lane}"),
    }), PARTNER).await?;
    if status != 202 {
        return Err(format!("notifyScan {status}: {answer}"));
    }
    m.scan.add(started);
    let (result, pay_started) = pay.await.map_err(|e| e.to_string())?;
    let (status, answer) = result?;
    if status != 201 {
        return Err(format!("pay {status}: {answer}"));
    }
    m.pay.add(pay_started);
    let started = Instant::now();
    let (status, answer) = post(http, &format!("{switch}/qr/v1/payments/confirmations"), &json!({
        "id": id(), "requestId": pay_id, "time": now_text(), "thirdPartyIdentifiers": [], "tranId": tran_id,
    }), RETAILER).await?;
    if status != 202 {
        return Err(format!("confirmPayment {status}: {answer}"));
    }
    m.confirm.add(started);
    m.payments.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// One signed resolution, its answer's signature checked.
async fn resolve_once(scheme: &SchemeClient, m: &Measurements) {
    let started = Instant::now();
    let identifier = json!({ "schema": "MOBILE", "namespace": "bench", "value": "0821234567" });
    let message =
        crate::scheme_sim::resolution_request(&uuid::Uuid::new_v4().to_string(), identifier, None);
    match scheme.resolve(&message).await {
        Ok(answer)
            if answer.status == 200
                && answer.signature == Some(Ok(()))
                && answer.body["report"]["reportInformation"]["outcome"] == "SUCCESSFUL" =>
        {
            m.resolve.add(started)
        }
        Ok(answer) => m.error(format!(
            "resolution {} ({:?}): {}",
            answer.status, answer.signature, answer.body
        )),
        Err(error) => m.error(format!("resolution: {error}")),
    }
}

pub async fn run(options: BenchOptions) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", scratch.path().join("bench.db").display()));
    let backend = if database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
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
    let base = format!("http://{}", switch.addr);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.lanes * 2 + 16)
        .timeout(Duration::from_secs(40))
        .build()?;
    let (status, answer) = post(
        &http,
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

    let m = Arc::new(Measurements::default());
    let switch_pid = switch.child.id();
    let usage_before = usage::Usage::now(switch_pid, &database_url).await;
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..options.lanes {
        let (http, base, m) = (http.clone(), base.clone(), Arc::clone(&m));
        lanes.spawn(async move {
            while Instant::now() < deadline {
                if let Err(error) = one_payment(&http, &base, lane, &m).await {
                    m.error(error);
                }
            }
        });
    }
    if options.resolve_rate > 0 {
        let (scheme, m) = (Arc::new(keys.client(&base)?), Arc::clone(&m));
        let period = Duration::from_secs_f64(1.0 / f64::from(options.resolve_rate));
        lanes.spawn(async move {
            let mut ticker = tokio::time::interval(period);
            let mut inflight = tokio::task::JoinSet::new();
            while Instant::now() < deadline {
                ticker.tick().await;
                let (scheme, m) = (Arc::clone(&scheme), Arc::clone(&m));
                inflight.spawn(async move { resolve_once(&scheme, &m).await });
            }
            while inflight.join_next().await.is_some() {}
        });
    }
    while lanes.join_next().await.is_some() {}
    let load_seconds = started.elapsed().as_secs_f64();
    let payments = m.payments.load(Ordering::Relaxed) as usize;

    // Completed = confirmation delivered and acknowledged by the partner.
    let drain_started = Instant::now();
    while sim.acknowledged("confirmation") < payments && drain_started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_seconds = drain_started.elapsed().as_secs_f64();
    let completed = sim.acknowledged("confirmation");
    if completed < payments {
        m.error(format!(
            "{} confirmations never delivered",
            payments - completed
        ));
    }
    let peak_mib = switch.peak_memory_mib();
    let usage_after = usage::Usage::after_flush(switch_pid, &database_url).await;
    let (switch_cpu_ms, database_cpu_ms, commits) =
        usage::per_payment(&usage_before, &usage_after, completed);
    drop(switch);
    sim.stop().await;

    let baseline_tps = baseline(&database_url, options.baseline).await?;
    let per_second = completed as f64 / (load_seconds + drain_seconds);
    let ratio = per_second / baseline_tps;

    println!(
        "qrswitch bench — {backend}, {} lanes, {:.1} s load, resolve stream {}/s",
        options.lanes, load_seconds, options.resolve_rate
    );
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
    println!("completed payments       {completed} ({per_second:.1}/s over load + SAF drain)");
    println!("SAF drain after load     {drain_seconds:.2} s");
    println!(
        "switch peak memory       {}",
        peak_mib.map_or("unknown".to_owned(), |m| format!("{m:.1} MiB"))
    );
    println!(
        "baseline insert tx/s     {baseline_tps:.1} ({BASELINE_CONNECTIONS} connections, {} s)",
        options.baseline.as_secs()
    );
    let commits_text = usage::figure(commits, 1);
    let (switch_cpu_ms, database_cpu_ms) = (
        usage::figure(switch_cpu_ms, 2),
        usage::figure(database_cpu_ms, 2),
    );
    println!(
        "per completed payment    switch CPU {switch_cpu_ms} ms, database CPU {database_cpu_ms} ms, database commits {commits_text}"
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
        "summary: backend={backend} payments_per_s={per_second:.1} baseline_tx_per_s={baseline_tps:.1} ratio={ratio:.3} pay_p99_ms={pay_p99:.1} resolve_p99_ms={resolve_p99:.2} switch_cpu_ms_per_payment={switch_cpu_ms} db_cpu_ms_per_payment={database_cpu_ms} db_commits_per_payment={commits_text} peak_mib={:.1} errors={errors}",
        peak_mib.unwrap_or(0.0)
    );
    if errors > 0 {
        bail!("{errors} errors");
    }
    Ok(())
}
