//! A business day's events as NDJSON (one event per line, in feed order), produced page by
//! page so that memory stays flat however long the day was. Served at
//! `/audit/days/{day}/events.ndjson` and written by `qrswitch export --day D`.

use std::io::Write;
use std::path::Path;

use actix_web::web::Bytes;
use anyhow::Context;
use chrono::NaiveDate;
use futures::Stream;
use projections::feed::FeedPosition;
use projections::time::to_view_text;
use projections::{history, ledger};

use super::record::AuditEvent;
use crate::backoffice::calendar::BusinessCalendar;
use crate::store::Store;

/// Events read per page.
const PAGE_EVENTS: i64 = 1_000;

struct Pages {
    store: Store,
    from: String,
    to: String,
    after: FeedPosition,
    done: bool,
}

/// The day's events as NDJSON, one page of lines per item. The day is the business day of
/// `calendar` (its cut-off and time zone), by the time each event was written.
pub fn day(
    store: Store,
    calendar: &BusinessCalendar,
    day: NaiveDate,
) -> impl Stream<Item = Result<Bytes, anyhow::Error>> {
    let (from, to) = calendar.window(day);
    let pages = Pages {
        store,
        from: to_view_text(from),
        to: to_view_text(to),
        after: FeedPosition::START,
        done: false,
    };
    futures::stream::try_unfold(pages, |mut pages| async move {
        if pages.done {
            return Ok(None);
        }
        let mut conn = pages.store.views().pool().acquire().await?;
        let events = history::written_between(
            &mut conn,
            pages.store.backend(),
            &pages.from,
            &pages.to,
            pages.after,
            PAGE_EVENTS,
        )
        .await?;
        drop(conn);
        pages.done = (events.len() as i64) < PAGE_EVENTS;
        let Some(last) = events.last() else {
            return Ok(None);
        };
        pages.after = last.event.feed_position;
        let mut lines = Vec::new();
        for event in events {
            serde_json::to_writer(&mut lines, &AuditEvent::from_history(event))?;
            lines.push(b'\n');
        }
        Ok(Some((Bytes::from(lines), pages)))
    })
}

/// Writes the day's events to `out` (standard output when `None`); returns how many.
pub async fn write(
    store: &Store,
    calendar: &BusinessCalendar,
    day_of: NaiveDate,
    out: Option<&Path>,
) -> anyhow::Result<u64> {
    use futures::TryStreamExt;
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut lines = 0_u64;
    let pages = day(store.clone(), calendar, day_of);
    futures::pin_mut!(pages);
    while let Some(page) = pages.try_next().await? {
        lines += page.iter().filter(|b| **b == b'\n').count() as u64;
        sink.write_all(&page)?;
    }
    sink.flush()?;
    Ok(lines)
}

/// The day's digest now, and the one recorded for it, if any.
pub async fn digest(
    store: &Store,
    calendar: &BusinessCalendar,
    day: NaiveDate,
) -> anyhow::Result<(ledger::DayDigest, Option<(ledger::DayDigest, String)>)> {
    let (from, to) = calendar.window(day);
    let live = ledger::day_digest(store.views(), &to_view_text(from), &to_view_text(to)).await?;
    let recorded = ledger::recorded_digest(store.views(), &day.to_string()).await?;
    Ok((live, recorded))
}
