//! `qrswitch demo`: the whole switch in one command. It serves the demo configuration
//! (`examples/demo.toml`: the embedded store, the demo users and keys), starts the partner
//! simulator in this process, drives a handful of real payments through the HTTP API as a
//! POS, a partner's app and Electrum's PayShap side would send them, then keeps serving and
//! says where to look, until Ctrl-C.
//!
//! Everything travels over loopback HTTP with the demo's published credentials: nothing is
//! written to the store but by the switch itself, so what the console, `replay` and the
//! audit trail show is what a real run would show.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::drive::{post, wait_until, Advice, Lane, Parties};
use crate::partner_sim::{self, Mode, SimConfig, SimRunning};
use crate::payshap::signing::{SigningKey, VerifyingKey};
use crate::scheme_sim::{self, Creditor, SchemeClient};
use crate::{app, server};

/// The configuration the demo serves unless `--config` names another.
pub const DEMO_CONFIG: &str = "examples/demo.toml";
/// The partner the demo plays (as in `examples/demo.toml`).
const PARTNER_ID: &str = "demo-partner";
const PARTIES: Parties = Parties {
    retailer: ("demo-retailer", "demo-retailer-pw"),
    partner: ("demo-partner", "demo-partner-pw"),
    partner_name: "Demo Partner (simulated)",
    retailer_name: "Demo Corner Shop",
};
const OPS: (&str, &str) = ("demo-ops", "demo-ops-pw");
/// The payments driven: amounts in cents, and how the POS closes each.
const PAYMENTS: [(i64, Advice); 4] = [
    (4_999, Advice::Confirm),
    (12_000, Advice::Confirm),
    (1_550, Advice::Confirm),
    (8_900, Advice::Reverse),
];
/// The PayShap proxy the demo registers and credits.
const PROXY: (&str, &str, &str) = ("MOBILE", "demo", "0821234567");
const CREDIT_RAND: &str = "75.00";
/// How long the demo waits for its advices to reach the partner and for the proxy registry
/// to show a registration: the switch does both within a second or two on any machine.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// Every request the demo sends has this long to be answered (pay waits for the scan).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the demo drove, for its closing words.
struct Driven {
    confirmed: Vec<String>,
    reversed: Vec<String>,
    credit: Option<String>,
}

/// Serves `config` (read from `config_path`) with the demo's traffic, until Ctrl-C.
pub async fn run(mut config: Config, config_path: &Path) -> anyhow::Result<()> {
    let sim = start_partner(&mut config)?;
    if config.server.listen.port() == 0 {
        config.server.listen = free_loopback_port()?;
    }
    let store_url = config.database.url.clone();
    let signing = config.payshap.signing.clone();
    let app = app::App::build(config).await.context("starting qrswitch")?;
    let running = server::start(app).await?;
    let base = format!("http://{}", running.addr);
    let driven = match drive(&base, &sim, signing.as_ref()).await {
        Ok(driven) => driven,
        Err(error) => {
            running.stop().await?;
            sim.stop().await;
            return Err(error.context("driving the demo payments"));
        }
    };
    // The pages the demo points at read views, which follow the events by up to their
    // gather interval: brought up to date first, so that every link shows what it names.
    if let Err(error) = running.app.projectors.catch_up_all().await {
        tracing::warn!(%error, "the console may show the demo's payments a moment late");
    }
    print_where_to_look(&base, &sim, &store_url, config_path, &driven);
    running.wait().await?;
    sim.stop().await;
    println!("demo stopped");
    Ok(())
}

/// The partner simulator on a free port, approving; the demo partner's calls go to it.
fn start_partner(config: &mut Config) -> anyhow::Result<SimRunning> {
    let partner = config
        .partners
        .iter_mut()
        .find(|p| p.id == PARTNER_ID)
        .with_context(|| format!("the demo configuration has no partner {PARTNER_ID:?}"))?;
    let sim = partner_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse()?,
        mode: Mode::Approve,
        partner_id: PARTNER_ID.to_owned(),
        partner_name: PARTIES.partner_name.to_owned(),
        switch_url: None,
        switch_password: None,
    })?;
    partner.base_url = format!("{}/qr/v1", sim.base_url());
    Ok(sim)
}

fn free_loopback_port() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

async fn drive(
    base: &str,
    sim: &SimRunning,
    signing: Option<&crate::config::SigningConfig>,
) -> anyhow::Result<Driven> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    let mut driven = Driven {
        confirmed: Vec::new(),
        reversed: Vec::new(),
        credit: None,
    };
    for (lane, (cents, advice)) in PAYMENTS.into_iter().enumerate() {
        let lane = Lane {
            http: &http,
            switch: base,
            lane: lane + 1,
            parties: PARTIES,
        };
        let tran_id = lane
            .pay(cents, advice, |_, _| {})
            .await
            .map_err(anyhow::Error::msg)?;
        match advice {
            Advice::Confirm => driven.confirmed.push(tran_id),
            Advice::Reverse => driven.reversed.push(tran_id),
        }
    }
    let advices = PAYMENTS.len();
    let delivered = || sim.acknowledged("confirmation") + sim.acknowledged("reversal") >= advices;
    if !wait_until(SETTLE_LIMIT, Duration::from_millis(100), delivered).await {
        anyhow::bail!("the advices did not reach the partner within {SETTLE_LIMIT:?}");
    }
    if let Some(signing) = signing {
        driven.credit = Some(payshap_credit(&http, base, signing).await?);
    }
    Ok(driven)
}

/// Registers the demo proxy, resolves it as Electrum would (retrying while the registry
/// catches up) and delivers one signed credit to it; the credit's UETR.
async fn payshap_credit(
    http: &reqwest::Client,
    base: &str,
    signing: &crate::config::SigningConfig,
) -> anyhow::Result<String> {
    let (schema, namespace, value) = PROXY;
    let (status, answer) = post(
        http,
        &format!("{base}/admin/proxies"),
        &json!({
            "schema": schema, "namespace": namespace, "value": value,
            "knownAsName": PARTIES.retailer_name, "legalName": "Demo Corner Shop (Pty) Ltd",
            "accountCreationDate": "2020-01-01", "status": "active", "resolutionAllowed": true,
        }),
        OPS,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    // 409: registered by an earlier demo on this store.
    anyhow::ensure!(
        status == 201 || status == 409,
        "registering the demo proxy: {status} {answer}"
    );
    let scheme = scheme_client(base, signing)?;
    let identifier = json!({ "schema": schema, "namespace": namespace, "value": value });
    let mut resolved = false;
    for _ in 0..SETTLE_LIMIT.as_millis() / 200 {
        let request = scheme_sim::resolution_request(&crate::drive::id(), identifier.clone(), None);
        let answer = scheme.resolve(&request).await?;
        if answer.body["report"]["reportInformation"]["outcome"] == "SUCCESSFUL" {
            resolved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(
        resolved,
        "the demo proxy did not resolve within {SETTLE_LIMIT:?}"
    );
    let uetr = crate::drive::id();
    let creditor = Creditor::Proxy {
        schema,
        namespace,
        value,
    };
    let message_id = uuid::Uuid::new_v4().simple().to_string();
    let body = scheme_sim::completion_report(&uetr, &message_id, "APPROVED", CREDIT_RAND, creditor);
    let answer = scheme.complete(body.as_bytes()).await?;
    // Stored and accepted: 202 with no body (nothing to sign), or a signed 200.
    anyhow::ensure!(
        matches!(answer.status, 200 | 202) && !matches!(answer.signature, Some(Err(_))),
        "the PayShap credit was answered {} ({:?}): {}",
        answer.status,
        answer.signature,
        answer.body
    );
    Ok(uetr)
}

/// The scheme side of the demo signs with the private half of the configured scheme key
/// (`NAME.pem` beside `NAME.pub.pem`) and checks answers with the public half of ours.
fn scheme_client(
    base: &str,
    signing: &crate::config::SigningConfig,
) -> anyhow::Result<SchemeClient> {
    let scheme_private = sibling(&signing.scheme_public_key, ".pub.pem", ".pem")?;
    let switch_public = sibling(&signing.private_key, ".pem", ".pub.pem")?;
    let signer = SigningKey::from_file(&scheme_private, "electrum")?;
    let verifier = VerifyingKey::from_file(&switch_public, 60_000, 300_000)?;
    Ok(SchemeClient::new(base, Some(signer), Some(verifier)))
}

fn sibling(path: &Path, ending: &str, other: &str) -> anyhow::Result<PathBuf> {
    let text = path.to_string_lossy();
    let stem = text
        .strip_suffix(ending)
        .with_context(|| format!("{} does not end in {ending}", path.display()))?;
    Ok(PathBuf::from(format!("{stem}{other}")))
}

fn print_where_to_look(
    base: &str,
    sim: &SimRunning,
    store_url: &str,
    config_path: &Path,
    driven: &Driven,
) {
    let config = config_path.display();
    println!("\nqrswitch demo is serving at {base} on {store_url}");
    println!(
        "  {} QR payments confirmed, {} reversed, every advice delivered to the partner",
        driven.confirmed.len(),
        driven.reversed.len()
    );
    if let Some(uetr) = &driven.credit {
        let (_, namespace, value) = PROXY;
        println!("  1 PayShap credit of R {CREDIT_RAND} to {namespace}/{value}, UETR {uetr}");
    }
    println!("\nWhere to look:");
    println!("  console       {base}/backoffice/  (sign in as demo-finance / demo-finance-pw, or demo-ops / demo-ops-pw)");
    if let Some(tran_id) = driven.confirmed.first() {
        println!("  a payment     {base}/backoffice/payments/{tran_id}");
        println!("  its events    cargo run -- --config {config} replay --tran-id {tran_id}");
    }
    if let Some(uetr) = &driven.credit {
        println!("  the credit    {base}/backoffice/transfers/{uetr}");
    }
    println!("  API document  {base}/docs");
    println!("  partner sim   {}/sim/received", sim.base_url());
    println!("\nCtrl-C stops the demo.");
}
