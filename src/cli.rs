//! Command line: `qrswitch [--config FILE] <serve|migrate|rebuild>`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// Read a password from standard input and print its argon2 hash for `[[users]]`.
    HashPassword,
    /// Play a QR partner over real HTTP (answers pay and advices, records what it gets,
    /// sends scans to the switch).
    PartnerSim {
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
    },
    /// Rebuild read models from the events (all, or one by name).
    Rebuild {
        /// Only this projection, e.g. `payment_status`.
        #[arg(long)]
        projection: Option<String>,
    },
}
