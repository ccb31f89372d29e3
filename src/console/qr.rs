//! `/backoffice/qr`: the QR inspector. Paste a payload or upload a photo or PNG of a code,
//! and see every field, the schemes it satisfies and every rule it breaks (as `qrswitch qr
//! inspect` and `POST /tools/qr/inspect` say it). Nothing is stored.

use actix_multipart::Multipart;
use actix_web::HttpResponse;
use maud::{html, Markup};

use super::context::Viewer;
use super::files::read_upload;
use super::forms::{self, field};
use super::layout::{self, ConsoleError, Section};
use crate::emv::inspect::{inspect, payload_from_image, scheme_names, Inspection, IMAGE_MAX_BYTES};
use crate::emv::reader::Field;

pub async fn page(viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let body = html! {
        h1 { "QR inspector" }
        (form(&viewer))
    };
    Ok(layout::page("QR inspector", &viewer, Section::Qr, body))
}

/// Reads the pasted payload, or else the uploaded picture, and shows the verdict.
pub async fn check(viewer: Viewer, upload: Multipart) -> Result<HttpResponse, ConsoleError> {
    let (fields, _, picture) = read_upload(upload, IMAGE_MAX_BYTES).await?;
    forms::check(&viewer.csrf, &fields)?;
    let pasted = field(&fields, "payload")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let payload = if !pasted.is_empty() {
        pasted
    } else if !picture.is_empty() {
        payload_from_image(&picture).map_err(ConsoleError::bad_request)?
    } else {
        return Err(ConsoleError::bad_request(
            "paste a payload or choose a picture",
        ));
    };
    let inspection = inspect(&payload);
    let body = html! {
        h1 { "QR inspector" }
        (verdict(&inspection))
        (form(&viewer))
    };
    Ok(layout::page("QR inspector", &viewer, Section::Qr, body))
}

fn form(viewer: &Viewer) -> Markup {
    html! {
        section.panel {
            h2 { "Inspect a code" }
            form.search #inspect method="post" action="/backoffice/qr" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(viewer.csrf.0);
                label { "Payload" textarea name="payload" id="q-payload" rows="3" cols="60" {} }
                label { "or a picture (PNG, JPEG)" input type="file" name="file" id="q-file" accept="image/png,image/jpeg"; }
                button #inspect-button type="submit" { "Inspect" }
            }
        }
    }
}

fn verdict(inspection: &Inspection) -> Markup {
    html! {
        section.panel #verdict {
            dl.facts {
                dt { "Payload" } dd { code #q-read { (inspection.payload) } }
                dt { "Satisfies" } dd #q-satisfies { (scheme_names(&inspection.satisfies)) }
            }
            h2 { "Fields" }
            div.scroll { table #q-fields {
                tr { th { "ID" } th { "Name" } th { "Value" } }
                @for f in &inspection.fields { (field_rows(f)) }
            } }
            h2 { "Rules broken" }
            @if inspection.findings.is_empty() {
                p #q-no-findings { "None: the payload keeps every rule of the standard." }
            } @else {
                div.scroll { table #q-findings {
                    tr { th { "ID" } th { "Rule" } th { "Finding" } th { "Rules out" } }
                    @for f in &inspection.findings {
                        tr data-id=(f.id) {
                            td { (f.id) } td { (format!("{:?}", f.rule).to_lowercase()) }
                            td { (f.message) } td { (scheme_names(&f.breaks)) }
                        }
                    }
                } }
            }
        }
    }
}

fn field_rows(field: &Field) -> Markup {
    html! {
        tr data-id=(field.id) { td { code { (field.id) } } td { (field.name) } td { code { (field.value) } } }
        @for child in &field.children { (field_rows(child)) }
    }
}
