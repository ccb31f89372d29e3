//! Every answer on a PayShap path is signed and in Electrum's `{message, detail}` shape,
//! whichever layer of the switch produced it: the handler's 202 with no body, HTTP Basic's
//! 401 and 429, admission control's 503 for a resolution, and the body deadline's answer to
//! a body that came too slowly (503, as 408 is not among Electrum's statuses). A completion
//! is never shed by admission control: it is must-deliver money, stored before it is
//! answered. Each signature is checked by our verifier and, where installed, by PyJWT.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::scheme::*;
use crate::common::*;
use qrswitch::payshap::{COMPLETION_PATH, RESOLUTION_PATH};
use qrswitch::scheme_sim::resolution_request;
use serde_json::{json, Value};

/// How long a body may take to arrive here.
const BODY_LIMIT: Duration = Duration::from_millis(500);

/// One answer as it came over the wire.
pub struct Wire {
    pub status: u16,
    pub signature: Option<String>,
    pub body: Vec<u8>,
}

impl Wire {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let signature = response
            .headers()
            .get("x-jwt-signature")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.bytes().await.unwrap().to_vec();
        Self {
            status,
            signature,
            body,
        }
    }

    /// Parses an HTTP/1.1 answer read off a socket (no chunking: our answers have a length).
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let signature = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("x-jwt-signature")
                .then(|| value.trim().to_owned())
        });
        Self {
            status,
            signature,
            body: body.as_bytes().to_vec(),
        }
    }

    /// The signature verifies with our key (and with PyJWT, where installed), and an error
    /// has Electrum's shape.
    pub fn assert_signed(&self, what: &str) {
        let token = self.signature.as_deref();
        assert!(token.is_some(), "{what}: {} has no signature", self.status);
        let now = chrono::Utc::now().timestamp();
        switch_verifier()
            .verify(token, &self.body, now)
            .unwrap_or_else(|e| panic!("{what}: signature refused: {e}"));
        if let Some(python) = crate::payshap_wire::pyjwt_python() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("body");
            std::fs::write(&path, &self.body).unwrap();
            let output = std::process::Command::new(python)
                .args(["-c", crate::payshap_wire::PYJWT_CHECK])
                .arg(demo_key("demo-switch.pub.pem"))
                .arg(&path)
                .arg(token.unwrap())
                .output()
                .unwrap();
            assert!(output.status.success(), "{what}: PyJWT: {output:?}");
        }
        if self.status >= 400 {
            let body: Value = serde_json::from_slice(&self.body).unwrap();
            let keys: Vec<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["detail", "message"], "{what}: {body}");
        }
    }
}

/// A request whose body announces 400 bytes and sends one every 100 ms; the answer.
async fn trickled(addr: SocketAddr, path: &str) -> Wire {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: switch\r\nContent-Type: application/json\r\n\
         Content-Length: 400\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let _ = stream.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Err(_) if !answer.is_empty() => break,
            Err(_) => {}
        }
    }
    Wire::parse(&answer)
}

/// Given a switch that signs PayShap and has users, when answers come from each of its
/// layers, then every one is signed and shaped as Electrum's; a completion is never shed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payshap_answer_is_signed_whatever_layer_made_it() {
    let _turn = body_deadline_turn().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.users = crate::console_browser::users();
    config.security.max_failed_auth_per_source = 3;
    config.server.max_in_flight_requests = 2;
    config.server.body_read_timeout_ms = BODY_LIMIT.as_millis() as u64;
    let switch = TestServer::start(config).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", switch.base_url);
    let signed = |path: &'static str, body: String| {
        let token = scheme_signer().sign(body.as_bytes()).unwrap();
        http.post(url(path))
            .header("x-jwt-signature", token)
            .body(body)
    };
    let completion = || {
        let uetr = uuid::Uuid::new_v4().to_string();
        let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": "0829999999" });
        completion_report(
            &uetr,
            &uuid::Uuid::new_v4().simple().to_string(),
            "APPROVED",
            "10.00",
            proxy,
        )
    };

    let accepted = Wire::from(signed(COMPLETION_PATH, completion()).send().await.unwrap()).await;
    assert_eq!(accepted.status, 202);
    assert!(accepted.body.is_empty());
    accepted.assert_signed("a completion's 202");

    let resolution = || {
        resolution_request(
            &uuid::Uuid::new_v4().to_string(),
            json!({ "schema": "MOBILE", "namespace": "shop", "value": "0820000000" }),
            None,
        )
        .to_string()
    };
    for attempt in 1..=4 {
        let refused = signed(RESOLUTION_PATH, resolution())
            .basic_auth("demo-scheme", Some("wrong-password"))
            .send()
            .await
            .unwrap();
        let refused = Wire::from(refused).await;
        let expected = if attempt <= 3 { 401 } else { 429 };
        assert_eq!(refused.status, expected, "attempt {attempt}");
        refused.assert_signed(&format!("HTTP Basic's {expected}"));
    }

    let slow = trickled(switch.running.addr, RESOLUTION_PATH).await;
    assert_eq!(
        slow.status,
        503,
        "a body too slow is asked again, not 408: {}",
        String::from_utf8_lossy(&slow.body)
    );
    slow.assert_signed("the body deadline's answer");

    // Both admission slots held by slow bodies: a resolution is shed, signed; a
    // completion still gets through.
    let holders: Vec<_> = (0..2)
        .map(|_| tokio::spawn(trickled(switch.running.addr, RESOLUTION_PATH)))
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let shed = Wire::from(signed(RESOLUTION_PATH, resolution()).send().await.unwrap()).await;
    assert_eq!(shed.status, 503);
    shed.assert_signed("admission control's 503");
    let kept = Wire::from(signed(COMPLETION_PATH, completion()).send().await.unwrap()).await;
    assert_eq!(kept.status, 202, "a completion is never shed");
    kept.assert_signed("a completion under full admission");
    for holder in holders {
        holder.await.unwrap();
    }
    switch.stop().await;
}
