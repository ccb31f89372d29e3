//! The money invariants of `qrswitch verify`, on both stores: traffic written through the
//! switch holds every one; then events a faulty switch could have written are appended
//! through the store's own appender (so every chain stays intact) and a view is altered, and
//! `verify` names each breach with its stream and exits 1.

use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use qrswitch::config::FeeConfig;
use serde_json::{json, Value};

use crate::common::qr::*;
use crate::common::*;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Three payments approved and confirmed under fee terms of 1.5 % plus R0.20.
async fn three_confirmed_payments(db: &TestDb) -> Vec<String> {
    let (mut config, sim) = approving_partner(db).await;
    config.backoffice.fees = vec![FeeConfig {
        partner_id: PARTNER.to_owned(),
        basis_points: 150,
        fixed_minor: 20,
        minimum_minor: 0,
        maximum_minor: None,
    }];
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let mut tran_ids = Vec::new();
    for cents in [10_000, 2_550, 999] {
        tran_ids.push(confirmed_payment(&qr, &qr, cents).await.0);
    }
    switch.stop().await;
    sim.stop().await;
    tran_ids
}

/// Appends `event` (type and fields) to a payment's stream as a faulty decision would have.
async fn append(app: &qrswitch::app::App, tran_id: &str, event_type: &str, fields: Value) {
    let last: i64 = sqlx::query_scalar(
        "SELECT MAX(sequence) FROM events WHERE aggregate_type = 'Payment' AND aggregate_id = $1",
    )
    .bind(tran_id)
    .fetch_one(app.store.views().pool())
    .await
    .unwrap();
    let event = SerializedEvent {
        aggregate_id: tran_id.to_owned(),
        sequence: usize::try_from(last).unwrap() + 1,
        aggregate_type: "Payment".to_owned(),
        event_type: event_type.to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({ event_type: fields }),
        metadata: json!({ "party": "qrswitch" }),
    };
    app.store
        .event_repository()
        .persist::<aggregates::Payment>(&[event], None)
        .await
        .unwrap();
}

on_both_backends!(breaches_of_the_money_are_named, super::breaches_are_named);

async fn breaches_are_named(backend: Backend) {
    // Given a day of payments written through the switch, every invariant holds.
    let db = TestDb::new(backend).await;
    let tran_ids = three_confirmed_payments(&db).await;
    let clean = process::run_qrswitch(&db.url, &["verify"]);
    let clean_text = stdout(&clean);
    assert!(clean.status.success(), "{clean_text}");
    assert!(
        clean_text.contains("money: 3 payments (3 authorised, 0 awaiting their advice), 0 PayShap credits, settlement of 1 days on live views: every invariant holds"),
        "{clean_text}"
    );
    figures!(
        "money invariants ({backend:?}): clean: {}",
        clean_text.trim()
    );

    // When a second outcome, a reversal after a confirmation and a credit applied twice are
    // appended, and a fee in the recon view is changed.
    let app = qrswitch::app::App::build(db.config()).await.unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    append(
        &app,
        &tran_ids[0],
        "Declined",
        json!({ "partner_id": PARTNER, "error": {}, "declined_at": now }),
    )
    .await;
    append(
        &app,
        &tran_ids[1],
        "Advised",
        json!({ "advice_id": new_id(), "advice": { "Reversal": { "reason": "CANCELLED" } },
                "request_id": new_id(), "message": {}, "advised_at": now }),
    )
    .await;
    let credit = json!({ "uetr": "5a8e3c1e-5b0b-4b6e-9a51-000000000001",
                          "amount": { "minor_units": 999, "currency": "710" },
                          "credited_at": now });
    append(&app, &tran_ids[2], "PayShapCredited", credit.clone()).await;
    append(&app, &tran_ids[2], "PayShapCredited", credit).await;
    app.projectors.catch_up_all().await.unwrap();
    sqlx::query("UPDATE recon_payments SET fee_minor = fee_minor + 1 WHERE tran_id = $1")
        .bind(&tran_ids[2])
        .execute(app.store.views().pool())
        .await
        .unwrap();
    app.store.close().await;

    // Then verify names each breach with its stream, the chains still intact, and exits 1.
    let found = process::run_qrswitch(&db.url, &["verify"]);
    let text = stdout(&found);
    figures!("money invariants ({backend:?}): broken:\n{}", text.trim());
    assert_eq!(found.status.code(), Some(1), "{text}");
    assert!(text.contains("every chain intact"), "{text}");
    let expect = [
        format!("BREACH Payment/{}: 2 outcomes (Authorised, Declined)", tran_ids[0]),
        format!("BREACH Payment/{}: both confirmed and reversed", tran_ids[1]),
        format!(
            "BREACH Payment/{}: PayShap credit 5a8e3c1e-5b0b-4b6e-9a51-000000000001 applied 2 times",
            tran_ids[2]
        ),
        format!("BREACH Payment/{}: settlement of ", tran_ids[2]),
    ];
    for line in &expect {
        assert!(text.contains(line.as_str()), "missing {line:?} in:\n{text}");
    }
    assert!(
        text.contains("where the terms in force charged 35 (v1)"),
        "{text}"
    );
}
