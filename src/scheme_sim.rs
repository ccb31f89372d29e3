//! `qrswitch scheme-sim`: plays Electrum's side of PayShap over real HTTP. It builds
//! identifier determinations and credit transfer completions in the published shapes, signs
//! them (`x-jwt-signature`, ES256), repeats a completion until it gets an answer (as a
//! must-deliver sender does), and checks the signature of every answer with a body. The
//! tests and the bench drive the switch through it.

pub mod command;
pub mod electrum;
pub mod results;

use std::time::Duration;

use serde_json::{json, Value};

use crate::payshap::signing::{self, Refusal, SigningKey, VerifyingKey};
use crate::payshap::{AUTHORISATION_PATH, COMPLETION_PATH, RESOLUTION_PATH};

/// Longest wait for one answer; the switch must answer a resolution within 1 s, a
/// completion as soon as it is recorded.
pub const REQUEST_TIMEOUT_MS: u64 = 5_000;
/// Attempts at one completion before the simulator gives up (a real sender goes on).
pub const MAX_DELIVERY_ATTEMPTS: u32 = 20;
/// First pause between deliveries; doubled each time up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: u64 = 100;
pub const MAX_BACKOFF_MS: u64 = 2_000;

/// What the switch answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub raw: Vec<u8>,
    /// The answer's signature: `None` when no key to check it with was given or the answer
    /// has neither body nor signature, else whether it verified.
    pub signature: Option<Result<(), Refusal>>,
    pub attempts: u32,
    /// From sending the request to the answer's last byte: what the scheme's clock sees,
    /// without our own signing and checking.
    pub round_trip: Duration,
}

/// How the simulator reaches and proves itself to the switch.
pub struct SchemeClient {
    http: reqwest::Client,
    base_url: String,
    signer: Option<SigningKey>,
    switch_key: Option<VerifyingKey>,
    basic: Option<(String, String)>,
    /// W3C trace context sent with every message, as Electrum sends it.
    traceparent: Option<String>,
}

impl SchemeClient {
    pub fn new(
        base_url: &str,
        signer: Option<SigningKey>,
        switch_key: Option<VerifyingKey>,
    ) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            signer,
            switch_key,
            basic: None,
            traceparent: None,
        }
    }

    /// Sends `traceparent` with every message.
    pub fn with_traceparent(mut self, traceparent: &str) -> Self {
        self.traceparent = Some(traceparent.to_owned());
        self
    }

    /// Also present HTTP Basic credentials (for a switch that requires both).
    pub fn with_basic(mut self, user: &str, password: &str) -> Self {
        self.basic = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Sends `body` to `path` once, signed with `token` (or signed now when `None`).
    pub async fn send(
        &self,
        path: &str,
        body: &[u8],
        token: Option<String>,
        traceparent: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("content-type", "application/json")
            .body(body.to_vec());
        let token = match (token, &self.signer) {
            (Some(token), _) => Some(token),
            (None, Some(signer)) => signer.sign(body).ok(),
            (None, None) => None,
        };
        if let Some(token) = token {
            request = request.header(signing::HEADER, token);
        }
        if let Some(traceparent) = traceparent.or(self.traceparent.as_deref()) {
            request = request.header("traceparent", traceparent);
        }
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        }
        let sent = std::time::Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get(signing::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let raw = response.bytes().await?.to_vec();
        let round_trip = sent.elapsed();
        // An empty answer is checked too when it carries a signature (the switch signs its
        // 202s); without one, there is nothing to check.
        let signature = match (&self.switch_key, raw.is_empty() && header.is_none()) {
            (Some(key), false) => Some(
                key.verify(header.as_deref(), &raw, chrono::Utc::now().timestamp())
                    .map(|_| ()),
            ),
            _ => None,
        };
        Ok(Answer {
            status,
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
            signature,
            attempts: 1,
            round_trip,
        })
    }

    pub async fn resolve(&self, message: &Value) -> Result<Answer, reqwest::Error> {
        let body = serde_json::to_vec(message).unwrap_or_default();
        self.send(RESOLUTION_PATH, &body, None, None).await
    }

    /// Asks the switch to authorise a credit (partner-auth), once: Electrum does not repeat
    /// it, the scheme's clock runs.
    pub async fn authorise(&self, body: &[u8]) -> Result<Answer, reqwest::Error> {
        self.send(AUTHORISATION_PATH, body, None, None).await
    }

    /// Delivers a completion as a must-deliver sender does: again and again, freshly signed,
    /// while there is no answer or the answer says try again (429, 5xx).
    pub async fn complete(&self, body: &[u8]) -> Result<Answer, reqwest::Error> {
        let mut pause = Duration::from_millis(FIRST_BACKOFF_MS);
        let mut attempt = 1;
        loop {
            let result = self.send(COMPLETION_PATH, body, None, None).await;
            let retry = match &result {
                Ok(answer) => answer.status == 429 || answer.status >= 500,
                Err(_) => true,
            };
            if !retry || attempt >= MAX_DELIVERY_ATTEMPTS {
                return result.map(|answer| Answer {
                    attempts: attempt,
                    ..answer
                });
            }
            tracing::info!(attempt, "completion not answered yet; delivering again");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(MAX_BACKOFF_MS));
            attempt += 1;
        }
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn new_message_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// An `IdentifierDeterminationRequest` for `identifier` (`{schema, value, namespace}`), with
/// `accountAgent.bicfi` for a GENERIC account.
pub fn resolution_request(uetr: &str, identifier: Value, account_bicfi: Option<&str>) -> Value {
    let mut request = json!({
        "schema": "ZA_RPP",
        "uetr": uetr,
        "verificationIdentification": format!("V{}", &new_message_id()[..12]),
        "identifier": identifier,
        "requestor": { "knownAsName": "Payer Person" },
        "instructingAgent": { "bicfi": "FIRNZAJJ" },
        "instructedAgent": { "bicfi": "SBZAZAJJ" },
    });
    if let Some(bicfi) = account_bicfi {
        request["accountAgent"] = json!({ "bicfi": bicfi });
    }
    json!({
        "schema": "IdentifierDeterminationRequest",
        "messageIdentifiers": { "messageIdentification": new_message_id(), "creationDateTime": now_text() },
        "supplementaryData": { "channel": "APP" },
        "request": request,
    })
}

/// Where a credit went: a proxy, or an account at a bank.
pub enum Creditor<'a> {
    Proxy {
        schema: &'a str,
        namespace: &'a str,
        value: &'a str,
    },
    Account {
        bicfi: &'a str,
        number: &'a str,
    },
}

/// The creditor's account and agent, as both messages carry them; the account's `type` is
/// an ISO code object, as in Electrum's `PaymentAccount`.
fn creditor_parts(creditor: Creditor<'_>) -> (Value, Value) {
    let account_type = json!({ "schema": "CODE", "value": "CACC" });
    match creditor {
        Creditor::Proxy {
            schema,
            namespace,
            value,
        } => (
            json!({
                "identification": { "schema": "GENERIC", "value": "62000000001" },
                "proxy": { "schema": schema, "value": value, "namespace": namespace },
                "name": "Corner Shop", "currency": "ZAR", "type": account_type,
            }),
            json!({ "bicfi": "SBZAZAJJ" }),
        ),
        Creditor::Account { bicfi, number } => (
            json!({
                "identification": { "schema": "GENERIC", "value": number },
                "name": "Corner Shop", "currency": "ZAR", "type": account_type,
            }),
            json!({ "bicfi": bicfi }),
        ),
    }
}

/// A partner-auth request (`"schema": "CreditTransfer"`) for an inbound credit, with the
/// fields the pages list and the creditor's account and agent as a completion has them.
pub fn credit_transfer(
    uetr: &str,
    message_id: &str,
    amount: &str,
    creditor: Creditor<'_>,
) -> String {
    let (account, agent) = creditor_parts(creditor);
    let short = &uetr[..8.min(uetr.len())];
    let transfer = json!({
        "schema": "CreditTransfer",
        "messageIdentifiers": { "messageIdentification": message_id, "creationDateTime": now_text() },
        "supplementaryData": { "channel": "APP" },
        "transactionIdentifiers": {
            "endToEndIdentification": format!("E2E{short}"),
            "transactionIdentification": format!("TX{short}"),
            "uetr": uetr,
        },
        "amounts": { "bankSettlementAmount": { "currency": "ZAR", "value": "AMOUNT" } },
        "creditor": { "knownAsName": "Corner Shop" },
        "creditorAccount": account,
        "creditorAgent": agent,
        "debtor": { "knownAsName": "Payer Person", "legalName": "Payer Person" },
        "debtorAccount": { "identification": { "schema": "GENERIC", "value": "1099999999" }, "name": "Payer Person" },
        "debtorAgent": { "bicfi": "FIRNZAJJ" },
        "paymentScheme": { "schema": "ZA_RPP" },
    });
    transfer
        .to_string()
        .replace("\"value\":\"AMOUNT\"", &format!("\"value\":{amount}"))
}

/// A `PaymentStatusReport` for an inbound credit with every field Electrum sends. `amount`
/// is the decimal text written as a JSON number (`"49.99"` → `49.99`), so no float is ever
/// involved on either side.
pub fn completion_report(
    uetr: &str,
    message_id: &str,
    outcome: &str,
    amount: &str,
    creditor: Creditor<'_>,
) -> String {
    let (account, agent) = creditor_parts(creditor);
    let short = &uetr[..8.min(uetr.len())];
    let report = json!({
        "schema": "PaymentStatusReport",
        "messageIdentifiers": { "messageIdentification": message_id, "creationDateTime": now_text() },
        "originalMessageIdentifiers": { "messageIdentification": format!("orig{short}"), "creationDateTime": now_text() },
        "supplementaryData": { "channel": "APP" },
        "instructingAgent": { "bicfi": "FIRNZAJJ" },
        "instructedAgent": { "bicfi": "SBZAZAJJ" },
        "transactionIdentifiers": {
            "endToEndIdentification": format!("E2E{short}"),
            "instructionIdentification": format!("INS{short}"),
            "transactionIdentification": format!("TX{short}"),
            "uetr": uetr,
        },
        "status": {
            "outcome": outcome,
            "reasonInfo": [{ "reason": { "schema": "CODE", "value": "G000" }, "additionalInformation": "settled" }],
        },
        "paymentScheme": { "schema": "ZA_RPP" },
        "originalTransactionData": {
            "amounts": {
                "bankSettlementAmount": { "currency": "ZAR", "value": "AMOUNT" },
                "instructedAmount": { "currency": "ZAR", "value": "AMOUNT" },
            },
            "creditor": { "knownAsName": "Corner Shop", "legalName": "Corner Shop (Pty) Ltd" },
            "debtor": { "knownAsName": "Payer Person", "legalName": "Payer Person" },
            "creditorAccount": account,
            "creditorAgent": agent,
            "debtorAccount": { "identification": { "schema": "GENERIC", "value": "1099999999" }, "name": "Payer Person" },
            "debtorAgent": { "bicfi": "FIRNZAJJ" },
            "paymentMethod": "TRF",
            "paymentTypeInformation": { "localInstrument": "RPP" },
            "remittanceInformation": { "unstructured": ["QR payment"] },
            "settlementDate": chrono::Utc::now().date_naive().to_string(),
            "supplementaryData": {},
        },
    });
    report
        .to_string()
        .replace("\"value\":\"AMOUNT\"", &format!("\"value\":{amount}"))
}
