//! Shared test fixtures: a fresh database per test on either backend, an app spawned on
//! port 0, and helpers that drive the Payment aggregate.
#![allow(dead_code)]

pub mod books;
pub mod browser;
pub mod commit_ack_loss;
pub mod contract;
pub mod fault_proxy;
pub mod lanes;
pub mod postgres_server;
pub mod private_postgres;
pub mod process;
pub mod qr;
pub mod s3;
pub mod scheme;
#[macro_use]
pub mod test_postgres;

use std::sync::Arc;

use aggregates::values::{Amount, Currency, PartyId, TranId};
use aggregates::PaymentCommand;
use chrono::{DateTime, Duration, Utc};
use qrswitch::app::App;
use qrswitch::commands::CommandMetadata;
use qrswitch::config::Config;
use qrswitch::server::{self, Running};
use sqlx::{Connection, PgConnection};

/// Where tests create their databases: the server `test_postgres` found or started. A
/// PostgreSQL test first asks `postgres_or_skip!`, so this fails only where that was missed.
pub fn admin_postgres_url() -> String {
    match test_postgres::admin_url() {
        Ok(url) => url.to_owned(),
        Err(why) => panic!("no PostgreSQL for the tests: {why}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database used by one test only: a SQLite file in a temporary directory, or a new
/// PostgreSQL database dropped when the test ends.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("qrswitch.db").display());
                Self {
                    backend,
                    url,
                    dir,
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let admin = admin_postgres_url();
                let name = format!("qrswitch_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .expect("the tests' PostgreSQL server reachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = with_database(&admin, &name);
                Self {
                    backend,
                    url,
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn config(&self) -> Config {
        test_config(&self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let admin = admin_postgres_url();
        // Drop may run inside a runtime; a thread of its own can block on its own one.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A switch for one test on the store at `url`: loopback port 0, one worker, quick passes.
pub fn test_config(url: &str) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.workers = 1;
    config.server.shutdown_timeout_ms = 1_000;
    config.database.url = url.to_owned();
    config.database.max_connections = 8;
    config.projections.poll_interval_ms = 100;
    config
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{database}?{query}"),
        None => format!("{prefix}/{database}"),
    }
}

/// The app built (and migrated) but not serving: no projectors run unless a test asks.
pub async fn build_app(db: &TestDb) -> Arc<App> {
    App::build(db.config()).await.expect("app builds")
}

/// An instance serving on a free loopback port, projectors running.
pub struct TestServer {
    pub base_url: String,
    pub running: Running,
}

impl TestServer {
    pub async fn start(config: Config) -> Self {
        let app = App::build(config).await.expect("app builds");
        let running = server::start(app).await.expect("server starts");
        Self {
            base_url: format!("http://{}", running.addr),
            running,
        }
    }

    pub fn app(&self) -> &Arc<App> {
        &self.running.app
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base_url))
            .await
            .expect("request sent")
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("clean stop");
    }
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc::now() + Duration::seconds(seconds)
}

pub fn new_tran_id() -> TranId {
    TranId::parse(&uuid::Uuid::new_v4().simple().to_string()).unwrap()
}

pub fn party(id: &str) -> PartyId {
    PartyId::parse(id).unwrap()
}

pub fn rand(cents: i64) -> Amount {
    Amount::new(cents, Currency::ZAR).unwrap()
}

pub fn metadata(party: &str) -> CommandMetadata {
    CommandMetadata {
        party: party.to_owned(),
        request_id: uuid::Uuid::new_v4().to_string(),
        message_id: Some(uuid::Uuid::new_v4().to_string()),
        received_at: Utc::now(),
        traceparent: None,
    }
}

pub fn issue_qr(tran_id: &TranId) -> PaymentCommand {
    let now = Utc::now();
    PaymentCommand::IssueQr {
        message_id: uuid::Uuid::new_v4().to_string(),
        tran_id: tran_id.clone(),
        client_id: party("demo-retailer"),
        terminal_id: "lane0001".to_owned(),
        amount: None,
        scheme: "EMVCO_MERCHANT".to_owned(),
        payload: "000201".to_owned(),
        merchant_name: None,
        issued_at: now,
        expires_at: now + Duration::minutes(5),
    }
}

pub fn request_payment(cents: i64) -> PaymentCommand {
    let now = Utc::now();
    PaymentCommand::RequestPayment {
        message_id: uuid::Uuid::new_v4().to_string(),
        client_id: party("demo-retailer"),
        amount: rand(cents),
        message: serde_json::json!({}),
        received_at: now,
        respond_by: now + Duration::seconds(60),
        traceparent: None,
    }
}

pub fn scan_by(partner: &str) -> PaymentCommand {
    let now = Utc::now();
    PaymentCommand::ReceiveScan {
        message_id: uuid::Uuid::new_v4().to_string(),
        partner_id: party(partner),
        partner_payment_token: None,
        received_at: now,
        hold_until: now + Duration::seconds(60),
    }
}

/// Issues a QR and requests its payment: two events on a new payment.
pub async fn issue_and_request(app: &App, cents: i64) -> TranId {
    let tran_id = new_tran_id();
    app.payments
        .execute(
            tran_id.as_str(),
            issue_qr(&tran_id),
            &metadata("demo-retailer"),
        )
        .await
        .expect("QR issued");
    app.payments
        .execute(
            tran_id.as_str(),
            request_payment(cents),
            &metadata("demo-retailer"),
        )
        .await
        .expect("payment requested");
    tran_id
}

/// Prints a test's figures past the harness's output capture, so that they show in every
/// run's output (CI's too), whether the test passes or not.
#[macro_export]
macro_rules! figures {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Generates `#[tokio::test]`s named `sqlite` and `postgres` in a module `$name`, each calling
/// `$scenario(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $scenario($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::postgres_or_skip!(concat!(module_path!(), "::postgres"));
                $scenario($crate::common::Backend::Postgres).await;
            }
        }
    };
}

/// The types of one aggregate's stored events, in sequence order.
pub async fn stored_event_types(app: &App, aggregate_type: &str, id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(id)
    .fetch_all(app.store.views().pool())
    .await
    .unwrap()
}

/// Held by each load and fault test, and by the browser test, for its whole run. They
/// measure rates and latencies on two shared cores (or, Chromium, take them); two of them at
/// once would each measure the other. Light tests still run beside them. A tokio mutex serves every test's own runtime.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn heavy_slot() -> tokio::sync::MutexGuard<'static, ()> {
    HEAVY.lock().await
}

/// Held by the tests that cut bodies off at their deadline: they count the cut-offs in the
/// process-wide metrics, so one must not add to the other's count while it counts.
static BODY_DEADLINES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn body_deadline_turn() -> tokio::sync::MutexGuard<'static, ()> {
    BODY_DEADLINES.lock().await
}

/// The value of a counter without labels in a Prometheus text page (0 when absent).
pub fn counter_value(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}
