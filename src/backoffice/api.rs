//! The finance API: the day's report, settlement, exceptions, three-way matching and the
//! mark-off extract, as JSON or (`?format=csv`) CSV; the import of partner settlement files;
//! the fee terms in force.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use tracing_actix_web::RequestId;

use super::as_of::stamp;
use super::day::DayData;
use super::exceptions::{advice_due_within, exceptions};
use super::extract::{self, money};
use super::matching::matching;
use super::report::{day_report, GroupBy};
use super::service::BackOfficeService;
use super::settlement::{settlement, Settlement};
use crate::http::ApiError;
use crate::security::{Party, Role};

pub use super::answers::{ExceptionsAnswer, FeeTermsAnswer, MarkoffAnswer, ReportParams};
pub use super::as_of::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn format_of(params: &Params) -> Result<Format, ApiError> {
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::bad_request(format!(
            "format {other:?} is neither json nor csv"
        ))),
    }
}

pub fn parse_day(text: &str) -> Result<NaiveDate, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{text:?} is not a day such as 2026-11-21")))
}

/// A CSV extract of `data`, with the headers saying what it describes.
fn csv_of(
    data: &DayData,
    file_name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    extract::respond(file_name, header, rows).map(|response| stamp(data, response))
}

async fn day_for(
    backoffice: &BackOfficeService,
    party: &Party,
    day: &str,
    params: &Params,
) -> Result<(DayData, Format), ApiError> {
    party.require(Role::READS_BOOKS)?;
    let format = format_of(params)?;
    let day = parse_day(day)?;
    Ok((
        super::as_of::load_day(backoffice, day, params).await?,
        format,
    ))
}

#[utoipa::path(get, path = "/backoffice/api/days/{day}/report", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."), ReportParams, ("by" = Option<String>, Query, description = "CSV only: `partner` (default), `retailer`, `store` or `lane`.")),
    responses((status = 200, description = "The day's figures: totals and by partner, retailer, store and lane. As JSON, or CSV with `format=csv`; `X-Qrswitch-Feed-Position` and `X-Qrswitch-As-Of` say which events it describes.",
        content((super::report::DayReport = "application/json"), (String = "text/csv"))), crate::http::documented::Reads))]
pub async fn report(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    day: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (data, format) = day_for(&backoffice, &party, &day, &params).await?;
    let report = day_report(&data);
    if format == Format::Json {
        return Ok(stamp(&data, HttpResponse::Ok().json(report)));
    }
    let by = match params.get("by").map(String::as_str).unwrap_or("partner") {
        "partner" => GroupBy::Partner,
        "retailer" => GroupBy::Retailer,
        "store" => GroupBy::Store,
        "lane" => GroupBy::Lane,
        other => {
            return Err(ApiError::bad_request(format!(
                "by {other:?} is not partner, retailer, store or lane"
            )))
        }
    };
    let mut header = vec!["partner_id", "retailer_id", "store_id", "lane_id"];
    let stages = [
        "requested",
        "authorised",
        "declined",
        "timed_out",
        "confirmed",
        "reversed",
        "completed",
    ];
    let stage_columns: Vec<String> = stages
        .iter()
        .flat_map(|s| [format!("{s}_count"), format!("{s}_amount")])
        .collect();
    header.extend(stage_columns.iter().map(String::as_str));
    let rows = report.breakdown(by).iter().map(|group| {
        let f = &group.figures;
        let mut row: Vec<String> = [
            &group.partner_id,
            &group.retailer_id,
            &group.store_id,
            &group.lane_id,
        ]
        .into_iter()
        .map(|v| extract::text(v.as_deref().unwrap_or_default()))
        .collect();
        for tally in [
            f.requested,
            f.authorised,
            f.declined,
            f.timed_out,
            f.confirmed,
            f.reversed,
            f.completed,
        ] {
            row.push(tally.count.to_string());
            row.push(money(tally.amount_minor));
        }
        row
    });
    let by_name = params.get("by").map(String::as_str).unwrap_or("partner");
    csv_of(
        &data,
        &format!("recon-{}-by-{by_name}.csv", data.day),
        &header,
        rows,
    )
}

#[utoipa::path(get, path = "/backoffice/api/days/{day}/settlement", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."), ReportParams, ("view" = Option<String>, Query, description = "CSV only: `lines` (default), `partners` or `retailers`.")),
    responses((status = 200, description = "What each partner owes each retailer, gross, fee and net. As JSON, or CSV with `format=csv`; `X-Qrswitch-Feed-Position` and `X-Qrswitch-As-Of` say which events it describes.",
        content((super::settlement::Settlement = "application/json"), (String = "text/csv"))), crate::http::documented::Reads))]
pub async fn settlement_extract(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    day: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (data, format) = day_for(&backoffice, &party, &day, &params).await?;
    let settlement = settlement(&data);
    if format == Format::Json {
        return Ok(stamp(&data, HttpResponse::Ok().json(settlement)));
    }
    let view = params.get("view").map(String::as_str).unwrap_or("lines");
    settlement_csv(&data, &settlement, view)
}

/// The settlement as CSV: one row per payment (`lines`), or totals per partner or retailer.
fn settlement_csv(
    data: &DayData,
    settlement: &Settlement,
    view: &str,
) -> Result<HttpResponse, ApiError> {
    let name = |what: &str| format!("settlement-{}-{what}.csv", data.day);
    match view {
        "lines" => csv_of(
            data,
            &name("lines"),
            &[
                "tran_id",
                "partner_id",
                "retailer_id",
                "store_id",
                "lane_id",
                "requested_at",
                "gross",
                "fee",
                "net",
                "fee_version",
            ],
            settlement.lines.iter().map(|l| {
                vec![
                    l.tran_id.clone(),
                    extract::text(&l.partner_id),
                    extract::text(&l.retailer_id),
                    extract::text(&l.store_id),
                    extract::text(&l.lane_id),
                    l.requested_at.clone(),
                    money(l.gross_minor),
                    money(l.fee_minor),
                    money(l.net_minor),
                    l.fee_version.to_string(),
                ]
            }),
        ),
        view @ ("partners" | "retailers") => {
            let totals = if view == "partners" {
                &settlement.by_partner
            } else {
                &settlement.by_retailer
            };
            let party_column = if view == "partners" {
                "partner_id"
            } else {
                "retailer_id"
            };
            csv_of(
                data,
                &name(view),
                &[party_column, "count", "gross", "fee", "net"],
                totals.iter().chain([&settlement.total]).map(|t| {
                    vec![
                        extract::text(&t.party_id),
                        t.count.to_string(),
                        money(t.gross_minor),
                        money(t.fee_minor),
                        money(t.net_minor),
                    ]
                }),
            )
        }
        other => Err(ApiError::bad_request(format!(
            "view {other:?} is not lines, partners or retailers"
        ))),
    }
}

#[utoipa::path(get, path = "/backoffice/api/days/{day}/exceptions", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."), ReportParams),
    responses((status = 200, description = "Everything that needs a person. As JSON, or CSV with `format=csv`; `X-Qrswitch-Feed-Position` and `X-Qrswitch-As-Of` say which events it describes.",
        content((ExceptionsAnswer = "application/json"), (String = "text/csv"))), crate::http::documented::Reads))]
pub async fn exceptions_extract(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    day: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (data, format) = day_for(&backoffice, &party, &day, &params).await?;
    let due = advice_due_within(&backoffice.config.backoffice);
    let found = exceptions(&data, &matching(&data), due);
    if format == Format::Json {
        return Ok(stamp(
            &data,
            HttpResponse::Ok().json(ExceptionsAnswer {
                business_day: data.day.to_string(),
                as_of: data.as_of.to_rfc3339(),
                exceptions: found,
            }),
        ));
    }
    csv_of(
        &data,
        &format!("exceptions-{}.csv", data.day),
        &[
            "kind",
            "reference",
            "partner_id",
            "amount",
            "detail",
            "raw_message",
        ],
        found.iter().map(|e| {
            vec![
                e.kind.as_str().to_owned(),
                extract::text(&e.reference),
                extract::text(e.partner_id.as_deref().unwrap_or_default()),
                e.amount_minor.map(money).unwrap_or_default(),
                extract::text(&e.detail),
                extract::text(e.raw_message.as_deref().unwrap_or_default()),
            ]
        }),
    )
}

#[utoipa::path(get, path = "/backoffice/api/days/{day}/matching", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."), ReportParams),
    responses((status = 200, description = "Three-way matching of advices, our outcomes and the partners' files. As JSON, or CSV with `format=csv`; `X-Qrswitch-Feed-Position` and `X-Qrswitch-As-Of` say which events it describes.",
        content((super::matching::Matching = "application/json"), (String = "text/csv"))), crate::http::documented::Reads))]
pub async fn matching_extract(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    day: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (data, format) = day_for(&backoffice, &party, &day, &params).await?;
    let matching = matching(&data);
    if format == Format::Json {
        return Ok(stamp(&data, HttpResponse::Ok().json(matching)));
    }
    let optional_money = |m: Option<i64>| m.map(money).unwrap_or_default();
    csv_of(
        &data,
        &format!("matching-{}.csv", data.day),
        &[
            "partner_id",
            "tran_id",
            "result",
            "retailer_advice",
            "switch_outcome",
            "switch_amount",
            "partner_amount",
            "partner_reference",
            "line_number",
            "detail",
        ],
        matching.partners.iter().flat_map(|p| &p.lines).map(|l| {
            vec![
                extract::text(&l.partner_id),
                extract::text(&l.tran_id),
                l.result.as_str().to_owned(),
                l.retailer_advice.clone().unwrap_or_default(),
                l.switch_outcome.clone().unwrap_or_default(),
                optional_money(l.switch_amount_minor),
                optional_money(l.partner_amount_minor),
                extract::text(l.partner_reference.as_deref().unwrap_or_default()),
                l.line_number.map(|n| n.to_string()).unwrap_or_default(),
                extract::text(&l.detail),
            ]
        }),
    )
}

#[utoipa::path(get, path = "/backoffice/api/days/{day}/markoff", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."), ReportParams),
    responses((status = 200, description = "PayShap credits to mark off against the bank statement. As JSON, or CSV with `format=csv`; `X-Qrswitch-Feed-Position` and `X-Qrswitch-As-Of` say which events it describes.",
        content((MarkoffAnswer = "application/json"), (String = "text/csv"))), crate::http::documented::Reads))]
pub async fn markoff_extract(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    day: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (data, format) = day_for(&backoffice, &party, &day, &params).await?;
    if format == Format::Json {
        return Ok(stamp(
            &data,
            HttpResponse::Ok().json(MarkoffAnswer {
                business_day: data.day.to_string(),
                credits: data.payshap_credited.clone(),
            }),
        ));
    }
    csv_of(
        &data,
        &format!("payshap-markoff-{}.csv", data.day),
        &super::markoff::COLUMNS,
        super::markoff::rows(&data.payshap_credited),
    )
}

#[utoipa::path(get, path = "/backoffice/api/fees", tag = "finance",
    responses((status = 200, description = "Each partner's fee terms in force.", body = FeeTermsAnswer), crate::http::documented::Reads))]
pub async fn fee_terms(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let terms = projections::recon::fee_terms_in_force(backoffice.store.views().pool())
        .await
        .map_err(|e| ApiError::internal("reading fee terms", &e))?;
    Ok(HttpResponse::Ok().json(FeeTermsAnswer { fee_terms: terms }))
}

/// `POST /backoffice/api/days/{day}/statements/{partner_id}` with the CSV as the body.
#[utoipa::path(post, path = "/backoffice/api/days/{day}/statements/{partner_id}", tag = "finance",
    params(("day" = chrono::NaiveDate, Path, description = "Business day, e.g. 2026-11-21."),
        ("partner_id" = String, Path, description = "The partner whose file it is."),
        ("fileName" = Option<String>, Query, description = "The file's name, as recorded.")),
    request_body(content = String, content_type = "text/csv", description = "The partner's settlement file: `tran_id,amount,reference`."),
    responses((status = 200, description = "Imported as the next version of the day's file.", body = super::import::Imported),
        crate::http::documented::Writes))]
pub async fn import_statement(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    request_id: RequestId,
    path: web::Path<(String, String)>,
    params: Params,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Backoffice])?;
    let (day, partner) = path.into_inner();
    let day = parse_day(&day)?;
    let imported = super::import::import(
        &backoffice,
        &party,
        &request_id,
        day,
        &partner,
        params.get("fileName").cloned(),
        &body,
    )
    .await?;
    Ok(HttpResponse::Ok().json(imported))
}
