//! How values are written for people: China time, dates.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// China Standard Time, UTC+8, no daylight saving (the one clock's zone).
pub use guanai_domain::clock::china;

/// `2026-09-01 08:30` in China time.
pub fn china_time(at: &DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

/// The UTC instant at which a China-time date begins.
pub fn china_day_start(date: NaiveDate) -> DateTime<Utc> {
    china()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_shown_eight_hours_later() {
        let at = Utc.with_ymd_and_hms(2026, 8, 31, 16, 30, 0).unwrap();
        assert_eq!(china_time(&at), "2026-09-01 00:30");
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        assert_eq!(china_day_start(day), Utc.with_ymd_and_hms(2026, 8, 31, 16, 0, 0).unwrap());
    }
}
