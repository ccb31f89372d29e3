//! `/backoffice/payments/{tranId}`: one payment's story. The parties, amounts, the QR as it
//! was issued, the outcome and the fee (from the recon view); the deliveries of its advices
//! with every failed attempt and, for ops, the actions on them; and the event timeline from
//! the audit history: what happened, when, on whose request and which message. Sensitive
//! values are masked wherever they appear.

use actix_web::{web, HttpResponse};
use cqrs_es::Aggregate;
use maud::{html, Markup, PreEscaped};
use projections::history::{self, HistoryEvent};
use projections::recon::{self, ReconPaymentRow};
use serde_json::Value;

use super::context::Viewer;
use super::forms::Csrf;
use super::layout::{self, badge, ConsoleError, Section};
use crate::backoffice::service::BackOfficeService;
use crate::saf::queue::{self, FailedAttempt, QueueEntry};
use crate::security::{mask, Role};

/// The most events one payment's page shows; a payment has a few dozen at most.
const TIMELINE_EVENTS: i64 = 500;

pub async fn page(
    backoffice: web::Data<BackOfficeService>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let Viewer { party, csrf, .. } = &viewer;
    let tran_id = path.into_inner();
    let failed = |e: &dyn std::fmt::Display| ConsoleError::internal("reading a payment", e);
    let views = backoffice.store.views();
    let mut conn = super::context::views(&backoffice.store, "reading a payment").await?;
    let row = recon::payments_by_tran_id(&mut conn, std::slice::from_ref(&tran_id))
        .await
        .map_err(|e| failed(&e))?
        .pop();
    let events = history::stream(
        &mut conn,
        backoffice.store.backend(),
        aggregates::Payment::TYPE,
        &tran_id,
        0,
        TIMELINE_EVENTS,
    )
    .await
    .map_err(|e| failed(&e))?;
    drop(conn);
    if row.is_none() && events.is_empty() {
        return Err(ConsoleError::not_found());
    }
    let deliveries = queue::for_payment(views, &tran_id)
        .await
        .map_err(|e| failed(&e))?;
    let attempts = queue::failed_attempts(views, &tran_id)
        .await
        .map_err(|e| failed(&e))?;
    let ops = layout::may(party, &[Role::Ops]);
    let back = format!("/backoffice/payments/{tran_id}");
    let body = html! {
        h1 { "Payment " code #tran-id { (tran_id) } }
        div.grid {
            section.panel { h2 { "Parties and amounts" } (facts(row.as_ref())) }
            section.panel.qr { h2 { "QR code" } (qr(&events)) }
        }
        h2 { "Deliveries of advices" }
        (delivery_table(&deliveries, &attempts, ops.then_some((csrf, back.as_str()))))
        h2 { "Timeline" }
        (timeline(&events))
    };
    Ok(layout::page(
        &format!("Payment {tran_id}"),
        &viewer,
        Section::Payments,
        body,
    ))
}

fn facts(row: Option<&ReconPaymentRow>) -> Markup {
    let Some(row) = row else {
        return html! { p.muted { "Not yet in the recon view (it follows the events shortly)." } };
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        dl.facts #facts {
            dt { "Retailer" } dd #retailer { (row.retailer_id) }
            dt { "Store" } dd #store { (row.store_id) }
            dt { "Lane" } dd #lane { (row.lane_id) }
            dt { "POS reference" } dd #pos-reference { (text(&row.pos_reference)) }
            dt { "Partner" } dd #partner { (text(&row.partner_id)) }
            dt { "Amount" } dd #amount { (row.amount_minor.map(crate::backoffice::extract::money).unwrap_or_default())
                " " span.muted { "(currency " (text(&row.currency)) ")" } }
            dt { "Requested" } dd { (text(&row.requested_at)) }
            dt { "Outcome" } dd #outcome { (badge(row.outcome.as_deref().unwrap_or("PENDING")))
                " " (text(&row.outcome_at)) }
            dt { "Fee" } dd #fee { (row.fee_minor.map(crate::backoffice::extract::money).unwrap_or_default())
                @if let Some(v) = row.fee_version { " " span.muted { "(terms v" (v) ")" } } }
            dt { "Advice" } dd #advice { (text(&row.advice)) " " (text(&row.advice_at)) }
            dt { "Completed" } dd #completed { (text(&row.completed_at)) }
            @if let Some(uetr) = &row.payshap_uetr {
                dt { "Paid by PayShap" } dd { a href={ "/backoffice/transfers/" (uetr) } { code { (uetr) } } }
            }
            @if let Some(refund) = row.refund_minor {
                dt { "Refund required" } dd { (crate::backoffice::extract::money(refund)) " " (text(&row.refund_reason)) }
            }
        }
    }
}

/// The QR as it was issued, drawn from the payload in its `QrIssued` event.
fn qr(events: &[HistoryEvent]) -> Markup {
    let payload = events.iter().find_map(|e| {
        (e.event.event_type == "QrIssued")
            .then(|| serde_json::from_str::<Value>(&e.event.payload).ok())
            .flatten()
            .and_then(|v| v["QrIssued"]["payload"].as_str().map(str::to_owned))
    });
    let Some(payload) = payload else {
        return html! { p.muted { "No QR was issued." } };
    };
    match crate::qr_api::image::svg(&payload) {
        Ok(svg) => {
            html! {
                div #qr-image role="img" aria-label="The QR code as issued" { (PreEscaped(svg)) }
                details { summary { "Payload" } pre.raw { (payload) } }
            }
        }
        Err(_) => html! { pre.raw { (payload) } },
    }
}

fn delivery_table(
    deliveries: &[QueueEntry],
    attempts: &[FailedAttempt],
    actions: Option<(&Csrf, &str)>,
) -> Markup {
    if deliveries.is_empty() {
        return html! { p.muted #no-deliveries { "No advice is owed to a partner for this payment." } };
    }
    html! {
        div.scroll { table #deliveries {
            tr { th { "Delivery" } th { "Kind" } th { "Partner" } th { "Status" } th.n { "Attempts" }
                 th { "Next attempt" } th { "Failed attempts" }
                 @if actions.is_some() { th { "Actions" } } }
            @for d in deliveries {
                tr data-delivery=(d.delivery_id) data-status=(d.status) {
                    td { code { (d.delivery_id) } }
                    td { (d.kind) }
                    td { (d.partner_id) }
                    td { (badge(&d.status)) " " (d.outcome.as_deref().unwrap_or_default()) }
                    td.n { (d.attempts.unwrap_or(0)) }
                    td { (super::queue::next_attempt(d)) }
                    td { ol.attempts {
                        @for a in attempts.iter().filter(|a| a.delivery_id == d.delivery_id) {
                            li { (a.attempted_at) ": " (a.error) }
                        }
                    } }
                    @if let Some((csrf, back)) = actions {
                        td { (super::queue::action_buttons(d, csrf, back)) }
                    }
                }
            }
        } }
    }
}

pub fn timeline(events: &[HistoryEvent]) -> Markup {
    html! {
        ol #timeline {
            @for e in events {
                @let meta: Value = serde_json::from_str(&e.event.metadata).unwrap_or(Value::Null);
                @let payload: Value = serde_json::from_str(&e.event.payload).unwrap_or(Value::Null);
                @let inner = payload.get(&e.event.event_type).cloned().unwrap_or(payload.clone());
                li data-event=(e.event.event_type) {
                    strong.event-type { (e.event.event_type) }
                    " " span.muted { "#" (e.event.sequence) " · v" (e.event.event_version) }
                    br;
                    span.when { (e.committed_at.as_deref().unwrap_or_default()) }
                    " · by " span.who { (meta["party"].as_str().unwrap_or("?")) }
                    @if let Some(message) = meta["message_id"].as_str() {
                        " · message " code.message { (message) }
                    }
                    @if let Some(request) = meta["request_id"].as_str() {
                        " · request " code { (request) }
                    }
                    details { summary { "Event" }
                        pre.raw { (serde_json::to_string_pretty(&mask::json(&inner)).unwrap_or_default()) } }
                }
            }
        }
    }
}
