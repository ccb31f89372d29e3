//! `qrswitch verify [--stream TYPE/ID] [--day D]`: re-reads the events and checks their
//! chains ([`projections::chain`]), naming the first broken event of each broken stream,
//! and a day's digest against the one recorded; `qrswitch digest --day D` records it.

use std::io::IsTerminal;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use projections::ledger;

use chrono::NaiveDate;
use projections::time::to_view_text;

use super::export;
use super::record::AGGREGATE_TYPES;
use crate::backoffice::calendar::BusinessCalendar;
use crate::store::Store;

/// Checks the chains and prints what it found; true when every chain is intact.
pub async fn run(store: &Store, stream: Option<&str>) -> anyhow::Result<bool> {
    let only = match stream {
        None => None,
        Some(text) => {
            let Some((aggregate_type, aggregate_id)) = text.split_once('/') else {
                bail!("--stream {text:?}: give TYPE/ID, e.g. Payment/0123…");
            };
            if !AGGREGATE_TYPES.contains(&aggregate_type) {
                bail!(
                    "--stream {text:?}: {aggregate_type:?} is not an aggregate type; known: {}",
                    AGGREGATE_TYPES.join(", ")
                );
            }
            Some((aggregate_type, aggregate_id))
        }
    };
    let total: i64 = match only {
        None => {
            sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(store.views().pool())
                .await?
        }
        Some((aggregate_type, aggregate_id)) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_one(store.views().pool())
            .await?
        }
    };
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("verifying {bar:40} {pos}/{len} events")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let scope = match only {
        Some((aggregate_type, aggregate_id)) => ledger::Scope::Stream(aggregate_type, aggregate_id),
        None => ledger::Scope::All,
    };
    let checked = ledger::verify(store.views(), scope, &|events| bar.set_position(events)).await?;
    bar.finish_and_clear();
    if only.is_some() && checked.events == 0 {
        bail!("no such stream: {}", stream.unwrap_or_default());
    }
    for broken in &checked.breaks {
        println!("BROKEN {broken}");
    }
    let verdict = if checked.breaks.is_empty() {
        "every chain intact".to_owned()
    } else {
        format!("{} broken", checked.breaks.len())
    };
    println!(
        "checked {} events in {} streams: {verdict}",
        checked.events, checked.streams
    );
    Ok(checked.breaks.is_empty())
}

fn show(digest: &ledger::DayDigest) -> String {
    format!(
        "{} ({} streams, {} events)",
        digest.root, digest.streams, digest.events
    )
}

/// `verify --day D`: the chains of the streams written that day, and the day's digest
/// against the one recorded. True when both hold.
pub async fn run_day(
    store: &Store,
    calendar: &BusinessCalendar,
    day: NaiveDate,
) -> anyhow::Result<bool> {
    let (from, to) = calendar.window(day);
    let checked =
        ledger::verify_window(store.views(), &to_view_text(from), &to_view_text(to)).await?;
    for broken in &checked.breaks {
        println!("BROKEN {broken}");
    }
    let (live, recorded) = export::digest(store, calendar, day).await?;
    let digest_holds = match &recorded {
        None => {
            println!("day {day}: digest {} (none recorded yet)", show(&live));
            true
        }
        Some((digest, at)) if *digest == live => {
            println!("day {day}: digest {}, as recorded at {at}", show(&live));
            true
        }
        Some((digest, at)) => {
            println!(
                "BROKEN day {day}: digest {} differs from the one recorded at {at}: {}",
                show(&live),
                show(digest)
            );
            false
        }
    };
    println!(
        "checked {} events in {} streams written on {day}: {}",
        checked.events,
        checked.streams,
        if checked.breaks.is_empty() && digest_holds {
            "intact".to_owned()
        } else {
            format!(
                "{} broken",
                checked.breaks.len() + usize::from(!digest_holds)
            )
        }
    );
    Ok(checked.breaks.is_empty() && digest_holds)
}

/// `qrswitch digest --day D`: records the day's digest unless one is; prints it. False when
/// the one recorded earlier differs from what the events give now.
pub async fn record(
    store: &Store,
    calendar: &BusinessCalendar,
    day: NaiveDate,
) -> anyhow::Result<bool> {
    let (live, _) = export::digest(store, calendar, day).await?;
    let now = to_view_text(chrono::Utc::now());
    let (recorded, at) =
        ledger::record_digest(store.views(), &day.to_string(), &live, &now).await?;
    if recorded == live {
        println!("day {day}: digest {}, recorded at {at}", show(&live));
        Ok(true)
    } else {
        println!(
            "day {day}: the events now give {}, but {} was recorded at {at}",
            show(&live),
            show(&recorded)
        );
        Ok(false)
    }
}
