//! The auditors' commands: `export`, `replay`, `verify` and `digest`, each on the store
//! the configuration names.

use crate::backoffice::calendar::BusinessCalendar;
use crate::cli::Command;
use crate::config::Config;
use crate::store::Store;

/// Runs one of the auditors' commands; false when it found what it exits 1 for (a broken
/// chain or digest).
pub async fn run(command: Command, config: &Config) -> anyhow::Result<bool> {
    let calendar = BusinessCalendar::from_config(&config.backoffice)
        .map_err(|reason| anyhow::anyhow!("backoffice: {reason}"))?;
    let store = Store::connect(&config.database).await?;
    let result = on_store(command, &store, &calendar).await;
    store.close().await;
    result
}

async fn on_store(
    command: Command,
    store: &Store,
    calendar: &BusinessCalendar,
) -> anyhow::Result<bool> {
    match command {
        Command::Export { day, out } => {
            let lines = super::export::write(store, calendar, day, out.as_deref()).await?;
            let (digest, _) = super::export::digest(store, calendar, day).await?;
            eprintln!(
                "exported {lines} events of {day}; the day's digest is {}",
                digest.root
            );
            Ok(true)
        }
        Command::Replay { tran_id } => super::replay::run(store, &tran_id).await.map(|()| true),
        Command::Verify {
            stream: _,
            day: Some(day),
        } => {
            let chains = super::verify::run_day(store, calendar, day).await?;
            Ok(money(store, calendar, Some(day)).await? && chains)
        }
        Command::Verify {
            stream: Some(stream),
            day: None,
        } => super::verify::run(store, Some(&stream)).await,
        Command::Verify {
            stream: None,
            day: None,
        } => {
            let chains = super::verify::run(store, None).await?;
            Ok(money(store, calendar, None).await? && chains)
        }
        Command::Digest { day } => super::verify::record(store, calendar, day).await,
        other => anyhow::bail!("not an audit command: {other:?}"),
    }
}

/// `verify`'s check of the money ([`super::invariants`]): prints each breach and a summary;
/// true when there is none.
async fn money(
    store: &Store,
    calendar: &BusinessCalendar,
    day: Option<chrono::NaiveDate>,
) -> anyhow::Result<bool> {
    let check = super::invariants::check(store, calendar, day).await?;
    for breach in &check.breaches {
        println!("BREACH {breach}");
    }
    let verdict = if check.breaches.is_empty() {
        "every invariant holds".to_owned()
    } else {
        format!("{} breaches", check.breaches.len())
    };
    println!(
        "money: {} payments ({} authorised, {} awaiting their advice), {} PayShap credits, \
         settlement of {} days on {}: {verdict}",
        check.payments,
        check.authorised,
        check.awaiting_advice,
        check.credits,
        check.days,
        check.views
    );
    Ok(check.breaches.is_empty())
}
