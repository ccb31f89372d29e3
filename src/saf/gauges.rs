//! The queue as the pager sees it: `qrswitch_saf_depth` and `qrswitch_saf_oldest_age_seconds`
//! by partner. A count over the outbox, so the dispatcher runs it at most once a second.

use chrono::Utc;
use projections::ViewDb;

use super::queue;
use crate::config::Config;

/// Sets both gauges for every configured partner: a partner with nothing pending reads 0,
/// not the last value it had.
pub async fn update(db: &ViewDb, config: &Config) -> Result<(), sqlx::Error> {
    let pending = queue::depth_by_partner(db).await?;
    let now = Utc::now();
    for partner in &config.partners {
        let (depth, oldest) = pending
            .iter()
            .find(|(id, _, _)| *id == partner.id)
            .map_or((0, None), |(_, depth, oldest)| (*depth, oldest.as_deref()));
        let oldest_age = oldest
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0.0, |t| {
                (now - t.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0
            });
        let id = partner.id.clone();
        metrics::gauge!("qrswitch_saf_depth", "partner" => id.clone()).set(depth as f64);
        metrics::gauge!("qrswitch_saf_oldest_age_seconds", "partner" => id).set(oldest_age);
    }
    Ok(())
}
