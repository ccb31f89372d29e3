//! The business day: which day a moment belongs to, and where a day begins and ends, given
//! a time zone and a cut-off. With cut-off `17:00`, a payment at 17:00 or later is booked
//! on the next day, as banks do; with `00:00`, business days are calendar days.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::BackofficeConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessCalendar {
    time_zone: Tz,
    cutoff: NaiveTime,
}

impl BusinessCalendar {
    pub fn new(time_zone: Tz, cutoff: NaiveTime) -> Self {
        Self { time_zone, cutoff }
    }

    /// The calendar `[backoffice]` describes; both of its problems at once if it has two.
    pub fn from_config(config: &BackofficeConfig) -> Result<Self, String> {
        let time_zone = config
            .time_zone
            .parse::<Tz>()
            .map_err(|_| format!("time_zone {:?} is not an IANA zone", config.time_zone));
        let cutoff = NaiveTime::parse_from_str(&config.cutoff, "%H:%M")
            .map_err(|_| format!("cutoff {:?} is not a time such as 17:00", config.cutoff));
        match (time_zone, cutoff) {
            (Ok(time_zone), Ok(cutoff)) => Ok(Self::new(time_zone, cutoff)),
            (Err(zone), Err(cutoff)) => Err(format!("{zone}; {cutoff}")),
            (Err(reason), _) | (_, Err(reason)) => Err(reason),
        }
    }

    /// The instant `day` closes (exclusive end of its window).
    pub fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let local_end = if self.cutoff == NaiveTime::MIN {
            day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN)
        } else {
            day.and_time(self.cutoff)
        };
        self.instant_of(local_end)
    }

    /// `[start, end)` of `day` in UTC.
    pub fn window(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let previous = day.pred_opt().unwrap_or(day);
        (self.end_of(previous), self.end_of(day))
    }

    /// The business day `instant` is booked on.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        let local = instant.with_timezone(&self.time_zone);
        let date = local.date_naive();
        if self.cutoff != NaiveTime::MIN && local.time() >= self.cutoff {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        }
    }

    /// A local time that falls in a daylight-saving gap does not exist; the first instant
    /// after the gap stands for it. In an overlap the earlier instant wins.
    fn instant_of(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(instant) = self.time_zone.from_local_datetime(&probe).earliest() {
                return instant.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(zone: &str, cutoff: &str) -> BusinessCalendar {
        BusinessCalendar::from_config(&BackofficeConfig {
            time_zone: zone.to_owned(),
            cutoff: cutoff.to_owned(),
            ..BackofficeConfig::default()
        })
        .unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn default_days_are_johannesburg_calendar_days() {
        let sast = calendar("Africa/Johannesburg", "00:00");
        let (start, end) = sast.window(day("2026-11-21"));
        assert_eq!(start, utc("2026-11-20T22:00:00Z"));
        assert_eq!(end, utc("2026-11-21T22:00:00Z"));
        assert_eq!(sast.day_of(utc("2026-11-20T22:00:00Z")), day("2026-11-21"));
        assert_eq!(sast.day_of(utc("2026-11-20T21:59:59Z")), day("2026-11-20"));
    }

    #[test]
    fn after_the_cutoff_is_the_next_day() {
        let banking = calendar("Africa/Johannesburg", "17:00");
        let (start, end) = banking.window(day("2026-11-21"));
        assert_eq!(start, utc("2026-11-20T15:00:00Z"));
        assert_eq!(end, utc("2026-11-21T15:00:00Z"));
        assert_eq!(
            banking.day_of(utc("2026-11-21T14:59:59Z")),
            day("2026-11-21")
        );
        assert_eq!(
            banking.day_of(utc("2026-11-21T15:00:00Z")),
            day("2026-11-22")
        );
    }

    #[test]
    fn every_instant_lies_in_the_window_of_its_day() {
        let zones = [
            ("Africa/Johannesburg", "00:00"),
            ("Europe/London", "01:30"),
            ("UTC", "23:00"),
        ];
        for (zone, cutoff) in zones {
            let calendar = calendar(zone, cutoff);
            let mut instant = utc("2026-03-27T00:00:00Z");
            while instant < utc("2026-04-02T00:00:00Z") {
                let (start, end) = calendar.window(calendar.day_of(instant));
                assert!(
                    start <= instant && instant < end,
                    "{zone} {cutoff} {instant}"
                );
                instant += Duration::minutes(17);
            }
        }
    }

    #[test]
    fn a_day_with_a_daylight_saving_change_is_shorter() {
        // London springs forward on 2026-03-29 at 01:00: its 01:30 cut-off does not exist
        // that day, so the day closes at 02:00 BST, half an hour before 01:30 GMT would.
        let london = calendar("Europe/London", "01:30");
        let (start, end) = london.window(day("2026-03-29"));
        assert_eq!(end - start, Duration::minutes(23 * 60 + 30));
    }

    #[test]
    fn nonsense_is_refused() {
        let bad_zone = BackofficeConfig {
            time_zone: "Mars/Olympus".to_owned(),
            ..BackofficeConfig::default()
        };
        assert!(BusinessCalendar::from_config(&bad_zone).is_err());
        let bad_cutoff = BackofficeConfig {
            cutoff: "25:00".to_owned(),
            ..BackofficeConfig::default()
        };
        assert!(BusinessCalendar::from_config(&bad_cutoff).is_err());
    }
}
