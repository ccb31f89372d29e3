//! `POST /tools/qr/inspect`: the verdict on a QR payload for any authenticated party (a
//! partner checking a code its app could not read, ops looking at a till's code): every
//! field, the schemes it satisfies and every rule it breaks. Reads nothing, writes nothing.

use actix_web::{web, HttpResponse};
use base64::Engine;
use serde::Deserialize;

use crate::emv::inspect::{
    inspect as inspect_payload, payload_from_image, Inspection, IMAGE_MAX_BYTES,
};
use crate::http::ApiError;
use crate::security::{Party, Role};

/// Every role may inspect a code: it reveals nothing stored.
const ANYONE: &[Role] = &[
    Role::Retailer,
    Role::Partner,
    Role::Scheme,
    Role::Backoffice,
    Role::Ops,
    Role::Auditor,
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    // A base64 picture is 4 bytes for every 3 of the image.
    let body_limit = IMAGE_MAX_BYTES / 3 * 4 + 1024;
    cfg.service(
        web::resource("/tools/qr/inspect")
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(|error, _| ApiError::bad_request(error.to_string()).into()),
            )
            .route(web::post().to(inspect)),
    );
}

/// A payload as text, or a picture of the code (PNG or JPEG, base64).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InspectRequest {
    pub payload: Option<String>,
    /// The picture's bytes, base64 (standard alphabet).
    pub image: Option<String>,
}

#[utoipa::path(post, path = "/tools/qr/inspect", tag = "tools", request_body = InspectRequest,
    responses((status = 200, description = "The payload read field by field, the schemes it satisfies (possibly none) and every rule it breaks.", body = Inspection), crate::http::documented::Reads))]
pub async fn inspect(
    party: Party,
    body: web::Json<InspectRequest>,
) -> Result<HttpResponse, ApiError> {
    party.require(ANYONE)?;
    let payload = match (&body.payload, &body.image) {
        (Some(payload), None) => payload.clone(),
        (None, Some(image)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(image.trim())
                .map_err(|_| ApiError::bad_request("image is not base64"))?;
            payload_from_image(&bytes).map_err(ApiError::bad_request)?
        }
        _ => return Err(ApiError::bad_request("give either payload or image")),
    };
    Ok(HttpResponse::Ok().json(inspect_payload(&payload)))
}
