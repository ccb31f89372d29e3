//! The operator console in a real browser (Debian's Chromium over WebDriver), as its users
//! work in it: finance signs in, finds a payment by its POS reference, reads its story and
//! uploads a partner file that changes the day's matching; ops park and retry a delivery
//! and see the queue change; a partner is refused every page. Screenshots of the main
//! pages at 1280 px (and the dashboard at phone width) land in `target/console-screenshots`.

use std::time::Duration;

use crate::common::browser::{installed, Browser};
use crate::common::qr::*;
use crate::common::*;
use qrswitch::config::UserConfig;
use qrswitch::partner_sim::Mode;
use qrswitch::security::credentials::hash_password;
use qrswitch::security::Role;

pub const FINANCE: &str = "finance";
pub const OPS: &str = "ops";

pub fn password(user: &str) -> String {
    format!("{user}-console-test-pw")
}

/// Finance, ops, an auditor, the retailer's POS and the partner.
pub fn users() -> Vec<UserConfig> {
    [
        (FINANCE, Role::Backoffice),
        (OPS, Role::Ops),
        ("auditor", Role::Auditor),
        (RETAILER, Role::Retailer),
        (PARTNER, Role::Partner),
    ]
    .into_iter()
    .map(|(name, role)| UserConfig {
        name: name.to_owned(),
        role,
        password_hash: hash_password(&password(name)).unwrap(),
    })
    .collect()
}

/// A payment approved by the partner whose confirmation the partner then fails to take:
/// its delivery stays pending, with failed attempts. Returns its tranId.
pub async fn payment_with_a_failing_delivery(
    pos: &QrClient,
    partner: &QrClient,
    sim: &qrswitch::partner_sim::SimRunning,
) -> String {
    let created = pos.post("/qrCodes", &create_qr_request(None)).await.1;
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    assert_eq!(
        partner
            .post("/scans", &scan_notification(&tran_id, PARTNER))
            .await
            .0,
        202
    );
    let pay = payment_request(&tran_id, 1_999);
    assert_eq!(pos.post("/payments", &pay).await.0, 201);
    set_sim_mode(sim, Mode::Fail).await;
    assert_eq!(
        pos.post("/payments/confirmations", &confirmation_for(&pay))
            .await
            .0,
        202
    );
    tran_id
}

async fn sign_in(browser: &Browser, base: &str, user: &str) {
    browser.goto(&format!("{base}/backoffice/")).await;
    assert!(
        browser.path().await.starts_with("/backoffice/login"),
        "sent to the form"
    );
    browser.fill("#username", user).await;
    browser.fill("#password", &password(user)).await;
    browser.click("#sign-in").await;
    assert_eq!(
        browser.text("#signed-in").await.split(' ').next(),
        Some(user)
    );
}

async fn sign_out(browser: &Browser) {
    browser.click("nav.top form button").await;
    browser.find("#sign-in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_ops_and_a_partner_in_the_browser() {
    let Some((chromium, chromedriver)) = installed("console_browser") else {
        return;
    };
    // Chromium takes both cores while it renders: it waits its turn beside the load and
    // fault tests, whose timings it would disturb.
    let _turn = heavy_slot().await;
    // Given a day with confirmed payments and one whose confirmation the partner fails.
    postgres_or_skip!("console_browser::finance_ops_and_a_partner_in_the_browser");
    let db = TestDb::new(Backend::Postgres).await;
    let (mut config, sim) = approving_partner(&db).await;
    config.users = users();
    config.saf.backoff_base_ms = 60_000;
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();
    let pos = QrClient::as_user(&base, RETAILER, &password(RETAILER));
    let partner = QrClient::as_user(&base, PARTNER, &password(PARTNER));
    let mut paid = Vec::new();
    for cents in [1_250, 4_200, 990] {
        paid.push(confirmed_payment(&pos, &partner, cents).await.0);
    }
    // Their confirmations reach the partner before it starts failing.
    for _ in 0..200 {
        if sim.acknowledged("confirmation") >= paid.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sim.acknowledged("confirmation"), paid.len());
    let failing = payment_with_a_failing_delivery(&pos, &partner, &sim).await;
    // The console shows the business day of the back office's calendar (Johannesburg by
    // default), not the UTC date: they differ for part of every day.
    let today = server.app().calendar.day_of(chrono::Utc::now()).to_string();
    let browser = Browser::start(&chromium, &chromedriver, 1280, 1400).await;

    finance_finds_a_payment_and_imports_a_file(&browser, &server, &paid, &today).await;
    sign_out(&browser).await;
    ops_retry_park_and_retry_a_delivery(&browser, &base, &failing).await;
    sign_out(&browser).await;
    a_partner_is_refused_every_page(&browser, &base).await;
    browser.stop().await;

    // And at phone width the dashboard and the search fit the screen.
    let phone = Browser::start(&chromium, &chromedriver, 390, 844).await;
    sign_in(&phone, &base, FINANCE).await;
    assert!(phone.fits_the_width().await, "dashboard at 390 px");
    phone.screenshot("phone-dashboard").await;
    phone
        .goto(&format!("{base}/backoffice/payments?day={today}"))
        .await;
    phone.find("#payments").await;
    assert!(phone.fits_the_width().await, "payments at 390 px");
    phone.screenshot("phone-payments").await;
    phone.stop().await;
    server.stop().await;
}

async fn finance_finds_a_payment_and_imports_a_file(
    browser: &Browser,
    server: &TestServer,
    paid: &[String],
    today: &str,
) {
    let base = &server.base_url;
    sign_in(browser, base, FINANCE).await;
    assert_eq!(browser.text("#day").await, today);
    browser.find("#chart-payments").await;
    browser.screenshot("dashboard").await;

    // Find a payment by the reference the POS gave it.
    let reference = pos_reference_of(server, &paid[1]).await;
    browser
        .click("nav.top a[href='/backoffice/payments']")
        .await;
    browser.fill("#f-posReference", &reference).await;
    browser.click("#search").await;
    browser.wait_for_path("posReference=").await;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#payments tr[data-tran-id]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one payment has that reference");
    assert_eq!(
        rows[0].attr("data-tran-id").await.unwrap().as_deref(),
        Some(paid[1].as_str())
    );
    browser.screenshot("search").await;

    // Its story: the parties, the QR, and the timeline of its events.
    browser
        .click(&format!(
            "#payments a[href='/backoffice/payments/{}']",
            paid[1]
        ))
        .await;
    assert_eq!(browser.text("#pos-reference").await, reference);
    assert_eq!(
        browser.text("#amount").await.split(' ').next(),
        Some("42.00")
    );
    browser.find("#qr-image svg").await;
    let timeline = browser.text("#timeline").await;
    for event in [
        "QrIssued",
        "ScanReceived",
        "PaymentRequested",
        "Authorised",
        "Advised",
    ] {
        assert!(timeline.contains(event), "{event} in {timeline}");
    }
    assert!(timeline.contains(&format!("by {RETAILER}")), "{timeline}");
    assert!(timeline.contains(&format!("by {PARTNER}")), "{timeline}");
    let source = browser.source().await;
    assert!(
        !source.contains("token-"),
        "no whole payment token on the page"
    );
    browser.screenshot("payment").await;

    // Upload the partner's file: the day's matching counts change.
    browser
        .goto(&format!("{base}/backoffice/?day={today}"))
        .await;
    let matched_before = browser
        .text(&format!(
            "#matching tr[data-partner='{PARTNER}'] td.matched"
        ))
        .await;
    assert_eq!(matched_before, "0");
    let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    let mut csv = String::from("tran_id,partner_reference,transaction_time,amount,currency\n");
    for (tran_id, amount) in [(&paid[0], "12.50"), (&paid[1], "42.00")] {
        csv.push_str(&format!(
            "{tran_id},P-{},{}T10:00:00Z,{amount},ZAR\n",
            &tran_id[..6],
            today
        ));
    }
    std::fs::write(file.path(), csv).unwrap();
    browser.click("nav.top a[href='/backoffice/files']").await;
    browser
        .find("#f-partner")
        .await
        .select_by_value(PARTNER)
        .await
        .unwrap();
    browser
        .find("#f-file")
        .await
        .send_keys(&file.path().display().to_string())
        .await
        .unwrap();
    browser.screenshot("files").await;
    browser.click("#upload-button").await;
    assert_eq!(
        browser.text("#file-lines").await,
        "2",
        "the file is read before it is imported"
    );
    browser.click("#confirm").await;
    assert!(browser.text("p.notice").await.contains("Imported 2 lines"));
    let matched_after = browser
        .text(&format!(
            "#matching tr[data-partner='{PARTNER}'] td.matched"
        ))
        .await;
    assert_eq!(matched_after, "2", "the day's matching includes the file");
}

/// The POS reference the payment request carried, as the view holds it.
async fn pos_reference_of(server: &TestServer, tran_id: &str) -> String {
    for _ in 0..100 {
        let found: Option<Option<String>> =
            sqlx::query_scalar("SELECT pos_reference FROM recon_payments WHERE tran_id = $1")
                .bind(tran_id)
                .fetch_optional(server.app().store.views().pool())
                .await
                .unwrap();
        if let Some(Some(reference)) = found {
            return reference;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the recon view never saw {tran_id}");
}

async fn ops_retry_park_and_retry_a_delivery(browser: &Browser, base: &str, tran_id: &str) {
    sign_in(browser, base, OPS).await;
    browser.goto(&format!("{base}/backoffice/queue")).await;
    let row = "#queue tr[data-status='PENDING']";
    let delivery = browser.attr(row, "data-delivery").await.unwrap();
    let row = format!("#queue tr[data-delivery='{delivery}']");

    // Retry now: confirmed, recorded, still pending.
    browser
        .click(&format!("{row} button[data-action='retry']"))
        .await;
    assert_eq!(browser.text("#confirm-delivery").await, delivery);
    browser.click("#confirm").await;
    assert!(browser.text("p.notice").await.contains("retry now done"));

    // Park: the queue shows it parked.
    browser
        .click(&format!("{row} button[data-action='park']"))
        .await;
    browser.click("#confirm").await;
    let parked = browser.attr(&row, "data-status").await;
    assert_eq!(parked.as_deref(), Some("PARKED"));
    browser.screenshot("queue").await;

    // Retry the parked delivery: back in the queue, pending.
    browser
        .click(&format!("{row} button[data-action='unpark']"))
        .await;
    browser.click("#confirm").await;
    let pending = browser.attr(&row, "data-status").await;
    assert_eq!(pending.as_deref(), Some("PENDING"));

    // The payment's story names ops for each of them, and the failed attempts are listed.
    browser
        .goto(&format!("{base}/backoffice/payments/{tran_id}"))
        .await;
    let timeline = browser.text("#timeline").await;
    for event in [
        "DeliveryRetryRequested",
        "DeliveryParked",
        "DeliveryUnparked",
    ] {
        assert!(timeline.contains(event), "{event} in {timeline}");
    }
    assert!(timeline.contains(&format!("by {OPS}")), "{timeline}");
    let attempts = browser
        .text(&format!(
            "#deliveries tr[data-delivery='{delivery}'] ol.attempts"
        ))
        .await;
    assert!(
        attempts.contains("500"),
        "failed attempts are listed: {attempts}"
    );
}

async fn a_partner_is_refused_every_page(browser: &Browser, base: &str) {
    browser.goto(&format!("{base}/backoffice/login")).await;
    browser.fill("#username", PARTNER).await;
    browser.fill("#password", &password(PARTNER)).await;
    browser.click("#sign-in").await;
    assert!(
        browser.text("h1").await.starts_with("403"),
        "a partner signs in to a refusal"
    );
    // The pages (the CSV extract's 403 is the API's JSON, checked in `console`).
    for page in crate::console::PAGES.iter().filter(|p| !p.contains(".csv")) {
        browser.goto(&format!("{base}{page}")).await;
        assert!(browser.text("h1").await.starts_with("403"), "{page}");
    }
    browser.screenshot("partner-refused").await;
    // The refusal offers a way out: signing in as someone else.
    browser.click("main a[href='/backoffice/login']").await;
    browser.find("#sign-in").await;
}
