use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use qrswitch::cli::{Cli, Command};
use qrswitch::config::Config;
use qrswitch::store::Store;
use qrswitch::{app, rebuild, server, telemetry};

/// See the note on `mimalloc` in Cargo.toml: the switch allocates many small values per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    qrswitch::security::tls::install_crypto_provider();
    // A file to check is read by the check itself, problems and all, not loaded first.
    if let Command::Config {
        action: qrswitch::cli::ConfigAction::Check { file },
    } = &cli.command
    {
        std::process::exit(if qrswitch::config_check::run(file) {
            0
        } else {
            1
        });
    }
    // An inspection needs no configuration and no store.
    if let Command::Qr {
        action: qrswitch::cli::QrAction::Inspect(args),
    } = cli.command
    {
        let satisfied = qrswitch::qr_tools::run(args)?;
        std::process::exit(if satisfied { 0 } else { 1 });
    }
    let config_path = config_path(&cli);
    let config = Config::load(config_path.as_deref()).with_context(|| match &cli.command {
        Command::Demo => "the demo reads examples/demo.toml: run it from the repository's root, or name a configuration with --config".to_owned(),
        _ => "loading the configuration".to_owned(),
    })?;
    let telemetry = telemetry::init(&config.logging, &config.tracing);
    let outcome = run(cli.command, config, config_path).await;
    telemetry.stop();
    outcome
}

/// `--config` (or `QRSWITCH_CONFIG`); for the demo, the demo configuration by default.
fn config_path(cli: &Cli) -> Option<PathBuf> {
    match (&cli.config, &cli.command) {
        (Some(path), _) => Some(path.clone()),
        (None, Command::Demo) => Some(PathBuf::from(qrswitch::demo::DEMO_CONFIG)),
        (None, _) => None,
    }
}

async fn run(command: Command, config: Config, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_migrate } => serve(config, no_migrate).await,
        Command::Demo => {
            let path = config_path.unwrap_or_else(|| PathBuf::from(qrswitch::demo::DEMO_CONFIG));
            qrswitch::demo::run(config, &path).await
        }
        Command::HashPassword => hash_password(),
        Command::Migrate => migrate(&config).await,
        Command::PartnerSim(args) => partner_sim(args.into_config()).await,
        Command::SchemeSim(args) => qrswitch::scheme_sim::command::run(args).await,
        Command::Keygen { out } => keygen(&out),
        Command::Bench(args) => qrswitch::bench::run(args.into_options()).await,
        Command::Config { .. } | Command::Qr { .. } => {
            unreachable!("run before the configuration is loaded")
        }
        Command::BenchSearch {
            payments,
            rounds,
            keep,
        } => qrswitch::bench::search::run(&config, payments, rounds, keep).await,
        command @ (Command::Export { .. }
        | Command::Replay { .. }
        | Command::Verify { .. }
        | Command::Digest { .. }) => {
            if !qrswitch::audit::command::run(command, &config).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Rebuild { projection } => rebuild_views(&config, projection.as_deref()).await,
        Command::Recon {
            with: qrswitch::cli::ReconWith::Electrum { day },
        } => recon_electrum(config, day).await,
    }
}

async fn serve(mut config: Config, no_migrate: bool) -> anyhow::Result<()> {
    if no_migrate {
        config.database.migrate_on_start = false;
    }
    let app = app::App::build(config).await.context("starting qrswitch")?;
    server::start(app).await?.wait().await
}

/// `qrswitch recon electrum --day D`: one day's recon, its summary printed as JSON.
async fn recon_electrum(config: Config, day: chrono::NaiveDate) -> anyhow::Result<()> {
    let app = app::App::build(config).await.context("starting qrswitch")?;
    let payshap = server::payshap_service(&app);
    let recon = qrswitch::payshap::recon::run::Recon::from(&payshap);
    let metadata = qrswitch::commands::CommandMetadata::by_user("recon", "cli");
    let summary = recon.run(day, &metadata).await?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

fn hash_password() -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    let hash = qrswitch::security::credentials::hash_password(password)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    println!("{hash}");
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    store.close().await;
    println!("migrations applied");
    Ok(())
}

/// The partner simulator until it stops or Ctrl-C.
async fn partner_sim(config: qrswitch::partner_sim::SimConfig) -> anyhow::Result<()> {
    let sim = qrswitch::partner_sim::start(config)?;
    tokio::select! {
        result = sim.wait() => Ok(result?),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    let (private, public) = qrswitch::payshap::signing::generate_pair()?;
    let private_path = out.with_extension("pem");
    let public_path = out.with_extension("pub.pem");
    anyhow::ensure!(
        !private_path.exists(),
        "{} exists: not overwriting a key",
        private_path.display()
    );
    write_private(&private_path, &private)?;
    std::fs::write(&public_path, public)?;
    println!(
        "private key: {} (keep it secret)\npublic key:  {} (give it to the other side)",
        private_path.display(),
        public_path.display()
    );
    Ok(())
}

async fn rebuild_views(config: &Config, projection: Option<&str>) -> anyhow::Result<()> {
    let store = Store::connect(&config.database).await?;
    // Views are rebuilt in today's schema: a store a migration behind is refused rather
    // than half rebuilt.
    if let Err(why) = store.readiness().await {
        store.close().await;
        anyhow::bail!("{why}: run `qrswitch migrate` first");
    }
    let result = rebuild::run(&store, projection).await;
    store.close().await;
    result
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(pem.as_bytes())
}
