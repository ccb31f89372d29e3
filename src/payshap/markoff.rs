//! The daily mark-off extract: every inbound PayShap credit booked on a business day, as CSV,
//! for reconciliation against the sponsor bank's own extract. A business day is a calendar
//! day in South African Standard Time (UTC+2 all year; South Africa has no daylight saving).

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use projections::payshap_transfers;
use projections::time::to_view_text;
use serde::Deserialize;

use crate::app::App;
use crate::http::ApiError;
use crate::security::{Party, Role};

/// South African Standard Time, in seconds east of UTC.
const SAST_OFFSET_SECONDS: i32 = 2 * 3600;

#[derive(Debug, Deserialize)]
pub struct Day {
    pub date: NaiveDate,
}

/// The extract's columns, in order.
pub const COLUMNS: [&str; 8] = [
    "uetr",
    "end_to_end_id",
    "credited_at",
    "amount",
    "currency",
    "proxy_id",
    "tran_id",
    "debtor_name",
];

pub async fn extract(
    app: web::Data<App>,
    party: Party,
    query: web::Query<Day>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Backoffice, Role::Ops])?;
    let offset = chrono::FixedOffset::east_opt(SAST_OFFSET_SECONDS)
        .ok_or_else(|| ApiError::internal("time zone", &"bad offset"))?;
    let start = offset
        .from_local_datetime(&query.date.and_time(NaiveTime::MIN))
        .single()
        .ok_or_else(|| ApiError::bad_request("date is not a calendar day"))?
        .with_timezone(&Utc);
    let end = start + Duration::days(1);
    let rows = payshap_transfers::credited_between(
        app.store.views().pool(),
        &to_view_text(start),
        &to_view_text(end),
    )
    .await
    .map_err(|e| ApiError::internal("reading PayShap credits", &e))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let write = |csv: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        csv.write_record(record)
            .map_err(|e| ApiError::internal("writing CSV", &e))
    };
    write(&mut csv, &COLUMNS.map(str::to_owned))?;
    for row in rows {
        write(
            &mut csv,
            &[
                row.uetr,
                row.end_to_end_id.unwrap_or_default(),
                row.credited_at.unwrap_or_default(),
                format!("{}.{:02}", row.amount_minor / 100, row.amount_minor % 100),
                "ZAR".to_owned(),
                row.proxy_id.unwrap_or_default(),
                row.tran_id.unwrap_or_default(),
                row.debtor_name.unwrap_or_default(),
            ],
        )?;
    }
    let body = csv
        .into_inner()
        .map_err(|e| ApiError::internal("finishing CSV", &e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!(
                "attachment; filename=\"payshap-markoff-{}.csv\"",
                query.date
            ),
        ))
        .body(body))
}
