//! `/backoffice/proxies`: the PayShap proxy registry. Everyone who reads the books sees it
//! with values masked; ops register, change and retire proxies, each confirmed first and
//! recorded as an event on the proxy naming who did it. A page never holds a proxy's full
//! key (it is an MSISDN for mobile proxies): its forms carry it sealed.

use actix_web::{web, HttpResponse};
use aggregates::proxy::{AccountStatus, Proxy, ProxyCommand};
use maud::{html, Markup};
use projections::proxy_registry::{self, ProxyRow};
use tracing_actix_web::RequestId;

use super::context::Viewer;
use super::forms::{self, field, Confirmation, Csrf, Fields};
use super::layout::{self, ConsoleError, Section};
use crate::commands::CommandBus;
use crate::payshap::admin::{self, Change, Registration};
use crate::security::session::Sessions;
use crate::security::{mask, Party, Role};
use crate::store::Store;
use crate::views::Projectors;

const PAGE_ROWS: i64 = 200;
const STATUSES: [AccountStatus; 8] = [
    AccountStatus::Active,
    AccountStatus::Blocked,
    AccountStatus::Closed,
    AccountStatus::Sequestrated,
    AccountStatus::Liquidated,
    AccountStatus::Deceased,
    AccountStatus::NonCompliant,
    AccountStatus::CannotReceive,
];

pub async fn page(
    store: web::Data<Store>,
    sessions: web::Data<Sessions>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    let Viewer { party, csrf, .. } = &viewer;
    let rows = proxy_registry::list(store.views().pool(), 0, PAGE_ROWS)
        .await
        .map_err(|e| ConsoleError::internal("listing proxies", &e))?;
    let ops = layout::may(party, &[Role::Ops]);
    let body = html! {
        h1 { "PayShap proxies" }
        div.scroll { table #proxies {
            tr { th { "Proxy" } th { "Known as" } th { "Status" } th { "Resolves" } th { "Changed" }
                 @if ops { th { "Change" } } }
            @for row in &rows {
                tr data-retired=(row.retired) {
                    td.proxy { (row.schema) " " (row.context) " " code { (mask::msisdn(&row.value)) } }
                    td { (row.known_as_name) }
                    td { @if row.retired != 0 { "retired" } @else { (row.status) } }
                    td { @if row.resolution_allowed != 0 { "yes" } @else { "no" } }
                    td { (row.updated_at) }
                    @if ops && row.retired == 0 { td { (change_form(row, &sessions, csrf)) } }
                }
            }
        } }
        @if ops { h2 { "Register a proxy" } section.panel { (register_form(csrf)) } }
    };
    Ok(layout::page(
        "PayShap proxies",
        &viewer,
        Section::Proxies,
        body,
    ))
}

fn status_select(name: &str, current: Option<&str>) -> Markup {
    html! {
        select name=(name) {
            @if current.is_none() { option value="" { "unchanged" } }
            @for s in STATUSES { option value=(s.as_str()) selected[current == Some(s.as_str())] { (s.as_str()) } }
        }
    }
}

fn change_form(row: &ProxyRow, sessions: &Sessions, csrf: &Csrf) -> Markup {
    let sealed = sessions.seal(&row.proxy_id);
    html! {
        form.inline method="post" action="/backoffice/proxies/change" {
            input type="hidden" name="csrf" value=(csrf.0);
            input type="hidden" name="proxy" value=(sealed);
            label { "Status" (status_select("status", None)) }
            button.secondary type="submit" { "Change" }
        }
        form.inline method="post" action="/backoffice/proxies/retire" {
            input type="hidden" name="csrf" value=(csrf.0);
            input type="hidden" name="proxy" value=(sealed);
            button.danger type="submit" { "Retire" }
        }
    }
}

fn register_form(csrf: &Csrf) -> Markup {
    html! {
        form.search #register-proxy method="post" action="/backoffice/proxies/register" {
            input type="hidden" name="csrf" value=(csrf.0);
            label { "Schema" select name="schema" {
                option value="MOBILE" { "MOBILE" } option value="CUSTOM" { "CUSTOM" } option value="GENERIC" { "GENERIC" }
            } }
            label { "Namespace (MOBILE, CUSTOM)" input type="text" name="namespace"; }
            label { "BICFI (GENERIC)" input type="text" name="bicfi"; }
            label { "Value" input type="text" name="value" required; }
            label { "Known as" input type="text" name="knownAsName" required; }
            label { "Legal name" input type="text" name="legalName" required; }
            label { "Account created" input type="date" name="accountCreationDate" required; }
            label { "Status" (status_select("status", Some("active"))) }
            label { "Resolution allowed" select name="resolutionAllowed" {
                option value="true" { "yes" } option value="false" { "no" } } }
            button type="submit" { "Register" }
        }
    }
}

/// A proxy action as posted: `register`, `change` or `retire`.
fn command_of(
    action: &str,
    fields: &Fields,
    sessions: &Sessions,
) -> Result<(String, ProxyCommand, String), ConsoleError> {
    let sealed = || {
        field(fields, "proxy")
            .and_then(|s| sessions.unseal(s))
            .ok_or_else(|| {
                ConsoleError::bad_request("this form does not name a proxy; reload the page")
            })
    };
    match action {
        "register" => register_command(fields),
        "change" => {
            let id = sealed()?;
            let change = Change {
                known_as_name: None,
                legal_name: None,
                status: status_field(fields, false)?,
                resolution_allowed: None,
            };
            let shown = format!(
                "set the account status of proxy {} to {}",
                mask::proxy(&id),
                change.status.map(|s| s.as_str()).unwrap_or("(unchanged)")
            );
            Ok((id, admin::change_command(change), shown))
        }
        "retire" => {
            let id = sealed()?;
            let shown = format!(
                "retire proxy {}: it will no longer resolve",
                mask::proxy(&id)
            );
            let retire = ProxyCommand::Retire {
                at: chrono::Utc::now(),
            };
            Ok((id, retire, shown))
        }
        _ => Err(ConsoleError::not_found()),
    }
}

/// The account status posted, if any (refused when `required` and missing).
fn status_field(fields: &Fields, required: bool) -> Result<Option<AccountStatus>, ConsoleError> {
    match field(fields, "status") {
        Some(s) => AccountStatus::parse(s)
            .map(Some)
            .ok_or_else(|| ConsoleError::bad_request(format!("status {s:?} is not one offered"))),
        None if required => Err(ConsoleError::bad_request("status is required")),
        None => Ok(None),
    }
}

/// The registration form's command.
fn register_command(fields: &Fields) -> Result<(String, ProxyCommand, String), ConsoleError> {
    let text = |name: &str| field(fields, name).map(str::to_owned);
    let date = field(fields, "accountCreationDate").unwrap_or_default();
    let registration = Registration {
        schema: text("schema").unwrap_or_default(),
        namespace: text("namespace"),
        bicfi: text("bicfi"),
        value: text("value").unwrap_or_default(),
        known_as_name: text("knownAsName").unwrap_or_default(),
        legal_name: text("legalName").unwrap_or_default(),
        account_creation_date: date.parse().map_err(|_| {
            ConsoleError::bad_request(format!(
                "account created {date:?} is not a day such as 2026-11-21"
            ))
        })?,
        status: status_field(fields, true)?.unwrap_or(AccountStatus::Active),
        resolution_allowed: field(fields, "resolutionAllowed") != Some("false"),
    };
    let shown = format!(
        "register {} proxy {}",
        registration.schema,
        mask::msisdn(&registration.value)
    );
    let (id, command) = admin::registration_command(registration)?;
    Ok((id, command, shown))
}

/// The form with what its confirmation carried sealed (`asked`) opened back into it.
fn unsealed(mut fields: Fields, sessions: &Sessions) -> Result<Fields, ConsoleError> {
    let Some(sealed) = fields.remove("asked") else {
        return Ok(fields);
    };
    let asked: Fields = sessions
        .unseal(&sealed)
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| {
            ConsoleError::bad_request("this confirmation did not come back intact; start again")
        })?;
    fields.extend(asked);
    Ok(fields)
}

#[allow(clippy::too_many_arguments)]
pub async fn act(
    proxies: web::Data<CommandBus<Proxy>>,
    sessions: web::Data<Sessions>,
    projectors: web::Data<Projectors>,
    party: Party,
    csrf: Csrf,
    request_id: RequestId,
    path: web::Path<String>,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    party.require(&[Role::Ops])?;
    forms::check(&csrf, &fields)?;
    let fields = unsealed(fields.into_inner(), &sessions)?;
    let (id, command, shown) = command_of(&path, &fields, &sessions)?;
    if !forms::confirmed(&fields) {
        // The confirmation carries what was asked sealed: a registration names the MSISDN.
        let asked: Fields = fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "confirmed"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let sealed = sessions.seal(&serde_json::to_string(&asked).unwrap_or_default());
        let carry = Fields::from([("asked".to_owned(), sealed)]);
        let url = format!("/backoffice/proxies/{path}");
        let summary = html! { p #confirm-summary { "You are about to " (shown) "." }
        p.muted { "This is recorded on the proxy as done by you." } };
        return Ok(forms::confirm(
            &party,
            &csrf,
            Confirmation {
                title: "Confirm a proxy change",
                section: Section::Proxies,
                summary,
                action: &url,
                button: "Confirm",
                fields: &carry,
                cancel: "/backoffice/proxies",
            },
        ));
    }
    proxies
        .execute(&id, command, &admin::metadata(&party, &request_id))
        .await
        .map_err(admin::refused)?;
    forms::catch_up(&projectors, proxy_registry::NAME).await;
    Ok(forms::done(
        "/backoffice/proxies",
        &format!("Done: {shown}."),
    ))
}
