//! `qrswitch verify [--stream TYPE/ID]`: re-reads every stream's events and checks its
//! chain ([`projections::chain`]), naming the first broken event of each broken stream.

use std::io::IsTerminal;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use projections::ledger;

use super::record::AGGREGATE_TYPES;
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
    let checked = ledger::verify(store.views(), only, &|events| bar.set_position(events)).await?;
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
