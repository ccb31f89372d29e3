//! The `qrswitch` binary as ops run it: serve on the embedded default store with no database
//! server, restart and find the data, the same on PostgreSQL, migrations on demand, and a
//! clear refusal of a bad configuration.

use std::process::Command;
use std::time::Duration;

use crate::common::process::ServeProcess;
use crate::common::*;
use projections::payment_status;

async fn ready_body(process: &ServeProcess) -> (u16, serde_json::Value) {
    let response = reqwest::get(process.url("/ready")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn wait_for_applied(process: &ServeProcess, events: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = ready_body(process).await;
        if body["projections"]["payment_status"]["events_applied_total"].as_u64() >= Some(events) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projector never caught up: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Serves, takes data, stops on SIGTERM, starts again and still has the data.
async fn serve_restart_keeps_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let workdir = db.dir().to_path_buf();
    // No DATABASE_URL for SQLite: the embedded default file in the working directory.
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(db.url.as_str()),
    };
    let first = ServeProcess::spawn(&workdir, database_url, &[]);
    let health = reqwest::get(first.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, body) = ready_body(&first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["store"]["backend"], backend_name(backend));
    assert_eq!(body["store"]["head_position"], 0);

    // Another writer (this test) appends through the library against the same store.
    let mut config = db.config();
    if backend == Backend::Sqlite {
        config.database.url = format!("sqlite://{}", workdir.join("qrswitch.db").display());
        assert!(
            workdir.join("qrswitch.db").exists(),
            "default store file created"
        );
    }
    let writer = qrswitch::app::App::build(config).await.unwrap();
    let tran_id = issue_and_request(&writer, 4_200).await;
    wait_for_applied(&first, 2).await;
    let logs = first.drain_logs();
    assert!(
        logs.iter().any(|line| line.contains("request_id")),
        "request log lines carry a request id"
    );
    assert!(first.terminate().success(), "clean exit on SIGTERM");

    let second = ServeProcess::spawn(&workdir, database_url, &[]);
    let (status, body) = ready_body(&second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["store"]["head_position"], 2,
        "events survived the restart"
    );
    let row = payment_status::find(writer.store.views().pool(), tran_id.as_str())
        .await
        .unwrap()
        .expect("view row survived the restart");
    assert_eq!(row.amount_minor, Some(4_200));
    writer.store.close().await;
    assert!(second.terminate().success());
}
on_both_backends!(serve_restart_keeps_data, super::serve_restart_keeps_data);

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// `serve --no-migrate` on an empty store is up but not ready; `qrswitch migrate` fixes it.
async fn not_ready_until_migrated(backend: Backend) {
    let db = TestDb::new(backend).await;
    let process = ServeProcess::spawn(db.dir(), Some(&db.url), &["--no-migrate"]);
    assert_eq!(
        reqwest::get(process.url("/health")).await.unwrap().status(),
        200
    );
    let (status, body) = ready_body(&process).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["store"]["ok"], false);

    let migrate = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = ready_body(&process).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(process.terminate().success());
}
on_both_backends!(not_ready_until_migrated, super::not_ready_until_migrated);

#[test]
fn unsupported_database_url_is_refused_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("serve")
        .env("DATABASE_URL", "mysql://localhost/qrswitch")
        .env("QRSWITCH_LISTEN", "127.0.0.1:0")
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL must start with"), "{stderr}");
}

#[test]
fn config_file_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(["--config", path.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lisen"), "{stderr}");
}

/// Settings that the configuration's own checks cannot judge are judged by their owners at
/// start-up: `serve` refuses, naming the setting, before it listens.
#[test]
fn serve_refuses_a_bad_time_zone_or_password_hash_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("q.db").display());
    for (text, named) in [
        ("[backoffice]\ntime_zone = \"Africa/Gotham\"\n", "time_zone"),
        ("[backoffice]\ncutoff = \"5pm\"\n", "cutoff"),
        (
            "[[users]]\nname = \"shop\"\nrole = \"retailer\"\npassword_hash = \"plain\"\n",
            "user shop password_hash",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
            .args(["--config", path.to_str().unwrap(), "serve"])
            .env("DATABASE_URL", &database)
            .env("QRSWITCH_LISTEN", "127.0.0.1:0")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{text}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{named}: {stderr}");
    }
}

/// SIGTERM while a POS waits on `pay`: the server stops accepting, the payment still gets
/// its approval, then the process exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_payment_finish() {
    use crate::common::qr::*;
    use qrswitch::partner_sim::Mode;

    let db = TestDb::new(Backend::Sqlite).await;
    let sim = start_sim(Mode::Delay(1_500), PARTNER, None).await;
    let config_path = db.dir().join("switch.toml");
    std::fs::write(
        &config_path,
        format!(
            "[payments]\npay_timeout_ms = 20000\n\n[[partners]]\nid = \"{PARTNER}\"\nname = \"Demo\"\n\
             qr_guid = \"za.co.demo\"\ntemplate_tag = 27\nbase_url = \"{}/qr/v1\"\ntimeout_ms = 10000\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let config_arg = config_path.to_str().unwrap().to_owned();
    let process = ServeProcess::spawn(db.dir(), None, &["--config", &config_arg]);
    let qr = QrClient::new(&format!("http://{}", process.addr));
    let tran_id = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        qr.post("/scans", &scan_notification(&tran_id, PARTNER))
            .await
            .0,
        202
    );
    let pay = qr.spawn_pay(&tran_id, 700);
    tokio::time::sleep(Duration::from_millis(500)).await; // pay is waiting on the partner
    let exit = tokio::task::spawn_blocking(move || process.terminate());
    let (status, answer) = pay.await.unwrap();
    assert_eq!(status, 201, "in-flight pay finishes: {answer}");
    assert!(exit.await.unwrap().success());
    sim.stop().await;
}

/// `qrswitch partner-sim` as a process: modes, recording, mode changes over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_sim_binary_answers_by_mode_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let sim = ServeProcess::spawn_command(
        dir.path(),
        None,
        &[
            "partner-sim",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            "decline",
        ],
        "partner simulator listening",
    );
    let http = reqwest::Client::new();
    let pay = |tran_id: &str| {
        serde_json::json!({ "id": uuid::Uuid::new_v4().to_string(), "tranId": tran_id,
                            "amounts": { "requestAmount": { "amount": 100, "currency": "710" } } })
    };
    let declined = http
        .post(sim.url("/qr/v1/payments"))
        .json(&pay("t1"))
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 400);
    let body: serde_json::Value = declined.json().await.unwrap();
    assert_eq!(body["errorType"], "DECLINED_BY_PARTNER");

    let mode = http
        .put(sim.url("/sim/mode"))
        .json(&serde_json::json!({ "mode": "approve" }))
        .send()
        .await
        .unwrap();
    assert_eq!(mode.status(), 200);
    let approved = http
        .post(sim.url("/qr/v1/payments"))
        .json(&pay("t2"))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 201);
    let advice = http
        .post(sim.url("/qr/v1/payments/reversals"))
        .json(&serde_json::json!({ "id": "r1", "requestId": "p1", "tranId": "t2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(advice.status(), 202);

    let received: Vec<serde_json::Value> = http
        .get(sim.url("/sim/received"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summary: Vec<_> = received
        .iter()
        .map(|r| {
            (
                r["operation"].as_str().unwrap(),
                r["tranId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("payment", "t1"), ("payment", "t2"), ("reversal", "t2")]
    );
    assert!(received
        .iter()
        .all(|r| r["receivedAt"].is_string() && r["messageId"].is_string()));
    drop(sim);
}

/// `qrswitch bench` end to end, briefly: it starts the switch as a child, drives payments
/// through it and prints its summary line with no errors.
#[test]
fn bench_runs_briefly_and_prints_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args([
            "bench",
            "--duration",
            "2",
            "--lanes",
            "2",
            "--resolve-rate",
            "5",
            "--baseline",
            "1",
        ])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let summary = stdout
        .lines()
        .find(|line| line.starts_with("summary:"))
        .unwrap_or_else(|| panic!("no summary line: {stdout}"));
    assert!(summary.contains("backend=sqlite"), "{summary}");
    assert!(summary.ends_with("errors=0"), "{summary}");
    let rate: f64 = summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix("payments_per_s="))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(rate > 0.0, "{summary}");
}

/// On PostgreSQL the views a pass rewrites most keep a fifth of each page free, so that an
/// update changing no indexed column stays in its page and skips the indexes (a HOT
/// update); the SAF tables, whose every update changes an indexed column, do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_busiest_views_leave_room_in_their_pages() {
    postgres_or_skip!("service::the_busiest_views_leave_room_in_their_pages");
    let db = TestDb::new(Backend::Postgres).await;
    let app = build_app(&db).await;
    let pool = app.store.postgres_pool().expect("a PostgreSQL store");
    let tables = [
        "payment_status",
        "recon_deliveries",
        "recon_payments",
        "saf_outbox",
    ];
    let options: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
        "SELECT relname::text, reloptions FROM pg_class WHERE relname = ANY($1) ORDER BY relname",
    )
    .bind(&tables[..])
    .fetch_all(pool)
    .await
    .unwrap();
    let room = |options: &Option<Vec<String>>| options.clone().unwrap_or_default();
    let found: Vec<(&str, Vec<String>)> = options
        .iter()
        .map(|(table, options)| (table.as_str(), room(options)))
        .collect();
    let with_room = vec!["fillfactor=80".to_owned()];
    assert_eq!(
        found,
        [
            ("payment_status", with_room.clone()),
            ("recon_deliveries", with_room.clone()),
            ("recon_payments", with_room),
            ("saf_outbox", Vec::new()),
        ]
    );
}
