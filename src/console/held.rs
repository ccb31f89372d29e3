//! The console home's "held money": every held credit not yet worked to closure, whatever
//! its day, with how much, how old, and where its case stands (steps are taken through the
//! API, four eyes on those that move money: docs/backoffice.md); held messages not yet
//! applied or closed; and completions Electrum's files list that never reached us.

use chrono::Utc;
use maud::{html, Markup};
use projections::payshap_transfers::{self, TransferRow};

use super::error::ConsoleError;
use super::layout::{money_cell, when};
use aggregates::electrum_recon::DifferenceKind;

use crate::payshap::service::PayShapService;

/// Open cases shown at most (the API lists up to 1,000).
const SHOWN: i64 = 200;
/// How many days back recon's "missing at us" findings are shown, in days.
const MISSING_DAYS: i64 = 7;

/// A completion only Electrum's files list, not yet credited: (day, UETR, amount in cents).
async fn missing_at_us(
    payshap: &PayShapService,
) -> Result<Vec<(String, String, i64)>, ConsoleError> {
    let zone: chrono_tz::Tz = payshap
        .config
        .backoffice
        .time_zone
        .parse()
        .unwrap_or_default();
    let today = Utc::now().with_timezone(&zone).date_naive();
    let mut missing = Vec::new();
    for back in 1..=MISSING_DAYS {
        let day = (today - chrono::Duration::days(back)).to_string();
        let recon = payshap
            .recons
            .load(&day)
            .await
            .map_err(|e| ConsoleError::internal("reading a recon", &e))?;
        for difference in recon.differences().values() {
            if difference.kind != DifferenceKind::MissingAtSwitch {
                continue;
            }
            let credited = payshap_transfers::find(payshap.store.views().pool(), &difference.uetr)
                .await
                .map_err(|e| ConsoleError::internal("reading transfers", &e))?;
            if credited.is_none() {
                let amount = difference.theirs.as_ref().map_or(0, |t| t.amount_minor);
                missing.push((day.clone(), difference.uetr.clone(), amount));
            }
        }
    }
    Ok(missing)
}

fn age(row: &TransferRow) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&row.first_received_at) else {
        return String::new();
    };
    let minutes = (Utc::now() - at.with_timezone(&Utc)).num_minutes();
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

pub async fn section(payshap: &PayShapService) -> Result<Markup, ConsoleError> {
    let store = &payshap.store;
    let missing = missing_at_us(payshap).await?;
    let open = payshap_transfers::open_cases(store.views().pool(), SHOWN)
        .await
        .map_err(|e| ConsoleError::internal("reading open cases", &e))?;
    let messages = payshap_transfers::held_open(store.views().pool(), SHOWN)
        .await
        .map_err(|e| ConsoleError::internal("reading held messages", &e))?;
    let total: i64 = open.iter().map(|row| row.amount_minor).sum();
    Ok(html! {
        h2 { "Held money (" span #held-count { (open.len()) } ")" }
        p.muted { "Credits we hold but could not apply, oldest first: R "
            span #held-total { (format!("{}.{:02}", total / 100, total % 100)) } " in all." }
        div.scroll { table #held {
            tr { th { "Transfer" } th.n { "Amount" } th { "Age" } th { "Case" } th { "Why" } th { "Received" } }
            @for row in &open {
                tr data-uetr=(row.uetr) {
                    td { a href=(format!("/backoffice/transfers/{}", row.uetr)) { code { (row.uetr) } } }
                    (money_cell(Some(row.amount_minor)))
                    td { (age(row)) }
                    td { (row.case_status.as_deref().unwrap_or("OPEN")) }
                    td { (row.exception.as_deref().unwrap_or("credit for a proxy we do not know")) }
                    td { (when(Some(&row.first_received_at))) }
                }
            }
        } }
        h3 { "Held messages (" span #held-message-count { (messages.len()) } ")" }
        p.muted { "Messages kept as they came that are neither applied nor closed: unreadable, \
            or with a signature that did not verify." }
        div.scroll { table #held-messages {
            tr { th { "Message" } th { "UETR" } th { "Why" } th { "Received" } }
            @for message in &messages {
                tr data-hash=(message.message_hash) {
                    td { code { (super::layout::short(&message.message_hash)) } }
                    td { (message.uetr.as_deref().unwrap_or("")) }
                    td { (message.reason) }
                    td { (when(Some(&message.received_at))) }
                }
            }
        } }
        h3 { "Missing at us (" span #missing-count { (missing.len()) } ")" }
        p.muted { "Completions Electrum's files list that never reached us, the last "
            (MISSING_DAYS) " days: each is credited once a second user approves \
            CREDIT_FROM_RECON." }
        div.scroll { table #missing-at-us {
            tr { th { "Day" } th { "UETR" } th.n { "Amount" } }
            @for (day, uetr, amount) in &missing {
                tr data-uetr=(uetr) {
                    td { (day) }
                    td { code { (uetr) } }
                    (money_cell(Some(*amount)))
                }
            }
        } }
    })
}
