//! `/backoffice/queue`: the store-and-forward queue, newest first, with each delivery's age,
//! attempts and last error; ops retry, park and unpark from here or from a payment's page.
//! Each action is confirmed first and recorded on the payment as an event naming who did it.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use maud::{html, Markup};
use tracing_actix_web::RequestId;

use super::context::Viewer;
use super::forms::{self, Confirmation, Csrf, Fields};
use super::layout::{self, badge, ConsoleError, Section};
use crate::commands::CommandMetadata;
use crate::saf::control::{SafAction, SafActionError, SafControl};
use crate::saf::queue::{self, QueueEntry};
use crate::security::{Party, Role};
use crate::views::Projectors;

/// Rows the page lists at most.
const PAGE_ROWS: i64 = 200;
const STATUSES: [&str; 4] = ["PENDING", "PARKED", "DELIVERED", "REFUSED"];

pub async fn page(
    saf: web::Data<SafControl>,
    viewer: Viewer,
    fields: web::Query<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    let Viewer { party, csrf, .. } = &viewer;
    let status = forms::field(&fields, "status");
    if let Some(status) = status.filter(|s| !STATUSES.contains(s)) {
        return Err(ConsoleError::bad_request(format!(
            "status {status:?} is not one of {STATUSES:?}"
        )));
    }
    let rows = queue::list(saf.store.views(), status, PAGE_ROWS)
        .await
        .map_err(|e| ConsoleError::internal("listing the SAF queue", &e))?;
    let (depth, _) = queue::depth(saf.store.views())
        .await
        .map_err(|e| ConsoleError::internal("counting the SAF queue", &e))?;
    let ops = layout::may(party, &[Role::Ops]);
    let back = match status {
        Some(status) => format!("/backoffice/queue?status={status}"),
        None => "/backoffice/queue".to_owned(),
    };
    let now = Utc::now();
    let body = html! {
        h1 { "Store-and-forward queue" }
        p { span #pending-count { (depth) } " deliveries pending." }
        form.search method="get" action="/backoffice/queue" {
            label { "Status" select name="status" {
                option value="" { "any" }
                @for s in STATUSES { option value=(s) selected[status == Some(s)] { (s) } }
            } }
            button type="submit" { "Show" }
        }
        div.scroll { table #queue {
            tr { th { "Delivery" } th { "Payment" } th { "Partner" } th { "Kind" } th { "Status" }
                 th.n { "Age" } th.n { "Attempts" } th { "Next attempt" } th { "Last error" }
                 @if ops { th { "Actions" } } }
            @for d in &rows {
                tr data-delivery=(d.delivery_id) data-status=(d.status) {
                    td title=(d.delivery_id) { code { (layout::short(&d.delivery_id)) } }
                    td { a href={ "/backoffice/payments/" (d.tran_id) } title=(d.tran_id) { code { (layout::short(&d.tran_id)) } } }
                    td { (d.partner_id) } td { (d.kind) }
                    td { (badge(&d.status)) }
                    td.n { (age(&d.scheduled_at, now)) }
                    td.n { (d.attempts.unwrap_or(0)) }
                    td { (next_attempt(d)) }
                    td { (d.last_error.as_deref().unwrap_or_default()) }
                    @if ops { td { (action_buttons(d, csrf, &back)) } }
                }
            }
        } }
    };
    Ok(layout::page("SAF queue", &viewer, Section::Queue, body))
}

fn age(scheduled_at: &str, now: chrono::DateTime<Utc>) -> String {
    chrono::DateTime::parse_from_rfc3339(scheduled_at)
        .map(|t| {
            let s = (now - t.with_timezone(&Utc)).num_seconds().max(0);
            match s {
                0..=119 => format!("{s} s"),
                120..=7_199 => format!("{} min", s / 60),
                _ => format!("{} h", s / 3_600),
            }
        })
        .unwrap_or_default()
}

/// When a pending delivery is tried next; nothing for one that is done or parked.
pub fn next_attempt(d: &QueueEntry) -> &str {
    match d.status.as_str() {
        "PENDING" => d.next_attempt_at.as_deref().unwrap_or_default(),
        _ => "",
    }
}

/// The actions a delivery's status allows, each a form that asks for confirmation.
pub fn action_buttons(d: &QueueEntry, csrf: &Csrf, back: &str) -> Markup {
    let actions: &[SafAction] = match d.status.as_str() {
        "PENDING" => &[SafAction::Retry, SafAction::Park],
        "PARKED" => &[SafAction::Unpark],
        _ => &[],
    };
    html! {
        div.actions {
            @for action in actions {
                form.inline method="post" action={ "/backoffice/queue/" (d.delivery_id) "/" (action.as_str()) } {
                    input type="hidden" name="csrf" value=(csrf.0);
                    input type="hidden" name="back" value=(back);
                    button.secondary type="submit" data-action=(action.as_str())
                        aria-label={ (label(*action)) " delivery " (d.delivery_id) } { (label(*action)) }
                }
            }
        }
    }
}

fn label(action: SafAction) -> &'static str {
    match action {
        SafAction::Retry => "Retry now",
        SafAction::Park => "Park",
        SafAction::Unpark => "Unpark and retry",
    }
}

fn what_happens(action: SafAction) -> &'static str {
    match action {
        SafAction::Retry => "It will be sent to the partner now instead of after its backoff.",
        SafAction::Park => {
            "The queue will stop trying it until it is unparked; it shows as an exception."
        }
        SafAction::Unpark => "It goes back in the queue and is sent now, its age counted afresh.",
    }
}

pub async fn act(
    saf: web::Data<SafControl>,
    projectors: web::Data<Projectors>,
    party: Party,
    csrf: Csrf,
    request_id: RequestId,
    path: web::Path<(String, String)>,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    party.require(&[Role::Ops])?;
    forms::check(&csrf, &fields)?;
    let (delivery_id, action) = path.into_inner();
    let action = SafAction::parse(&action).ok_or_else(ConsoleError::not_found)?;
    let back = forms::field(&fields, "back")
        .filter(|b| b.starts_with("/backoffice/"))
        .unwrap_or("/backoffice/queue")
        .to_owned();
    if !forms::confirmed(&fields) {
        let summary = html! {
            p { (label(action)) " delivery " code #confirm-delivery { (delivery_id) } "?" }
            p { (what_happens(action)) }
            p.muted { "This is recorded on the payment as done by you." }
        };
        let url = format!("/backoffice/queue/{delivery_id}/{}", action.as_str());
        return Ok(forms::confirm(
            &party,
            &csrf,
            Confirmation {
                title: label(action),
                section: Section::Queue,
                summary,
                action: &url,
                button: label(action),
                fields: &fields,
                cancel: &back,
            },
        ));
    }
    let metadata = CommandMetadata::by_user(party.label("ops"), request_id);
    saf.act(&delivery_id, action, &metadata)
        .await
        .map_err(|e| match e {
            SafActionError::UnknownDelivery => ConsoleError::not_found(),
            SafActionError::NotInState => ConsoleError::new(
                actix_web::http::StatusCode::CONFLICT,
                format!("Delivery {delivery_id} is no longer in a state that allows this; nothing was changed."),
            ),
            SafActionError::Failed(what) => ConsoleError::internal("a SAF action", &what),
        })?;
    forms::catch_up(&projectors, projections::saf_outbox::NAME).await;
    let notice = format!(
        "Delivery {delivery_id}: {} done; it is now {}.",
        label(action).to_lowercase(),
        action.status_after()
    );
    Ok(forms::done(&back, &notice))
}
