//! PayShap inbound over real HTTP: proxy resolution with every reason code, malformed
//! requests, repeated resolutions, must-deliver completions (duplicates, out of order, no
//! prior resolution), the QR-linked PayShap payment with a waiting POS, and the mark-off CSV.

use std::time::Duration;

use crate::common::qr::*;
use crate::common::scheme::*;
use crate::common::*;
use serde_json::{json, Value};

const BANK_BIC: &str = "SBZAZAJJ";

struct PayShap {
    _db: TestDb,
    server: TestServer,
    http: reqwest::Client,
}

impl PayShap {
    async fn start(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = db.config();
        config.payshap.qr_enabled = true;
        config.payments.pay_timeout_ms = 10_000;
        with_demo_signing(&mut config);
        let server = TestServer::start(config).await;
        Self {
            _db: db,
            server,
            http: reqwest::Client::new(),
        }
    }

    /// Posts `body`; to a PayShap inbound path as the scheme simulator, signed, with the
    /// answer's signature checked.
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        if qrswitch::payshap::inbound::is_signed_path(path) {
            return self.send_signed(path, body.to_string().as_bytes()).await;
        }
        let response = self
            .http
            .post(format!("{}{path}", self.server.base_url))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn send_signed(&self, path: &str, body: &[u8]) -> (u16, Value) {
        let answer = scheme_client(&self.server.base_url)
            .send(path, body, None, None)
            .await
            .unwrap();
        if !answer.raw.is_empty() {
            assert_eq!(answer.signature, Some(Ok(())), "every answer is signed");
        }
        (answer.status, answer.body)
    }

    async fn register(
        &self,
        schema: &str,
        context: &str,
        value: &str,
        status: &str,
        allowed: bool,
    ) -> String {
        let mut body = json!({
            "schema": schema, "value": value, "knownAsName": "Corner Shop",
            "legalName": "Corner Shop (Pty) Ltd", "accountCreationDate": "2019-03-14",
            "status": status, "resolutionAllowed": allowed,
        });
        if schema == "GENERIC" {
            body["bicfi"] = context.into();
        } else {
            body["namespace"] = context.into();
        }
        let (status_code, answer) = self.post("/admin/proxies", &body).await;
        assert_eq!(status_code, 201, "{answer}");
        answer["proxyId"].as_str().unwrap().to_owned()
    }

    /// Resolves and waits until the registry view has every registration made so far.
    async fn resolve(
        &self,
        identifier: Value,
        account_agent: Option<&str>,
    ) -> (u16, Value, String) {
        self.server.app().catch_up_all().await.unwrap();
        let uetr = uuid::Uuid::new_v4().to_string();
        let mut request = json!({
            "schema": "ZA_RPP", "uetr": uetr, "verificationIdentification": "1001",
            "identifier": identifier,
            "requestor": { "name": "Payer Bank Customer" },
            "instructingAgent": { "bicfi": "FIRNZAJJ" },
            "instructedAgent": { "bicfi": BANK_BIC },
        });
        if let Some(bicfi) = account_agent {
            request["accountAgent"] = json!({ "bicfi": bicfi });
        }
        let body = json!({
            "schema": "IdentifierDeterminationRequest",
            "messageIdentifiers": { "messageIdentification": new_id(), "creationDateTime": now_text() },
            "request": request,
            "supplementaryData": { "customData1": "kept", "nested": { "dropped": true } },
        });
        let (status, answer) = self
            .post("/identifiers/inbound/identifier-determination-sync", &body)
            .await;
        (status, answer, uetr)
    }

    async fn complete(
        &self,
        uetr: &str,
        message_id: &str,
        outcome: &str,
        amount: &str,
        proxy: Value,
    ) -> u16 {
        let body = completion_report(uetr, message_id, outcome, amount, proxy);
        self.send_signed(qrswitch::payshap::COMPLETION_PATH, body.as_bytes())
            .await
            .0
    }

    async fn event_types(&self, aggregate_type: &str, id: &str) -> Vec<String> {
        stored_event_types(self.server.app(), aggregate_type, id).await
    }
}

fn mobile(value: &str) -> Value {
    json!({ "schema": "MOBILE", "namespace": "shop", "value": value })
}

fn information(answer: &Value) -> &Value {
    &answer["report"]["reportInformation"]
}

async fn every_reason_code_scenario(backend: Backend) {
    let ps = PayShap::start(backend).await;
    let scenarios = [
        ("0820000001", "active", true, None),
        ("0820000002", "blocked", true, Some("AC06")),
        ("0820000003", "closed", true, Some("AC04")),
        ("0820000004", "sequestrated", true, Some("AC16")),
        ("0820000005", "liquidated", true, Some("AC17")),
        ("0820000006", "deceased", true, Some("MD07")),
        ("0820000007", "non_compliant", true, Some("NOCM")),
        ("0820000008", "cannot_receive", true, Some("AG01")),
        ("0820000009", "active", false, Some("AG03")),
    ];
    for (number, status, allowed, _) in &scenarios {
        ps.register("MOBILE", "shop", number, status, *allowed)
            .await;
    }
    for (number, status, _, reason) in scenarios {
        let (code, answer, uetr) = ps.resolve(mobile(number), None).await;
        assert_eq!(code, 200, "{answer}");
        let info = information(&answer);
        assert_eq!(answer["schema"], "IdentifierDeterminationResponse");
        assert_eq!(answer["report"]["originalUetr"], uetr.as_str());
        assert_eq!(
            answer["report"]["originalVerificationIdentification"],
            "1001"
        );
        assert!(answer["originalMessageIdentifiers"]["messageIdentification"].is_string());
        assert_eq!(answer["report"]["instructedAgent"]["bicfi"], BANK_BIC);
        assert_eq!(answer["report"]["instructingAgent"]["bicfi"], "FIRNZAJJ");
        assert_eq!(
            answer["report"]["originalRequestor"]["name"],
            "Payer Bank Customer"
        );
        match reason {
            None => {
                assert_eq!(info["outcome"], "SUCCESSFUL", "{status}: {answer}");
                assert_eq!(
                    info["accountInformation"]["creationDate"],
                    "2019-03-14T00:00:00Z"
                );
                assert_eq!(info["accountInformation"]["proxy"]["namespace"], "shop");
                assert_eq!(
                    info["accountInformation"]["traditionalIdentifier"],
                    json!({ "schema": "GENERIC", "value": COLLECTION_ACCOUNT })
                );
                assert_eq!(info["accountInformation"]["proxy"]["value"], number);
                assert_eq!(info["accountInformation"]["proxy"]["schema"], "MOBILE");
                assert_eq!(info["accountOwner"]["knownAsName"], "Corner Shop");
                assert_eq!(info["accountOwner"]["legalName"], "Corner Shop (Pty) Ltd");
                assert_eq!(
                    answer["supplementaryData"],
                    json!({ "customData1": "kept" })
                );
            }
            Some(code) => {
                assert_eq!(info["outcome"], "FAILED", "{status}");
                assert_eq!(info["reasonCode"], code, "{status}");
                let text = info["reasonDescription"].as_str().unwrap();
                assert!(!text.is_empty() && text.chars().count() <= 35);
                assert!(info.get("accountInformation").is_none());
                assert!(
                    info.get("accountOwner").is_none(),
                    "no owner on a negative answer"
                );
            }
        }
    }
    // Unknown and retired: BE23; a number not in the form MOBILE allows: PX04.
    let retired = ps
        .register("MOBILE", "shop", "0820000010", "active", true)
        .await;
    let response = ps
        .http
        .delete(format!("{}/admin/proxies/{retired}", ps.server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for (value, code) in [
        ("0829999999", "BE23"),
        ("0820000010", "BE23"),
        ("12", "PX04"),
    ] {
        let (_, answer, _) = ps.resolve(mobile(value), None).await;
        assert_eq!(information(&answer)["reasonCode"], code, "{value}");
    }
    // GENERIC account resolution by BICFI.
    ps.register("GENERIC", BANK_BIC, "62001234567", "active", true)
        .await;
    let (_, answer, _) = ps
        .resolve(
            json!({ "schema": "GENERIC", "value": "62001234567" }),
            Some(BANK_BIC),
        )
        .await;
    let info = information(&answer);
    assert_eq!(info["outcome"], "SUCCESSFUL", "{answer}");
    assert!(
        info["accountInformation"].get("proxy").is_none(),
        "{answer}"
    );
    assert_eq!(
        info["accountInformation"]["traditionalIdentifier"]["value"],
        "62001234567"
    );
    ps.server.stop().await;
}
on_both_backends!(
    every_reason_code_scenario,
    super::every_reason_code_scenario
);

async fn malformed_requests_get_the_failure_response(backend: Backend) {
    let ps = PayShap::start(backend).await;
    let path = "/identifiers/inbound/identifier-determination-sync";
    let (status, answer) = ps.post(path, &json!("not an object")).await;
    assert_eq!((status, code_of(&answer)), (400, Some("FF02")));
    let (status, answer) = ps
        .resolve(json!({ "schema": "MOBILE", "value": "0821234567" }), None)
        .await
        .into_pair();
    assert_eq!(
        (status, code_of(&answer)),
        (400, Some("CH21")),
        "namespace required"
    );
    let (status, answer) = ps
        .resolve(json!({ "schema": "GENERIC", "value": "123" }), None)
        .await
        .into_pair();
    assert_eq!(
        (status, code_of(&answer)),
        (400, Some("CH21")),
        "bicfi required"
    );
    let (status, answer) = ps
        .resolve(
            json!({ "schema": "EMAIL", "namespace": "x", "value": "a@b" }),
            None,
        )
        .await
        .into_pair();
    assert_eq!((status, code_of(&answer)), (400, Some("FF02")));
    let no_uetr = json!({
        "messageIdentifiers": { "messageIdentification": "m", "creationDateTime": now_text() },
        "request": { "verificationIdentification": "1", "identifier": mobile("0821234567") },
    });
    let (status, answer) = ps.post(path, &no_uetr).await;
    assert_eq!((status, code_of(&answer)), (400, Some("CH21")));
    let mut bad_uetr = no_uetr.clone();
    bad_uetr["request"]["uetr"] = "not-a-uuid".into();
    let (status, answer) = ps.post(path, &bad_uetr).await;
    assert_eq!((status, code_of(&answer)), (400, Some("FF02")));
    let completion = "/transactions/inbound/credit-transfer-completion";
    let (status, answer) = ps
        .post(completion, &json!({ "status": { "outcome": "APPROVED" } }))
        .await;
    assert_eq!((status, code_of(&answer)), (400, Some("CH21")));
    let uetr = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(&uetr, "m1", "APPROVED", "12.345", mobile("0821234567"))
            .await,
        422,
        "fractions of a cent break a rule"
    );
    assert_eq!(
        ps.complete(&uetr, "m1", "MAYBE", "12.34", mobile("0821234567"))
            .await,
        400
    );
    let count = |sql: &'static str| {
        let pool = ps.server.app().store.views().pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE aggregate_type NOT IN ('Proxy', 'HeldMessage')")
            .await,
        0,
        "malformed messages change nothing"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE aggregate_type = 'HeldMessage'").await,
        3,
        "each authentic but unreadable completion is held as it came"
    );
    ps.server.stop().await;
}
on_both_backends!(
    malformed_requests_get_the_failure_response,
    super::malformed_requests_get_the_failure_response
);

/// The ZA RPP code a failure response's `detail` starts with.
fn code_of(answer: &Value) -> Option<&str> {
    assert!(answer["message"].is_string(), "{answer}");
    answer["detail"].as_str()?.split(' ').next()
}

trait IntoPair {
    fn into_pair(self) -> (u16, Value);
}

impl IntoPair for (u16, Value, String) {
    fn into_pair(self) -> (u16, Value) {
        (self.0, self.1)
    }
}

/// Several resolutions for one payment, each recorded with its own UETR, none with any
/// financial effect; then completions redelivered and out of order credit exactly once.
async fn resolutions_and_must_deliver_completions(backend: Backend) {
    let ps = PayShap::start(backend).await;
    ps.register("MOBILE", "shop", "0821234567", "active", true)
        .await;
    let mut uetrs = Vec::new();
    for _ in 0..3 {
        let (_, answer, uetr) = ps.resolve(mobile("0821234567"), None).await;
        assert_eq!(information(&answer)["outcome"], "SUCCESSFUL");
        uetrs.push(uetr);
    }
    for uetr in &uetrs {
        assert_eq!(
            ps.event_types("Resolution", uetr).await,
            ["IdentifierResolved"]
        );
    }
    let credits: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE aggregate_type = 'PayShapTransfer'")
            .fetch_one(ps.server.app().store.views().pool())
            .await
            .unwrap();
    assert_eq!(credits, 0, "resolution has no financial effect");

    // The clearing carries its own UETR, unrelated to the resolutions'.
    let uetr = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(
            &uetr,
            "m-approved",
            "APPROVED",
            "150.00",
            mobile("0821234567")
        )
        .await,
        202
    );
    assert_eq!(
        ps.complete(
            &uetr,
            "m-pending",
            "PENDING",
            "150.00",
            mobile("0821234567")
        )
        .await,
        202,
        "late PENDING"
    );
    assert_eq!(
        ps.complete(
            &uetr,
            "m-approved",
            "APPROVED",
            "150.00",
            mobile("0821234567")
        )
        .await,
        202,
        "redelivery"
    );
    assert_eq!(
        ps.complete(
            &uetr,
            "m-approved-2",
            "APPROVED",
            "150.00",
            mobile("0821234567")
        )
        .await,
        202
    );
    assert_eq!(
        ps.event_types("PayShapTransfer", &uetr).await,
        [
            "CompletionReceived",
            "Credited",
            "CompletionReceived",
            "CompletionReceived"
        ]
    );

    // Rejected: recorded, nothing credited. Unknown proxy: recorded as an exception.
    let rejected = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(&rejected, "m-r", "REJECTED", "10.00", mobile("0821234567"))
            .await,
        202
    );
    let stranger = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(&stranger, "m-s", "APPROVED", "10.00", mobile("0827777777"))
            .await,
        202
    );
    ps.server.app().catch_up_all().await.unwrap();
    let views = ps.server.app().store.views().pool().clone();
    let credited = projections::payshap_transfers::find(&views, &uetr)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (credited.credited, credited.amount_minor, credited.messages),
        (1, 15_000, 3)
    );
    let rejected = projections::payshap_transfers::find(&views, &rejected)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rejected.credited, rejected.outcome.as_str()),
        (0, "REJECTED")
    );
    let stranger = projections::payshap_transfers::find(&views, &stranger)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stranger.credited, stranger.proxy_known), (1, 0));

    // The mark-off extract for today (SAST) lists the two credits, not the rejection.
    let today = (chrono::Utc::now() + chrono::Duration::hours(2)).date_naive();
    let csv = ps
        .http
        .get(format!(
            "{}/backoffice/payshap/markoff.csv?date={today}",
            ps.server.base_url
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "uetr,end_to_end_id,credited_at,amount,currency,proxy_id,tran_id,debtor_name"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        csv.contains(&format!("{uetr},")) && csv.contains(",150.00,ZAR,MOBILE|shop|27821234567,")
    );
    ps.server.stop().await;
}
on_both_backends!(
    resolutions_and_must_deliver_completions,
    super::resolutions_and_must_deliver_completions
);

/// PayShap through the interoperable QR: the QR carries a PayShap template; the payer's bank
/// resolves the QR's CUSTOM proxy to the pending payment; the APPROVED completion answers the
/// waiting POS with PayShap as the partner; a confirmation completes it with no partner call,
/// and a reversal of another approved one requires a refund.
async fn qr_linked_payshap_payment(backend: Backend) {
    let ps = PayShap::start(backend).await;
    let qr = QrClient::new(&ps.server.base_url);
    let created = qr.create_qr(Some(4_999)).await;
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let payload = qrswitch::emv::validate::validate(
        created["qrCode"].as_str().unwrap(),
        qrswitch::emv::QrScheme::EmvcoMerchant,
    )
    .unwrap();
    let template = payload
        .accounts
        .iter()
        .find(|a| a.guid == "za.co.payshap")
        .unwrap_or_else(|| panic!("PayShap template: {created}"));
    assert_eq!(
        (template.tag, template.reference.as_str()),
        (51, tran_id.as_str())
    );

    let pay = payment_request(&tran_id, 4_999);
    let waiting = {
        let qr = qr.clone();
        let pay = pay.clone();
        tokio::spawn(async move { qr.post("/payments", &pay).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let proxy = json!({ "schema": "CUSTOM", "namespace": "qrswitch", "value": tran_id });
    let (status, answer, _) = ps.resolve(proxy.clone(), None).await;
    assert_eq!(status, 200);
    let info = information(&answer);
    assert_eq!(info["outcome"], "SUCCESSFUL", "{answer}");
    assert_eq!(info["accountOwner"]["knownAsName"], "Demo Store Rosebank");
    assert_eq!(
        answer["supplementaryData"],
        json!({ "customData1": "kept", "tranId": tran_id, "amountDue": "49.99", "currency": "ZAR" })
    );

    let uetr = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(&uetr, "m1", "APPROVED", "49.99", proxy.clone())
            .await,
        202
    );
    let (status, answer) = waiting.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["partner"]["id"], "payshap");
    assert_eq!(answer["amounts"]["approvedAmount"]["amount"], 4_999);
    let (_, again, _) = ps.resolve(proxy.clone(), None).await;
    assert_eq!(
        information(&again)["reasonCode"],
        "BE23",
        "a paid QR no longer resolves"
    );
    assert_eq!(
        ps.complete(&uetr, "m1", "APPROVED", "49.99", proxy).await,
        202,
        "redelivery"
    );

    let confirmation = json!({ "id": new_id(), "requestId": pay["id"], "time": now_text(),
                               "thirdPartyIdentifiers": [], "tranId": tran_id });
    assert_eq!(
        qr.post("/payments/confirmations", &confirmation).await.0,
        202
    );
    let payment = ps.server.app().payments.load(&tran_id).await.unwrap();
    assert!(payment.is_completed(), "completed with no partner call");
    let types = ps.event_types("Payment", &tran_id).await;
    assert!(
        !types.contains(&"DeliveryScheduled".to_owned()),
        "{types:?}"
    );
    assert_eq!(types.iter().filter(|t| *t == "PayShapCredited").count(), 1);

    // Another QR paid by PayShap, then reversed by the POS: refund required.
    let second = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_pay = payment_request(&second, 1_000);
    let second_proxy = json!({ "schema": "CUSTOM", "namespace": "qrswitch", "value": second });
    let second_uetr = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        ps.complete(&second_uetr, "m2", "APPROVED", "10.00", second_proxy)
            .await,
        202,
        "credit before the request"
    );
    let (status, answer) = qr.post("/payments", &second_pay).await;
    assert_eq!(status, 201, "{answer}");
    let mut reversal = confirmation.clone();
    reversal["id"] = new_id().into();
    reversal["requestId"] = second_pay["id"].clone();
    reversal["tranId"] = second.clone().into();
    reversal["reversalReason"] = "CANCELLED".into();
    assert_eq!(qr.post("/payments/reversals", &reversal).await.0, 202);
    let types = ps.event_types("Payment", &second).await;
    assert!(types.contains(&"RefundRequired".to_owned()), "{types:?}");

    // A credit that cannot pay its QR (already paid): kept as a refund-required exception.
    let late_uetr = uuid::Uuid::new_v4().to_string();
    let proxy = json!({ "schema": "CUSTOM", "namespace": "qrswitch", "value": tran_id });
    assert_eq!(
        ps.complete(&late_uetr, "m3", "APPROVED", "49.99", proxy)
            .await,
        202
    );
    assert_eq!(
        ps.event_types("PayShapTransfer", &late_uetr).await,
        ["CompletionReceived", "Credited", "CreditUnapplied"]
    );
    ps.server.stop().await;
}
on_both_backends!(qr_linked_payshap_payment, super::qr_linked_payshap_payment);
