//! One day's recon with Electrum: our mark-off (every completion received whose
//! `originalMessageIdentifiers.creationDateTime` falls on the day, 00h00–23h59 in the back
//! office's time zone, successful or not, once each) uploaded under the transaction date;
//! then each of Electrum's files for the day (its extract, its MATCHED and UNMATCHED
//! reports) compared with our ledger. Each is recorded by its contents' hash on the day's
//! `ElectrumRecon` aggregate, so that running again uploads and records nothing new.

use aggregates::electrum_recon::{
    Difference, DifferenceKind, ElectrumRecon, ReconCommand, ReconLine,
};
use aggregates::payshap_transfer::{PayShapCommand, PayShapTransfer};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use projections::payshap_transfers::{self, TransferRow};
use projections::time::to_view_text;

use super::bucket::Bucket;
use super::{compare, files};
use crate::commands::{CommandBus, CommandMetadata};
use crate::config::{Config, ElectrumReconConfig};
use crate::payshap::service::PayShapService;
use crate::store::Store;
use crate::views::{Projectors, CATCH_UP_LIMIT_MS};

/// What one run did.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Our mark-off's name, and whether it was uploaded now (false: the same was before).
    pub mark_off: String,
    pub uploaded: bool,
    pub rows: u32,
    /// Electrum's files compared now (those compared before are skipped).
    pub compared: Vec<String>,
    pub matched: u32,
    #[schema(value_type = Vec<Object>)]
    pub differences: Vec<Difference>,
}

/// What a run needs: the settings, the ledger, and the day's recon stream.
pub struct Recon<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub recons: &'a CommandBus<ElectrumRecon>,
    pub transfers: &'a CommandBus<PayShapTransfer>,
    pub projectors: &'a Projectors,
}

impl<'a> From<&'a PayShapService> for Recon<'a> {
    fn from(payshap: &'a PayShapService) -> Self {
        Self {
            config: &payshap.config,
            store: &payshap.store,
            recons: &payshap.recons,
            transfers: &payshap.transfers,
            projectors: &payshap.projectors,
        }
    }
}

fn settings(config: &Config) -> anyhow::Result<(&ElectrumReconConfig, Tz)> {
    let recon = config.payshap.recon.as_ref().ok_or_else(|| {
        anyhow::anyhow!("recon with Electrum is not configured ([payshap.recon])")
    })?;
    let zone = config
        .backoffice
        .time_zone
        .parse::<Tz>()
        .map_err(|_| anyhow::anyhow!("backoffice.time_zone is not an IANA zone"))?;
    Ok((recon, zone))
}

impl Recon<'_> {
    pub async fn run(&self, day: NaiveDate, metadata: &CommandMetadata) -> anyhow::Result<Summary> {
        let (settings, zone) = settings(self.config)?;
        let bucket = Bucket::open(settings)?;
        // Every completion received before the run is in the mark-off.
        if let Some(view) = self.projectors.get(payshap_transfers::NAME) {
            view.catch_up_to_head(std::time::Duration::from_millis(CATCH_UP_LIMIT_MS))
                .await?;
        }
        let ours = self.our_lines(day, zone).await?;
        let bytes = files::write(&ours)?;
        let sha256 = crate::digest::sha256_hex(&bytes);
        let day_id = day.to_string();
        let recon = self.recons.load(&day_id).await?;
        let local = |t: DateTime<Utc>| t.with_timezone(&zone).naive_local();
        let period_end = day.and_hms_opt(23, 59, 59).unwrap_or_default();
        let name = files::file_name(
            &settings.entity,
            "EXTRACT",
            &settings.report_name,
            period_end,
            local(Utc::now()),
        );
        let mut summary = Summary {
            rows: u32::try_from(ours.len()).unwrap_or(u32::MAX),
            ..Summary::default()
        };
        if recon.has_uploaded(&sha256) {
            summary.mark_off = "unchanged: uploaded before".to_owned();
        } else {
            bucket
                .put(
                    &format!("{}{name}", files::mark_offs(&settings.client_folder, day)),
                    bytes,
                )
                .await?;
            let command = ReconCommand::RecordMarkOff {
                file: name.clone(),
                sha256,
                rows: summary.rows,
                at: Utc::now(),
            };
            self.recons.execute(&day_id, command, metadata).await?;
            (summary.mark_off, summary.uploaded) = (name, true);
        }
        for (name, bytes) in electrum_files(&bucket, settings, day).await? {
            let sha256 = crate::digest::sha256_hex(&bytes);
            if recon.has_compared(&sha256) {
                continue;
            }
            let (matched, differences) = judge(&name, &bytes, settings, &ours)?;
            self.flag(&day_id, &differences, metadata).await?;
            summary.matched += matched;
            summary.differences.extend(differences.iter().cloned());
            let command = ReconCommand::RecordComparison {
                file: name.clone(),
                sha256,
                matched,
                differences,
                at: Utc::now(),
            };
            self.recons.execute(&day_id, command, metadata).await?;
            summary.compared.push(name);
        }
        Ok(summary)
    }

    /// Each difference about a transfer we hold makes it a case to work (apply, attribute,
    /// return, close); one missing at us is credited through four eyes instead.
    async fn flag(
        &self,
        day: &str,
        differences: &[Difference],
        metadata: &CommandMetadata,
    ) -> anyhow::Result<()> {
        for difference in differences.iter().filter(|d| d.ours.is_some()) {
            let kind = serde_json::to_value(difference.kind)?;
            let command = PayShapCommand::FlagFromRecon {
                day: day.to_owned(),
                difference: kind.as_str().unwrap_or_default().to_owned(),
                at: Utc::now(),
            };
            self.transfers
                .execute(&difference.uetr, command, metadata)
                .await?;
        }
        Ok(())
    }

    /// Every completion whose transaction date is `day`, once, from the ledger.
    async fn our_lines(&self, day: NaiveDate, zone: Tz) -> anyhow::Result<Vec<ReconLine>> {
        let start = zone
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow::anyhow!("{day} has no midnight in {zone}"))?;
        let end = start + Duration::days(1);
        // Received up to two days after it was created (redeliveries, outages).
        let mut conn = self.store.views().pool().acquire().await?;
        let rows = payshap_transfers::received_between(
            &mut conn,
            &to_view_text(start - Duration::days(1)),
            &to_view_text(end + Duration::days(2)),
        )
        .await?;
        let mut lines: Vec<ReconLine> = rows
            .iter()
            .filter(|row| created_at(row).is_some_and(|t| t >= start && t < end))
            // Received from the scheme: one credited from Electrum's own extract is theirs.
            .filter(|row| {
                !row.first_message_id
                    .as_deref()
                    .is_some_and(|m| m.starts_with("recon-"))
            })
            .map(line_of)
            .collect();
        lines.sort_by(|a, b| (&a.created_at, &a.uetr).cmp(&(&b.created_at, &b.uetr)));
        Ok(lines)
    }
}

fn created_at(row: &TransferRow) -> Option<DateTime<Utc>> {
    let text = row
        .original_created_at
        .as_deref()
        .unwrap_or(&row.first_received_at);
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn line_of(row: &TransferRow) -> ReconLine {
    ReconLine {
        uetr: row.uetr.clone(),
        end_to_end_id: row.end_to_end_id.clone().unwrap_or_default(),
        created_at: row
            .original_created_at
            .clone()
            .unwrap_or_else(|| row.first_received_at.clone()),
        status: row.outcome.clone(),
        amount_minor: row.amount_minor,
        // ZA RPP carries rand only.
        currency: "ZAR".to_owned(),
        creditor: row
            .proxy_id
            .clone()
            .or_else(|| row.tran_id.clone())
            .unwrap_or_default(),
    }
}

/// Electrum's files for `day`: its extracts beside our mark-offs, and its reports.
async fn electrum_files(
    bucket: &Bucket,
    settings: &ElectrumReconConfig,
    day: NaiveDate,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut found = Vec::new();
    for folder in [
        files::mark_offs(&settings.client_folder, day),
        files::reports(&settings.client_folder, day),
    ] {
        for (name, bytes) in bucket.files(&folder).await? {
            let ours = files::parse_name(&name, &settings.entity)
                .is_some_and(|(kind, report)| kind == "EXTRACT" && report == settings.report_name);
            if !ours && files::parse_name(&name, &settings.entity).is_some() {
                found.push((name, bytes));
            }
        }
    }
    Ok(found)
}

/// What one of Electrum's files says against `ours`.
fn judge(
    name: &str,
    bytes: &[u8],
    settings: &ElectrumReconConfig,
    ours: &[ReconLine],
) -> anyhow::Result<(u32, Vec<Difference>)> {
    let theirs = files::read(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let kind = files::parse_name(name, &settings.entity).map(|(kind, _)| kind);
    Ok(match kind {
        Some("MATCHED") => (u32::try_from(theirs.len()).unwrap_or(u32::MAX), Vec::new()),
        Some("UNMATCHED") => {
            let differences = theirs
                .into_iter()
                .map(|line| Difference {
                    kind: DifferenceKind::UnmatchedAtElectrum,
                    uetr: line.uetr.clone(),
                    ours: ours.iter().find(|o| o.uetr == line.uetr).cloned(),
                    theirs: Some(line),
                })
                .collect();
            (0, differences)
        }
        _ => compare::compare(ours, &theirs),
    })
}
