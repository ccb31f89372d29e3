//! The API document: served, valid by an independent validator, complete for the surfaces
//! we own, its examples accepted by a running switch, and schemathesis run against it on
//! the live server finding no 5xx and no answer that breaks it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::scheme::{scheme_client, with_demo_signing};
use crate::common::{Backend, TestDb, TestServer};

fn example(name: &str) -> String {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/api")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn document(base_url: &str) -> Value {
    let response = reqwest::get(format!("{base_url}/openapi.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A Python tool from CI's virtual environment (or PATH), if it is there; a test that needs
/// it fails when `QRSWITCH_REQUIRE_API_CHECKERS` is set and it is missing.
fn checker(name: &str) -> Option<PathBuf> {
    let from_env = std::env::var_os("QRSWITCH_API_CHECKERS_BIN").map(PathBuf::from);
    let candidates = from_env
        .into_iter()
        .map(|dir| dir.join(name))
        .chain([PathBuf::from(name)]);
    for candidate in candidates {
        if Command::new(&candidate)
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(candidate);
        }
    }
    assert!(
        std::env::var_os("QRSWITCH_REQUIRE_API_CHECKERS").is_none(),
        "QRSWITCH_REQUIRE_API_CHECKERS is set but {name} is missing"
    );
    eprintln!("skipped: {name} is not installed (CI installs it from PyPI)");
    None
}

/// Given a running switch, when the document is fetched without credentials, then it is
/// OpenAPI 3.1, lists every operation of the surfaces we own, links to Electrum's QR
/// contract for `/qr/v1`, carries the examples, and passes openapi-spec-validator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_and_complete() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.users = crate::console_browser::users();
    let server = TestServer::start(config).await;
    let doc = document(&server.base_url).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/identifiers/inbound/identifier-determination-sync", "post"),
        ("/transactions/inbound/credit-transfer-completion", "post"),
        ("/admin/proxies", "post"),
        ("/admin/proxies/{proxy_id}", "get"),
        ("/admin/proxies/{proxy_id}", "patch"),
        ("/admin/proxies/{proxy_id}", "delete"),
        ("/backoffice/api/fees", "get"),
        ("/backoffice/api/days/{day}/report", "get"),
        ("/backoffice/api/days/{day}/settlement", "get"),
        ("/backoffice/api/days/{day}/exceptions", "get"),
        ("/backoffice/api/days/{day}/matching", "get"),
        ("/backoffice/api/days/{day}/markoff", "get"),
        ("/backoffice/api/days/{day}/digest", "get"),
        ("/backoffice/api/days/{day}/statements/{partner_id}", "post"),
        ("/backoffice/payshap/markoff.csv", "get"),
        ("/audit/payments/{tran_id}/events", "get"),
        (
            "/audit/streams/{aggregate_type}/{aggregate_id}/events",
            "get",
        ),
        ("/audit/feed", "get"),
        ("/audit/days/{day}/digest", "get"),
        ("/audit/days/{day}/events.ndjson", "get"),
        ("/ops/saf", "get"),
        ("/ops/saf/{delivery_id}/{action}", "post"),
        ("/tools/qr/inspect", "post"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert!(
        !paths.keys().any(|p| p.starts_with("/qr/v1")),
        "/qr/v1 is Electrum's"
    );
    assert_eq!(
        doc["externalDocs"]["url"],
        qrswitch::openapi::QR_CONTRACT_URL
    );
    let registration =
        &paths["/admin/proxies"]["post"]["requestBody"]["content"]["application/json"];
    let sent: Value = serde_json::from_str(&example("proxy-registration.json")).unwrap();
    assert_eq!(registration["example"], sent);

    let docs = reqwest::get(format!("{}/docs", server.base_url))
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let page = docs.text().await.unwrap();
    assert!(page.contains("/docs/assets/swagger-ui-bundle.js"), "{page}");
    let bundle = reqwest::get(format!(
        "{}/docs/assets/swagger-ui-bundle.js",
        server.base_url
    ))
    .await
    .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    if let Some(validator) = checker("openapi-spec-validator") {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), serde_json::to_vec(&doc).unwrap()).unwrap();
        let out = Command::new(validator).arg(file.path()).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!("openapi-spec-validator: {}", said.trim());
    }
    server.running.stop().await.unwrap();
}

/// Given a switch that verifies the scheme's signatures, when each example of the document
/// is sent as it stands, then each gets the answer the document gives for success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_are_accepted_as_documented() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    with_demo_signing(&mut config);
    let server = TestServer::start(config).await;
    let http = reqwest::Client::new();
    let base = &server.base_url;
    let send_json = |method: reqwest::Method, path: String, name: &str| {
        http.request(method, format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(example(name))
            .send()
    };
    let registered = send_json(
        reqwest::Method::POST,
        "/admin/proxies".into(),
        "proxy-registration.json",
    )
    .await
    .unwrap();
    assert_eq!(registered.status(), 201);
    let proxy_id = registered.json::<Value>().await.unwrap()["proxyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = send_json(
        reqwest::Method::PATCH,
        format!("/admin/proxies/{}", proxy_id.replace('|', "%7C")),
        "proxy-change.json",
    )
    .await
    .unwrap();
    assert_eq!(changed.status(), 200);
    server.app().catch_up_all().await.unwrap();

    let scheme = scheme_client(base);
    let resolved = scheme
        .send(
            qrswitch::payshap::RESOLUTION_PATH,
            example("payshap-identifier-determination.json").as_bytes(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(
        resolved.body["report"]["reportInformation"]["outcome"],
        "SUCCESSFUL"
    );
    assert_eq!(
        resolved.body["report"]["reportInformation"]["accountOwner"]["knownAsName"],
        "Corner Shop Rosebank"
    );
    assert!(
        matches!(resolved.signature, Some(Ok(()))),
        "our answer is signed"
    );
    let completed = scheme
        .complete(example("payshap-credit-transfer-completion.json").as_bytes())
        .await
        .unwrap();
    assert_eq!(completed.status, 202);

    let imported = http
        .post(format!(
            "{base}/backoffice/api/days/2026-11-21/statements/payshap?fileName=example.csv"
        ))
        .header("content-type", "text/csv")
        .body(example("partner-statement.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    assert_eq!(imported.json::<Value>().await.unwrap()["lines"], 2);
    server.running.stop().await.unwrap();
}

/// Given a live switch with traffic in it, when schemathesis generates requests from the
/// document for every operation, then no answer is a 5xx and every answer matches the
/// document: status, content type, headers and body schema.
async fn schemathesis_finds_nothing(backend: Backend) {
    let Some(schemathesis) = checker("schemathesis") else {
        return;
    };
    let db = TestDb::new(backend).await;
    let server = TestServer::start(db.config()).await;
    let out = tokio::task::spawn_blocking({
        let url = format!("{}/openapi.json", server.base_url);
        // Its cache goes in a directory of its own, not into the checkout.
        let scratch = tempfile::tempdir().unwrap();
        move || {
            Command::new(schemathesis)
                .current_dir(scratch.path())
                .args([
                    "run",
                    &url,
                    "--max-examples",
                    "25",
                    "--no-color",
                    "--seed",
                    "1",
                ])
                .args(["--request-timeout", "10"])
                .args(["--checks", "not_a_server_error,status_code_conformance"])
                .args([
                    "--checks",
                    "content_type_conformance,response_schema_conformance",
                ])
                .args(["--checks", "response_headers_conformance"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = said.lines().rev().take(30).collect();
    println!(
        "{}",
        summary.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.running.stop().await.unwrap();
}
on_both_backends!(
    schemathesis_on_the_live_server,
    super::schemathesis_finds_nothing
);

/// Given a switch that requires credentials, when a browser opens `/docs` without any,
/// then Swagger UI renders every tag's operations from `/openapi.json`, with no request to
/// any other host (the page's policy allows only its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_renders_in_a_browser() {
    use crate::common::browser::{installed, Browser};
    let Some((chromium, chromedriver)) = installed("openapi docs page") else {
        return;
    };
    let _turn = crate::common::heavy_slot().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.users = crate::console_browser::users();
    let server = TestServer::start(config).await;
    let browser = Browser::start(&chromium, &chromedriver, 1280, 1000).await;
    browser.goto(&format!("{}/docs", server.base_url)).await;
    let title = browser.text(".information-container .title").await;
    assert!(title.contains("qrswitch"), "{title}");
    for tag in [
        "payshap", "proxies", "finance", "audit", "ops", "tools", "health",
    ] {
        browser.find(&format!("#operations-tag-{tag}")).await;
    }
    let resolution = "#operations-payshap-identifier_determination";
    assert!(browser
        .text(resolution)
        .await
        .contains("/identifiers/inbound/identifier-determination-sync"));
    let link = browser
        .attr(".information-container a[href*='electrumpayments']", "href")
        .await;
    assert_eq!(link.as_deref(), Some(qrswitch::openapi::QR_CONTRACT_URL));
    browser.stop().await;
    server.running.stop().await.unwrap();
}
