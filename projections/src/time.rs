//! Times in views are text so that one schema serves PostgreSQL and SQLite alike.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 in UTC with microseconds and a `Z`: fixed width, so text order is time order.
pub fn to_view_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn view_text_sorts_like_time() {
        let earlier = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let later = earlier + chrono::Duration::microseconds(1);
        assert!(to_view_text(earlier) < to_view_text(later));
        assert_eq!(to_view_text(earlier), "2026-01-02T03:04:05.000000Z");
    }
}
