//! Hostile input into every endpoint that takes a body: generated JSON (deep nesting, huge
//! and odd numbers, odd unicode, wrong types, missing and replaced fields of real messages)
//! and raw bytes that are not JSON at all. No answer may be a 5xx, and an input refused
//! (any answer but 2xx) must store nothing; the one exception is the PayShap completion,
//! whose authentic messages that cannot be read are kept as they came (held) by design.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use crate::common::qr::*;
use crate::common::*;

/// Generated bodies per endpoint; with the raw bodies below, a few hundred requests in all.
const CASES_PER_ENDPOINT: usize = 24;

/// Any JSON value, up to eight levels deep: odd numbers and unicode at the leaves.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::String),
        Just(Value::String("\u{202e}\u{0}\u{fffd}𝄞".to_owned())),
    ];
    leaf.prop_recursive(8, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// `base` with one top-level field removed or replaced by any JSON value.
fn mutated(base: Value) -> impl Strategy<Value = Value> {
    let keys: Vec<String> = base
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let count = keys.len().max(1);
    (0..count, any::<bool>(), any_json()).prop_map(move |(at, remove, value)| {
        let mut body = base.clone();
        if let (Some(object), Some(key)) = (body.as_object_mut(), keys.get(at)) {
            if remove {
                object.remove(key);
            } else {
                object.insert(key.clone(), value);
            }
        }
        body
    })
}

/// Bodies that are not valid JSON, or valid JSON that no parser should have to descend.
fn raw_bodies() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"null".to_vec(),
        b"{".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        br#"{"amount": 1e999999, "id": "x"}"#.to_vec(),
        br#"{"id": "\ud800"}"#.to_vec(),
        "{\"id\": \""
            .bytes()
            .chain(std::iter::repeat_n(b'a', 100_000))
            .chain("\"}".bytes())
            .collect(),
    ]
}

async fn event_count(app: &qrswitch::app::App, except: Option<&str>) -> i64 {
    let sql = "SELECT COUNT(*) FROM events WHERE aggregate_type <> $1";
    sqlx::query_scalar(sql)
        .bind(except.unwrap_or(""))
        .fetch_one(app.store.views().pool())
        .await
        .unwrap()
}

async fn hostile_input_is_refused_cleanly(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(db.config()).await;
    let app = server.app().clone();
    let http = reqwest::Client::new();
    let tran_id = new_tran_id().to_string();
    let endpoints: Vec<(&str, Value)> = vec![
        ("/qr/v1/qrCodes", create_qr_request(Some(1_000))),
        ("/qr/v1/scans", scan_notification(&tran_id, PARTNER)),
        ("/qr/v1/payments", payment_request(&tran_id, 1_000)),
        (
            "/qr/v1/payments/confirmations",
            json!({"id": new_id(), "requestId": new_id(), "time": now_text()}),
        ),
        (
            "/qr/v1/payments/reversals",
            json!({"id": new_id(), "requestId": new_id(), "time": now_text(), "reversalReason": "CANCELLED"}),
        ),
        (
            "/admin/proxies",
            json!({"schema": "MOBILE", "value": "+27821234567"}),
        ),
        (
            qrswitch::payshap::RESOLUTION_PATH,
            json!({"groupHeader": {}}),
        ),
        (
            qrswitch::payshap::COMPLETION_PATH,
            json!({"groupHeader": {}}),
        ),
        (
            "/backoffice/api/days/2026-11-21/statements/payshap",
            json!({}),
        ),
    ];
    let mut runner = TestRunner::deterministic();
    let mut sent = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for (path, base) in &endpoints {
        let held_allowed = (*path == qrswitch::payshap::COMPLETION_PATH).then_some("HeldMessage");
        let mut bodies: Vec<Vec<u8>> = raw_bodies();
        for i in 0..CASES_PER_ENDPOINT {
            let value = if i % 2 == 0 {
                any_json().new_tree(&mut runner).unwrap().current()
            } else {
                mutated(base.clone())
                    .new_tree(&mut runner)
                    .unwrap()
                    .current()
            };
            bodies.push(serde_json::to_vec(&value).unwrap());
        }
        for body in bodies {
            let before = event_count(&app, held_allowed).await;
            let response = http
                .post(format!("{}{path}", server.base_url))
                .header("content-type", "application/json")
                .timeout(std::time::Duration::from_secs(10))
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
            let status = response.status();
            *statuses.entry(status.as_u16()).or_insert(0_usize) += 1;
            let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            assert!(
                !status.is_server_error(),
                "{path} answered {status} to {shown}"
            );
            if !status.is_success() {
                let after = event_count(&app, held_allowed).await;
                assert_eq!(
                    after, before,
                    "{path} refused with {status} but stored: {shown}"
                );
            }
            sent += 1;
        }
    }
    assert!(sent >= endpoints.len() * CASES_PER_ENDPOINT);
    crate::figures!(
        "hostile input: {sent} bodies into {} endpoints, answers by status {statuses:?}, \
         5xx 0, stored by a refusal 0",
        endpoints.len()
    );
    // Still serving, and still ready.
    assert_eq!(server.get("/ready").await.status(), 200);
    server.stop().await;
}
on_both_backends!(
    hostile_input_is_refused_cleanly,
    super::hostile_input_is_refused_cleanly
);
