//! The console's searches over HTTP, on both stores. Payments: every filter, the sort
//! orders, the pages, and the 400 that names a filter that does not read; the rows are
//! written into the recon view directly (the search reads nothing else), 120 of them over
//! two retailers, three partners, four outcomes and three days. PayShap transfers: a real
//! signed completion found by UETR and by the proxy's number, and its page, masked.

use crate::common::qr::new_id;
use crate::common::*;
use crate::console::{listed, Caller};
use crate::console_browser::{password, users, FINANCE, OPS};

on_both_backends!(
    the_search_filters_sorts_and_pages,
    super::the_search_filters_sorts_and_pages
);

/// Recon rows as the projection writes them (the search reads only this view): 120
/// payments over two retailers, three partners, four outcomes and three days.
async fn seed(pool: &sqlx::AnyPool, today: chrono::NaiveDate) {
    for n in 0..120_i64 {
        let day = today - chrono::Duration::days(n % 3);
        let requested = format!("{day}T{:02}:{:02}:00.000000Z", 8 + n % 10, n % 60);
        let outcome = [
            Some("AUTHORISED"),
            Some("DECLINED"),
            Some("TIMED_OUT"),
            None,
        ][(n % 4) as usize];
        sqlx::query(
            "INSERT INTO recon_payments (tran_id, retailer_id, store_id, lane_id, partner_id,
                 amount_minor, currency, requested_at, outcome, pos_reference, last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6, '710', $7, $8, $9, 1)",
        )
        .bind(format!("t-{n:03}"))
        .bind(if n % 2 == 0 { "shop-a" } else { "shop-b" })
        .bind(format!("store-{}", n % 5))
        .bind(format!("lane-{}", n % 7))
        .bind(format!("partner-{}", n % 3))
        .bind(100 * (n + 1))
        .bind(requested)
        .bind(outcome)
        .bind(format!("POS-{n:03}"))
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn the_search_filters_sorts_and_pages(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = db.config();
    config.users = users();
    config.backoffice.time_zone = "UTC".into();
    let server = TestServer::start(config).await;
    let today = chrono::Utc::now().date_naive();
    seed(server.app().store.views().pool(), today).await;
    let finance = Caller::new(&server.base_url, FINANCE);
    let search = |query: String| {
        let finance = &finance;
        async move {
            let (status, page) = finance.get(&format!("/backoffice/payments?{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            (listed(&page), page)
        }
    };
    assert_eq!(search("tranId=t-007".into()).await.0, ["t-007"]);
    assert_eq!(search("posReference=POS-042".into()).await.0, ["t-042"]);
    // Amounts in rand, inclusive: t-009 is R10.00 … t-011 is R12.00.
    let (found, _) = search("minAmount=10&maxAmount=12.00&sort=amount&order=asc".into()).await;
    assert_eq!(found, ["t-009", "t-010", "t-011"]);
    let (found, _) = search("retailer=shop-a&partner=partner-0&outcome=AUTHORISED".into()).await;
    assert!(!found.is_empty());
    for tran in &found {
        let n: i64 = tran[2..].parse().unwrap();
        assert!(n % 2 == 0 && n % 3 == 0 && n % 4 == 0, "{tran}");
    }
    let (found, _) = search("store=store-1&lane=lane-1&outcome=PENDING".into()).await;
    assert!(
        found.iter().all(|t| {
            let n: i64 = t[2..].parse().unwrap();
            n % 5 == 1 && n % 7 == 1 && n % 4 == 3
        }) && !found.is_empty(),
        "{found:?}"
    );
    // A business day holds 40 of the 120; pages of 50, newest first by default.
    let (day, page) = search(format!("day={today}")).await;
    assert_eq!(day.len(), 40);
    assert!(!page.contains("id=\"next-page\""));
    let (first, page) = search(String::new() + "sort=amount").await;
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "t-119", "largest amount first");
    assert!(page.contains("id=\"next-page\""));
    let (third, page) = search("sort=amount&page=3".into()).await;
    assert_eq!(third.len(), 20);
    assert_eq!(third.last().map(String::as_str), Some("t-000"));
    assert!(!page.contains("id=\"next-page\""));

    // What does not read is a 400 that names it.
    for (query, says) in [
        ("minAmount=ten", "minimum amount"),
        ("outcome=MAYBE", "outcome"),
        ("sort=partner", "sort"),
        ("day=yesterday", "yesterday"),
        ("page=0", "page"),
        ("page=202", "narrow the search"),
    ] {
        let (status, page) = finance.get(&format!("/backoffice/payments?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains(says), "{query}: {page}");
    }
    server.stop().await;
}

on_both_backends!(
    a_payshap_transfer_is_found_and_shown_masked,
    super::a_payshap_transfer_is_found_and_shown_masked
);

async fn a_payshap_transfer_is_found_and_shown_masked(backend: Backend) {
    // Given a registered mobile proxy and an approved PayShap credit to it.
    let db = TestDb::new(backend).await;
    let mut config = db.config();
    config.users = users();
    crate::common::scheme::with_demo_signing(&mut config);
    let server = TestServer::start(config).await;
    let base = server.base_url.clone();
    let registration = serde_json::json!({
        "schema": "MOBILE", "namespace": "shop", "value": "0821234567",
        "knownAsName": "Corner Shop", "legalName": "Corner Shop (Pty) Ltd",
        "accountCreationDate": "2019-03-14", "status": "active",
    });
    let registered = reqwest::Client::new()
        .post(format!("{base}/admin/proxies"))
        .basic_auth(OPS, Some(password(OPS)))
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let uetr = uuid::Uuid::new_v4().to_string();
    let proxy =
        serde_json::json!({ "schema": "MOBILE", "namespace": "shop", "value": "0821234567" });
    let report =
        crate::common::scheme::completion_report(&uetr, &new_id(), "APPROVED", "49.99", proxy);
    let answer = crate::common::scheme::scheme_client(&base)
        .complete(report.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    server.app().catch_up_all().await.unwrap();

    // When finance looks for it by UETR and by the proxy's number.
    let finance = Caller::new(&base, FINANCE);
    let (status, by_uetr) = finance
        .get(&format!("/backoffice/transfers?uetr={uetr}"))
        .await;
    assert_eq!(status, 200);
    assert!(
        by_uetr.contains(&format!("data-uetr=\"{uetr}\"")),
        "{by_uetr}"
    );
    let csrf = finance.csrf().await;
    let (status, by_proxy) = finance
        .post(
            "/backoffice/transfers",
            &[("csrf", &csrf), ("proxy", "27821234567")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        by_proxy.contains(&format!("data-uetr=\"{uetr}\"")),
        "{by_proxy}"
    );
    assert_eq!(
        finance
            .post("/backoffice/transfers", &[("proxy", "27821234567")])
            .await
            .0,
        403,
        "a search by proxy is a form of ours"
    );

    // Then its page tells its story with the proxy and the payer masked.
    let (status, page) = finance.get(&format!("/backoffice/transfers/{uetr}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("MOBILE|shop|2782*****67"), "{page}");
    assert!(page.contains("data-event=\"CompletionReceived\""), "{page}");
    assert!(page.contains("49.99"), "{page}");
    for whole in [&by_uetr, &by_proxy, &page] {
        for number in ["27821234567", "0821234567"] {
            if let Some(at) = whole.find(number) {
                panic!(
                    "{number} shown: …{}…",
                    whole[at.saturating_sub(600)..at + 40].replace("\n", " ")
                );
            }
        }
    }
    assert_eq!(
        finance.get("/backoffice/transfers/no-such-uetr").await.0,
        404
    );
    server.stop().await;
}
