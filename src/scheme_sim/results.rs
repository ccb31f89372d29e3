//! Electrum's result of an outbound credit transfer, as the simulator sends it: a
//! `PaymentStatusReport` delivered as must-deliver, signed each time, until the switch
//! answers 2xx.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::payshap::signing;
use crate::payshap::wire::OUTBOUND_RESULT_PATH;

/// How long the simulator goes on delivering one result.
const DELIVER_FOR: Duration = Duration::from_secs(60);
const PAUSE: Duration = Duration::from_millis(200);

/// The result of outbound transfer `uetr`: `APPROVED`, or another outcome with AC04.
pub fn status_report(uetr: &str, outcome: &str) -> String {
    let now = chrono::Utc::now().to_rfc3339();
    let reasons = if outcome == "APPROVED" {
        json!([])
    } else {
        json!([{ "reason": { "schema": "CODE", "value": "AC04" }, "additionalInformation": "account closed" }])
    };
    json!({
        "schema": "PaymentStatusReport",
        "messageIdentifiers": { "messageIdentification": uuid::Uuid::new_v4().simple().to_string(), "creationDateTime": now },
        "originalMessageIdentifiers": { "messageIdentification": "outbound", "creationDateTime": now },
        "transactionIdentifiers": { "uetr": uetr },
        "paymentScheme": { "schema": "ZA_RPP" },
        "status": { "outcome": outcome, "reasonInfo": reasons },
    })
    .to_string()
}

/// Delivers `report` `times` times over (a must-deliver sender may repeat itself); how
/// often the switch acknowledged it.
pub async fn deliver_times(
    times: u32,
    report: &str,
    url: &impl Fn() -> Option<String>,
    sign: &impl Fn(&[u8]) -> Option<String>,
) -> u32 {
    let mut acknowledged = 0;
    for _ in 0..times {
        acknowledged += u32::from(deliver(report, url, sign).await);
    }
    acknowledged
}

/// Delivers `report` to the switch `url()` names (none: not yet), signed by `sign`, every
/// 200 ms until it answers 2xx (true) or a minute passes (false).
pub async fn deliver(
    report: &str,
    url: &impl Fn() -> Option<String>,
    sign: &impl Fn(&[u8]) -> Option<String>,
) -> bool {
    let http = reqwest::Client::new();
    let until = Instant::now() + DELIVER_FOR;
    while Instant::now() < until {
        if let (Some(url), Some(token)) = (url(), sign(report.as_bytes())) {
            let sent = http
                .post(format!("{url}{OUTBOUND_RESULT_PATH}"))
                .header(signing::HEADER, token)
                .header("content-type", "application/json")
                .body(report.to_owned())
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if sent.is_ok_and(|answer| answer.status().is_success()) {
                return true;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    false
}
