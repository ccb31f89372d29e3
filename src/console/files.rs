//! `/backoffice/files`: partner settlement files. Finance chooses the partner, the day and
//! the file; the console reads it and shows what it holds (lines, total, digest) before
//! anything is imported; on confirmation it is imported exactly as the finance API imports
//! it, as the signed-in user, and the day's matching is shown with the file in it.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use base64::Engine;
use chrono::{NaiveDate, Utc};
use futures::TryStreamExt;
use maud::html;
use tracing_actix_web::RequestId;

use super::context::Viewer;
use super::forms::{self, field, Confirmation, Csrf, Fields};
use super::layout::{self, ConsoleError, Section};
use crate::backoffice::api::parse_day;
use crate::backoffice::extract::money;
use crate::backoffice::import::{import, statement_partner};
use crate::backoffice::service::BackOfficeService;
use crate::backoffice::statement;
use crate::security::{Party, Role};

/// The partners whose files the back office takes: the QR partners and PayShap's.
fn partners(backoffice: &BackOfficeService) -> Vec<String> {
    let mut ids: Vec<String> = backoffice
        .config
        .partners
        .iter()
        .map(|p| p.id.clone())
        .collect();
    ids.push(backoffice.config.payshap.partner_id.clone());
    ids.sort();
    ids.dedup();
    ids
}

pub async fn page(
    backoffice: web::Data<BackOfficeService>,
    viewer: Viewer,
    fields: web::Query<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    let Viewer { party, csrf, .. } = &viewer;
    let day = match field(&fields, "day") {
        Some(day) => parse_day(day)?,
        None => backoffice.calendar.day_of(Utc::now()),
    };
    let mut conn = super::context::views(&backoffice.store, "listing partner files").await?;
    let imported = projections::recon::statements_for_day(&mut conn, &day.to_string())
        .await
        .map_err(|e| ConsoleError::internal("listing partner files", &e))?;
    drop(conn);
    let finance = layout::may(party, &[Role::Backoffice]);
    let body = html! {
        h1 { "Partner settlement files" }
        @if finance {
            section.panel {
                h2 { "Upload a file" }
                form.search #upload method="post" action="/backoffice/files" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    label { "Partner" select name="partner" id="f-partner" {
                        @for p in partners(&backoffice) { option value=(p) { (p) } }
                    } }
                    label { "Business day" input type="date" name="day" id="f-day" value=(day) required; }
                    label { "File (CSV)" input type="file" name="file" id="f-file" accept=".csv,text/csv" required; }
                    button #upload-button type="submit" { "Check the file" }
                }
                p.muted { "Columns: tran_id, partner_reference, transaction_time, amount, currency. "
                    "A second file for the same partner and day replaces the first in matching; both stay in the history." }
            }
        }
        h2 { "Imported for " (day) }
        div.scroll { table #imported {
            tr { th { "Partner" } th { "File" } th.n { "Version" } th.n { "Lines" } th { "SHA-256" } th { "Imported" } }
            @for s in &imported {
                tr data-partner=(s.partner_id) {
                    td { (s.partner_id) } td { (s.file_name) } td.n { (s.version) } td.n { (s.line_count) }
                    td { code { (s.sha256) } } td { (s.imported_at) }
                }
            }
        } }
        p { a href={ "/backoffice/?day=" (day) } { "Matching for " (day) " on the dashboard" } }
    };
    Ok(layout::page("Partner files", &viewer, Section::Files, body))
}

/// The upload form's fields and its file.
pub(super) async fn read_upload(
    mut form: Multipart,
    max_bytes: usize,
) -> Result<(Fields, String, Vec<u8>), ConsoleError> {
    let mut fields = Fields::new();
    let mut file_name = String::new();
    let mut file = Vec::new();
    let unreadable = |e: actix_multipart::MultipartError| {
        ConsoleError::bad_request(format!("the upload could not be read: {e}"))
    };
    while let Some(mut part) = form.try_next().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_owned();
        let is_file = name == "file";
        if is_file {
            file_name = part
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default()
                .to_owned();
        }
        let mut value = Vec::new();
        while let Some(chunk) = part.try_next().await.map_err(unreadable)? {
            if value.len() + chunk.len() > max_bytes {
                return Err(ConsoleError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the file is larger than the {max_bytes} bytes accepted; nothing was imported"),
                ));
            }
            value.extend_from_slice(&chunk);
        }
        if is_file {
            file = value;
        } else {
            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    Ok((fields, file_name, file))
}

/// Step one: read the file and say what it holds; nothing is imported yet.
pub async fn check(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    csrf: Csrf,
    form: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    party.require(&[Role::Backoffice])?;
    let max_bytes = backoffice.config.backoffice.statement_max_bytes;
    let (fields, file_name, file) = read_upload(form, max_bytes).await?;
    forms::check(&csrf, &fields)?;
    let (partner, day) = partner_and_day(&backoffice, &fields)?;
    if file.is_empty() {
        return Err(ConsoleError::bad_request("choose a file to upload"));
    }
    let lines = statement::parse(&file).map_err(|e| {
        ConsoleError::bad_request(format!("{file_name}: {e}; nothing was imported"))
    })?;
    let total: i64 = lines.iter().map(|l| l.amount.minor_units()).sum();
    let mut carry = Fields::new();
    carry.insert("partner".into(), partner.clone());
    carry.insert("day".into(), day.to_string());
    carry.insert("fileName".into(), file_name.clone());
    carry.insert(
        "content".into(),
        base64::engine::general_purpose::STANDARD.encode(&file),
    );
    let summary = html! {
        dl.facts #file-summary {
            dt { "Partner" } dd { (partner) }
            dt { "Business day" } dd { (day) }
            dt { "File" } dd { (file_name) }
            dt { "Lines" } dd #file-lines { (lines.len()) }
            dt { "Total" } dd.n { (money(total)) }
            dt { "SHA-256" } dd { code { (crate::digest::sha256_hex(&file)) } }
        }
    };
    Ok(forms::confirm(
        &party,
        &csrf,
        Confirmation {
            title: "Import this partner file?",
            section: Section::Files,
            summary,
            action: "/backoffice/files/import",
            button: "Import",
            fields: &carry,
            cancel: "/backoffice/files",
        },
    ))
}

fn partner_and_day(
    backoffice: &BackOfficeService,
    fields: &Fields,
) -> Result<(String, NaiveDate), ConsoleError> {
    let partner = field(fields, "partner").unwrap_or_default().to_owned();
    statement_partner(backoffice, &partner)?;
    let day = parse_day(field(fields, "day").unwrap_or_default())?;
    Ok((partner, day))
}

/// Step two, confirmed: the import.
pub async fn confirm_import(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    csrf: Csrf,
    request_id: RequestId,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    party.require(&[Role::Backoffice])?;
    forms::check(&csrf, &fields)?;
    if !forms::confirmed(&fields) {
        return Err(ConsoleError::bad_request(
            "the import was not confirmed; nothing was imported",
        ));
    }
    let (partner, day) = partner_and_day(&backoffice, &fields)?;
    let content = base64::engine::general_purpose::STANDARD
        .decode(field(&fields, "content").unwrap_or_default())
        .map_err(|_| {
            ConsoleError::bad_request("the file did not come back intact; upload it again")
        })?;
    let file_name = field(&fields, "fileName").map(str::to_owned);
    let imported = import(
        &backoffice,
        &party,
        &request_id,
        day,
        &partner,
        file_name,
        &content,
    )
    .await?;
    let notice = format!(
        "Imported {} lines from {partner} for {day} (version {}).",
        imported.lines, imported.version
    );
    Ok(forms::done(&format!("/backoffice/?day={day}"), &notice))
}
