//! Clients that trickle a request head or a body, or never read their answer, on a switch
//! with a single HTTP worker: other requests are still answered promptly, and a head that
//! is not complete within `server.client_request_timeout_ms` gets its connection closed.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Long enough that a connection of the test's own client, whose request leaves a moment
/// after its connect on a loaded machine, is not taken for a slow one: actix-web starts the
/// head deadline at the connection's first poll and answers 408 on an idle connection, which
/// the client then reads as an unexpected message.
const HEAD_LIMIT: Duration = Duration::from_secs(2);
const SLOW_CLIENTS: usize = 20;

/// Sends `bytes` one at a time, `gap` apart, until `for_how_long` has passed or the server
/// closes the connection. Whether the server closed it.
async fn trickle(
    mut stream: TcpStream,
    bytes: &[u8],
    gap: Duration,
    for_how_long: Duration,
) -> bool {
    let started = Instant::now();
    for byte in bytes.iter().cycle() {
        if started.elapsed() > for_how_long {
            return false;
        }
        if stream.write_all(&[*byte]).await.is_err() {
            return true;
        }
        let mut probe = [0_u8; 1024];
        match tokio::time::timeout(gap, stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            _ => {}
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_the_worker() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.server.workers = 1;
    config.server.client_request_timeout_ms = HEAD_LIMIT.as_millis() as u64;
    let switch = TestServer::start(config).await;
    let addr = switch.running.addr;

    // Heads that never finish, bodies that trickle, and answers nobody reads.
    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        let stream = TcpStream::connect(addr).await.unwrap();
        heads.push(tokio::spawn(trickle(
            stream,
            b"POST /qr/v1/qrCodes HTTP/1.1\r\nHost: switch\r\nX-Slow: ",
            Duration::from_millis(50),
            HEAD_LIMIT * 3,
        )));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = "POST /qr/v1/qrCodes HTTP/1.1\r\nHost: switch\r\n\
                    Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        bodies.push(tokio::spawn(trickle(
            stream,
            b" ",
            Duration::from_millis(100),
            Duration::from_secs(3),
        )));
        let mut unread = TcpStream::connect(addr).await.unwrap();
        let request = "GET /health HTTP/1.1\r\nHost: switch\r\n\r\n".repeat(50);
        unread.write_all(request.as_bytes()).await.unwrap();
        bodies.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(unread);
            false
        }));
    }

    // Meanwhile the single worker answers everyone else promptly.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let asked = Instant::now();
        assert_eq!(switch.get("/health").await.status(), 200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_millis(300),
        "slowest answer {slowest:?}"
    );

    let mut closed = 0;
    for head in heads {
        closed += usize::from(head.await.unwrap());
    }
    assert_eq!(closed, SLOW_CLIENTS, "every unfinished head was cut off");
    for body in bodies {
        body.await.unwrap();
    }
    assert_eq!(switch.get("/ready").await.status(), 200);
    switch.stop().await;
}

const BODY_LIMIT: Duration = Duration::from_millis(500);
/// The counter of bodies cut off at their deadline.
const TIMED_OUT: &str = "qrswitch_request_bodies_timed_out_total";

/// Sends a request head announcing a 4,000-byte body, then the body a byte every 100 ms;
/// returns the status line the switch answered with, how long after the head it came, and
/// whether the connection was closed after it (within five seconds).
async fn trickled_body(addr: std::net::SocketAddr, path: &str) -> (String, Duration, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: switch\r\nContent-Type: application/json\r\n\
         Content-Length: 4000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    let mut answer = Vec::new();
    let mut answered = None;
    let mut buffer = [0_u8; 4096];
    while sent.elapsed() < Duration::from_secs(5) {
        let _ = stream.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answered.get_or_insert_with(|| sent.elapsed());
                answer.extend_from_slice(&buffer[..n]);
            }
            Err(_) => {}
        }
    }
    // The server closes once its disconnect grace (actix's default second) has passed.
    let closed = sent.elapsed() < Duration::from_secs(5);
    let took = answered.unwrap_or_else(|| sent.elapsed());
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status_line = text.lines().next().unwrap_or_default().to_owned();
    (status_line, took, closed)
}

/// A body trickled past `server.body_read_timeout_ms` is answered 408 in its surface's
/// shape and its connection closed, so it gives its admission slot back: with every slot
/// held by trickling bodies, service resumes as soon as their deadline passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_off_at_its_deadline_and_frees_its_slot() {
    let _turn = body_deadline_turn().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.server.max_in_flight_requests = 2;
    config.server.body_read_timeout_ms = BODY_LIMIT.as_millis() as u64;
    let switch = TestServer::start(config).await;
    let addr = switch.running.addr;
    let metrics_text = || async {
        reqwest::get(format!("{}/metrics", switch.base_url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let cut_off_before = counter_value(&metrics_text().await, TIMED_OUT);
    let qr = tokio::spawn(trickled_body(addr, "/qr/v1/qrCodes"));
    let admin = tokio::spawn(trickled_body(addr, "/admin/proxies"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/qr/v1/qrCodes", switch.base_url);
    let create = || {
        http.post(&url)
            .json(&crate::common::qr::create_qr_request(None))
            .send()
    };
    assert_eq!(create().await.unwrap().status(), 503, "every slot held");

    for (surface, answer) in [("qr", qr), ("admin", admin)] {
        let (status_line, took, closed) = answer.await.unwrap();
        crate::figures!(
            "trickled body on {surface}: {status_line:?} after {} ms",
            took.as_millis()
        );
        assert!(status_line.contains(" 408 "), "{surface}: {status_line}");
        assert!(closed, "{surface}: connection closed after the 408");
        assert!(
            took >= BODY_LIMIT && took < BODY_LIMIT + Duration::from_secs(1),
            "{surface}: cut off at its deadline, after {took:?}"
        );
    }
    assert_eq!(create().await.unwrap().status(), 201, "slots free again");
    let metrics = metrics_text().await;
    assert_eq!(
        counter_value(&metrics, TIMED_OUT),
        cut_off_before + 2,
        "{metrics}"
    );
    switch.stop().await;
}
