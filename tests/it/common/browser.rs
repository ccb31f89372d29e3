//! A real browser for the console's tests: Debian's Chromium, headless, driven through
//! chromedriver over WebDriver (fantoccini). CI installs both and sets
//! `QRSWITCH_REQUIRE_CHROMIUM`, so there a missing browser fails the test; elsewhere the
//! test says it skipped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long chromedriver may take to listen, and a page to load.
const DRIVER_START_LIMIT: Duration = Duration::from_secs(20);
const PAGE_LIMIT: Duration = Duration::from_secs(15);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn binary(variable: &str, default: &str) -> Option<String> {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

/// Chromium and chromedriver, or `None` (and a line saying the test skipped) when they are
/// not installed and CI does not require them.
pub fn installed(test: &str) -> Option<(String, String)> {
    let found = binary("QRSWITCH_CHROMIUM", "/usr/bin/chromium")
        .zip(binary("QRSWITCH_CHROMEDRIVER", "/usr/bin/chromedriver"));
    if found.is_none() {
        assert!(
            std::env::var_os("QRSWITCH_REQUIRE_CHROMIUM").is_none(),
            "QRSWITCH_REQUIRE_CHROMIUM is set but chromium or chromedriver is missing"
        );
        eprintln!("{test}: skipped (Debian chromium and chromium-driver are not installed)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// A fresh browser with an empty profile and a `width`×`height` window.
    pub async fn start(chromium: &str, chromedriver: &str, width: u32, height: u32) -> Self {
        // fantoccini's rustls takes the process's provider; ring is the one the switch uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < DRIVER_START_LIMIT,
                "chromedriver did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The element `css` selects, waiting for it as a page loads.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PAGE_LIMIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found: {e}"))
    }

    /// The text of what `css` selects. An element replaced under us (the page re-rendered
    /// between finding and reading it) is found again.
    pub async fn text(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) if started.elapsed() < PAGE_LIMIT => {
                    eprintln!("{css}: {e}; reading again");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
    }

    /// The attribute `name` of what `css` selects, found again if it was replaced.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let started = Instant::now();
        loop {
            match self.find(css).await.attr(name).await {
                Ok(value) => return value,
                Err(e) if started.elapsed() < PAGE_LIMIT => {
                    eprintln!("{css}: {e}; reading again");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks what `css` selects (a link or a submit button: every click in these tests
    /// loads a page) and waits until the new page has loaded, so that nothing is then read
    /// from the page it left.
    pub async fn click(&self, css: &str) {
        self.client
            .execute("window.__leaving = true;", vec![])
            .await
            .unwrap();
        self.find(css).await.click().await.unwrap();
        let started = Instant::now();
        loop {
            let arrived = self
                .client
                .execute(
                    "return window.__leaving === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(arrived, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(
                started.elapsed() < PAGE_LIMIT,
                "{css}: no page loaded after the click"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the address holds `part` (a form's submission has landed).
    pub async fn wait_for_path(&self, part: &str) {
        let started = Instant::now();
        while !self.path().await.contains(part) {
            assert!(started.elapsed() < PAGE_LIMIT, "never reached {part}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the page is no wider than the window (nothing runs off the side).
    pub async fn fits_the_width(&self) -> bool {
        let fits = self
            .client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                vec![],
            )
            .await
            .unwrap();
        fits.as_bool().unwrap_or(false)
    }

    /// Saves a screenshot as `target/console-screenshots/{name}.png` (not committed: made
    /// to be looked at).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
