//! `/backoffice/payments`: find any payment by tranId, the POS's reference, retailer,
//! store, lane, partner, amount range, outcome or business day; paged and sortable, each
//! row linking to the payment's story.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use projections::search::{self, OutcomeFilter, PaymentOrder, PaymentQuery};
use projections::time::to_view_text;

use super::context::Viewer;
use super::forms::{self, field, Fields};
use super::layout::{self, badge, money_cell, ConsoleError, Section};
use crate::backoffice::api::parse_day;
use crate::backoffice::service::BackOfficeService;
use crate::backoffice::statement::parse_decimal_amount;

/// Rows per page.
const PAGE_ROWS: i64 = 50;

/// The text filters: form field, label, and the query's field they set.
const TEXT_FILTERS: [(&str, &str); 6] = [
    ("tranId", "tranId"),
    ("posReference", "POS reference"),
    ("retailer", "Retailer"),
    ("store", "Store"),
    ("lane", "Lane"),
    ("partner", "Partner"),
];

/// The search the form asks for; a field that does not read is a 400 naming it.
fn query_of(fields: &Fields, backoffice: &BackOfficeService) -> Result<PaymentQuery, ConsoleError> {
    let text = |name: &str| field(fields, name).map(str::to_owned);
    let amount = |name: &str, label: &str| {
        field(fields, name)
            .map(|v| {
                parse_decimal_amount(v)
                    .map_err(|why| ConsoleError::bad_request(format!("{label}: {why}")))
            })
            .transpose()
    };
    // A choice the form offers, read by `parse`; anything else is a 400 naming the field.
    fn offered<T>(
        fields: &Fields,
        name: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConsoleError> {
        field(fields, name)
            .map(|v| {
                parse(v).ok_or_else(|| {
                    ConsoleError::bad_request(format!("{name} {v:?} is not one offered"))
                })
            })
            .transpose()
    }
    let outcome = offered(fields, "outcome", OutcomeFilter::parse)?;
    let order = offered(fields, "sort", PaymentOrder::parse)?.unwrap_or_default();
    let page = forms::page_number(fields)?;
    let offset = (page - 1).saturating_mul(PAGE_ROWS);
    if offset > search::MAX_OFFSET_ROWS {
        return Err(ConsoleError::bad_request(format!(
            "page {page} starts past the first {} payments: narrow the search",
            search::MAX_OFFSET_ROWS
        )));
    }
    let (from, to) = match field(fields, "day") {
        Some(day) => {
            let (from, to) = backoffice.calendar.window(parse_day(day)?);
            (Some(to_view_text(from)), Some(to_view_text(to)))
        }
        None => (None, None),
    };
    Ok(PaymentQuery {
        tran_id: text("tranId"),
        pos_reference: text("posReference"),
        retailer_id: text("retailer"),
        store_id: text("store"),
        lane_id: text("lane"),
        partner_id: text("partner"),
        min_minor: amount("minAmount", "minimum amount")?,
        max_minor: amount("maxAmount", "maximum amount")?,
        outcome,
        requested_from: from,
        requested_to: to,
        order,
        descending: field(fields, "order") != Some("asc"),
        offset,
        limit: PAGE_ROWS,
    })
}

pub async fn page(
    backoffice: web::Data<BackOfficeService>,
    viewer: Viewer,
    fields: web::Query<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&fields, &backoffice)?;
    let searched = !fields.is_empty();
    let mut conn = super::context::views(&backoffice.store, "searching payments").await?;
    let started = Instant::now();
    let found = search::payments(&mut conn, &query)
        .await
        .map_err(|e| ConsoleError::internal("searching payments", &e))?;
    let took_ms = started.elapsed().as_millis();
    let page_number = query.offset / PAGE_ROWS + 1;
    let body = html! {
        h1 { "Payments" }
        section.panel { (form(&fields)) }
        @if searched || !found.rows.is_empty() {
            p.muted #result-summary {
                (found.rows.len()) @if found.more { "+" } " found, page " (page_number)
                " (" (took_ms) " ms)"
            }
            div.scroll { table #payments {
                tr {
                    (sort_header(&fields, PaymentOrder::RequestedAt, "Requested (UTC)"))
                    (sort_header(&fields, PaymentOrder::TranId, "tranId"))
                    th { "POS reference" } th { "Retailer" } th { "Store" } th { "Lane" }
                    th { "Partner" }
                    (sort_header(&fields, PaymentOrder::Amount, "Amount"))
                    th { "Outcome" } th { "Advice" } th.n { "Fee" }
                }
                @for row in &found.rows {
                    tr data-tran-id=(row.tran_id) {
                        td.nowrap { (layout::when(row.requested_at.as_deref())) }
                        td { a href={ "/backoffice/payments/" (row.tran_id) } title=(row.tran_id) {
                            code { (layout::short(&row.tran_id)) } } }
                        td.pos-reference { (row.pos_reference.as_deref().unwrap_or_default()) }
                        td { (row.retailer_id) } td { (row.store_id) } td { (row.lane_id) }
                        td { (row.partner_id.as_deref().unwrap_or_default()) }
                        (money_cell(row.amount_minor))
                        td { (badge(row.outcome.as_deref().unwrap_or("PENDING"))) }
                        td { (row.advice.as_deref().unwrap_or_default()) }
                        (money_cell(row.fee_minor))
                    }
                }
            } }
            (pager(&fields, page_number, found.more))
        }
    };
    Ok(layout::page("Payments", &viewer, Section::Payments, body))
}

fn form(fields: &Fields) -> Markup {
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    html! {
        form.search #payment-search method="get" action="/backoffice/payments" role="search" {
            @for (name, label) in TEXT_FILTERS {
                label { (label) input type="text" name=(name) id={ "f-" (name) } value=(value(name)); }
            }
            label { "Amount from (R)" input type="text" inputmode="decimal" name="minAmount" value=(value("minAmount")); }
            label { "Amount to (R)" input type="text" inputmode="decimal" name="maxAmount" value=(value("maxAmount")); }
            label { "Outcome" select name="outcome" {
                option value="" { "any" }
                @for outcome in OutcomeFilter::ALL {
                    option value=(outcome.as_str()) selected[value("outcome") == outcome.as_str()] { (outcome.as_str()) }
                }
            } }
            label { "Business day" input type="date" name="day" value=(value("day")); }
            button #search type="submit" { "Search" }
        }
    }
}

/// The current search's address with some fields replaced.
fn link(fields: &Fields, changes: &[(&str, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && !changes.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.extend(changes.iter().map(|(k, v)| (*k, v.as_str())));
    pairs.sort();
    format!(
        "/backoffice/payments?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

fn sort_header(fields: &Fields, order: PaymentOrder, label: &str) -> Markup {
    let current = fields
        .get("sort")
        .map(String::as_str)
        .unwrap_or("requestedAt");
    let descending = fields.get("order").map(String::as_str) != Some("asc");
    let active = current == order.as_str();
    let next = if active && descending { "asc" } else { "desc" };
    let href = link(
        fields,
        &[
            ("sort", order.as_str().to_owned()),
            ("order", next.to_owned()),
            ("page", "1".to_owned()),
        ],
    );
    let sort = match (active, descending) {
        (false, _) => "none",
        (true, true) => "descending",
        (true, false) => "ascending",
    };
    let class = if order == PaymentOrder::Amount {
        "n"
    } else {
        ""
    };
    html! {
        th class=(class) aria-sort=(sort) { a href=(href) { (label) @if active { @if descending { " ▼" } @else { " ▲" } } } }
    }
}

fn pager(fields: &Fields, page: i64, more: bool) -> Markup {
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 {
                a #previous-page href=(link(fields, &[("page", (page - 1).to_string())])) { "◀ Previous" }
            }
            span { "Page " (page) }
            @if more {
                a #next-page href=(link(fields, &[("page", (page + 1).to_string())])) { "Next ▶" }
            }
        }
    }
}
