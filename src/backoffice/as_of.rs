//! Which events a report describes. Every report and extract is a pure function of the
//! events up to one feed position and of the moment it is judged at (`asOf`), and says both
//! in its headers (`X-Qrswitch-Feed-Position`, `X-Qrswitch-As-Of`). Asked again with
//! `asOfPosition` (and that `asOf`), it is reproduced byte for byte from the feed, whatever
//! happened since.
//!
//! - No parameter: today's views, read in one snapshot at the position they stand at.
//! - `asOfPosition=COMMITTX-POSITION`: the feed replayed up to it (`projections::scratch`).
//! - `asOf` alone, in the past: the feed up to the last event committed at or before it.

use std::sync::Arc;

use actix_web::HttpResponse;
use chrono::{DateTime, NaiveDate, Utc};
use projections::projector::load_checkpoint;
use projections::{Backend, FeedPosition, Projection};
use sqlx::AnyConnection;

use super::day::DayData;
use super::service::BackOfficeService;
use crate::http::ApiError;

/// Query parameters of the finance API, all optional.
pub type Params = actix_web::web::Query<std::collections::HashMap<String, String>>;

/// The views a report reads.
const REPORT_VIEWS: [&str; 2] = [
    projections::recon::NAME,
    projections::payshap_transfers::NAME,
];

/// Times the live path brings its views to one position before it gives up (they keep
/// moving only while the background runner is failing over view by view).
const ALIGN_ATTEMPTS: usize = 5;

/// What a request asks a report to describe.
struct Cut {
    position: Option<FeedPosition>,
    as_of: DateTime<Utc>,
    /// `asOf` was given and lies in the past.
    past: bool,
}

fn cut(params: &Params) -> Result<Cut, ApiError> {
    let now = Utc::now();
    let as_of = match params.get("asOf") {
        None => now,
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| ApiError::bad_request(format!("asOf {text:?} is not an RFC 3339 time")))?,
    };
    let position = match params.get("asOfPosition") {
        None => None,
        Some(text) => Some(FeedPosition::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "asOfPosition {text:?} is not a feed position such as 0-1234"
            ))
        })?),
    };
    Ok(Cut {
        position,
        as_of,
        past: as_of < now,
    })
}

/// The day's rows as the request asks for them.
pub async fn load_day(
    backoffice: &BackOfficeService,
    day: NaiveDate,
    params: &Params,
) -> Result<DayData, ApiError> {
    let cut = cut(params)?;
    let position = match cut.position {
        Some(position) => Some(position),
        None if cut.past => Some(committed_by(backoffice, cut.as_of).await?),
        None => None,
    };
    match position {
        Some(position) => replayed(backoffice, day, cut.as_of, position).await,
        None => live(backoffice, day, cut.as_of).await,
    }
}

/// The headers that say what a report describes.
pub fn stamp(data: &DayData, mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-qrswitch-feed-position", data.feed_position.to_string()),
        ("x-qrswitch-as-of", data.as_of.to_rfc3339()),
    ] {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&value) {
            headers.insert(
                actix_web::http::header::HeaderName::from_static(name),
                value,
            );
        }
    }
    response
}

fn store_error(what: &'static str) -> impl Fn(sqlx::Error) -> ApiError {
    move |e| ApiError::internal(what, &e)
}

/// The position of the last event committed at or before `at` (the start of the feed when
/// there is none).
async fn committed_by(
    backoffice: &BackOfficeService,
    at: DateTime<Utc>,
) -> Result<FeedPosition, ApiError> {
    let sql = match backoffice.store.backend() {
        Backend::Postgres => {
            "SELECT commit_tx, position FROM events WHERE committed_at <= $1
              ORDER BY commit_tx DESC, position DESC LIMIT 1"
        }
        Backend::Sqlite => {
            "SELECT 0 AS commit_tx, position FROM events WHERE committed_at <= $1
              ORDER BY position DESC LIMIT 1"
        }
    };
    let row: Option<(i64, i64)> = sqlx::query_as(sql)
        .bind(projections::time::to_view_text(at))
        .fetch_optional(backoffice.store.views().pool())
        .await
        .map_err(store_error("finding the events committed by asOf"))?;
    Ok(
        row.map_or(FeedPosition::START, |(commit_tx, position)| FeedPosition {
            commit_tx,
            position,
        }),
    )
}

async fn replayed(
    backoffice: &BackOfficeService,
    day: NaiveDate,
    as_of: DateTime<Utc>,
    position: FeedPosition,
) -> Result<DayData, ApiError> {
    let views: Vec<Arc<dyn Projection>> = vec![
        Arc::new(projections::recon::ReconProjection),
        Arc::new(projections::payshap_transfers::PayShapTransfersProjection),
    ];
    let scratch = projections::scratch::replay_until(
        backoffice.store.views(),
        &crate::store::SQLITE_MIGRATIONS,
        &views,
        position,
    )
    .await
    .map_err(|e| ApiError::internal("replaying the feed for asOfPosition", &e))?;
    let mut conn = scratch
        .acquire()
        .await
        .map_err(store_error("opening the replayed views"))?;
    let data = DayData::load(&mut conn, &backoffice.calendar, day, as_of, position)
        .await
        .map_err(store_error("reading the replayed views"));
    drop(conn);
    scratch.close().await;
    data
}

/// Today's views, brought past every event committed before the call and to one position,
/// read in one snapshot.
async fn live(
    backoffice: &BackOfficeService,
    day: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<DayData, ApiError> {
    catch_up_recon(backoffice).await?;
    let views = backoffice.store.views();
    for _ in 0..ALIGN_ATTEMPTS {
        let mut tx = match views.backend() {
            Backend::Postgres => {
                views
                    .pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
            Backend::Sqlite => views.pool().begin().await,
        }
        .map_err(store_error("reading the recon views"))?;
        let positions = checkpoints(&mut tx).await?;
        let ahead = positions.iter().copied().max().unwrap_or_default();
        if positions.iter().all(|p| *p == ahead) {
            let data = DayData::load(&mut tx, &backoffice.calendar, day, as_of, ahead)
                .await
                .map_err(store_error("reading the recon views"))?;
            tx.rollback()
                .await
                .map_err(store_error("reading the recon views"))?;
            return Ok(data);
        }
        tx.rollback()
            .await
            .map_err(store_error("reading the recon views"))?;
        for name in REPORT_VIEWS {
            if let Some(projector) = backoffice.projectors.get(name) {
                projector
                    .catch_up_until(Some(ahead))
                    .await
                    .map_err(|e| ApiError::internal("aligning the recon views", &e))?;
            }
        }
    }
    Err(ApiError::unavailable(
        "VIEWS_BEHIND",
        "the recon views are moving; try again shortly",
    ))
}

async fn checkpoints(conn: &mut AnyConnection) -> Result<Vec<FeedPosition>, ApiError> {
    let mut positions = Vec::with_capacity(REPORT_VIEWS.len());
    for name in REPORT_VIEWS {
        positions.push(
            load_checkpoint(conn, name)
                .await
                .map_err(|e| ApiError::internal("reading the views' positions", &e))?,
        );
    }
    Ok(positions)
}

/// Brings the recon views past every event committed before the call: a report never
/// misses a payment that was answered before it was asked for.
pub async fn catch_up_recon(backoffice: &BackOfficeService) -> Result<(), ApiError> {
    for name in [
        projections::recon::NAME,
        projections::payshap_transfers::NAME,
    ] {
        if let Some(projector) = backoffice.projectors.get(name) {
            projector
                .catch_up_to_head(std::time::Duration::from_millis(
                    crate::views::CATCH_UP_LIMIT_MS,
                ))
                .await
                .map_err(|e| {
                    tracing::error!(projection = name, error = %e, "recon view cannot catch up");
                    ApiError::unavailable(
                        "VIEWS_BEHIND",
                        "the recon views are behind the events; try again shortly",
                    )
                })?;
        }
    }
    Ok(())
}
