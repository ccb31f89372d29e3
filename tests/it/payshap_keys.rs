//! Keys that rotate without a window of refusals: while completions flow, the scheme's key
//! is rotated (add the new one, the scheme switches to it, retire the old) and then ours
//! (the scheme holds both of our public keys meanwhile), each step taken by reloading the
//! key files, as SIGHUP does, with no restart. No completion is refused or lost, every one
//! is credited once, and every answer verifies with one of our two public keys.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::scheme::*;
use crate::common::*;
use qrswitch::config::SigningConfig;
use qrswitch::payshap::signing::{generate_pair, SigningKey, VerifyingKey};
use qrswitch::payshap::COMPLETION_PATH;
use serde_json::json;

/// How long completions flow between two steps of a rotation.
const STEP: Duration = Duration::from_millis(700);

fn signer(pem: &str, kid: Option<&str>) -> SigningKey {
    SigningKey::from_pem(pem.as_bytes(), "electrum-test")
        .unwrap()
        .with_kid(kid.map(str::to_owned))
}

fn verifier(pem: &str) -> VerifyingKey {
    VerifyingKey::from_pem(pem.as_bytes(), 30_000, 300_000).unwrap()
}

/// What the completions sent so far came to.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    refused: Mutex<Vec<u16>>,
    unverified: AtomicUsize,
}

/// Sends completions one after another until `stop`, signed with the scheme key in force on
/// the scheme's side (`scheme`), each answer checked against our old and new public keys.
async fn completions(
    base: String,
    scheme: Arc<Mutex<Arc<SigningKey>>>,
    ours: [String; 2],
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let http = reqwest::Client::new();
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567" });
    let keys = ours.map(|pem| verifier(&pem));
    while !stop.load(Ordering::Relaxed) {
        let uetr = uuid::Uuid::new_v4().to_string();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let body = completion_report(&uetr, &id, "APPROVED", "10.00", proxy.clone());
        let key = Arc::clone(&scheme.lock().unwrap());
        let response = http
            .post(format!("{base}{COMPLETION_PATH}"))
            .header("x-jwt-signature", key.sign(body.as_bytes()).unwrap())
            .body(body)
            .send()
            .await
            .unwrap();
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let status = response.status().as_u16();
        let token = response.headers()["x-jwt-signature"]
            .to_str()
            .unwrap()
            .to_owned();
        let answer = response.bytes().await.unwrap();
        let now = chrono::Utc::now().timestamp();
        if !keys
            .iter()
            .any(|k| k.verify(Some(&token), &answer, now).is_ok())
        {
            tally.unverified.fetch_add(1, Ordering::Relaxed);
        }
        if status != 202 {
            tally.refused.lock().unwrap().push(status);
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Given completions flowing, when the scheme's key and then ours are rotated by reloading
/// the key files, then none is refused or lost and each is credited once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_keys_rotate_while_completions_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (old_scheme, old_scheme_public) = generate_pair().unwrap();
    let (new_scheme, new_scheme_public) = generate_pair().unwrap();
    let (old_ours, old_ours_public) = generate_pair().unwrap();
    let (new_ours, new_ours_public) = generate_pair().unwrap();
    let (current_scheme, folder, ours) = (
        dir.path().join("scheme.pub.pem"),
        dir.path().join("scheme.d"),
        dir.path().join("switch.pem"),
    );
    write(&current_scheme, &old_scheme_public);
    std::fs::create_dir(&folder).unwrap();
    write(&ours, &old_ours);

    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.payshap.signing = Some(SigningConfig {
        scheme_public_key: current_scheme.clone(),
        scheme_public_keys_dir: Some(folder.clone()),
        private_key: ours.clone(),
        ..config.payshap.signing.clone().unwrap()
    });
    let switch = TestServer::start(config).await;
    let admin = reqwest::Client::new()
        .post(format!("{}/admin/proxies", switch.base_url))
        .json(
            &json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567",
            "knownAsName": "Corner Shop", "legalName": "Corner Shop (Pty) Ltd",
            "accountCreationDate": "2019-03-14", "status": "active", "resolutionAllowed": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 201);
    switch.app().catch_up_all().await.unwrap();
    let ring = Arc::clone(switch.app().payshap_keys.as_ref().unwrap());

    let scheme = Arc::new(Mutex::new(Arc::new(signer(&old_scheme, None))));
    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let flow = tokio::spawn(completions(
        switch.base_url.clone(),
        Arc::clone(&scheme),
        [old_ours_public, new_ours_public],
        Arc::clone(&stop),
        Arc::clone(&tally),
    ));
    tokio::time::sleep(STEP).await;

    // The scheme's key: add the new one, the scheme switches to it (naming it), retire the old.
    write(&folder.join("2026-12.pub.pem"), &new_scheme_public);
    assert_eq!(ring.reload().unwrap(), 2, "both scheme keys accepted");
    tokio::time::sleep(STEP).await;
    *scheme.lock().unwrap() = Arc::new(signer(&new_scheme, Some("2026-12")));
    tokio::time::sleep(STEP).await;
    write(&current_scheme, &new_scheme_public);
    std::fs::remove_file(folder.join("2026-12.pub.pem")).unwrap();
    assert_eq!(ring.reload().unwrap(), 1, "the old scheme key retired");
    tokio::time::sleep(STEP).await;

    // Ours: the scheme already holds both public keys; we switch to the new private key.
    write(&ours, &new_ours);
    ring.reload().unwrap();
    tokio::time::sleep(STEP).await;
    stop.store(true, Ordering::Relaxed);
    flow.await.unwrap();

    let sent = tally.sent.load(Ordering::Relaxed);
    let refused = tally.refused.lock().unwrap().clone();
    figures!(
        "key rotation: {sent} completions sent, {} refused",
        refused.len()
    );
    assert!(sent >= 20, "completions flowed throughout: {sent}");
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert_eq!(
        tally.unverified.load(Ordering::Relaxed),
        0,
        "every answer verified"
    );
    let old_key = signer(&old_scheme, None);
    let body = completion_report(
        &uuid::Uuid::new_v4().to_string(),
        "m-old",
        "APPROVED",
        "1.00",
        json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567" }),
    );
    let retired = reqwest::Client::new()
        .post(format!("{}{COMPLETION_PATH}", switch.base_url))
        .header("x-jwt-signature", old_key.sign(body.as_bytes()).unwrap())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(retired.status(), 401, "a retired key no longer verifies");

    switch.app().catch_up_all().await.unwrap();
    let credited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE aggregate_type = 'PayShapTransfer' AND event_type = 'Credited'",
    )
    .fetch_one(switch.app().store.views().pool())
    .await
    .unwrap();
    assert_eq!(credited as usize, sent, "every completion credited once");
    switch.stop().await;
}
