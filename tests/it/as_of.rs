//! Reports as of a past feed position, on both stores: what finance was shown, replayed from
//! the events after later ones (a late confirmation, another payment) have changed today's
//! view, is the same bytes, in every format, with the same position and moment.

use crate::common::qr::*;
use crate::common::*;

/// A report's body and the two headers that say what it describes.
struct Shown {
    body: String,
    position: String,
    as_of: String,
}

async fn show(base: &str, path: &str) -> Shown {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{path}: no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (position, as_of) = (
        header("x-qrswitch-feed-position"),
        header("x-qrswitch-as-of"),
    );
    Shown {
        body: response.text().await.unwrap(),
        position,
        as_of,
    }
}

fn with(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

on_both_backends!(
    a_past_report_is_reproduced_byte_for_byte,
    super::past_reports_are_reproduced
);

async fn past_reports_are_reproduced(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (config, sim) = approving_partner(&db).await;
    let switch = TestServer::start(config).await;
    let base = switch.base_url.clone();
    let qr = QrClient::new(&base);

    // Given two confirmed payments and one approved whose confirmation is still to come.
    confirmed_payment(&qr, &qr, 1_000).await;
    confirmed_payment(&qr, &qr, 2_000).await;
    let late = qr.create_qr(None).await["tranId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        qr.post("/scans", &scan_notification(&late, PARTNER))
            .await
            .0,
        202
    );
    let late_pay = payment_request(&late, 3_000);
    assert_eq!(qr.post("/payments", &late_pay).await.0, 201);
    // Their deliveries done: no event commits in the background while the reports are read,
    // so the moment a report states holds exactly the events it shows.
    for _ in 0..200 {
        let completed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recon_payments WHERE completed_at IS NOT NULL",
        )
        .fetch_one(switch.app().store.views().pool())
        .await
        .unwrap();
        if sim.acknowledged("confirmation") >= 2 && completed >= 2 {
            break;
        }
        switch.app().catch_up_all().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // When finance reads the day's reports.
    let day = switch.app().calendar.day_of(chrono::Utc::now()).to_string();
    let api = format!("/backoffice/api/days/{day}");
    let paths = [
        format!("{api}/report"),
        format!("{api}/report?format=csv&by=lane"),
        format!("{api}/settlement"),
        format!("{api}/settlement?format=csv&view=partners"),
        format!("{api}/exceptions"),
        format!("{api}/matching?format=csv"),
    ];
    let mut shown = Vec::new();
    for path in &paths {
        shown.push(show(&base, path).await);
    }

    // And later the POS confirms the late one, and another payment is made.
    let advice = confirmation_for(&late_pay);
    assert_eq!(qr.post("/payments/confirmations", &advice).await.0, 202);
    confirmed_payment(&qr, &qr, 4_000).await;
    let today = show(&base, &paths[2]).await;
    assert_ne!(today.body, shown[2].body, "today's settlement has changed");
    assert_ne!(today.position, shown[2].position);

    // Then each report, asked as of the position and moment it stated, is the same bytes.
    for (path, then) in paths.iter().zip(&shown) {
        let query = format!(
            "asOfPosition={}&asOf={}",
            then.position,
            urlencode(&then.as_of)
        );
        let again = show(&base, &with(path, &query)).await;
        assert_eq!(again.body, then.body, "{path} as of {}", then.position);
        assert_eq!(again.position, then.position);
        assert_eq!(again.as_of, then.as_of);
    }
    // As of the moment alone, the figures are those of the events committed by then.
    let by_time = show(
        &base,
        &with(&paths[0], &format!("asOf={}", urlencode(&shown[0].as_of))),
    )
    .await;
    assert_eq!(by_time.body, shown[0].body);
    figures!(
        "as-of reports ({backend:?}): {} reports reproduced as of {}; today's view at {}",
        paths.len(),
        shown[0].position,
        today.position
    );

    // A position that is not one is refused plainly, and nothing is read.
    let refused = reqwest::get(format!("{base}{}", with(&paths[0], "asOfPosition=12")))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("asOfPosition"));

    switch.stop().await;
    sim.stop().await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
