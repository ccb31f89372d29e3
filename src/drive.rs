//! Driving a running switch over HTTP as its parties do: a POS lane's whole QR payment
//! (createQrCode → pay, waiting, while the partner's back end notifies the scan → the
//! confirmation advice), for `qrswitch bench` and `qrswitch demo`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A user name and its password, as HTTP Basic sends them.
pub type Login = (&'static str, &'static str);

/// Who plays which part, and how each proves it.
#[derive(Debug, Clone, Copy)]
pub struct Parties {
    pub retailer: Login,
    pub partner: Login,
    pub partner_name: &'static str,
    pub retailer_name: &'static str,
}

/// The steps of one payment, reported with the instant each started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    CreateQr,
    Scan,
    Pay,
    Confirm,
}

/// The POS's closing advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    Confirm,
    Reverse,
}

pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn originator(lane: usize, (retailer, store): (&str, &str)) -> Value {
    json!({
        "institution": { "id": retailer, "name": store },
        "terminalId": format!("LANE{lane:04}"),
        "merchant": { "merchantType": "5411", "merchantId": "000000000000001",
            "merchantName": { "name": store, "city": "Johannesburg", "region": "GP", "country": "ZA" } }
    })
}

/// POSTs `body` as JSON with HTTP Basic; the status and the JSON answer (null if none).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    (user, password): Login,
) -> Result<(u16, Value), String> {
    let response = http
        .post(url)
        .basic_auth(user, Some(password))
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// One POS lane of a switch at `switch` (its base URL, without `/qr/v1`).
pub struct Lane<'a> {
    pub http: &'a reqwest::Client,
    pub switch: &'a str,
    pub lane: usize,
    pub parties: Parties,
}

impl Lane<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/qr/v1{path}", self.switch)
    }

    /// One whole payment of `cents`, closed with `advice`; its tranId, or an error text
    /// for anything but the expected answer. `on_step` hears of each step that succeeded.
    pub async fn pay(
        &self,
        cents: i64,
        advice: Advice,
        on_step: impl Fn(Step, Instant),
    ) -> Result<String, String> {
        let Parties {
            retailer, partner, ..
        } = self.parties;
        let client = json!({ "id": retailer.0, "name": self.parties.retailer_name });
        let origin = originator(self.lane, (retailer.0, self.parties.retailer_name));
        let started = Instant::now();
        let (status, created) = post(self.http, &self.url("/qrCodes"), &json!({
            "id": id(), "time": now_text(), "originator": origin, "client": client,
            "qrProperties": { "scheme": "EMVCO_MERCHANT", "value": { "amount": cents, "currency": "710" } },
        }), retailer).await?;
        if status != 201 {
            return Err(format!("createQrCode {status}: {created}"));
        }
        on_step(Step::CreateQr, started);
        let tran_id = created["tranId"].as_str().unwrap_or_default().to_owned();
        let pay_id = id();
        let pay_body = json!({
            "id": pay_id, "time": now_text(), "originator": origin, "client": client,
            "thirdPartyIdentifiers": [{ "institutionId": retailer.0, "transactionIdentifier": format!("L{}", self.lane) }],
            "amounts": { "requestAmount": { "amount": cents, "currency": "710" } }, "tranId": tran_id,
        });
        let pay = {
            let (http, url) = (self.http.clone(), self.url("/payments"));
            tokio::spawn(async move {
                let started = Instant::now();
                (post(&http, &url, &pay_body, retailer).await, started)
            })
        };
        self.scan(&tran_id, partner, &on_step).await?;
        let (result, pay_started) = pay.await.map_err(|e| e.to_string())?;
        let (status, answer) = result?;
        if status != 201 {
            return Err(format!("pay {status}: {answer}"));
        }
        on_step(Step::Pay, pay_started);
        self.advise(&tran_id, &pay_id, advice, &on_step).await?;
        Ok(tran_id)
    }

    /// The partner's back end says its customer scanned `tran_id`.
    async fn scan(
        &self,
        tran_id: &str,
        partner: Login,
        on_step: &impl Fn(Step, Instant),
    ) -> Result<(), String> {
        let started = Instant::now();
        let (status, answer) = post(self.http, &self.url("/scans"), &json!({
            "id": id(), "time": now_text(), "partner": { "id": partner.0, "name": self.parties.partner_name },
            "tranId": tran_id, "partnerPaymentToken": format!("tok-{}", self.lane),
        }), partner).await?;
        if status != 202 {
            return Err(format!("notifyScan {status}: {answer}"));
        }
        on_step(Step::Scan, started);
        Ok(())
    }

    async fn advise(
        &self,
        tran_id: &str,
        pay_id: &str,
        advice: Advice,
        on_step: &impl Fn(Step, Instant),
    ) -> Result<(), String> {
        let path = match advice {
            Advice::Confirm => "/payments/confirmations",
            Advice::Reverse => "/payments/reversals",
        };
        let mut body = json!({
            "id": id(), "requestId": pay_id, "time": now_text(), "thirdPartyIdentifiers": [], "tranId": tran_id,
        });
        if advice == Advice::Reverse {
            body["reversalReason"] = json!("CANCELLED");
        }
        let started = Instant::now();
        let (status, answer) =
            post(self.http, &self.url(path), &body, self.parties.retailer).await?;
        if status != 202 {
            return Err(format!("{path} {status}: {answer}"));
        }
        on_step(Step::Confirm, started);
        Ok(())
    }
}

/// Waits, polling every `every`, until `done` holds or `limit` has passed; whether it held.
pub async fn wait_until(limit: Duration, every: Duration, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(every).await;
    }
    true
}
