//! Traces across parties: one W3C `traceparent` from the POS's `pay` into the partner's
//! authorisation call and into the store-and-forward delivery of its confirmation, even
//! when the scan that completes the match arrives later in a request of its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpResponse, HttpServer};
use qrswitch::partner_sim::{Mode, Received, SimRunning};
use serde_json::Value;

use crate::common::process::ServeProcess;
use crate::common::qr::*;
use crate::common::{Backend, TestDb, TestServer};

/// The POS's trace: one trace id for the sale, a span of its own per request.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const POS_PAY: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const POS_CONFIRM: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01";
/// A customer's number, registered as a proxy during the traced run.
const MSISDN: &str = "0821234567";
/// The partner's own trace, on its scan notification: not the payment's.
const PARTNER_SCAN: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async fn post(base: &str, path: &str, body: &Value, traceparent: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/qr/v1{path}"))
        .header("traceparent", traceparent)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The sale, pay first: the POS waits on `pay` while the customer scans, so the partner's
/// scan is what completes the match and sends the authorisation.
async fn sale(base: &str) -> String {
    let (status, created) = post(base, "/qrCodes", &create_qr_request(None), POS_PAY).await;
    assert_eq!(status, 201, "{created}");
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let pay = payment_request(&tran_id, 4_999);
    let waiting = {
        let (base, pay) = (base.to_owned(), pay.clone());
        tokio::spawn(async move { post(&base, "/payments", &pay, POS_PAY).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let scan = scan_notification(&tran_id, PARTNER);
    assert_eq!(post(base, "/scans", &scan, PARTNER_SCAN).await.0, 202);
    let (status, answer) = waiting.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    let confirm = confirmation_for(&pay);
    assert_eq!(
        post(base, "/payments/confirmations", &confirm, POS_CONFIRM)
            .await
            .0,
        202
    );
    tran_id
}

/// What the partner received for `tran_id`, once the confirmation has arrived.
async fn partner_saw(sim: &SimRunning, tran_id: &str) -> (Received, Received) {
    for _ in 0..100 {
        let received: Vec<Received> = sim_received(sim)
            .await
            .into_iter()
            .filter(|r| r.tran_id.as_deref() == Some(tran_id))
            .collect();
        let find = |op: &str| received.iter().find(|r| r.operation == op).cloned();
        if let (Some(payment), Some(confirmation)) = (find("payment"), find("confirmation")) {
            return (payment, confirmation);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the partner never got both the authorisation and the confirmation");
}

/// Given no span exporter, when a POS sends `traceparent`, then the partner receives the
/// POS's own headers unchanged: its `pay`'s on the authorisation (not the partner's scan's,
/// though the scan sent it), and its confirmation's on the delivery.
async fn passed_on_unchanged_without_an_exporter(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (config, sim) = approving_partner(&db).await;
    let server = TestServer::start(config).await;
    let tran_id = sale(&server.base_url).await;
    let (payment, confirmation) = partner_saw(&sim, &tran_id).await;
    assert_eq!(payment.traceparent.as_deref(), Some(POS_PAY));
    assert_eq!(confirmation.traceparent.as_deref(), Some(POS_CONFIRM));
    server.running.stop().await.unwrap();
    sim.stop().await;
}
on_both_backends!(
    traceparent_is_passed_on_unchanged,
    super::passed_on_unchanged_without_an_exporter
);

/// An OTLP/HTTP collector on a free port that keeps every export (JSON encoding).
struct Collector {
    base_url: String,
    exports: Arc<Mutex<Vec<Value>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Collector {
    fn start() -> Self {
        let exports: Arc<Mutex<Vec<Value>>> = Arc::default();
        let kept = Arc::clone(&exports);
        let server = HttpServer::new(move || {
            let kept = Arc::clone(&kept);
            actix_web::App::new().route(
                "/v1/traces",
                web::post().to(move |body: web::Bytes| {
                    let kept = Arc::clone(&kept);
                    async move {
                        let export: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        kept.lock().unwrap().push(export);
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body("{}")
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let base_url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base_url,
            exports,
            handle,
        }
    }

    /// Every span exported so far, with its service's name.
    fn spans(&self) -> Vec<(String, Value)> {
        let exports = self.exports.lock().unwrap();
        let mut spans = Vec::new();
        for export in exports.iter() {
            for resource in export["resourceSpans"].as_array().into_iter().flatten() {
                let service = attribute(&resource["resource"], "service.name").unwrap_or_default();
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    for span in scope["spans"].as_array().into_iter().flatten() {
                        spans.push((service.clone(), span.clone()));
                    }
                }
            }
        }
        spans
    }
}

fn attribute(holder: &Value, key: &str) -> Option<String> {
    holder["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"]["stringValue"].as_str())
        .map(str::to_owned)
}

fn parent_of(traceparent: &str) -> &str {
    &traceparent[36..52]
}

/// Given the switch exporting spans over OTLP, when a POS pays with its `traceparent` and
/// the scan completes the match, then the partner's authorisation and the confirmation's
/// delivery carry the POS's trace id with our partner-call spans as their parents, and the
/// collector holds those spans (with the tranId), the POS request's span, and nothing of
/// the partner's scan trace on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_pos_to_the_partner_and_the_delivery() {
    let collector = Collector::start();
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let switch = switch_exporting_to(&collector, &sim, dir.path());
    let tran_id = sale(&format!("http://{}", switch.addr)).await;
    let (payment, confirmation) = partner_saw(&sim, &tran_id).await;
    register_and_read_a_proxy(&switch).await;
    let exit = tokio::task::spawn_blocking(move || switch.terminate());
    assert!(exit.await.unwrap().success(), "the switch stops cleanly");

    let exported = serde_json::to_string(&*collector.exports.lock().unwrap()).unwrap();
    assert!(!exported.contains(MSISDN), "an MSISDN reached a span");
    assert!(
        exported.contains("/admin/proxies/{proxy_id}"),
        "the proxy's request was traced"
    );
    let spans = collector.spans();
    let calls: Vec<&Value> = spans
        .iter()
        .filter(|(_, s)| s["name"] == "partner call")
        .map(|(_, s)| s)
        .collect();
    for (received, operation, route, pos) in [
        (&payment, "payments", "/qr/v1/payments", POS_PAY),
        (
            &confirmation,
            "payments/confirmations",
            "/qr/v1/payments/confirmations",
            POS_CONFIRM,
        ),
    ] {
        let call = our_call(&calls, received, operation, &tran_id);
        // It hangs under the request that caused it: the POS's pay (though the scan
        // completed the match) and the POS's confirmation.
        let (service, request) = spans
            .iter()
            .find(|(_, s)| attribute(s, "http.route").as_deref() == Some(route))
            .unwrap_or_else(|| panic!("a span of {route}"));
        assert_eq!(service, "qrswitch");
        assert_eq!(request["traceId"], TRACE_ID);
        assert_eq!(
            request["parentSpanId"],
            parent_of(pos),
            "{route} under the POS's"
        );
        assert_eq!(
            call["parentSpanId"], request["spanId"],
            "call under {route}"
        );
        assert_eq!(
            attribute(request, "tran_id").as_deref(),
            Some(tran_id.as_str())
        );
    }
    println!(
        "traces: {} spans exported; authorisation {}, delivery {}",
        spans.len(),
        payment.traceparent.unwrap(),
        confirmation.traceparent.unwrap()
    );
    collector.handle.stop(false).await;
    sim.stop().await;
}

/// The switch as a process, exporting to `collector`, logging less than it traces (only
/// the start-up line), so that a test shows traces are not cut short by the log filter.
fn switch_exporting_to(
    collector: &Collector,
    sim: &SimRunning,
    dir: &std::path::Path,
) -> ServeProcess {
    let config = dir.join("switch.toml");
    std::fs::write(
        &config,
        format!(
            "[tracing]\notlp_endpoint = \"{}\"\notlp_protocol = \"http/json\"\n\n\
             [[partners]]\nid = \"{PARTNER}\"\nname = \"Demo\"\nqr_guid = \"za.co.demo\"\n\
             template_tag = 27\nbase_url = \"{}/qr/v1\"\ntimeout_ms = 10000\n",
            collector.base_url,
            sim.base_url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    ServeProcess::spawn_with_log_filter(
        dir,
        None,
        &["serve", "--config", &config],
        "qrswitch listening",
        "warn,qrswitch::server=info",
    )
}

/// A proxy (an MSISDN) in a request's path: it must not reach a span.
async fn register_and_read_a_proxy(switch: &ServeProcess) {
    let http = reqwest::Client::new();
    let registration = serde_json::json!({
        "schema": "MOBILE", "namespace": "shop", "value": MSISDN, "knownAsName": "Corner Shop",
        "legalName": "Corner Shop (Pty) Ltd", "accountCreationDate": "2019-03-14",
        "status": "active",
    });
    let registered = http
        .post(switch.url("/admin/proxies"))
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let shown = http
        .get(switch.url(&format!("/admin/proxies/MOBILE%7Cshop%7C{MSISDN}")))
        .send()
        .await
        .unwrap();
    assert!(shown.status().is_success() || shown.status() == 404);
}

/// Our `partner call` span that `received` names as its parent: in the POS's trace, naming
/// the partner, the operation and the tranId.
fn our_call<'a>(
    calls: &[&'a Value],
    received: &Received,
    operation: &str,
    tran_id: &str,
) -> &'a Value {
    let traceparent = received
        .traceparent
        .as_deref()
        .expect("sent with a traceparent");
    assert_eq!(
        &traceparent[3..35],
        TRACE_ID,
        "{operation}: the POS's trace"
    );
    let call = calls
        .iter()
        .find(|s| s["spanId"] == parent_of(traceparent))
        .unwrap_or_else(|| panic!("{operation}: our call's span was exported: {calls:?}"));
    assert_eq!(call["traceId"], TRACE_ID);
    assert_eq!(attribute(call, "operation").as_deref(), Some(operation));
    assert_eq!(attribute(call, "tran_id").as_deref(), Some(tran_id));
    assert_eq!(attribute(call, "partner").as_deref(), Some(PARTNER));
    call
}
