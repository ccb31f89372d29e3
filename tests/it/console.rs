//! The operator console over HTTP, on both stores: who may open which page, the form
//! login, CSRF and the confirmation step of every action (a refused or unconfirmed post
//! changes nothing), and that no page shows a whole MSISDN, token or password.
//! `console_search` covers the search, `console_browser` drives the pages in Chromium.

use std::time::Duration;

use crate::common::qr::*;
use crate::common::*;
use crate::console_browser::{password, payment_with_a_failing_delivery, users, FINANCE, OPS};
use reqwest::header;

/// Every page of the console, for the role checks.
pub const PAGES: [&str; 11] = [
    "/backoffice/",
    "/backoffice/payments",
    "/backoffice/payments/any-tran-id",
    "/backoffice/transfers",
    "/backoffice/transfers/any-uetr",
    "/backoffice/queue",
    "/backoffice/proxies",
    "/backoffice/files",
    "/backoffice/extracts",
    "/backoffice/qr",
    "/backoffice/payshap/markoff.csv?date=2026-11-21",
];

/// A caller that sends Basic credentials and follows no redirect.
pub struct Caller {
    http: reqwest::Client,
    base: String,
    user: String,
}

impl Caller {
    pub fn new(base: &str, user: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            user: user.to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(password(&self.user)))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(password(&self.user)))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The CSRF token the console's forms carry for this caller.
    pub async fn csrf(&self) -> String {
        let (status, page) = self.get("/backoffice/queue").await;
        assert_eq!(status, 200, "{page}");
        hidden_value(&page, "csrf").expect("the page carries a CSRF token")
    }
}

fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..start + page[start..].find('"')?].to_owned())
}

/// The tranIds a search page lists, in order.
pub fn listed(page: &str) -> Vec<String> {
    page.match_indices("data-tran-id=\"")
        .map(|(at, m)| {
            let rest = &page[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

on_both_backends!(roles_and_the_form_login, super::roles_and_the_form_login);

async fn roles_and_the_form_login(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = db.config();
    config.users = users();
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();

    // Every page answers 403 to the retailer and the partner, and opens for the readers.
    for user in [RETAILER, PARTNER] {
        for page in PAGES {
            assert_eq!(
                Caller::new(&base, user).get(page).await.0,
                403,
                "{user} {page}"
            );
        }
        let caller = Caller::new(&base, user);
        let (status, _) = caller
            .post("/backoffice/queue/d-1/park", &[("csrf", "x")])
            .await;
        assert_eq!(status, 403, "{user} may not act");
    }
    for user in [FINANCE, OPS, "auditor"] {
        for page in [
            "/backoffice/",
            "/backoffice/payments",
            "/backoffice/queue",
            "/backoffice/proxies",
            "/backoffice/files",
            "/backoffice/extracts",
            "/backoffice/qr",
        ] {
            let (status, body) = Caller::new(&base, user).get(page).await;
            assert_eq!(status, 200, "{user} {page}: {body}");
        }
    }

    // Requests without credentials (a browser's favicon, a first try) do not count as failed
    // sign-ins: the address is not blocked by them.
    for _ in 0..15 {
        reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
        reqwest::get(format!("{base}/backoffice/queue"))
            .await
            .unwrap();
    }
    assert_eq!(Caller::new(&base, FINANCE).get("/backoffice/").await.0, 200);

    // Without credentials a browser is sent to the form, a script is challenged.
    let anonymous = Caller::new(&base, "nobody").http;
    let browser = anonymous
        .get(format!("{base}/backoffice/queue"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 303);
    assert_eq!(
        browser.headers()[header::LOCATION],
        "/backoffice/login?next=%2Fbackoffice%2Fqueue"
    );
    let script = anonymous
        .get(format!("{base}/backoffice/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 401);

    // A wrong password is a 401 form; the right one a login cookie that opens the pages.
    let login = |user: &str, pw: String| {
        anonymous
            .post(format!("{base}/backoffice/login"))
            .form(&[
                ("username", user.to_owned()),
                ("password", pw),
                ("next", "https://elsewhere.example/".to_owned()),
            ])
            .send()
    };
    assert_eq!(login(FINANCE, "wrong".into()).await.unwrap().status(), 401);
    let signed_in = login(FINANCE, password(FINANCE)).await.unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(
        signed_in.headers()[header::LOCATION],
        "/backoffice/",
        "never sent off the console"
    );
    let cookie = signed_in.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/backoffice"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = |path: &str| {
        anonymous
            .get(format!("{base}{path}"))
            .header(header::COOKIE, cookie.clone())
            .send()
    };
    let page = with_cookie("/backoffice/queue")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("finance (finance)"), "signed in as finance");
    // The cookie is not a key to the machine API.
    assert_eq!(
        with_cookie("/backoffice/api/fees").await.unwrap().status(),
        401
    );

    // Signing out needs the login's CSRF token.
    let csrf = hidden_value(&page, "csrf").unwrap();
    let out = |token: &str| {
        anonymous
            .post(format!("{base}/backoffice/logout"))
            .header(header::COOKIE, cookie.clone())
            .form(&[("csrf", token)])
            .send()
    };
    assert_eq!(out("forged").await.unwrap().status(), 403);
    let signed_out = out(&csrf).await.unwrap();
    assert_eq!(signed_out.status(), 303);
    assert!(signed_out.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    server.stop().await;
}

on_both_backends!(
    actions_are_confirmed_and_recorded,
    super::actions_are_confirmed_and_recorded
);

async fn actions_are_confirmed_and_recorded(backend: Backend) {
    // Given a confirmed payment whose delivery the partner fails.
    let db = TestDb::new(backend).await;
    let (mut config, sim) = approving_partner(&db).await;
    config.users = users();
    config.saf.backoff_base_ms = 60_000;
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();
    let pos = QrClient::as_user(&base, RETAILER, &password(RETAILER));
    let partner = QrClient::as_user(&base, PARTNER, &password(PARTNER));
    let tran_id = payment_with_a_failing_delivery(&pos, &partner, &sim).await;
    let ops = Caller::new(&base, OPS);
    let delivery = pending_delivery(&ops, &tran_id).await;
    let park = format!("/backoffice/queue/{delivery}/park");
    let csrf = ops.csrf().await;

    // A post without the token, or by finance, changes nothing.
    assert_eq!(ops.post(&park, &[("csrf", "forged")]).await.0, 403);
    assert_eq!(
        Caller::new(&base, FINANCE)
            .post(&park, &[("csrf", &csrf)])
            .await
            .0,
        403
    );
    // The first post only asks; nothing is parked yet.
    let (status, confirm) = ops.post(&park, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(
        confirm.contains("name=\"confirmed\" value=\"yes\""),
        "{confirm}"
    );
    assert_eq!(delivery_status(&ops, &delivery).await, "PENDING");
    // Confirmed: parked, on the payment's events as done by ops.
    let (status, _) = ops
        .post(&park, &[("csrf", &csrf), ("confirmed", "yes")])
        .await;
    assert_eq!(status, 303);
    assert_eq!(delivery_status(&ops, &delivery).await, "PARKED");
    let parked_by: String = sqlx::query_scalar(
        "SELECT CAST(metadata AS TEXT) FROM events
          WHERE aggregate_id = $1 AND event_type = 'DeliveryParked'",
    )
    .bind(&tran_id)
    .fetch_one(server.app().store.views().pool())
    .await
    .unwrap();
    assert!(parked_by.contains("\"party\":\"ops\""), "{parked_by}");
    // Parking again is a 409 that says why; a retry of a parked delivery is refused too.
    let (status, body) = ops
        .post(&park, &[("csrf", &csrf), ("confirmed", "yes")])
        .await;
    assert_eq!(status, 409, "{body}");
    let retry = format!("/backoffice/queue/{delivery}/retry");
    assert_eq!(
        ops.post(&retry, &[("csrf", &csrf), ("confirmed", "yes")])
            .await
            .0,
        409
    );
    assert_eq!(
        ops.post(
            "/backoffice/queue/no-such/unpark",
            &[("csrf", &csrf), ("confirmed", "yes")]
        )
        .await
        .0,
        404
    );

    // A proxy registered from the console: confirmed first, then an event by ops.
    let register = [
        ("csrf", csrf.as_str()),
        ("schema", "MOBILE"),
        ("namespace", "demo-bank"),
        ("value", "27821234567"),
        ("knownAsName", "Corner Shop"),
        ("legalName", "Corner Shop (Pty) Ltd"),
        ("accountCreationDate", "2019-03-14"),
        ("status", "active"),
        ("resolutionAllowed", "true"),
    ];
    let (status, asked) = ops.post("/backoffice/proxies/register", &register).await;
    assert_eq!(status, 200);
    assert!(
        asked.contains("2782*****67") && !asked.contains("27821234567"),
        "{asked}"
    );
    // The confirmation carries the registration sealed, as the browser posts it back.
    let asked = hidden_value(&asked, "asked").expect("the registration, sealed");
    let confirmed = [
        ("csrf", csrf.as_str()),
        ("asked", &asked),
        ("confirmed", "yes"),
    ];
    assert_eq!(
        ops.post("/backoffice/proxies/register", &confirmed).await.0,
        303
    );
    let tampered = [
        ("csrf", csrf.as_str()),
        ("asked", "AAAA"),
        ("confirmed", "yes"),
    ];
    assert_eq!(
        ops.post("/backoffice/proxies/register", &tampered).await.0,
        400
    );
    let (_, proxies) = ops.get("/backoffice/proxies").await;
    assert!(proxies.contains("2782*****67"), "{proxies}");
    let bad = [
        ("csrf", csrf.as_str()),
        ("schema", "MOBILE"),
        ("value", "x"),
        ("accountCreationDate", "yesterday"),
        ("confirmed", "yes"),
    ];
    let (status, why) = ops.post("/backoffice/proxies/register", &bad).await;
    assert_eq!(status, 400, "{why}");

    // No page shows the whole MSISDN, the payment token or a password.
    let token: String = sqlx::query_scalar(
        "SELECT CAST(payload AS TEXT) FROM events WHERE aggregate_id = $1 AND event_type = 'ScanReceived'",
    )
    .bind(&tran_id)
    .fetch_one(server.app().store.views().pool())
    .await
    .map(|p: String| {
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        v["ScanReceived"]["partner_payment_token"]
            .as_str()
            .unwrap()
            .to_owned()
    })
    .unwrap();
    let (_, by_proxy) = ops
        .post(
            "/backoffice/transfers",
            &[("csrf", &csrf), ("proxy", "27821234567")],
        )
        .await;
    let pages = [
        ops.get("/backoffice/proxies").await.1,
        ops.get(&format!("/backoffice/payments/{tran_id}")).await.1,
        ops.get("/backoffice/payments?retailer=demo-retailer")
            .await
            .1,
        ops.get("/backoffice/queue").await.1,
        by_proxy,
    ];
    for page in &pages {
        for secret in [
            "27821234567",
            token.as_str(),
            &password(OPS),
            &password(RETAILER),
        ] {
            assert!(!page.contains(secret), "a page shows {secret}");
        }
    }
    server.stop().await;
    drop(sim);
}

async fn pending_delivery(ops: &Caller, tran_id: &str) -> String {
    for _ in 0..200 {
        let (_, page) = ops.get(&format!("/backoffice/payments/{tran_id}")).await;
        if let Some(at) = page.find("data-delivery=\"") {
            let rest = &page[at + 15..];
            return rest[..rest.find('"').unwrap()].to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery for {tran_id}");
}

async fn delivery_status(ops: &Caller, delivery: &str) -> String {
    let (_, page) = ops.get("/backoffice/queue").await;
    let marker = format!("data-delivery=\"{delivery}\" data-status=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{delivery} not listed"))
        + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}
