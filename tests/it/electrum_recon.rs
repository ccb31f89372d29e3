//! Recon with Electrum's files through a real S3-compatible server (moto, started by the
//! test): the day's mark-off has the published name and layout, lists every completion
//! created that day (00h00–23h59 Johannesburg) once, successful or not, including one
//! created at 23h59 and received after midnight, under the transaction date; and a
//! completion we never received, listed in Electrum's extract, is found, credited once after
//! a second user approves, and running recon again changes nothing.

use chrono::{Duration, NaiveDate, Utc};

use crate::common::scheme::*;
use crate::common::*;
use crate::payshap_cases::{users, Client};
use qrswitch::config::{Config, ElectrumReconConfig};
use qrswitch::payshap::recon::bucket::Bucket;
use qrswitch::payshap::recon::files;
use serde_json::{json, Value};

const BUCKET: &str = "electrum-recon";
const LIVE: &str = "0821234567";

fn recon_settings(endpoint: &str, dir: &std::path::Path) -> ElectrumReconConfig {
    let secret = dir.join("s3-secret");
    std::fs::write(&secret, "demo-secret-key\n").unwrap();
    ElectrumReconConfig {
        endpoint: Some(endpoint.to_owned()),
        region: "us-east-1".to_owned(),
        bucket: BUCKET.to_owned(),
        access_key_id: "demo-access-key".to_owned(),
        secret_access_key_file: secret,
        client_folder: "ACMERETAIL".to_owned(),
        entity: "ACME".to_owned(),
        report_name: "MARKOFF".to_owned(),
        // By hand here; the daily run has a test of its own.
        run_at: "off".to_owned(),
    }
}

fn config(db: &TestDb, endpoint: &str) -> Config {
    let mut config = db.config();
    with_demo_signing(&mut config);
    config.users = users();
    config.payshap.recon = Some(recon_settings(endpoint, db.dir()));
    config
}

/// Yesterday in Johannesburg: a whole day behind us.
fn yesterday() -> NaiveDate {
    let zone: chrono_tz::Tz = "Africa/Johannesburg".parse().unwrap();
    Utc::now().with_timezone(&zone).date_naive() - Duration::days(1)
}

/// A completion to the live proxy, created at `created` (local time, +02:00).
async fn complete(base: &str, outcome: &str, amount: &str, created: &str) -> String {
    let uetr = uuid::Uuid::new_v4().to_string();
    let proxy = json!({ "schema": "MOBILE", "namespace": "shop", "value": LIVE });
    let body = completion_report(&uetr, &format!("m-{uetr}"), outcome, amount, proxy);
    let mut message: Value = serde_json::from_str(&body).unwrap();
    message["originalMessageIdentifiers"]["creationDateTime"] = created.into();
    let answer = scheme_client(base)
        .complete(message.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    uetr
}

/// The console home's table of completions missing at us.
async fn missing_at_us(client: &Client) -> String {
    let home = client.page("maker", "/backoffice/").await;
    let start = home
        .find("id=\"missing-at-us\"")
        .expect("the table is there");
    let end = home[start..].find("</table>").unwrap() + start;
    home[start..end].to_owned()
}

async fn run(client: &Client, day: NaiveDate) -> Value {
    let (status, summary) = client
        .post(
            "ops",
            &format!("/ops/payshap/recon/electrum/{day}"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mark_off_lists_each_completion_of_its_day_once_under_that_date() {
    let Some(s3) = crate::common::s3::start("mark_off", BUCKET).await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await;
    let config = config(&db, &s3.endpoint);
    let server = TestServer::start(config.clone()).await;
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let day = yesterday();
    let next = day + Duration::days(1);
    let ours = [
        complete(
            &server.base_url,
            "APPROVED",
            "10.00",
            &format!("{day}T10:00:00+02:00"),
        )
        .await,
        complete(
            &server.base_url,
            "REJECTED",
            "20.00",
            &format!("{day}T12:00:00+02:00"),
        )
        .await,
        complete(
            &server.base_url,
            "APPROVED",
            "30.00",
            &format!("{day}T23:59:30+02:00"),
        )
        .await,
    ];
    let after_midnight = complete(
        &server.base_url,
        "APPROVED",
        "40.00",
        &format!("{next}T00:00:30+02:00"),
    )
    .await;
    server.app().catch_up_all().await.unwrap();
    let summary = run(&client, day).await;
    assert_eq!(
        (summary["uploaded"].as_bool(), summary["rows"].as_u64()),
        (Some(true), Some(3))
    );
    let bucket = Bucket::open(config.payshap.recon.as_ref().unwrap()).unwrap();
    let folder = files::mark_offs("ACMERETAIL", day);
    let names = bucket.list(&folder).await.unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    let stamp = day.format("%Y%m%d");
    assert!(
        names[0].starts_with(&format!("ACME_EXTRACT_RPP_MARKOFF_{stamp}235959_")),
        "{}",
        names[0]
    );
    assert!(
        names[0].ends_with(".csv")
            && names[0].len() == "ACME_EXTRACT_RPP_MARKOFF_".len() + 14 + 1 + 14 + 4
    );
    let bytes = bucket.get(&format!("{folder}{}", names[0])).await.unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        files::COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut listed: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = ours.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected, "each of the day's completions once");
    assert!(
        rows.iter().any(|r| &r[3] == "REJECTED" && &r[4] == "20.00"),
        "failures too"
    );
    assert!(
        !listed.contains(&after_midnight.as_str()),
        "the next day's is not here"
    );
    // Again: nothing new is uploaded.
    let again = run(&client, day).await;
    assert_eq!(again["uploaded"], false);
    assert_eq!(bucket.list(&folder).await.unwrap().len(), 1);
    // The one created after midnight is under its own date.
    assert_eq!(run(&client, next).await["rows"], 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_completion_is_found_by_recon_and_credited_once_after_approval() {
    let Some(s3) = crate::common::s3::start("dropped", BUCKET).await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await;
    let config = config(&db, &s3.endpoint);
    let server = TestServer::start(config.clone()).await;
    let client = Client {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let day = yesterday();
    let delivered = complete(
        &server.base_url,
        "APPROVED",
        "15.00",
        &format!("{day}T09:00:00+02:00"),
    )
    .await;
    // The scheme never delivers this one; Electrum's extract of the day lists both.
    let dropped = uuid::Uuid::new_v4().to_string();
    let line = |uetr: &str, amount: &str| {
        format!("{uetr},E2E,{day}T09:00:00+02:00,APPROVED,{amount},ZAR,MOBILE|shop|27821234567\r\n")
    };
    let extract = format!(
        "{}\r\n{}{}",
        files::COLUMNS.join(","),
        line(&delivered, "15.00"),
        line(&dropped, "22.50")
    );
    let bucket = Bucket::open(config.payshap.recon.as_ref().unwrap()).unwrap();
    let name = format!(
        "ACME_EXTRACT_RPP_DAILY_{}235959_{}010000.csv",
        day.format("%Y%m%d"),
        (day + Duration::days(1)).format("%Y%m%d")
    );
    bucket
        .put(
            &format!("{}{name}", files::mark_offs("ACMERETAIL", day)),
            extract.into_bytes(),
        )
        .await
        .unwrap();
    server.app().catch_up_all().await.unwrap();
    let summary = run(&client, day).await;
    assert_eq!(summary["matched"], 1, "{summary}");
    assert_eq!(
        summary["differences"][0]["kind"], "MISSING_AT_SWITCH",
        "{summary}"
    );
    assert_eq!(summary["differences"][0]["uetr"], dropped.as_str());
    let found = client
        .get("maker", &format!("/backoffice/api/recon/electrum/{day}"))
        .await;
    assert_eq!(found[&dropped]["kind"], "MISSING_AT_SWITCH", "{found}");
    let missing_row = format!("data-uetr=\"{dropped}\"");
    assert!(
        missing_at_us(&client).await.contains(&missing_row),
        "the console's home shows the completion missing at us"
    );
    // Asked by one, approved by another: credited once.
    let action = json!({"action": "CREDIT_FROM_RECON", "day": day.to_string(), "uetr": dropped});
    let approval = client.ask("maker", action.clone()).await;
    let (status, _) = client.approve("maker", &approval).await;
    assert_eq!(status, 403, "the maker cannot approve");
    let (_, decided) = client.approve("checker", &approval).await;
    assert_eq!(decided["status"], "EXECUTED", "{decided}");
    let credited = ["CompletionReceived", "Credited"];
    server.app().catch_up_all().await.unwrap();
    assert!(
        !missing_at_us(&client).await.contains(&missing_row),
        "credited: no longer missing"
    );
    assert_eq!(
        stored_event_types(server.app(), "PayShapTransfer", &dropped).await,
        credited
    );
    // Recon again, and asking again: nothing changes.
    let recon_events = stored_event_types(server.app(), "ElectrumRecon", &day.to_string()).await;
    server.app().catch_up_all().await.unwrap();
    let again = run(&client, day).await;
    assert_eq!(
        (
            again["uploaded"].as_bool(),
            again["compared"].as_array().map(Vec::len)
        ),
        (Some(false), Some(0)),
        "{again}"
    );
    assert_eq!(
        stored_event_types(server.app(), "ElectrumRecon", &day.to_string()).await,
        recon_events
    );
    let (status, _) = client
        .post(
            "maker",
            "/backoffice/api/approvals",
            json!({"action": action, "reason": "again"}),
        )
        .await;
    assert_eq!(status, 409, "credited already");
    assert_eq!(
        stored_event_types(server.app(), "PayShapTransfer", &dropped).await,
        credited
    );
    server.stop().await;
}

/// `serve` reconciles the day before once its time of day has passed, on its own (here
/// at midnight, so at once), with every completion received before it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reconciles_the_day_before_on_its_own() {
    let Some(s3) = crate::common::s3::start("daily", BUCKET).await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = config(&db, &s3.endpoint);
    let day = yesterday();
    let server = TestServer::start(config.clone()).await;
    let uetr = complete(
        &server.base_url,
        "APPROVED",
        "12.00",
        &format!("{day}T08:00:00+02:00"),
    )
    .await;
    server.stop().await;
    config.payshap.recon.as_mut().unwrap().run_at = "00:00".to_owned();
    let server = TestServer::start(config.clone()).await;
    let bucket = Bucket::open(config.payshap.recon.as_ref().unwrap()).unwrap();
    let folder = files::mark_offs("ACMERETAIL", day);
    let mut recorded = Vec::new();
    for _ in 0..100 {
        recorded = stored_event_types(server.app(), "ElectrumRecon", &day.to_string()).await;
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, ["MarkOffUploaded"]);
    let names = bucket.list(&folder).await.unwrap();
    assert_eq!(
        names.len(),
        1,
        "one mark-off, uploaded on its own: {names:?}"
    );
    let bytes = bucket.get(&format!("{folder}{}", names[0])).await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(&uetr), "{text}");
    server.stop().await;
}
