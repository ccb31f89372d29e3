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
    let config = Config::load(cli.config.as_deref())?;
    let telemetry = telemetry::init(&config.logging, &config.tracing);
    let outcome = run(cli, config).await;
    telemetry.stop();
    outcome
}

async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { no_migrate } => {
            if no_migrate {
                config.database.migrate_on_start = false;
            }
            let app = app::App::build(config).await.context("starting qrswitch")?;
            server::start(app).await?.wait().await
        }
        Command::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!password.is_empty(), "no password on standard input");
            let hash = qrswitch::security::credentials::hash_password(password)
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
            println!("{hash}");
            Ok(())
        }
        Command::Migrate => {
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::PartnerSim {
            listen,
            mode,
            partner_id,
            partner_name,
            switch_url,
            switch_password,
        } => {
            let sim = qrswitch::partner_sim::start(qrswitch::partner_sim::SimConfig {
                listen,
                mode,
                partner_id,
                partner_name,
                switch_url: Some(switch_url),
                switch_password,
            })?;
            tokio::select! {
                result = sim.wait() => Ok(result?),
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        }
        Command::SchemeSim(args) => qrswitch::scheme_sim::command::run(args).await,
        Command::Keygen { out } => {
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
        Command::Bench {
            duration,
            lanes,
            resolve_rate,
            baseline,
            otlp_endpoint,
        } => {
            qrswitch::bench::run(qrswitch::bench::BenchOptions {
                duration: std::time::Duration::from_secs(duration),
                lanes,
                resolve_rate,
                baseline: std::time::Duration::from_secs(baseline.max(1)),
                database_url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
                otlp_endpoint,
            })
            .await
        }
        Command::Config { .. } => unreachable!("checked before the configuration is loaded"),
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
        Command::Rebuild { projection } => {
            let store = Store::connect(&config.database).await?;
            // Views are rebuilt in today's schema: a store a migration behind is refused
            // rather than half rebuilt.
            if let Err(why) = store.readiness().await {
                store.close().await;
                anyhow::bail!("{why}: run `qrswitch migrate` first");
            }
            let result = rebuild::run(&store, projection.as_deref()).await;
            store.close().await;
            result
        }
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &std::path::Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(pem.as_bytes())
}
