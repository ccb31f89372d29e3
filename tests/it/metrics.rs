//! The metrics the pager reads: after a day's kinds of traffic (a QR payment confirmed and
//! delivered, a PayShap resolution, a refused and a held PayShap message), `/metrics` has
//! per-endpoint request counts and latency, partner calls by outcome, the SAF queue by
//! partner, projection lag and pool use; and every metric the Grafana dashboard in
//! `docs/ops/` charts is one the switch exports.

use std::collections::BTreeSet;
use std::time::Duration;

use qrswitch::payshap::COMPLETION_PATH;
use qrswitch::scheme_sim::resolution_request;
use serde_json::json;

use crate::common::qr::*;
use crate::common::scheme::{completion_report, scheme_client, with_demo_signing};
use crate::common::{Backend, TestDb, TestServer};

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/docs/ops/grafana-dashboard.json"
);

/// Metrics counted only when what they count happens (an overload, a slow body, a slow
/// resolution, a failing view): the test cannot provoke them cheaply, so it checks that
/// the switch's code names them.
const COUNTED_WHEN_IT_HAPPENS: [&str; 4] = [
    "qrswitch_requests_shed_total",
    "qrswitch_request_bodies_timed_out_total",
    "qrswitch_payshap_resolutions_over_limit_total",
    "qrswitch_projection_failures_total",
];

/// Metric names in the dashboard's queries, histograms by their family name.
fn charted() -> BTreeSet<String> {
    let text = std::fs::read_to_string(DASHBOARD).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(start) = rest.find("qrswitch_") {
                let tail = &rest[start..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                let name = &tail[..end];
                let family = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(name);
                names.insert(family.to_owned());
                rest = &tail[end..];
            }
        }
    }
    names
}

fn source_names(name: &str) -> bool {
    let roots = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/src"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/projections/src"),
    ];
    let mut dirs: Vec<std::path::PathBuf> = roots.iter().map(Into::into).collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(name)) {
                return true;
            }
        }
    }
    false
}

async fn metrics_text(base_url: &str) -> String {
    reqwest::get(format!("{base_url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Given traffic of every kind, when `/metrics` is read, then it answers the pager's
/// questions and holds every metric the dashboard charts.
async fn the_pagers_questions_are_answered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (mut config, sim) = approving_partner(&db).await;
    with_demo_signing(&mut config);
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();
    let (pos, partner) = (QrClient::new(&base), QrClient::new(&base));
    confirmed_payment(&pos, &partner, 1_250).await;

    let scheme = scheme_client(&base);
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0829990000" });
    let uetr = uuid::Uuid::new_v4().to_string();
    let resolved = scheme
        .resolve(&resolution_request(&uetr, proxy.clone(), None))
        .await
        .unwrap();
    assert_eq!(resolved.status, 200);
    let unknown = completion_report(&uetr, "m-unknown-proxy", "APPROVED", "10.00", proxy);
    assert_eq!(
        scheme.complete(unknown.as_bytes()).await.unwrap().status,
        202
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{base}{COMPLETION_PATH}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);

    for _ in 0..100 {
        if sim.acknowledged("confirmation") >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The queue gauges are refreshed once a second, after the delivery is recorded.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let text = metrics_text(&base).await;
    for line in [
        r#"qrswitch_http_request_seconds_count{method="POST",route="/qr/v1/payments",status="201"}"#,
        r#"qrswitch_http_request_seconds_bucket{method="POST",route="/qr/v1/qrCodes",status="201",le="0.5"}"#,
        &format!(
            r#"qrswitch_partner_call_seconds_count{{partner="{PARTNER}",operation="payments",outcome="approved"}}"#
        ),
        &format!(
            r#"qrswitch_partner_call_seconds_count{{partner="{PARTNER}",operation="payments/confirmations",outcome="acknowledged"}}"#
        ),
        // By partner; not their values: the recorder is the test process's, and other tests'
        // switches set the same gauges at the same time.
        &format!(r#"qrswitch_saf_depth{{partner="{PARTNER}"}} "#),
        &format!(r#"qrswitch_saf_oldest_age_seconds{{partner="{PARTNER}"}} "#),
        r#"qrswitch_payshap_resolution_seconds_bucket{le="1"}"#,
        r#"qrswitch_projection_lag_events{projection="saf_outbox"}"#,
        r#"qrswitch_projection_lag_seconds{projection="recon"}"#,
        r#"qrswitch_db_pool_connections{pool="events",state="in_use"}"#,
        r#"qrswitch_db_pool_max_connections{pool="views"}"#,
        "qrswitch_payshap_messages_held_total",
        "qrswitch_payshap_signature_refused_total",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    let charted = charted();
    assert!(charted.len() >= 15, "{charted:?}");
    for name in &charted {
        if COUNTED_WHEN_IT_HAPPENS.contains(&name.as_str()) {
            assert!(
                source_names(name),
                "{name} is charted but nothing counts it"
            );
        } else {
            assert!(
                text.contains(name.as_str()),
                "{name} is charted but not exported"
            );
        }
    }
    println!(
        "metrics: the dashboard charts {} metrics, all exported",
        charted.len()
    );
    server.running.stop().await.unwrap();
    sim.stop().await;
}
on_both_backends!(
    metrics_answer_the_pager,
    super::the_pagers_questions_are_answered
);
