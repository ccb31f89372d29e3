//! `qrswitch rebuild`: replays the whole feed into one or all read models, in one
//! transaction and one read of the feed.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use projections::Projector;

use crate::store::Store;
use crate::views::all_projections;

/// Rebuilds the named projection, or all of them. Prints one line per projection; draws a
/// progress bar when stderr is a terminal.
pub async fn run(store: &Store, only: Option<&str>) -> anyhow::Result<()> {
    let projections = all_projections(&Default::default());
    let selected: Vec<_> = match only {
        Some(name) => {
            let found: Vec<_> = projections
                .into_iter()
                .filter(|p| p.name() == name)
                .collect();
            if found.is_empty() {
                let known: Vec<_> = all_projections(&Default::default())
                    .iter()
                    .map(|p| p.name())
                    .collect();
                bail!("no projection named {name:?}; known: {}", known.join(", "));
            }
            found
        }
        None => projections,
    };
    let projectors: Vec<Arc<Projector>> = selected
        .into_iter()
        .map(|projection| Arc::new(Projector::new(store.views().clone(), projection)))
        .collect();
    let label = match only {
        Some(name) => name.to_owned(),
        None => "all views".to_owned(),
    };
    let bar = progress_bar(&label);
    let replayed = projections::rebuild::rebuild(store.views(), &projectors, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .with_context(|| format!("rebuilding {label}"))?;
    bar.finish_and_clear();
    for projector in &projectors {
        println!("rebuilt {}: {replayed} events replayed", projector.name());
    }
    Ok(())
}

fn progress_bar(name: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>16} [{bar:40}] {pos}/{len} events ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_owned());
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}
