//! Driving `/qr/v1` as a POS and a partner would, with every body checked against the
//! contract, plus a partner simulator and switch configuration for the tests.

use std::time::Duration;

use qrswitch::config::{Config, PartnerConfig};
use qrswitch::partner_sim::{self, Mode, Received, SimConfig, SimRunning};
use serde_json::{json, Value};

use super::{contract, TestDb};

pub const RETAILER: &str = "demo-retailer";
pub const PARTNER: &str = "demo-partner";
pub const OTHER_PARTNER: &str = "other-partner";

/// A switch's `/qr/v1` as seen by its clients; every exchange is contract-checked.
#[derive(Clone)]
pub struct QrClient {
    pub base_url: String,
    http: reqwest::Client,
    /// HTTP Basic credentials, where the switch has users.
    user: Option<(String, String)>,
}

impl QrClient {
    pub fn new(switch_base_url: &str) -> Self {
        Self {
            base_url: format!("{switch_base_url}/qr/v1"),
            http: reqwest::Client::new(),
            user: None,
        }
    }

    /// The same client, calling as `user`.
    pub fn as_user(switch_base_url: &str, user: &str, password: &str) -> Self {
        Self {
            user: Some((user.to_owned(), password.to_owned())),
            ..Self::new(switch_base_url)
        }
    }

    /// Posts `body` to `path`; returns status and body (null when empty).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (request_definition, response_definition) = contract::definitions_of(path);
        contract::check(request_definition, body);
        let (status, answer) = self.post_unchecked(path, body).await;
        match (status, response_definition) {
            (200..=299, Some(definition)) => contract::check(definition, &answer),
            (200..=299, None) => {}
            _ => contract::check("ErrorDetail", &answer),
        }
        (status, answer)
    }

    /// Posts without checking the request (for deliberately malformed messages); the error
    /// answer is still checked.
    pub async fn post_unchecked(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .request(path, body)
            .send()
            .await
            .expect("switch reachable");
        Self::read(response).await
    }

    /// Posts a message that is safe to send again (a scan notification, an advice), and
    /// sends it again, as a partner or POS does, when the connection closed before any
    /// answer came (an instance stopping behind a proxy); at most `RESENDS` times.
    pub async fn post_resending(&self, path: &str, body: &Value) -> (u16, Value) {
        const RESENDS: usize = 2;
        for _ in 0..RESENDS {
            match self.request(path, body).send().await {
                Ok(response) => return Self::read(response).await,
                Err(error) => eprintln!("{path}: no answer ({error}); sent again"),
            }
        }
        self.post(path, body).await
    }

    /// A POST of `body` to `path`, as this client's user where it has one.
    fn request(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(body);
        match &self.user {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }

    async fn read(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let answer = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("answer is not JSON: {text}"))
        };
        (status, answer)
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (
            status,
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    /// Creates a QR (no amount unless given); returns the response.
    pub async fn create_qr(&self, amount: Option<i64>) -> Value {
        let (status, body) = self.post("/qrCodes", &create_qr_request(amount)).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// `pay` on its own task, since it waits for the outcome.
    pub fn spawn_pay(&self, tran_id: &str, cents: i64) -> tokio::task::JoinHandle<(u16, Value)> {
        let client = self.clone();
        let body = payment_request(tran_id, cents);
        tokio::spawn(async move { client.post("/payments", &body).await })
    }
}

pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn originator() -> Value {
    json!({
        "institution": { "id": "demo-retail-group", "name": "Demo Retail Group" },
        "terminalId": "LANE0007",
        "merchant": {
            "merchantType": "5411",
            "merchantId": "000000000123456",
            "merchantName": { "name": "Demo Store Rosebank", "city": "Johannesburg",
                              "region": "GP", "country": "ZA" }
        }
    })
}

pub fn client() -> Value {
    json!({ "id": RETAILER, "name": "Demo Retailer" })
}

pub fn zar(cents: i64) -> Value {
    json!({ "amount": cents, "currency": "710" })
}

pub fn create_qr_request(amount: Option<i64>) -> Value {
    let mut properties = json!({ "scheme": "EMVCO_MERCHANT" });
    if let Some(cents) = amount {
        properties["value"] = zar(cents);
    }
    json!({
        "id": new_id(),
        "time": now_text(),
        "originator": originator(),
        "client": client(),
        "qrProperties": properties,
    })
}

pub fn payment_request(tran_id: &str, cents: i64) -> Value {
    json!({
        "id": new_id(),
        "time": now_text(),
        "originator": originator(),
        "client": client(),
        "thirdPartyIdentifiers": [
            { "institutionId": RETAILER, "transactionIdentifier": format!("POS-{}", &new_id()[..8]) }
        ],
        "tranType": "GOODS_AND_SERVICES",
        "amounts": { "requestAmount": zar(cents) },
        "tranId": tran_id,
    })
}

/// The confirmation advice a POS sends for an approved `pay`.
pub fn confirmation_for(pay: &Value) -> Value {
    json!({
        "id": new_id(),
        "requestId": pay["id"],
        "time": now_text(),
        "thirdPartyIdentifiers": pay["thirdPartyIdentifiers"],
        "amounts": { "approvedAmount": pay["amounts"]["requestAmount"] },
        "tranId": pay["tranId"],
    })
}

/// A whole payment: a QR from `pos`, scanned by `partner` (as [`PARTNER`]), paid and
/// confirmed. Returns the tranId, the QR request's id and the confirmation's id.
pub async fn confirmed_payment(
    pos: &QrClient,
    partner: &QrClient,
    cents: i64,
) -> (String, String, String) {
    let request = create_qr_request(None);
    let (status, created) = pos.post("/qrCodes", &request).await;
    assert_eq!(status, 201, "{created}");
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let scan = scan_notification(&tran_id, PARTNER);
    assert_eq!(partner.post("/scans", &scan).await.0, 202);
    let pay = payment_request(&tran_id, cents);
    assert_eq!(pos.post("/payments", &pay).await.0, 201);
    let advice = confirmation_for(&pay);
    assert_eq!(pos.post("/payments/confirmations", &advice).await.0, 202);
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    (tran_id, id(&request), id(&advice))
}

pub fn scan_notification(tran_id: &str, partner: &str) -> Value {
    json!({
        "id": new_id(),
        "time": now_text(),
        "partner": { "id": partner, "name": format!("{partner} wallet") },
        "tranId": tran_id,
        "partnerPaymentToken": format!("token-{}", &new_id()[..8]),
    })
}

/// A partner simulator on a free port.
pub async fn start_sim(mode: Mode, partner_id: &str, switch: Option<&str>) -> SimRunning {
    partner_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        mode,
        partner_id: partner_id.to_owned(),
        partner_name: format!("{partner_id} (simulated)"),
        switch_url: switch.map(|s| format!("{s}/qr/v1")),
        switch_password: None,
    })
    .expect("simulator starts")
}

pub async fn sim_received(sim: &SimRunning) -> Vec<Received> {
    reqwest::get(format!("{}/sim/received", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn set_sim_mode(sim: &SimRunning, mode: Mode) {
    let response = reqwest::Client::new()
        .put(format!("{}/sim/mode", sim.base_url()))
        .json(&mode)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

pub fn partner_config(id: &str, tag: u8, sim: &SimRunning, timeout: Duration) -> PartnerConfig {
    PartnerConfig {
        id: id.to_owned(),
        name: format!("{id} wallet"),
        qr_guid: format!("za.co.{}", id.replace('-', "")),
        template_tag: tag,
        qr_reference: Default::default(),
        qr_fields: Default::default(),
        base_url: format!("{}/qr/v1", sim.base_url()),
        username: Some("qrswitch".to_owned()),
        password: Some("upstream-test-pw".to_owned()),
        timeout_ms: timeout.as_millis() as u64,
        enabled: true,
        max_in_flight: None,
        ca_path: None,
        client_cert_path: None,
        client_key_path: None,
    }
}

/// Test timings: a POS waits `pay_timeout`, partners get `partner_timeout`.
pub fn with_partners(
    mut config: Config,
    partners: Vec<PartnerConfig>,
    pay_timeout: Duration,
) -> Config {
    config.partners = partners;
    config.payments.pay_timeout_ms = pay_timeout.as_millis() as u64;
    config.payments.scan_hold_ms = 30_000;
    config.payments.sweep_interval_ms = 200;
    config.payments.sweep_grace_ms = 500;
    config
}

/// A switch configured for one approving partner simulator (`PARTNER`, 2 s to answer; the POS
/// waits 5 s), its store-and-forward polled every 50 ms: the setting of the tests that need
/// whole payments and nothing else of the partner. The config, to adjust before a start.
pub async fn approving_partner(db: &TestDb) -> (Config, SimRunning) {
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut config = with_partners(
        db.config(),
        vec![partner_config(PARTNER, 27, &sim, Duration::from_secs(2))],
        Duration::from_secs(5),
    );
    config.saf.poll_interval_ms = 50;
    (config, sim)
}

/// The switch of a database fault test, on `database_url`: one approving partner (`sim`,
/// 2 s to answer), the POS waiting `pay_timeout`, two workers, a database connection given
/// up after `acquire`, and a SAF queue that tries again quickly (100 ms doubling to 1 s).
pub fn database_fault_config(
    database_url: &str,
    sim: &SimRunning,
    pay_timeout: Duration,
    acquire: Duration,
) -> Config {
    let mut config = with_partners(
        super::test_config(database_url),
        vec![partner_config(PARTNER, 27, sim, Duration::from_secs(2))],
        pay_timeout,
    );
    config.server.workers = 2;
    config.database.acquire_timeout_ms = acquire.as_millis() as u64;
    config.saf.poll_interval_ms = 100;
    config.saf.backoff_base_ms = 100;
    config.saf.backoff_cap_ms = 1_000;
    config
}
