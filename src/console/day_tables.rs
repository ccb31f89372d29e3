//! The day's tables on the dashboard: totals by stage, by partner, PayShap receipts,
//! settlement, partner files, exceptions (each linking to what it concerns), and the list of
//! extracts. The element ids are what the page's tests and users' scripts read.

use chrono::NaiveDate;
use maud::{html, Markup};

use crate::backoffice::exceptions::Exception;
use crate::backoffice::extract::money;
use crate::backoffice::matching::Matching;
use crate::backoffice::report::{DayReport, Figures, Tally};
use crate::backoffice::settlement::SettlementTotal;
use crate::security::mask;

/// Every extract of a day: label and path below the day's API.
pub const DOWNLOADS: [(&str, &str); 16] = [
    ("Settlement lines (CSV)", "settlement?format=csv&view=lines"),
    (
        "Settlement by partner (CSV)",
        "settlement?format=csv&view=partners",
    ),
    (
        "Settlement by retailer (CSV)",
        "settlement?format=csv&view=retailers",
    ),
    ("Settlement (JSON)", "settlement"),
    ("Recon by partner (CSV)", "report?format=csv&by=partner"),
    ("Recon by retailer (CSV)", "report?format=csv&by=retailer"),
    ("Recon by store (CSV)", "report?format=csv&by=store"),
    ("Recon by lane (CSV)", "report?format=csv&by=lane"),
    ("Day report (JSON)", "report"),
    ("Exceptions (CSV)", "exceptions?format=csv"),
    ("Exceptions (JSON)", "exceptions"),
    ("Partner file matching (CSV)", "matching?format=csv"),
    ("Partner file matching (JSON)", "matching"),
    ("PayShap mark-off (CSV)", "markoff?format=csv"),
    ("PayShap mark-off (JSON)", "markoff"),
    ("Fee terms in force (JSON)", "../../fees"),
];

/// The links to every extract of `day`.
pub fn downloads(day: NaiveDate) -> Markup {
    let api = format!("/backoffice/api/days/{day}");
    html! {
        ul #downloads {
            @for (label, query) in DOWNLOADS {
                li { a href={ (api) "/" (query) } { (label) } }
            }
        }
    }
}

pub fn by_partner(report: &DayReport) -> Markup {
    html! {
        div.scroll { table #by-partner {
            tr { th { "Partner" } th.n { "Requested" } th.n { "Authorised" } th.n { "Confirmed" }
                 th.n { "Reversed" } th.n { "Completed" } }
            @for group in &report.by_partner {
                @let f = &group.figures;
                tr data-partner=(group.partner_id.as_deref().unwrap_or_default()) {
                    td { (group.partner_id.as_deref().unwrap_or_default()) }
                    @for tally in [f.requested, f.authorised, f.confirmed, f.reversed, f.completed] {
                        td.n { (tally.count) " / " (money(tally.amount_minor)) }
                    }
                }
            }
        } }
    }
}

pub fn payshap(report: &DayReport) -> Markup {
    html! {
        table #payshap {
            (tally_row("reported", "Completions reported", report.payshap.reported))
            (tally_row("not-approved", "Not approved", report.payshap.not_approved))
            (tally_row("credited", "Credited", report.payshap.credited))
            (tally_row("credited-to-qr", "Credited to QR payments", report.payshap.credited_to_qr_payments))
        }
    }
}

pub fn partner_files(matching: &Matching) -> Markup {
    html! {
        div.scroll { table #matching {
            tr { th { "Partner" } th { "File" } th.n { "Matched" } th.n { "Missing at partner" }
                 th.n { "Missing at switch" } th.n { "Amount mismatch" } }
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
        } }
    }
}

/// Where an exception's reference leads: a PayShap transfer, or a payment.
fn exception_link(e: &Exception) -> String {
    if e.kind.as_str().starts_with("PAYSHAP") {
        format!("/backoffice/transfers/{}", e.reference)
    } else {
        format!("/backoffice/payments/{}", e.reference)
    }
}

pub fn exceptions(exceptions: &[Exception]) -> Markup {
    html! {
        div.scroll { table #exceptions {
            tr { th { "Kind" } th { "Reference" } th { "Partner" } th.n { "Amount" } th { "Detail" } }
            @for e in exceptions {
                tr data-kind=(e.kind.as_str()) {
                    td { (e.kind.as_str()) }
                    td { a href=(exception_link(e)) { code { (e.reference) } } }
                    td { (e.partner_id.as_deref().unwrap_or_default()) }
                    td.n { (e.amount_minor.map(money).unwrap_or_default()) }
                    td {
                        (e.detail)
                        @if let Some(raw) = &e.raw_message {
                            details { summary { "message as received" } pre.raw { (mask::digit_runs(raw)) } }
                        }
                    }
                }
            }
        } }
    }
}

pub fn day_picker(day: NaiveDate) -> Markup {
    let previous = day.pred_opt().unwrap_or(day);
    let next = day.succ_opt().unwrap_or(day);
    html! {
        form.daypick method="get" action="/backoffice/" {
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

pub fn figures_table(figures: &Figures) -> Markup {
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

pub fn settlement_table(
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
