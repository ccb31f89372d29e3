//! `/backoffice/transfers`: inbound PayShap credit transfers, found by UETR or end-to-end
//! id (in the address), or by proxy (posted, so that an MSISDN never sits in an address or
//! an access log); and one transfer's story. Proxies and payer names are masked.

use actix_web::{web, HttpResponse};
use cqrs_es::Aggregate;
use maud::{html, Markup};
use projections::history;
use projections::payshap_transfers::{self, TransferRow};
use projections::search::{self, TransferQuery};

use super::context::Viewer;
use super::forms::{self, field, Fields};
use super::layout::{self, badge, ConsoleError, Section};
use super::payment::timeline;
use crate::security::mask;
use crate::store::Store;

const PAGE_ROWS: i64 = 50;
const TIMELINE_EVENTS: i64 = 200;

/// `GET`: by UETR or end-to-end id, or the newest when neither is given.
pub async fn page(
    store: web::Data<Store>,
    viewer: Viewer,
    fields: web::Query<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    let page = forms::page_number(&fields)?;
    let query = TransferQuery {
        uetr: field(&fields, "uetr").map(str::to_owned),
        end_to_end_id: field(&fields, "endToEndId").map(str::to_owned),
        proxy: None,
        offset: (page - 1).saturating_mul(PAGE_ROWS),
        limit: PAGE_ROWS,
    };
    respond(&store, &viewer, &fields, &query, page).await
}

/// `POST`: by proxy.
pub async fn by_proxy(
    store: web::Data<Store>,
    viewer: Viewer,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    forms::check(&viewer.csrf, &fields)?;
    let query = TransferQuery {
        proxy: field(&fields, "proxy").map(str::to_owned),
        limit: search::MAX_PAGE_ROWS,
        ..TransferQuery::default()
    };
    let shown: Fields = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "proxy")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    respond(&store, &viewer, &shown, &query, 1).await
}

async fn respond(
    store: &Store,
    viewer: &Viewer,
    fields: &Fields,
    query: &TransferQuery,
    page: i64,
) -> Result<HttpResponse, ConsoleError> {
    let failed = |e: &dyn std::fmt::Display| ConsoleError::internal("searching transfers", e);
    let mut conn = super::context::views(store, "searching transfers").await?;
    let found = search::transfers(&mut conn, query)
        .await
        .map_err(|e| failed(&e))?;
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let body = html! {
        h1 { "PayShap transfers" }
        section.panel {
            form.search #transfer-search method="get" action="/backoffice/transfers" role="search" {
                label { "UETR" input type="text" name="uetr" value=(value("uetr")); }
                label { "End-to-end id" input type="text" name="endToEndId" value=(value("endToEndId")); }
                button type="submit" { "Search" }
            }
            form.search #proxy-search method="post" action="/backoffice/transfers" role="search" {
                input type="hidden" name="csrf" value=(viewer.csrf.0);
                label { "Proxy (key or value)" input type="text" name="proxy" autocomplete="off"; }
                button type="submit" { "Search by proxy" }
            }
        }
        (table(&found.rows))
        nav.pager aria-label="Pages" {
            @if page > 1 { a href={ "/backoffice/transfers?page=" (page - 1) } { "◀ Previous" } }
            span { "Page " (page) }
            @if found.more && query.proxy.is_none() { a href={ "/backoffice/transfers?page=" (page + 1) } { "Next ▶" } }
        }
    };
    Ok(layout::page(
        "PayShap transfers",
        viewer,
        Section::Transfers,
        body,
    ))
}

/// A transfer's proxy key with its value masked.
fn masked_proxy(proxy_id: Option<&str>) -> String {
    proxy_id.map(mask::proxy).unwrap_or_default()
}

fn table(rows: &[TransferRow]) -> Markup {
    html! {
        div.scroll { table #transfers {
            tr { th { "Received (UTC)" } th { "UETR" } th { "End-to-end id" } th { "Proxy" }
                 th.n { "Amount" } th { "Outcome" } th { "Credited" } th { "Payment" } }
            @for t in rows {
                tr data-uetr=(t.uetr) {
                    td { (t.first_received_at) }
                    td { a href={ "/backoffice/transfers/" (t.uetr) } { code { (t.uetr) } } }
                    td { (t.end_to_end_id.as_deref().unwrap_or_default()) }
                    td { code { (masked_proxy(t.proxy_id.as_deref())) } }
                    (layout::money_cell(Some(t.amount_minor)))
                    td { (badge(&t.outcome)) }
                    td { @if t.credited != 0 { (badge("CREDITED")) } }
                    td { @if let Some(tran) = &t.tran_id { a href={ "/backoffice/payments/" (tran) } { code { (tran) } } } }
                }
            }
        } }
    }
}

pub async fn detail(
    store: web::Data<Store>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let uetr = path.into_inner();
    let failed = |e: &dyn std::fmt::Display| ConsoleError::internal("reading a transfer", e);
    let row = payshap_transfers::find(store.views().pool(), &uetr)
        .await
        .map_err(|e| failed(&e))?;
    let mut conn = super::context::views(&store, "reading a transfer").await?;
    let events = history::stream(
        &mut conn,
        store.backend(),
        aggregates::payshap_transfer::PayShapTransfer::TYPE,
        &uetr,
        0,
        TIMELINE_EVENTS,
    )
    .await
    .map_err(|e| failed(&e))?;
    let Some(row) = row else {
        return Err(ConsoleError::not_found());
    };
    let body = html! {
        h1 { "PayShap transfer " code { (uetr) } }
        section.panel { dl.facts #facts {
            dt { "End-to-end id" } dd { (row.end_to_end_id.as_deref().unwrap_or_default()) }
            dt { "Proxy" } dd { code { (masked_proxy(row.proxy_id.as_deref())) }
                @if row.proxy_known == 0 { " " span.muted { "(not in the registry)" } } }
            dt { "Payer" } dd { (row.debtor_name.as_deref().map(mask::name).unwrap_or_default()) }
            dt { "Amount" } dd { (crate::backoffice::extract::money(row.amount_minor)) " " span.muted { "(currency " (row.currency) ")" } }
            dt { "Outcome" } dd { (badge(&row.outcome)) " after " (row.messages) " message(s)" }
            dt { "Credited" } dd { (row.credited_at.as_deref().unwrap_or("no")) }
            dt { "Payment" } dd { @if let Some(tran) = &row.tran_id { a href={ "/backoffice/payments/" (tran) } { code { (tran) } } } }
            @if let Some(exception) = &row.exception { dt { "Exception" } dd { (exception) } }
        } }
        h2 { "Timeline" }
        (timeline(&events))
    };
    Ok(layout::page(
        &format!("Transfer {uetr}"),
        &viewer,
        Section::Transfers,
        body,
    ))
}
