//! The `qrswitch scheme-sim` command line: one resolution or one completion, signed, with
//! the answer printed and its signature checked (exit 1 when it does not verify).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{completion_report, resolution_request, Creditor, SchemeClient};
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
            let creditor = if target.schema == "GENERIC" {
                Creditor::Account {
                    bicfi: &target.bicfi,
                    number: &target.value,
                }
            } else {
                Creditor::Proxy {
                    schema: &target.schema,
                    namespace: &target.namespace,
                    value: &target.value,
                }
            };
            let message_id = uuid::Uuid::new_v4().simple().to_string();
            let body = completion_report(&uetr, &message_id, &outcome, &amount, creditor);
            println!("uetr: {uetr}");
            client.complete(body.as_bytes()).await?
        }
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
        None => println!("answer signature: none (no body)"),
        Some(Err(refusal)) => anyhow::bail!("answer signature refused: {refusal}"),
    }
    Ok(())
}
