//! The audit endpoints: thin handlers over [`projections::history`], each readable by the
//! roles that read the books and answering in the back office's error shape.

use actix_web::{web, HttpResponse};
use projections::feed::FeedPosition;
use projections::history::{self, HistoryEvent};
use serde::{Deserialize, Serialize};

use super::export;
use super::record::{cursor, parse_cursor, AuditEvent, AGGREGATE_TYPES};
use crate::backoffice::api::parse_day;
use crate::backoffice::calendar::BusinessCalendar;
use crate::http::ApiError;
use crate::security::{Party, Role};
use crate::store::Store;

/// Events per page unless the caller asks for fewer, and the most it may ask for.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// A sequence (streams) or a feed position (`COMMITTX-POSITION`, the feed).
    after: Option<String>,
    /// Events per page, 1 to 1,000 (100 when absent).
    limit: Option<i64>,
}

/// A page of events; `next` is the `after` of the following page, present when this one is
/// full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<String>,
}

/// A business day's digest as the events give it now, and as recorded at the day's close.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DigestAnswer {
    pub day: String,
    pub digest: projections::ledger::DayDigest,
    pub recorded: Option<RecordedDigest>,
    /// Whether now and as recorded agree; absent until the day is recorded.
    pub matches: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedDigest {
    pub digest: projections::ledger::DayDigest,
    pub recorded_at: String,
}

impl Page {
    fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::bad_request(format!(
                "limit {n}: give 1 to {MAX_PAGE}"
            ))),
        }
    }

    fn after_sequence(&self) -> Result<i64, ApiError> {
        match &self.after {
            None => Ok(0),
            Some(text) => {
                text.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| {
                    ApiError::bad_request(format!("after {text:?}: give a sequence"))
                })
            }
        }
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%error, "reading the event history");
    ApiError::unavailable(
        "UNAVAILABLE",
        "the event store cannot be read now, try again",
    )
}

/// `{ "events": [...], "next": … }`: `next` is the `after` of the following page, present
/// when this page is full.
fn page_of(
    events: Vec<HistoryEvent>,
    limit: i64,
    next: impl Fn(&HistoryEvent) -> String,
) -> HttpResponse {
    let following = (events.len() as i64 == limit)
        .then(|| events.last().map(&next))
        .flatten();
    let events: Vec<AuditEvent> = events.into_iter().map(AuditEvent::from_history).collect();
    HttpResponse::Ok().json(EventPage {
        events,
        next: following,
    })
}

async fn read_stream(
    store: &Store,
    aggregate_type: &str,
    aggregate_id: &str,
    page: &Page,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = (page.after_sequence()?, page.limit()?);
    let mut conn = store
        .views()
        .pool()
        .acquire()
        .await
        .map_err(|e| unavailable(&e))?;
    let events = history::stream(
        &mut conn,
        store.backend(),
        aggregate_type,
        aggregate_id,
        after,
        limit,
    )
    .await
    .map_err(|e| unavailable(&e))?;
    if events.is_empty() && after == 0 {
        return Err(ApiError::not_found());
    }
    Ok(page_of(events, limit, |e| e.event.sequence.to_string()))
}

/// `GET /audit/payments/{tranId}/events`: the payment's whole story, in order.
#[utoipa::path(get, path = "/audit/payments/{tran_id}/events", tag = "audit",
    params(("tran_id" = String, Path, description = "The payment's tranId."), Page),
    responses((status = 200, description = "The payment's events, in order.", body = EventPage), crate::http::documented::Reads))]
pub async fn payment_events(
    store: web::Data<Store>,
    party: Party,
    tran_id: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    read_stream(&store, "Payment", &tran_id, &page).await
}

/// `GET /audit/streams/{type}/{id}/events`: any aggregate's stream.
#[utoipa::path(get, path = "/audit/streams/{aggregate_type}/{aggregate_id}/events", tag = "audit",
    params(("aggregate_type" = String, Path, description = "`Payment`, `PayShapTransfer`, `Proxy`, `Resolution`, `FeeSchedule`, `PartnerStatement` or `HeldMessage`."),
        ("aggregate_id" = String, Path), Page),
    responses((status = 200, description = "The stream's events, in order.", body = EventPage), crate::http::documented::Reads))]
pub async fn stream_events(
    store: web::Data<Store>,
    party: Party,
    path: web::Path<(String, String)>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let (aggregate_type, aggregate_id) = path.into_inner();
    if !AGGREGATE_TYPES.contains(&aggregate_type.as_str()) {
        return Err(ApiError::bad_request(format!(
            "{aggregate_type:?} is not an aggregate type; known: {}",
            AGGREGATE_TYPES.join(", ")
        )));
    }
    read_stream(&store, &aggregate_type, &aggregate_id, &page).await
}

/// `GET /audit/feed?after=COMMITTX-POSITION`: every event in commit order.
#[utoipa::path(get, path = "/audit/feed", tag = "audit", params(Page),
    responses((status = 200, description = "Every event in commit order, from `after`.", body = EventPage), crate::http::documented::Reads))]
pub async fn feed(
    store: web::Data<Store>,
    party: Party,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let limit = page.limit()?;
    let after = match &page.after {
        None => FeedPosition::START,
        Some(text) => parse_cursor(text).ok_or_else(|| {
            ApiError::bad_request(format!("after {text:?}: give a feed position such as 0-0"))
        })?,
    };
    let mut conn = store
        .views()
        .pool()
        .acquire()
        .await
        .map_err(|e| unavailable(&e))?;
    let events = history::feed(&mut conn, store.backend(), after, limit)
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(page_of(events, limit, |e| cursor(e.event.feed_position)))
}

type Recorded = Option<(projections::ledger::DayDigest, String)>;

/// The day a reader asks for, with its digest now and as recorded.
async fn day_with_digest(
    store: &Store,
    calendar: &BusinessCalendar,
    party: &Party,
    day: &str,
) -> Result<(chrono::NaiveDate, projections::ledger::DayDigest, Recorded), ApiError> {
    party.require(Role::READS_BOOKS)?;
    let day = parse_day(day)?;
    let (live, recorded) = export::digest(store, calendar, day)
        .await
        .map_err(|e| unavailable(&e))?;
    Ok((day, live, recorded))
}

/// `GET /backoffice/api/days/{day}/digest` (and `/audit/days/{day}/digest`): the day's
/// digest as the events give it now, and as recorded, if it was.
#[utoipa::path(get, path = "/audit/days/{day}/digest", tag = "audit",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21.")),
    responses((status = 200, description = "The day's digest.", body = DigestAnswer), crate::http::documented::Reads))]
pub async fn day_digest(
    store: web::Data<Store>,
    calendar: web::Data<BusinessCalendar>,
    party: Party,
    day: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (day, live, recorded) = day_with_digest(&store, &calendar, &party, &day).await?;
    let matches = recorded.as_ref().map(|(r, _)| *r == live);
    let recorded = recorded.map(|(digest, recorded_at)| RecordedDigest {
        digest,
        recorded_at,
    });
    Ok(HttpResponse::Ok().json(DigestAnswer {
        day: day.to_string(),
        digest: live,
        recorded,
        matches,
    }))
}

/// `GET /audit/days/{day}/events.ndjson`: the business day's events, streamed; the day's
/// digest now in `X-Qrswitch-Day-Digest`, to check the file against later.
#[utoipa::path(get, path = "/audit/days/{day}/events.ndjson", tag = "audit",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21.")),
    responses((status = 200, description = "The day's events, one JSON object a line; the day's digest root in `X-Qrswitch-Day-Digest`.",
        content_type = "application/x-ndjson", body = String), crate::http::documented::Reads))]
pub async fn day_events(
    store: web::Data<Store>,
    calendar: web::Data<BusinessCalendar>,
    party: Party,
    day: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (day, digest, _) = day_with_digest(&store, &calendar, &party, &day).await?;
    let lines = export::day(store.get_ref().clone(), &calendar, day);
    let lines = futures::StreamExt::inspect(lines, |page| {
        if let Err(error) = page {
            tracing::error!(%error, "day export cut off");
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("x-qrswitch-day-digest", digest.root))
        .streaming(lines))
}
