//! The scheme's own listener (`[payshap] listen`): Electrum's calls on a port and HTTP
//! worker of their own, resolutions on connections and a runtime of their own (on
//! PostgreSQL). It serves the scheme's routes and the probes only, signs as the main
//! listener does, records what it answers, and stops with the instance.

use crate::common::qr::new_id;
use crate::common::scheme::*;
use crate::common::*;
use qrswitch::payshap::RESOLUTION_PATH;
use qrswitch::scheme_sim::resolution_request;
use serde_json::json;

/// Given a switch with the scheme's own listener, when the scheme resolves a registered
/// proxy and completes a credit there, then both are answered signed and recorded, the
/// other surfaces are not served there, and the port closes when the instance stops.
async fn the_scheme_is_served_on_its_own_listener(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.payshap.listen = Some("127.0.0.1:0".parse().unwrap());
    let switch = TestServer::start(config).await;
    let scheme_addr = switch.running.scheme_addr.expect("the scheme's listener");
    assert_ne!(scheme_addr, switch.running.addr);
    let scheme_base = format!("http://{scheme_addr}");
    assert_eq!(
        switch.app().resolution_runtime.is_some(),
        backend == Backend::Postgres,
        "resolutions have a runtime of their own on PostgreSQL only"
    );

    let http = reqwest::Client::new();
    let registered = http
        .post(format!("{}/admin/proxies", switch.base_url))
        .json(&json!({
            "schema": "MOBILE", "namespace": "shop", "value": "0821110000",
            "knownAsName": "Corner Shop", "legalName": "Corner Shop (Pty) Ltd",
            "accountCreationDate": "2019-03-14", "status": "active",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    switch.app().catch_up_all().await.unwrap();

    let scheme = scheme_client(&scheme_base);
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821110000" });
    for (value, outcome) in [("0821110000", "SUCCESSFUL"), ("0829990000", "FAILED")] {
        let uetr = uuid::Uuid::new_v4().to_string();
        let identifier = json!({ "schema": "MOBILE", "namespace": "shop", "value": value });
        let answer = scheme
            .resolve(&resolution_request(&uetr, identifier, None))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.signature,
            Some(Ok(())),
            "signed on the scheme's port"
        );
        assert_eq!(
            answer.body["report"]["reportInformation"]["outcome"], outcome,
            "{}",
            answer.body
        );
        assert_eq!(
            stored_event_types(switch.app(), "Resolution", &uetr).await,
            ["IdentifierResolved"],
            "recorded before it was answered"
        );
    }

    let uetr = uuid::Uuid::new_v4().to_string();
    let report = completion_report(&uetr, &new_id(), "APPROVED", "25.00", proxy);
    let completed = scheme.complete(report.as_bytes()).await.unwrap();
    assert_eq!(completed.status, 202);
    assert_eq!(completed.signature, Some(Ok(())));
    assert_eq!(
        stored_event_types(switch.app(), "PayShapTransfer", &uetr).await,
        ["CompletionReceived", "Credited"]
    );

    for (path, expected) in [
        ("/health", 200),
        ("/ready", 200),
        ("/qr/v1/createQrCode", 404),
        ("/backoffice/api/reports/daily", 404),
        ("/admin/proxies", 404),
        ("/metrics", 404),
    ] {
        let status = http
            .get(format!("{scheme_base}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected, "{path} on the scheme's port");
    }
    // The main listener keeps the scheme's routes, for deployments that use one port.
    let uetr = uuid::Uuid::new_v4().to_string();
    let identifier = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821110000" });
    let on_main = scheme_client(&switch.base_url)
        .resolve(&resolution_request(&uetr, identifier, None))
        .await
        .unwrap();
    assert_eq!(on_main.status, 200);
    assert_eq!(
        on_main.body["report"]["reportInformation"]["outcome"],
        "SUCCESSFUL"
    );

    switch.stop().await;
    let after = http
        .post(format!("{scheme_base}{RESOLUTION_PATH}"))
        .body("{}")
        .send()
        .await;
    assert!(after.is_err(), "the scheme's port closes with the instance");
}

on_both_backends!(
    scheme_listener,
    super::the_scheme_is_served_on_its_own_listener
);

/// Given a listener for the scheme on a non-loopback address and no users, when the
/// switch starts, then it refuses, as it does for the main listener.
#[tokio::test]
async fn an_exposed_scheme_listener_without_users_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.payshap.listen = Some("0.0.0.0:0".parse().unwrap());
    let app = qrswitch::app::App::build(config).await.unwrap();
    let refused = qrswitch::server::start(app).await.err().expect("refused");
    assert!(
        refused.to_string().contains("without configured users"),
        "{refused}"
    );
}
