//! A refund to a payer the completion names by proxy only: the proxy is resolved to the
//! payer's account through Electrum (its outbound identifier determination, signed both
//! ways) and the money goes to that account at that bank, once; a proxy nobody holds
//! refuses the refund with the scheme's reason, and the money stays held.

use std::time::{Duration, Instant};

use crate::common::scheme::*;
use crate::common::*;
use crate::payshap_cases::{case_status, config, start_sim, Client};
use qrswitch::payshap::approvals::refund_uetr;
use serde_json::{json, Value};

/// A held credit whose payer is named by the MOBILE proxy `payer` only (and, when
/// `with_bank`, the payer's bank).
async fn held_from_proxy(base: &str, payer: &str, with_bank: bool) -> String {
    let uetr = uuid::Uuid::new_v4().to_string();
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0820000009" });
    let body = completion_report(&uetr, &format!("m-{uetr}"), "APPROVED", "33.30", proxy);
    let mut message: Value = serde_json::from_str(&body).unwrap();
    let original = &mut message["originalTransactionData"];
    original["debtorAccount"] = json!({
        "proxy": { "schema": "MOBILE", "namespace": "bankapp", "value": payer },
        "name": "Payer Person",
    });
    if !with_bank {
        original.as_object_mut().unwrap().remove("debtorAgent");
    }
    let answer = scheme_client(base)
        .complete(message.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    uetr
}

async fn refund(client: &Client, held: &str) -> (String, Value) {
    let approval = client
        .ask("maker", json!({"action": "REFUND", "uetr": held}))
        .await;
    let (_, decided) = client.approve("checker", &approval).await;
    (refund_uetr(&approval), decided)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payer_named_by_proxy_is_resolved_and_paid_back_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim();
    let server = TestServer::start(config(&db, &sim)).await;
    sim.set_switch_url(Some(&server.base_url));
    sim.set_payer("27831112222", "62005550001", "Thandi Payer", "PAYRZAJJ");
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    // Given a credit whose payer is named by proxy, without the payer's bank.
    let held = held_from_proxy(&server.base_url, "0831112222", false).await;
    assert_eq!(case_status(&server, &held).await.as_deref(), Some("OPEN"));
    // When its refund is approved.
    let (uetr, decided) = refund(&client, &held).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let until = Instant::now() + Duration::from_secs(10);
    while case_status(&server, &held).await.as_deref() != Some("RETURNED") && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Then the resolved account at the bank the answer named is paid, once.
    assert_eq!(
        case_status(&server, &held).await.as_deref(),
        Some("RETURNED")
    );
    assert_eq!(sim.outbound(&uetr).1, 1, "paid once");
    let sent = sim.outbound_body(&uetr).unwrap();
    let creditor = &sent["creditorAccount"];
    assert_eq!(
        (
            &creditor["identification"]["value"],
            &creditor["proxy"]["value"],
            &sent["creditorAgent"]["bicfi"],
            &sent["amounts"]["bankSettlementAmount"]["value"],
        ),
        (
            &json!("62005550001"),
            &json!("27831112222"),
            &json!("PAYRZAJJ"),
            &json!(33.3)
        ),
        "{sent}"
    );

    // Given a credit from a proxy nobody holds: the refund is refused with BE23.
    let stranger = held_from_proxy(&server.base_url, "0839999999", true).await;
    case_status(&server, &stranger).await;
    let (uetr, decided) = refund(&client, &stranger).await;
    assert_eq!(decided["status"], "FAILED", "{decided}");
    assert!(
        decided["outcome"].as_str().unwrap().contains("BE23"),
        "{decided}"
    );
    assert_eq!(sim.outbound(&uetr), (0, 0), "nothing sent");
    assert_eq!(
        case_status(&server, &stranger).await.as_deref(),
        Some("OPEN"),
        "the money stays held for another step"
    );
    server.stop().await;
    sim.stop().await;
}
