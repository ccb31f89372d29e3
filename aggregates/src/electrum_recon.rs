//! The `ElectrumRecon` aggregate: one day's reconciliation with Electrum's files, keyed by
//! the transaction date. It records the mark-off file we uploaded and each of Electrum's
//! files we compared with our ledger, by content hash, so that running recon again with
//! the same files records nothing new; and the differences found, each an exception until
//! it is worked (a completion missing at us is credited through four eyes).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// One completion as a recon file lists it (ours and Electrum's use the same columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconLine {
    pub uetr: String,
    pub end_to_end_id: String,
    /// `originalMessageIdentifiers.creationDateTime`: the transaction date.
    pub created_at: String,
    /// APPROVED, REJECTED, CANCELLED or PENDING.
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The proxy or account credited ([`crate::values::ProxyKey::id`]).
    pub creditor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DifferenceKind {
    /// In Electrum's extract, not in our ledger: a completion we never received.
    MissingAtSwitch,
    /// In our ledger, not in Electrum's extract.
    MissingAtElectrum,
    AmountDiffers,
    StatusDiffers,
    /// Electrum's UNMATCHED report lists it.
    UnmatchedAtElectrum,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub uetr: String,
    pub ours: Option<ReconLine>,
    pub theirs: Option<ReconLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReconCommand {
    RecordMarkOff {
        file: String,
        sha256: String,
        rows: u32,
        at: DateTime<Utc>,
    },
    RecordComparison {
        file: String,
        sha256: String,
        matched: u32,
        differences: Vec<Difference>,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReconEvent {
    MarkOffUploaded {
        file: String,
        sha256: String,
        rows: u32,
        uploaded_at: DateTime<Utc>,
    },
    ElectrumFileCompared {
        file: String,
        sha256: String,
        matched: u32,
        differences: Vec<Difference>,
        compared_at: DateTime<Utc>,
    },
}

impl DomainEvent for ReconEvent {
    fn event_type(&self) -> String {
        match self {
            ReconEvent::MarkOffUploaded { .. } => "MarkOffUploaded",
            ReconEvent::ElectrumFileCompared { .. } => "ElectrumFileCompared",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconError {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElectrumRecon {
    uploaded: BTreeSet<String>,
    compared: BTreeSet<String>,
    differences: BTreeMap<String, Difference>,
}

impl ElectrumRecon {
    /// Whether a mark-off with these contents was uploaded already.
    pub fn has_uploaded(&self, sha256: &str) -> bool {
        self.uploaded.contains(sha256)
    }

    pub fn has_compared(&self, sha256: &str) -> bool {
        self.compared.contains(sha256)
    }

    /// The differences found, by UETR (the latest comparison's word on each).
    pub fn differences(&self) -> &BTreeMap<String, Difference> {
        &self.differences
    }
}

impl Aggregate for ElectrumRecon {
    const TYPE: &'static str = "ElectrumRecon";
    type Command = ReconCommand;
    type Event = ReconEvent;
    type Error = ReconError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ReconCommand::RecordMarkOff { sha256, .. } if self.has_uploaded(&sha256) => None,
            ReconCommand::RecordMarkOff {
                file,
                sha256,
                rows,
                at,
            } => Some(ReconEvent::MarkOffUploaded {
                file,
                sha256,
                rows,
                uploaded_at: at,
            }),
            ReconCommand::RecordComparison { sha256, .. } if self.has_compared(&sha256) => None,
            ReconCommand::RecordComparison {
                file,
                sha256,
                matched,
                differences,
                at,
            } => Some(ReconEvent::ElectrumFileCompared {
                file,
                sha256,
                matched,
                differences,
                compared_at: at,
            }),
        };
        if let Some(event) = event {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ReconEvent::MarkOffUploaded { sha256, .. } => {
                self.uploaded.insert(sha256);
            }
            ReconEvent::ElectrumFileCompared {
                sha256,
                differences,
                ..
            } => {
                self.compared.insert(sha256);
                for difference in differences {
                    self.differences.insert(difference.uetr.clone(), difference);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 2, 0, 0).unwrap()
    }

    fn compared() -> ReconEvent {
        ReconEvent::ElectrumFileCompared {
            file: "E_EXTRACT_RPP_DAILY_20261207235959_20261208010000.csv".into(),
            sha256: "abc".into(),
            matched: 3,
            differences: vec![],
            compared_at: at(),
        }
    }

    #[test]
    fn given_a_file_compared_when_the_same_file_comes_again_then_nothing_is_recorded() {
        TestFramework::<ElectrumRecon>::with(())
            .given(vec![compared()])
            .when(ReconCommand::RecordComparison {
                file: "again.csv".into(),
                sha256: "abc".into(),
                matched: 3,
                differences: vec![],
                at: at(),
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn given_nothing_when_a_mark_off_is_uploaded_then_it_is_recorded_once() {
        let uploaded = ReconEvent::MarkOffUploaded {
            file: "m.csv".into(),
            sha256: "def".into(),
            rows: 2,
            uploaded_at: at(),
        };
        let command = || ReconCommand::RecordMarkOff {
            file: "m.csv".into(),
            sha256: "def".into(),
            rows: 2,
            at: at(),
        };
        TestFramework::<ElectrumRecon>::with(())
            .given_no_previous_events()
            .when(command())
            .then_expect_events(vec![uploaded.clone()]);
        TestFramework::<ElectrumRecon>::with(())
            .given(vec![uploaded])
            .when(command())
            .then_expect_events(vec![]);
    }
}
