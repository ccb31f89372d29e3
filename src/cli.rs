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
    /// Rebuild read models from the events (all, or one by name).
    Rebuild {
        /// Only this projection, e.g. `payment_status`.
        #[arg(long)]
        projection: Option<String>,
    },
}
