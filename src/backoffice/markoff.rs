//! The daily mark-off extract: every inbound PayShap credit booked on a business day, as CSV,
//! for reconciliation against the sponsor bank's own extract. The business day is the back
//! office's (`[backoffice] time_zone` and `cutoff`).

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use projections::payshap_transfers::{self, TransferRow};
use projections::time::to_view_text;
use serde::Deserialize;

use super::calendar::BusinessCalendar;
use super::extract;
use crate::http::ApiError;
use crate::security::{Party, Role};
use crate::store::Store;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

/// One extract row per credit, in [`COLUMNS`] order.
pub fn rows(credits: &[TransferRow]) -> Vec<Vec<String>> {
    credits
        .iter()
        .map(|row| {
            vec![
                row.uetr.clone(),
                extract::text(row.end_to_end_id.as_deref().unwrap_or_default()),
                row.credited_at.clone().unwrap_or_default(),
                extract::money(row.amount_minor),
                if row.currency == "710" {
                    "ZAR".to_owned()
                } else {
                    row.currency.clone()
                },
                extract::text(row.proxy_id.as_deref().unwrap_or_default()),
                row.tran_id.clone().unwrap_or_default(),
                extract::text(row.debtor_name.as_deref().unwrap_or_default()),
            ]
        })
        .collect()
}

#[utoipa::path(get, path = "/backoffice/payshap/markoff.csv", tag = "finance", params(Day),
    responses((status = 200, description = "The day's PayShap credits to mark off, as CSV.", content_type = "text/csv", body = String),
        crate::http::documented::Reads))]
pub async fn extract(
    calendar: web::Data<BusinessCalendar>,
    store: web::Data<Store>,
    party: Party,
    query: web::Query<Day>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let (start, end) = calendar.window(query.date);
    let mut conn = store
        .views()
        .pool()
        .acquire()
        .await
        .map_err(|e| ApiError::internal("reading PayShap credits", &e))?;
    let credits =
        payshap_transfers::credited_between(&mut conn, &to_view_text(start), &to_view_text(end))
            .await
            .map_err(|e| ApiError::internal("reading PayShap credits", &e))?;
    extract::respond(
        &format!("payshap-markoff-{}.csv", query.date),
        &COLUMNS,
        rows(&credits),
    )
}
