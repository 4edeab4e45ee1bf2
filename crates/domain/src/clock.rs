//! The one clock. Policy dates, ages and "not in the future" checks are China dates
//! (Asia/Shanghai, UTC+8 all year: China has no daylight saving time); timestamps are UTC.
//! Every layer asks a [`Clock`] value for both, never the system on its own, so a test or
//! the demo can fix the time. A clock is a value held by its owner (the store), not a
//! global: two instances in one process keep their own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// China Standard Time, UTC+8.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The date in China at the instant `at`.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// The system's time, or a fixed time that its owner may move (tests, the demo's history).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds since the epoch when fixed; shared by the copies of one clock, so moving
    /// it moves every copy (and no other clock).
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock standing at `at` until it is [`set`](Clock::set).
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(Arc::new(AtomicI64::new(at.timestamp_millis()))) }
    }

    /// A clock standing at `hour:minute` China time on `date`.
    pub fn fixed_in_china(date: NaiveDate, hour: u32, minute: u32) -> Clock {
        let local = date.and_hms_opt(hour, minute, 0).expect("a valid time of day");
        let at = china().from_local_datetime(&local).single().expect("UTC+8 has no gaps");
        Clock::fixed(at.with_timezone(&Utc))
    }

    /// Moves a fixed clock (and its copies) to `at`; a system clock ignores it and says so.
    pub fn set(&self, at: DateTime<Utc>) -> bool {
        match &self.fixed {
            Some(millis) => {
                millis.store(at.timestamp_millis(), Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    /// Now, in UTC.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(millis) => {
                DateTime::from_timestamp_millis(millis.load(Ordering::Relaxed)).unwrap_or_else(Utc::now)
            }
            None => Utc::now(),
        }
    }

    /// Today's date in China.
    pub fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn today_is_the_date_in_china() {
        // 07:30 in China is 23:30 UTC the day before.
        let clock = Clock::fixed_in_china(date(2026, 12, 1), 7, 30);
        assert_eq!(clock.now().date_naive(), date(2026, 11, 30));
        assert_eq!(clock.today(), date(2026, 12, 1));
        let late = Clock::fixed_in_china(date(2026, 12, 1), 23, 59);
        assert_eq!(late.today(), date(2026, 12, 1));
        assert_eq!(late.now().date_naive(), date(2026, 12, 1));
    }

    #[test]
    fn a_fixed_clock_moves_with_its_copies_only() {
        let a = Clock::fixed_in_china(date(2021, 8, 15), 9, 0);
        let copy = a.clone();
        let b = Clock::fixed_in_china(date(2021, 8, 15), 9, 0);
        assert!(a.set(Clock::fixed_in_china(date(2022, 8, 15), 9, 0).now()));
        assert_eq!(copy.today(), date(2022, 8, 15));
        assert_eq!(b.today(), date(2021, 8, 15));
        assert!(!Clock::system().set(a.now()));
        assert!(!Clock::system().is_fixed());
    }
}
