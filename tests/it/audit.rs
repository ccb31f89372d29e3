//! The auditors' way in, on both stores: a payment's whole story by tranId, any stream, the
//! global feed and a business day's export (HTTP and `qrswitch export`), paged and in a
//! stable order, each event naming the party that caused it.

use std::time::Duration;

use crate::common::qr::*;
use crate::common::*;
use qrswitch::security::Role;
use serde_json::Value;

const AUDITOR: &str = "auditor";

fn password(user: &str) -> String {
    format!("{user}-audit-test-pw")
}

/// A retailer, a partner and an auditor: the events then name real parties.
fn users() -> Vec<qrswitch::config::UserConfig> {
    [
        (RETAILER, Role::Retailer),
        (PARTNER, Role::Partner),
        (AUDITOR, Role::Auditor),
    ]
    .into_iter()
    .map(|(name, role)| qrswitch::config::UserConfig {
        name: name.to_owned(),
        role,
        password_hash: qrswitch::security::credentials::hash_password(&password(name)).unwrap(),
    })
    .collect()
}

/// A GET as the auditor.
async fn get(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .basic_auth(AUDITOR, Some(password(AUDITOR)))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn get_json(base: &str, path: &str) -> Value {
    let (status, body) = get(base, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Every page of `path` (which takes `after` and `limit`), followed to the end.
async fn all_pages(base: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page_path = match &after {
            Some(after) => format!("{path}{sep}limit={limit}&after={after}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = get_json(base, &page_path).await;
        let got = page["events"].as_array().unwrap();
        assert!(got.len() <= limit);
        events.extend(got.iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return events,
        }
    }
}

/// A payment approved and confirmed by the retailer and partner users, its confirmation
/// delivered: its tranId and the ids of the QR request and the advice.
async fn a_whole_payment(
    base: &str,
    sim: &qrswitch::partner_sim::SimRunning,
) -> (String, String, String) {
    let delivered = sim.acknowledged("confirmation");
    let pos = QrClient::as_user(base, RETAILER, &password(RETAILER));
    let partner = QrClient::as_user(base, PARTNER, &password(PARTNER));
    let ids = confirmed_payment(&pos, &partner, 4_250).await;
    for _ in 0..200 {
        if sim.acknowledged("confirmation") > delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sim.acknowledged("confirmation"), delivered + 1, "delivered");
    ids
}

/// `qrswitch` run on the test's store.
fn qrswitch(db: &TestDb, args: &[&str]) -> std::process::Output {
    crate::common::process::run_qrswitch(&db.url, args)
}

/// The payment's story: exactly the events stored for it, in order, each with its party
/// and message. Returns the story.
async fn story_is_the_stored_events(
    app: &qrswitch::app::App,
    base: &str,
    tran_id: &str,
    request_id: &str,
    advice_id: &str,
) -> Vec<Value> {
    let story = get_json(base, &format!("/audit/payments/{tran_id}/events")).await;
    let events = story["events"].as_array().unwrap().clone();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    let stored = stored_event_types(app, "Payment", tran_id).await;
    assert_eq!(types, stored, "the story is what the store holds");
    assert_eq!(types.first(), Some(&"QrIssued"));
    for expected in [
        "ScanReceived",
        "PaymentRequested",
        "Authorised",
        "Advised",
        "AdviceDelivered",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["sequence"], (n + 1) as i64, "{event}");
        assert_eq!(event["aggregateId"], tran_id);
        assert!(
            event["committedAt"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{event}"
        );
        assert!(event["eventVersion"].is_string() && event["payload"].is_object());
    }
    let party_of = |event_type: &str| {
        events
            .iter()
            .find(|e| e["eventType"] == event_type)
            .map(|e| e["metadata"]["party"].clone())
            .unwrap()
    };
    assert_eq!(party_of("QrIssued"), RETAILER);
    assert_eq!(party_of("ScanReceived"), PARTNER);
    assert_eq!(party_of("Advised"), RETAILER);
    assert_eq!(
        party_of("AdviceDelivered"),
        qrswitch::routing::SYSTEM_PARTY,
        "the switch itself recorded the delivery"
    );
    let issued = &events[0];
    assert_eq!(issued["metadata"]["messageId"], request_id);
    assert!(issued["metadata"]["requestId"].is_string());
    assert!(issued["metadata"]["receivedAt"].is_string());
    let advised = events.iter().find(|e| e["eventType"] == "Advised").unwrap();
    assert_eq!(advised["metadata"]["messageId"], advice_id);
    let committed: Vec<&str> = events
        .iter()
        .map(|e| e["committedAt"].as_str().unwrap())
        .collect();
    assert!(committed.windows(2).all(|w| w[0] <= w[1]), "{committed:?}");

    events
}

/// Paged, the story is the same, through both endpoints; the feed has every event once, in
/// a stable order, the payment's among them. Returns the feed and the store's event count.
async fn feed_has_every_event_once(
    app: &qrswitch::app::App,
    base: &str,
    tran_id: &str,
    events: &[Value],
) -> (Vec<Value>, i64) {
    // Paged, it is the same story; the stream endpoint tells it too.
    let paged = all_pages(base, &format!("/audit/payments/{tran_id}/events"), 3).await;
    assert_eq!(&paged, events);
    let streamed = all_pages(base, &format!("/audit/streams/Payment/{tran_id}/events"), 4).await;
    assert_eq!(&streamed, events);

    // The feed: every event once, in a stable order, page after page.
    let feed = all_pages(base, "/audit/feed", 7).await;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(app.store.views().pool())
        .await
        .unwrap();
    assert_eq!(feed.len() as i64, total, "every event once");
    let positions: Vec<(i64, i64)> = feed
        .iter()
        .map(|e| {
            let (tx, position) = e["feedPosition"].as_str().unwrap().split_once('-').unwrap();
            (tx.parse().unwrap(), position.parse().unwrap())
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "feed order");
    let in_feed: Vec<&Value> = feed
        .iter()
        .filter(|e| e["aggregateId"] == tran_id)
        .collect();
    assert_eq!(in_feed.len(), events.len());
    assert!(
        in_feed.iter().zip(events).all(|(a, b)| *a == b),
        "the feed carries the same events"
    );

    (feed, total)
}

/// The day's export, over HTTP and from the command line, is the feed, byte for byte the
/// same both ways, with the digest the back office publishes.
async fn day_export_is_the_feed(
    db: &TestDb,
    base: &str,
    calendar: &qrswitch::backoffice::calendar::BusinessCalendar,
    feed: &[Value],
    total: i64,
) {
    let day = calendar.day_of(chrono::Utc::now());
    let response = reqwest::Client::new()
        .get(format!("{base}/audit/days/{day}/events.ndjson"))
        .basic_auth(AUDITOR, Some(password(AUDITOR)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let file_digest = response.headers()["x-qrswitch-day-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    let ndjson = response.text().await.unwrap();
    // The digest the back office publishes is the one the file carries.
    let published = get_json(base, &format!("/backoffice/api/days/{day}/digest")).await;
    assert_eq!(
        published["digest"]["root"],
        file_digest.as_str(),
        "{published}"
    );
    assert_eq!(
        published["digest"]["streams"], 2,
        "two payments: {published}"
    );
    assert!(published["recorded"].is_null() && published["matches"].is_null());
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, feed, "today's events, as the feed gives them");
    let out = db.dir().join("day.ndjson");
    let exported = qrswitch(
        db,
        &[
            "export",
            "--day",
            &day.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ndjson);
    let said = String::from_utf8_lossy(&exported.stderr).into_owned();
    assert!(said.contains(&format!("exported {total} events")), "{said}");
    assert!(
        said.contains(&file_digest),
        "the export names the day's digest: {said}"
    );
    let (_, yesterday) = get(
        base,
        &format!("/audit/days/{}/events.ndjson", day.pred_opt().unwrap()),
    )
    .await;
    assert_eq!(yesterday, "", "nothing was written the day before");
}

/// The timeline a person reads: one line per event, in order, naming who caused it.
fn replay_tells_the_story(db: &TestDb, tran_id: &str, events: &[Value]) {
    let replayed = qrswitch(db, &["replay", "--tran-id", tran_id]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let timeline = String::from_utf8(replayed.stdout).unwrap();
    let mut timeline_lines = timeline.lines();
    assert_eq!(
        timeline_lines.next().unwrap(),
        format!("Payment {tran_id}: {} events", events.len())
    );
    for (event, line) in events.iter().zip(timeline_lines) {
        let event_type = event["eventType"].as_str().unwrap();
        let party = event["metadata"]["party"].as_str().unwrap();
        assert!(line.contains(&format!(" {event_type} ")), "{line}");
        assert!(line.contains(&format!("by {party}")), "{line}");
        assert!(line.contains(&format!("#{}", event["sequence"])), "{line}");
    }
    assert!(timeline.contains("client_id=demo-retailer"), "{timeline}");
    let unknown_payment = qrswitch(
        db,
        &["replay", "--tran-id", "0123456789abcdef0123456789abcdef"],
    );
    assert!(!unknown_payment.status.success());
}

/// Bad requests are refused plainly.
async fn bad_requests_are_refused(base: &str, tran_id: &str) {
    for path in [
        "/audit/feed?after=nonsense".to_owned(),
        "/audit/feed?limit=0".to_owned(),
        "/audit/feed?limit=1001".to_owned(),
        format!("/audit/payments/{tran_id}/events?after=-1"),
        format!("/audit/streams/Nothing/{tran_id}/events"),
        "/audit/days/21-11-2026/events.ndjson".to_owned(),
        "/audit/feed?colour=blue".to_owned(),
    ] {
        let (status, body) = get(base, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    let (status, _) = get(
        base,
        "/audit/payments/0123456789abcdef0123456789abcdef/events",
    )
    .await;
    assert_eq!(status, 404, "an unknown payment");
}

async fn history_for_auditors(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (mut config, sim) = approving_partner(&db).await;
    let calendar =
        qrswitch::backoffice::calendar::BusinessCalendar::from_config(&config.backoffice).unwrap();
    config.users = users();
    let switch = TestServer::start(config).await;
    let base = switch.base_url.clone();
    let (tran_id, request_id, advice_id) = a_whole_payment(&base, &sim).await;
    // A second payment, so that the feed and the day hold more than one story.
    a_whole_payment(&base, &sim).await;
    // Let the delivery's own events land.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let app = switch.app();
    let events = story_is_the_stored_events(app, &base, &tran_id, &request_id, &advice_id).await;
    let (feed, total) = feed_has_every_event_once(app, &base, &tran_id, &events).await;
    day_export_is_the_feed(&db, &base, &calendar, &feed, total).await;
    replay_tells_the_story(&db, &tran_id, &events);
    bad_requests_are_refused(&base, &tran_id).await;
    switch.stop().await;
    sim.stop().await;
}
on_both_backends!(history_for_auditors, super::history_for_auditors);
