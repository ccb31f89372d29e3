//! `POST /sim/scans`: the simulator tells the switch a customer scanned, as a wallet's back
//! end would.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::SimState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ScanOrder {
    tran_id: String,
    #[serde(default)]
    partner_payment_token: Option<String>,
}

/// Notifies the switch that a customer scanned `tranId`; answers with the switch's status
/// and body.
pub(super) async fn send_scan(
    state: web::Data<SimState>,
    order: web::Json<ScanOrder>,
) -> HttpResponse {
    let Some(switch_url) = &state.config.switch_url else {
        return HttpResponse::BadRequest().json(json!({ "code": "NO_SWITCH",
            "message": "start the simulator with --switch-url to send scans" }));
    };
    let config = &state.config;
    let scan = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "partner": { "id": config.partner_id, "name": config.partner_name },
        "tranId": order.tran_id,
        "partnerPaymentToken": order.partner_payment_token.clone()
            .unwrap_or_else(|| format!("sim-token-{}", uuid::Uuid::new_v4().simple())),
    });
    let mut request = state
        .http
        .post(format!("{}/scans", switch_url.trim_end_matches('/')))
        .timeout(Duration::from_secs(10))
        .json(&scan);
    if let Some(password) = &config.switch_password {
        request = request.basic_auth(&config.partner_id, Some(password));
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            HttpResponse::Ok().json(json!({ "status": status, "body": body, "scan": scan }))
        }
        Err(error) => HttpResponse::BadGateway()
            .json(json!({ "code": "SWITCH_UNREACHABLE", "message": error.to_string() })),
    }
}
