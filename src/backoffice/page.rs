//! `/backoffice/`: one server-rendered page per business day with its totals, settlement,
//! matching and exceptions, and links to every extract. No script and no build step: it is
//! HTML that works in any browser and prints cleanly for a sign-off file.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use maud::{html, Markup, DOCTYPE};

use super::api::{parse_day, Params};
use super::as_of::load_day;
use super::exceptions::{advice_due_within, exceptions};
use super::extract::money;
use super::matching::matching;
use super::report::{day_report, Figures, Tally};
use super::service::BackOfficeService;
use super::settlement::{settlement, SettlementTotal};
use crate::http::ApiError;
use crate::security::{Party, Role};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;margin:0 0 1.5rem}\
th,td{border:1px solid #bbb;padding:.25rem .6rem}td.n{text-align:right}\
th{background:#eee;text-align:left}h2{margin-top:2rem}.none{color:#666}";

pub async fn page(
    backoffice: web::Data<BackOfficeService>,
    party: Party,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let day = match params.get("day").filter(|d| !d.is_empty()) {
        Some(day) => parse_day(day)?,
        None => backoffice.calendar.day_of(Utc::now()),
    };
    let data = load_day(&backoffice, day, &params).await?;
    let report = day_report(&data);
    let settlement = settlement(&data);
    let matching = matching(&data);
    let due = advice_due_within(&backoffice.config.backoffice);
    let exceptions = exceptions(&data, &matching, due);
    let api = format!("/backoffice/api/days/{day}");
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "qrswitch back office — " (day) }
                style { (STYLE) }
            }
            body {
                h1 { "Business day " span #day { (day) } }
                p { "From " (data.from.to_rfc3339()) " to " (data.to.to_rfc3339())
                    " (UTC). Amounts in rand." }
                (day_picker(day))
                h2 { "Totals" }
                (figures_table(&report.totals))
                h2 { "By partner" }
                table #by-partner {
                    tr { th { "Partner" } th { "Requested" } th { "Authorised" } th { "Confirmed" }
                         th { "Reversed" } th { "Completed" } }
                    @for group in &report.by_partner {
                        @let f = &group.figures;
                        tr data-partner=(group.partner_id.as_deref().unwrap_or_default()) {
                            td { (group.partner_id.as_deref().unwrap_or_default()) }
                            @for tally in [f.requested, f.authorised, f.confirmed, f.reversed, f.completed] {
                                td.n { (tally.count) " / " (money(tally.amount_minor)) }
                            }
                        }
                    }
                }
                h2 { "PayShap receipts" }
                table #payshap {
                    (tally_row("reported", "Completions reported", report.payshap.reported))
                    (tally_row("not-approved", "Not approved", report.payshap.not_approved))
                    (tally_row("credited", "Credited", report.payshap.credited))
                    (tally_row("credited-to-qr", "Credited to QR payments", report.payshap.credited_to_qr_payments))
                }
                h2 { "Settlement" }
                (settlement_table("settlement-partners", "Partner", &settlement.by_partner, &settlement.total))
                (settlement_table("settlement-retailers", "Retailer", &settlement.by_retailer, &settlement.total))
                h2 { "Partner files" }
                table #matching {
                    tr { th { "Partner" } th { "File" } th { "Matched" } th { "Missing at partner" }
                         th { "Missing at switch" } th { "Amount mismatch" } }
                    @for partner in &matching.partners {
                        tr data-partner=(partner.partner_id) {
                            td { (partner.partner_id) }
                            td { @match &partner.statement {
                                Some(s) => { (s.file_name) " (v" (s.version) ", " (s.line_count) " lines)" }
                                None => span.none { "not imported" }
                            } }
                            td.n.matched { (partner.matched) }
                            td.n.missing-at-partner { (partner.missing_at_partner) }
                            td.n.missing-at-switch { (partner.missing_at_switch) }
                            td.n.amount-mismatch { (partner.amount_mismatch) }
                        }
                    }
                }
                h2 { "Exceptions (" span #exception-count { (exceptions.len()) } ")" }
                table #exceptions {
                    tr { th { "Kind" } th { "Reference" } th { "Partner" } th { "Amount" } th { "Detail" } }
                    @for e in &exceptions {
                        tr data-kind=(e.kind.as_str()) {
                            td { (e.kind.as_str()) }
                            td { code { (e.reference) } }
                            td { (e.partner_id.as_deref().unwrap_or_default()) }
                            td.n { (e.amount_minor.map(money).unwrap_or_default()) }
                            td {
                                (e.detail)
                                @if let Some(raw) = &e.raw_message {
                                    details { summary { "message as received" } pre.raw { (raw) } }
                                }
                            }
                        }
                    }
                }
                h2 { "Extracts" }
                ul #downloads {
                    @for (label, query) in DOWNLOADS {
                        li { a href={ (api) "/" (query) } { (label) } }
                    }
                }
            }
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string()))
}

/// Every extract the page links to: label and path below the day's API.
const DOWNLOADS: [(&str, &str); 9] = [
    ("Settlement lines (CSV)", "settlement?format=csv&view=lines"),
    (
        "Settlement by partner (CSV)",
        "settlement?format=csv&view=partners",
    ),
    (
        "Settlement by retailer (CSV)",
        "settlement?format=csv&view=retailers",
    ),
    ("Recon by partner (CSV)", "report?format=csv&by=partner"),
    ("Recon by store (CSV)", "report?format=csv&by=store"),
    ("Recon by lane (CSV)", "report?format=csv&by=lane"),
    ("Exceptions (CSV)", "exceptions?format=csv"),
    ("Partner file matching (CSV)", "matching?format=csv"),
    ("PayShap mark-off (CSV)", "markoff?format=csv"),
];

fn day_picker(day: NaiveDate) -> Markup {
    let previous = day.pred_opt().unwrap_or(day);
    let next = day.succ_opt().unwrap_or(day);
    html! {
        form method="get" action="/backoffice/" {
            a href={ "/backoffice/?day=" (previous) } { "◀ " (previous) }
            " "
            label { "Day " input type="date" name="day" value=(day); }
            " " button type="submit" { "Show" } " "
            a href={ "/backoffice/?day=" (next) } { (next) " ▶" }
        }
    }
}

fn tally_row(id: &str, label: &str, tally: Tally) -> Markup {
    html! {
        tr data-row=(id) {
            td { (label) }
            td.n.count { (tally.count) }
            td.n.amount { (money(tally.amount_minor)) }
        }
    }
}

fn figures_table(figures: &Figures) -> Markup {
    html! {
        table #totals {
            tr { th { "Stage" } th { "Count" } th { "Amount" } }
            (tally_row("requested", "Requested", figures.requested))
            (tally_row("authorised", "Authorised", figures.authorised))
            (tally_row("declined", "Declined", figures.declined))
            (tally_row("timed-out", "Timed out", figures.timed_out))
            (tally_row("confirmed", "Confirmed", figures.confirmed))
            (tally_row("reversed", "Reversed", figures.reversed))
            (tally_row("completed", "Completed", figures.completed))
        }
    }
}

fn settlement_table(
    id: &str,
    party: &str,
    totals: &[SettlementTotal],
    total: &SettlementTotal,
) -> Markup {
    html! {
        table id=(id) {
            tr { th { (party) } th { "Count" } th { "Gross" } th { "Fees" } th { "Net" } }
            @for t in totals.iter().chain([total]) {
                tr data-party=(t.party_id) {
                    td { (t.party_id) }
                    td.n.count { (t.count) }
                    td.n.gross { (money(t.gross_minor)) }
                    td.n.fee { (money(t.fee_minor)) }
                    td.n.net { (money(t.net_minor)) }
                }
            }
        }
    }
}
