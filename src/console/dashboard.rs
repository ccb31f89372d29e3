//! `/backoffice/`: one business day at a glance: its figures, charts of the day (payments
//! and amount per hour, approval rate by partner, how long `pay` took), settlement, partner
//! files, exceptions linking to the payments they concern, and every extract.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::charts::{self, Chart};
use super::context::Viewer;
use super::day_tables as tables;
use super::layout::{self, ConsoleError, Section};
use crate::backoffice::api::{parse_day, Params};
use crate::backoffice::as_of::load_day;
use crate::backoffice::day::DayData;
use crate::backoffice::exceptions::{advice_due_within, exceptions};
use crate::backoffice::matching::matching;
use crate::backoffice::report::{day_report, DayReport};
use crate::backoffice::service::BackOfficeService;
use crate::backoffice::settlement::settlement;
use crate::payshap::service::PayShapService;

pub async fn page(
    backoffice: web::Data<BackOfficeService>,
    payshap: web::Data<PayShapService>,
    viewer: Viewer,
    params: Params,
) -> Result<HttpResponse, ConsoleError> {
    let day = day_asked(&backoffice, &params)?;
    let data = load_day(&backoffice, day, &params).await?;
    let report = day_report(&data);
    let settlement = settlement(&data);
    let matching = matching(&data);
    let due = advice_due_within(&backoffice.config.backoffice);
    let exceptions = exceptions(&data, &matching, due);
    let held = super::held::section(&payshap).await?;
    let body = html! {
        h1 { "Business day " span #day { (day) } }
        p.muted { "From " (data.from.to_rfc3339()) " to " (data.to.to_rfc3339())
            " (UTC). Amounts in rand. Figures as of feed position "
            code #feed-position { (data.feed_position) } "." }
        (tables::day_picker(day))
        div.grid {
            section { h2 { "Totals" } (tables::figures_table(&report.totals)) }
            section { h2 { "PayShap receipts" } (tables::payshap(&report)) }
        }
        h2 { "The day by hour" }
        (day_charts(&data, &report))
        h2 { "By partner" }
        (tables::by_partner(&report))
        h2 { "Settlement" }
        div.grid {
            div.scroll { (tables::settlement_table("settlement-partners", "Partner", &settlement.by_partner, &settlement.total)) }
            div.scroll { (tables::settlement_table("settlement-retailers", "Retailer", &settlement.by_retailer, &settlement.total)) }
        }
        h2 { "Partner files" }
        (tables::partner_files(&matching))
        (held)
        h2 { "Exceptions (" span #exception-count { (exceptions.len()) } ")" }
        (tables::exceptions(&exceptions))
        h2 { "Extracts" }
        (tables::downloads(day))
    };
    Ok(layout::page(
        &format!("Business day {day}"),
        &viewer,
        Section::Dashboard,
        body,
    ))
}

/// The business day `?day=` names, today's by default.
fn day_asked(
    backoffice: &BackOfficeService,
    params: &Params,
) -> Result<chrono::NaiveDate, ConsoleError> {
    match params.get("day").filter(|d| !d.is_empty()) {
        Some(day) => Ok(parse_day(day)?),
        None => Ok(backoffice.calendar.day_of(Utc::now())),
    }
}

/// Hours of the day since its start (a day with a daylight-saving change has 23 or 25).
fn hour_of(data: &DayData, at: &str) -> Option<usize> {
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    usize::try_from((at - data.from).num_hours()).ok()
}

/// The charts of the day, from the same rows as its figures.
fn day_charts(data: &DayData, report: &DayReport) -> Markup {
    let hours = usize::try_from((data.to - data.from).num_hours())
        .unwrap_or(24)
        .max(1);
    let labels: Vec<String> = (0..hours).map(|h| format!("{h:02}h")).collect();
    let mut counts = vec![0.0; hours];
    let mut amounts = vec![0.0; hours];
    let mut latencies: Vec<Vec<f64>> = vec![Vec::new(); hours];
    for row in &data.payments {
        let Some(hour) = row.requested_at.as_deref().and_then(|at| hour_of(data, at)) else {
            continue;
        };
        let Some(slot) = counts.get_mut(hour) else {
            continue;
        };
        *slot += 1.0;
        amounts[hour] += row.amount_minor.unwrap_or(0) as f64;
        if let (Some(asked), Some(answered)) = (&row.requested_at, &row.outcome_at) {
            let took = DateTime::parse_from_rfc3339(answered)
                .ok()
                .zip(DateTime::parse_from_rfc3339(asked).ok())
                .map(|(a, b)| (a - b).num_milliseconds() as f64);
            if let Some(took) = took.filter(|t| *t >= 0.0) {
                latencies[hour].push(took);
            }
        }
    }
    let p50: Vec<f64> = latencies
        .iter_mut()
        .map(|v| charts::quantile(v, 0.5))
        .collect();
    let p95: Vec<f64> = latencies
        .iter_mut()
        .map(|v| charts::quantile(v, 0.95))
        .collect();
    let partners: Vec<String> = report
        .by_partner
        .iter()
        .map(|g| g.partner_id.clone().unwrap_or_else(|| "(none)".into()))
        .collect();
    let approval: Vec<f64> = report
        .by_partner
        .iter()
        .map(|g| {
            let f = &g.figures;
            let decided = f.authorised.count + f.declined.count + f.timed_out.count;
            if decided == 0 {
                0.0
            } else {
                f.authorised.count as f64 / decided as f64
            }
        })
        .collect();
    html! {
        div.grid.charts {
            (charts::draw(&Chart { id: "chart-payments", title: "Payments requested per hour",
                labels: &labels, bars: &counts, line: None, format: charts::count }))
            (charts::draw(&Chart { id: "chart-amount", title: "Amount requested per hour",
                labels: &labels, bars: &amounts, line: None, format: charts::rand }))
            (charts::draw(&Chart { id: "chart-approval", title: "Approval rate by partner",
                labels: &partners, bars: &approval, line: None, format: charts::percent }))
            (charts::draw(&Chart { id: "chart-latency",
                title: "Time to answer pay per hour: median (bars) and 95th percentile (line)",
                labels: &labels, bars: &p50, line: Some(&p95), format: charts::millis }))
        }
    }
}

/// `/backoffice/extracts`: every extract of a day, to download.
pub async fn extracts(
    backoffice: web::Data<BackOfficeService>,
    viewer: Viewer,
    params: Params,
) -> Result<HttpResponse, ConsoleError> {
    let day = day_asked(&backoffice, &params)?;
    let body = html! {
        h1 { "Extracts for " (day) }
        form.search method="get" action="/backoffice/extracts" {
            label { "Business day" input type="date" name="day" value=(day); }
            button type="submit" { "Show" }
        }
        section.panel {
            (tables::downloads(day))
            p.muted { "Each extract states the feed position and moment it describes in its "
                code { "X-Qrswitch-Feed-Position" } " and " code { "X-Qrswitch-As-Of" } " headers." }
        }
    };
    Ok(layout::page("Extracts", &viewer, Section::Extracts, body))
}
