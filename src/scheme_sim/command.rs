//! The `qrswitch scheme-sim` command line: one resolution or one completion, signed, with
//! the answer printed and its signature checked (exit 1 when it does not verify).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::electrum::{self, ElectrumSimConfig};
use super::{completion_report, credit_transfer, resolution_request, Creditor, SchemeClient};
use crate::payshap::signing::{SigningKey, VerifyingKey};

/// Clock skew and token age tolerated on the switch's answers.
const ANSWER_SKEW_MS: u64 = 60_000;
const ANSWER_MAX_AGE_MS: u64 = 300_000;

#[derive(Debug, Args)]
pub struct SchemeSimArgs {
    /// Where the switch's PayShap endpoints are.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub switch_url: String,
    /// Our (the scheme side's) PKCS#8 private key; demo key by default.
    #[arg(long, default_value = "examples/keys/demo-scheme.pem")]
    pub key: PathBuf,
    /// `iss` of our tokens.
    #[arg(long, default_value = "electrum")]
    pub issuer: String,
    /// The switch's public key, to check its answers; demo key by default.
    #[arg(long, default_value = "examples/keys/demo-switch.pub.pem")]
    pub switch_public_key: PathBuf,
    /// W3C trace context to send (`00-<trace id>-<span id>-01`); the switch logs the trace
    /// id with the UETR.
    #[arg(long)]
    pub traceparent: Option<String>,
    #[command(subcommand)]
    pub action: SchemeAction,
}

#[derive(Debug, Subcommand)]
pub enum SchemeAction {
    /// Send one identifier determination.
    Resolve(Target),
    /// Deliver one credit transfer completion until it is answered.
    Complete {
        #[command(flatten)]
        target: Target,
        /// Amount in rand, written as a JSON number (e.g. 49.99).
        #[arg(long)]
        amount: String,
        /// APPROVED, CANCELLED, PENDING or REJECTED.
        #[arg(long, default_value = "APPROVED")]
        outcome: String,
        /// The transfer's UETR; a new one by default.
        #[arg(long)]
        uetr: Option<String>,
    },
    /// Partner-auth: ask the switch to authorise one credit (`CreditTransfer`), once.
    Authorise {
        #[command(flatten)]
        target: Target,
        /// Amount in rand, written as a JSON number (e.g. 49.99).
        #[arg(long)]
        amount: String,
        #[arg(long)]
        uetr: Option<String>,
    },
    /// Partner-auth: play Electrum's API, where the switch's decisions arrive (and the
    /// bank's token endpoint); prints each decision until Ctrl-C.
    Electrum(ElectrumArgs),
}

#[derive(Debug, Args)]
pub struct ElectrumArgs {
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub listen: std::net::SocketAddr,
    /// Client credentials the token endpoint grants tokens to; no token required if unset.
    #[arg(long)]
    pub client_id: Option<String>,
    #[arg(long, default_value = "demo-secret")]
    pub client_secret: String,
    #[arg(long, default_value_t = 600)]
    pub token_lifetime_s: u64,
    /// Decisions arriving later than this after the request are refused (422).
    #[arg(long, default_value_t = 10_000)]
    pub deadline_ms: u64,
}

impl Target {
    fn creditor(&self) -> Creditor<'_> {
        if self.schema == "GENERIC" {
            Creditor::Account {
                bicfi: &self.bicfi,
                number: &self.value,
            }
        } else {
            Creditor::Proxy {
                schema: &self.schema,
                namespace: &self.namespace,
                value: &self.value,
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct Target {
    /// MOBILE, CUSTOM or GENERIC.
    #[arg(long)]
    pub schema: String,
    /// The proxy or account number.
    #[arg(long)]
    pub value: String,
    /// The proxy's namespace (MOBILE, CUSTOM).
    #[arg(long, default_value = "")]
    pub namespace: String,
    /// The account's bank (GENERIC).
    #[arg(long, default_value = "")]
    pub bicfi: String,
}

pub async fn run(args: SchemeSimArgs) -> anyhow::Result<()> {
    let signer = SigningKey::from_file(&args.key, &args.issuer)?;
    let switch_key =
        VerifyingKey::from_file(&args.switch_public_key, ANSWER_SKEW_MS, ANSWER_MAX_AGE_MS)?;
    if let SchemeAction::Electrum(electrum) = &args.action {
        return serve_electrum(electrum, signer, switch_key).await;
    }
    let mut client = SchemeClient::new(&args.switch_url, Some(signer), Some(switch_key));
    if let Some(traceparent) = &args.traceparent {
        client = client.with_traceparent(traceparent);
    }
    let answer = match args.action {
        SchemeAction::Resolve(target) => {
            let uetr = uuid::Uuid::new_v4().to_string();
            let identifier = if target.schema == "GENERIC" {
                json!({ "schema": "GENERIC", "value": target.value })
            } else {
                json!({ "schema": target.schema, "value": target.value, "namespace": target.namespace })
            };
            let bicfi = (!target.bicfi.is_empty()).then_some(target.bicfi.as_str());
            client
                .resolve(&resolution_request(&uetr, identifier, bicfi))
                .await?
        }
        SchemeAction::Complete {
            target,
            amount,
            outcome,
            uetr,
        } => {
            let uetr = uetr.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let message_id = uuid::Uuid::new_v4().simple().to_string();
            let creditor = target.creditor();
            let body = completion_report(&uetr, &message_id, &outcome, &amount, creditor);
            println!("uetr: {uetr}");
            client.complete(body.as_bytes()).await?
        }
        SchemeAction::Authorise {
            target,
            amount,
            uetr,
        } => {
            let uetr = uetr.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let message_id = uuid::Uuid::new_v4().simple().to_string();
            let body = credit_transfer(&uetr, &message_id, &amount, target.creditor());
            println!("uetr: {uetr}");
            client.authorise(body.as_bytes()).await?
        }
        SchemeAction::Electrum(_) => unreachable!("served above"),
    };
    println!(
        "status: {} (after {} attempt(s))",
        answer.status, answer.attempts
    );
    if !answer.raw.is_empty() {
        println!("{}", serde_json::to_string_pretty(&answer.body)?);
    }
    match answer.signature {
        Some(Ok(())) => println!("answer signature: verified"),
        None => println!("answer signature: none (no body, no signature)"),
        Some(Err(refusal)) => anyhow::bail!("answer signature refused: {refusal}"),
    }
    Ok(())
}

/// Serves Electrum's side of partner-auth until Ctrl-C, printing each decision.
async fn serve_electrum(
    args: &ElectrumArgs,
    signer: SigningKey,
    switch_key: VerifyingKey,
) -> anyhow::Result<()> {
    let sim = electrum::start(ElectrumSimConfig {
        listen: args.listen,
        signer,
        switch_key,
        client: args
            .client_id
            .clone()
            .map(|id| (id, args.client_secret.clone())),
        token_lifetime: std::time::Duration::from_secs(args.token_lifetime_s),
        deadline: std::time::Duration::from_millis(args.deadline_ms),
    })?;
    println!(
        "Electrum simulator at {} (token endpoint {})",
        sim.base_url(),
        electrum::TOKEN_PATH
    );
    let mut printed = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
        let arrived = sim.arrived();
        for decision in &arrived[printed..] {
            println!(
                "{} {} {} -> {}",
                decision.uetr,
                decision.outcome,
                decision.reason.as_deref().unwrap_or(""),
                decision.status
            );
        }
        printed = arrived.len();
    }
    sim.stop().await;
    Ok(())
}
