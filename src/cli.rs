//! Command line: `qrswitch [--config FILE] <serve|migrate|rebuild|export|…>`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "qrswitch", version, about = "Event-sourced QR payment switch")]
pub struct Cli {
    /// TOML configuration file (partners, credentials, fees, timeouts, limits).
    #[arg(long, global = true, env = "QRSWITCH_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the switch (HTTP API, projectors). Migrates the store first unless told not to.
    Serve {
        /// Do not apply pending migrations on start; `/ready` fails until someone does.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// See the switch work: serve the demo configuration (`examples/demo.toml` unless
    /// `--config` names another) on its embedded store with the partner simulator, drive a
    /// few real QR payments and a PayShap credit, then keep serving until Ctrl-C.
    Demo,
    /// QR payloads: `qrswitch qr inspect <payload | -> [--image FILE] [--json]`.
    Qr {
        #[command(subcommand)]
        action: QrAction,
    },
    /// Check a configuration file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Read a password from standard input and print its argon2 hash for `[[users]]`.
    HashPassword,
    /// Play a QR partner over real HTTP (answers pay and advices, records what it gets,
    /// sends scans to the switch).
    PartnerSim(PartnerSimArgs),
    /// Play Electrum's side of PayShap: send a signed resolution or completion to the switch
    /// and check the signature of its answer.
    SchemeSim(crate::scheme_sim::command::SchemeSimArgs),
    /// Make an ES256 (P-256) key pair for PayShap message signing: `NAME.pem` (PKCS#8,
    /// private) and `NAME.pub.pem` (public, for the other side).
    Keygen {
        /// Path and name of the pair, without the ending.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Load benchmark over loopback: full QR payments on many lanes plus a PayShap
    /// resolution stream, against a raw-insert baseline of the same store (`DATABASE_URL`,
    /// else a temporary SQLite file).
    Bench(BenchArgs),
    /// Time the console's payment search over `--payments` generated payments in the
    /// configured store's recon view (which must be empty: a bench store).
    BenchSearch {
        #[arg(long, default_value_t = 100_000)]
        payments: i64,
        /// Times each search runs.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Leave the generated payments in place (to try the console on them).
        #[arg(long)]
        keep: bool,
    },
    /// Write a business day's events as NDJSON (one event per line, in feed order), as
    /// auditors receive them; to standard output unless `--out` names a file.
    Export {
        /// The business day, e.g. `2026-11-21`.
        #[arg(long)]
        day: chrono::NaiveDate,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a payment's timeline as a person reads it: one line per event, with when,
    /// what, who and on which message.
    Replay {
        #[arg(long)]
        tran_id: String,
    },
    /// Check every stream's hash chain (or one stream's) and name the first broken event of
    /// each broken stream, then the money (one outcome per payment, one fate after it,
    /// settlement lines against events, fees and totals, PayShap credits applied once);
    /// exits 1 on any break or breach.
    Verify {
        /// Only this stream, as `TYPE/ID`, e.g. `Payment/0123…`.
        #[arg(long, conflicts_with = "day")]
        stream: Option<String>,
        /// Only the streams written on this business day, and the day's digest against the
        /// one recorded.
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
    },
    /// Record a business day's digest (the Merkle root over its streams' heads) unless one
    /// is recorded; exits 1 if the one recorded differs from what the events give now.
    Digest {
        #[arg(long)]
        day: chrono::NaiveDate,
    },
    /// Reconcile with a counterparty's files (`electrum --day D`: upload our mark-off and
    /// compare Electrum's files for that transaction date; running again changes nothing).
    Recon {
        #[command(subcommand)]
        with: ReconWith,
    },
    /// Rebuild read models from the events (all, or one by name).
    Rebuild {
        /// Only this projection, e.g. `payment_status`.
        #[arg(long)]
        projection: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReconWith {
    Electrum {
        /// The transaction date, e.g. `2026-12-06`.
        #[arg(long)]
        day: chrono::NaiveDate,
    },
}

#[derive(Debug, Subcommand)]
pub enum QrAction {
    /// Read a payload field by field, say which schemes it satisfies and every rule it
    /// breaks; exit 0 when it satisfies at least one scheme, 1 when none.
    Inspect(crate::qr_tools::InspectArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print every problem of FILE at once (the environment applied on top, as `serve`
    /// reads it); exit 1 if there is any.
    Check { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct PartnerSimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
    /// approve, decline, fail, hang or delay:MS.
    #[arg(long, default_value = "approve")]
    mode: crate::partner_sim::Mode,
    #[arg(long, default_value = "demo-partner")]
    partner_id: String,
    #[arg(long, default_value = "Demo Partner (simulated)")]
    partner_name: String,
    /// The switch's /qr/v1 base URL, for `POST /sim/scans`.
    #[arg(long, default_value = "http://127.0.0.1:8080/qr/v1")]
    switch_url: String,
    /// Password presented to the switch as this partner (demo value in examples/).
    #[arg(long, env = "QRSWITCH_SIM_PASSWORD")]
    switch_password: Option<String>,
}

impl PartnerSimArgs {
    pub fn into_config(self) -> crate::partner_sim::SimConfig {
        crate::partner_sim::SimConfig {
            listen: self.listen,
            mode: self.mode,
            partner_id: self.partner_id,
            partner_name: self.partner_name,
            switch_url: Some(self.switch_url),
            switch_password: self.switch_password,
        }
    }
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// POS lanes driving payments at once.
    #[arg(long, default_value_t = 32)]
    lanes: usize,
    /// PayShap identifier determinations per second alongside.
    #[arg(long, default_value_t = 100)]
    resolve_rate: u32,
    /// Seconds of the raw-insert baseline.
    #[arg(long, default_value_t = 5)]
    baseline: u64,
    /// Export the switch's spans to this OTLP/HTTP collector (to measure tracing's cost).
    #[arg(long)]
    otlp_endpoint: Option<String>,
}

impl BenchArgs {
    /// The bench's options, with the store from `DATABASE_URL`.
    pub fn into_options(self) -> crate::bench::BenchOptions {
        crate::bench::BenchOptions {
            duration: std::time::Duration::from_secs(self.duration),
            lanes: self.lanes,
            resolve_rate: self.resolve_rate,
            baseline: std::time::Duration::from_secs(self.baseline.max(1)),
            database_url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
            otlp_endpoint: self.otlp_endpoint,
        }
    }
}
