//! `qrswitch demo` as a newcomer runs it from the repository's root, with no arguments:
//! it drives payments that the console and `qrswitch replay` then show, and it stops
//! cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the demo may take to drive its payments and say where to look (a cold debug
/// binary, migrations on a new store, argon2 for each demo user once).
const DRIVE_LIMIT: Duration = Duration::from_secs(120);
/// How long it may take to stop after Ctrl-C.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// The demo's closing words, line by line, as far as "Ctrl-C stops the demo.".
fn where_to_look(lines: &mpsc::Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + DRIVE_LIMIT;
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the demo said where to look in time; it said {said:#?}"));
        let done = line.starts_with("Ctrl-C stops the demo");
        said.push(line);
        if done {
            return said;
        }
    }
}

/// The word after `label` on the line that starts with it.
fn after(said: &[String], label: &str) -> String {
    said.iter()
        .find_map(|line| line.trim_start().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a line {label:?} in {said:#?}"))
        .to_owned()
}

fn spawn_demo(cwd: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("demo")
        .current_dir(cwd)
        .env("QRSWITCH_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("QRSWITCH_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("qrswitch demo starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    (child, lines)
}

/// Given a fresh checkout's `examples/` and no store, when `qrswitch demo` runs, then it
/// serves a console that shows a payment it drove, `qrswitch replay` tells that payment's
/// story from the demo's store, the partner got every advice, and Ctrl-C ends it with
/// exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_drives_payments_we_can_see_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    std::os::unix::fs::symlink(&examples, dir.path().join("examples")).unwrap();
    let (mut child, lines) = spawn_demo(dir.path());
    let said = where_to_look(&lines);
    let base = after(&said, "qrswitch demo is serving at");
    let tran_id = after(&said, "a payment")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        said.iter()
            .any(|l| l.contains("4 QR payments")
                || l.contains("3 QR payments confirmed, 1 reversed")),
        "{said:#?}"
    );
    assert!(
        said.iter().any(|l| l.contains("PayShap credit")),
        "{said:#?}"
    );

    // The console, as finance sees it.
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{base}/backoffice/payments/{tran_id}"))
        .basic_auth("demo-finance", Some("demo-finance-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&tran_id), "the console shows the payment");
    for step in ["QrIssued", "Authorised", "AdviceDelivered", "Completed"] {
        assert!(page.contains(step), "the timeline shows {step}");
    }
    let credit = after(&said, "the credit")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let transfer = http
        .get(format!("{base}/backoffice/transfers/{credit}"))
        .basic_auth("demo-finance", Some("demo-finance-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        transfer.status(),
        200,
        "the console shows the PayShap credit"
    );

    // The auditor's replay, from the demo's own store, while it serves.
    let replay = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args([
            "--config",
            "examples/demo.toml",
            "replay",
            "--tran-id",
            &tran_id,
        ])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let story = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{story}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        story.lines().count() >= 5,
        "issued, requested, scanned, authorised, confirmed: {story}"
    );
    assert!(
        dir.path().join("qrswitch-demo.db").exists(),
        "the demo's store is where it says"
    );

    // Ctrl-C.
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < STOP_LIMIT, "the demo stops on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit: {status}");
    let last: Vec<String> = lines.try_iter().collect();
    assert!(last.iter().any(|l| l == "demo stopped"), "{last:?}");
}
