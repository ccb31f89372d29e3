//! Electrum's lines against ours, by UETR: the same amount and status is a match; anything
//! else a difference of its kind.

use std::collections::BTreeMap;

use aggregates::electrum_recon::{Difference, DifferenceKind, ReconLine};

/// How many lines matched, and every difference, in UETR order.
pub fn compare(ours: &[ReconLine], theirs: &[ReconLine]) -> (u32, Vec<Difference>) {
    let ours: BTreeMap<&str, &ReconLine> = ours.iter().map(|l| (l.uetr.as_str(), l)).collect();
    let theirs: BTreeMap<&str, &ReconLine> = theirs.iter().map(|l| (l.uetr.as_str(), l)).collect();
    let mut matched = 0;
    let mut differences = Vec::new();
    let mut differ = |kind, uetr: &str, ours: Option<&ReconLine>, theirs: Option<&ReconLine>| {
        differences.push(Difference {
            kind,
            uetr: uetr.to_owned(),
            ours: ours.cloned(),
            theirs: theirs.cloned(),
        });
    };
    let uetrs: std::collections::BTreeSet<&str> =
        ours.keys().chain(theirs.keys()).copied().collect();
    for uetr in uetrs {
        match (ours.get(uetr).copied(), theirs.get(uetr).copied()) {
            (Some(a), Some(b)) if a.amount_minor != b.amount_minor => {
                differ(DifferenceKind::AmountDiffers, uetr, Some(a), Some(b))
            }
            (Some(a), Some(b)) if !a.status.eq_ignore_ascii_case(&b.status) => {
                differ(DifferenceKind::StatusDiffers, uetr, Some(a), Some(b))
            }
            (Some(_), Some(_)) => matched += 1,
            (Some(a), None) => differ(DifferenceKind::MissingAtElectrum, uetr, Some(a), None),
            (None, Some(b)) => differ(DifferenceKind::MissingAtSwitch, uetr, None, Some(b)),
            (None, None) => {}
        }
    }
    (matched, differences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(uetr: &str, cents: i64, status: &str) -> ReconLine {
        ReconLine {
            uetr: uetr.into(),
            end_to_end_id: "e".into(),
            created_at: "2026-12-07T10:00:00+02:00".into(),
            status: status.into(),
            amount_minor: cents,
            currency: "ZAR".into(),
            creditor: "MOBILE|shop|27821234567".into(),
        }
    }

    #[test]
    fn each_kind_of_difference_is_found() {
        let ours = [
            line("a", 100, "APPROVED"),
            line("b", 100, "APPROVED"),
            line("c", 100, "APPROVED"),
            line("d", 5, "APPROVED"),
        ];
        let theirs = [
            line("a", 100, "APPROVED"),
            line("b", 150, "APPROVED"),
            line("c", 100, "REJECTED"),
            line("e", 7, "APPROVED"),
        ];
        let (matched, found) = compare(&ours, &theirs);
        assert_eq!(matched, 1);
        let kinds: Vec<_> = found.iter().map(|d| (d.uetr.as_str(), d.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("b", DifferenceKind::AmountDiffers),
                ("c", DifferenceKind::StatusDiffers),
                ("d", DifferenceKind::MissingAtElectrum),
                ("e", DifferenceKind::MissingAtSwitch),
            ]
        );
    }
}
