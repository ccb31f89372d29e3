//! Nothing lost to a key mix-up: a completion signed with a scheme key we do not hold yet
//! is answered 401 (Electrum's negative acknowledgement: it will not send it again) but
//! kept as an unverified held message. When the key is added and the keys reloaded, it is
//! applied once; its redelivery, and further reloads, change nothing. One that no key will
//! ever verify is applied once a second user approves it against the recon line that
//! vouches for it; one that is nobody's money is closed with a reason.

use crate::common::scheme::*;
use crate::common::*;
use qrswitch::payshap::signing::{generate_pair, SigningKey};
use qrswitch::payshap::COMPLETION_PATH;
use serde_json::{json, Value};

struct Sent {
    status: u16,
    signed: bool,
}

async fn send(base: &str, body: &str, key: &SigningKey) -> Sent {
    let response = reqwest::Client::new()
        .post(format!("{base}{COMPLETION_PATH}"))
        .header("x-jwt-signature", key.sign(body.as_bytes()).unwrap())
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let token = response
        .headers()
        .get("x-jwt-signature")
        .map(|v| v.to_str().unwrap().to_owned());
    let answer = response.bytes().await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = switch_verifier()
        .verify(token.as_deref(), &answer, now)
        .is_ok();
    Sent { status, signed }
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn new_key(kid: &str) -> (SigningKey, String) {
    let (private, public) = generate_pair().unwrap();
    let key = SigningKey::from_pem(private.as_bytes(), "electrum-test")
        .unwrap()
        .with_kid(Some(kid.to_owned()));
    (key, public)
}

async fn kept_then_applied_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let keys_dir = db.dir().join("scheme-keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let mut config = db.config();
    with_demo_signing(&mut config);
    if let Some(signing) = config.payshap.signing.as_mut() {
        signing.scheme_public_keys_dir = Some(keys_dir.clone());
    }
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();
    let app = server.app();
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567" });
    // Given a completion signed with the scheme's next key, which we do not hold yet.
    let (next, next_public) = new_key("k2");
    let uetr = uuid::Uuid::new_v4().to_string();
    let body = completion_report(&uetr, "msg-k2", "APPROVED", "30.00", proxy.clone());
    let sent = send(&base, &body, &next).await;
    assert_eq!((sent.status, sent.signed), (401, true), "refused, signed");
    assert!(stored_event_types(app, "PayShapTransfer", &uetr)
        .await
        .is_empty());
    let hash = format!(
        "unverified-{}",
        qrswitch::digest::sha256_hex(body.as_bytes())
    );
    assert_eq!(
        stored_event_types(app, "HeldMessage", &hash).await,
        ["MessageHeld"],
        "kept before the 401"
    );
    // A reload before the key is there applies nothing.
    let (status, reload) = post(&base, "/ops/payshap/keys/reload", json!({})).await;
    assert_eq!(status, 200, "{reload}");
    assert_eq!(
        reload["unverified"],
        json!({"applied": 0, "stillUnverified": 1})
    );
    // When the key is added and the keys reloaded, it is applied once.
    std::fs::write(keys_dir.join("k2.pub.pem"), &next_public).unwrap();
    let (_, reload) = post(&base, "/ops/payshap/keys/reload", json!({})).await;
    assert_eq!(reload["schemeKeys"], 2);
    assert_eq!(
        reload["unverified"],
        json!({"applied": 1, "stillUnverified": 0})
    );
    let credited = ["CompletionReceived", "Credited"];
    assert_eq!(
        stored_event_types(app, "PayShapTransfer", &uetr).await,
        credited
    );
    // Its redelivery (now verified) and another reload change nothing.
    assert_eq!(send(&base, &body, &next).await.status, 202);
    let (_, reload) = post(&base, "/ops/payshap/keys/reload", json!({})).await;
    assert_eq!(
        reload["unverified"],
        json!({"applied": 0, "stillUnverified": 0})
    );
    assert_eq!(
        stored_event_types(app, "PayShapTransfer", &uetr).await,
        credited
    );
    assert_eq!(
        stored_event_types(app, "HeldMessage", &hash).await,
        ["MessageHeld", "MessageApplied"]
    );
    // A key nobody will hand us: an operator attaches it to its recon line, once.
    let (stray, _) = new_key("k9");
    let other = uuid::Uuid::new_v4().to_string();
    let body = completion_report(&other, "msg-k9", "APPROVED", "12.50", proxy);
    assert_eq!(send(&base, &body, &stray).await.status, 401);
    app.catch_up_all().await.unwrap();
    let hash = format!(
        "unverified-{}",
        qrswitch::digest::sha256_hex(body.as_bytes())
    );
    // Applying it takes four eyes: one asks with the recon line, another approves.
    let ask = |note: &str| json!({"action": {"action": "APPLY_HELD", "messageHash": hash, "note": note}, "reason": "matches Electrum's extract"});
    let (status, _) = post(&base, "/backoffice/api/approvals", ask(" ")).await;
    assert_eq!(status, 409, "the recon line is required");
    let (status, asked) = post(
        &base,
        "/backoffice/api/approvals",
        ask("RPP extract 2026-12-07 line 14"),
    )
    .await;
    assert_eq!(status, 201, "{asked}");
    let id = asked["approvalId"].as_str().unwrap();
    let (status, decided) = post(
        &base,
        &format!("/backoffice/api/approvals/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, decided["status"].as_str()),
        (200, Some("EXECUTED")),
        "{decided}"
    );
    let (status, _) = post(&base, "/backoffice/api/approvals", ask("again")).await;
    assert_eq!(status, 409, "applied: nothing more");
    assert_eq!(
        stored_event_types(app, "PayShapTransfer", &other).await,
        credited
    );
    // One that is nobody's money is closed with a reason, and stays closed.
    let (stray_again, _) = new_key("k8");
    let junk = completion_report(
        &uuid::Uuid::new_v4().to_string(),
        "msg-k8",
        "APPROVED",
        "1.00",
        json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567" }),
    );
    assert_eq!(send(&base, &junk, &stray_again).await.status, 401);
    let junk_hash = format!(
        "unverified-{}",
        qrswitch::digest::sha256_hex(junk.as_bytes())
    );
    let close = json!({"reasonCode": "NOT_OURS", "note": "a probe from an unknown sender"});
    let path = format!("/backoffice/api/held/{junk_hash}/close");
    assert_eq!(post(&base, &path, close.clone()).await.0, 204);
    assert_eq!(post(&base, &path, close).await.0, 409, "closed once");
    app.catch_up_all().await.unwrap();
    let (_, reload) = post(&base, "/ops/payshap/keys/reload", json!({})).await;
    assert_eq!(
        reload["unverified"]["stillUnverified"], 0,
        "a closed one is not tried: {reload}"
    );
    server.stop().await;
}

on_both_backends!(kept_then_applied_once_on, super::kept_then_applied_once);
