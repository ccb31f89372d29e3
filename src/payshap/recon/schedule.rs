//! The daily recon in `serve`: once the configured local time has passed, the day before is
//! reconciled (again after a restart: a run that finds nothing new records nothing); with
//! `run_at = "off"` only by hand.

use std::time::Duration;

use chrono::Utc;
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::run::Recon;
use crate::payshap::service::PayShapService;

/// How often the clock is looked at.
const TICK: Duration = Duration::from_secs(60);

pub async fn run(payshap: PayShapService, cancel: CancellationToken) {
    let Some(settings) = payshap.config.payshap.recon.clone() else {
        return;
    };
    let (Ok(zone), Ok(at)) = (
        payshap.config.backoffice.time_zone.parse::<Tz>(),
        settings.daily_at(),
    ) else {
        tracing::error!(
            run_at = settings.run_at,
            "recon with Electrum not scheduled: bad time or zone"
        );
        return;
    };
    let Some(at) = at else {
        tracing::info!("recon with Electrum runs only by hand (run_at = off)");
        return;
    };
    let mut done = None;
    loop {
        let now = Utc::now().with_timezone(&zone);
        let yesterday = now.date_naive().pred_opt();
        if now.time() >= at && done != yesterday {
            if let Some(day) = yesterday {
                let recon = Recon::from(&payshap);
                let metadata = crate::routing::system_metadata();
                match recon.run(day, &metadata).await {
                    Ok(summary) => {
                        tracing::info!(%day, differences = summary.differences.len(), "recon with Electrum done");
                        done = yesterday;
                    }
                    Err(error) => {
                        tracing::error!(%day, %error, "recon with Electrum failed; tried again")
                    }
                }
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}
