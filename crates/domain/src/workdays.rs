//! The working-day calendar: Monday to Friday are working days, Saturday and Sunday are
//! not, except for the dated exceptions the city administrator enters each year from the
//! State Council's notice: holidays (放假, `休`) and make-up working days (调休上班, `班`, a
//! Saturday or Sunday worked in exchange). A calendar is a value parsed from a plain text
//! form, one date or one range of dates per line:
//!
//! ```text
//! # 2026年国庆节、中秋节
//! 2026-09-20 班 国庆节调休
//! 2026-10-01 至 2026-10-07 休 国庆节
//! 2026-10-10 班
//! ```
//!
//! Counting follows the civil law's rule for periods (民法典 art. 201): the day an event
//! happens is not counted, so "n working days after" a date is the n-th working day after
//! it, and the working days "between" two dates are those after the first up to and
//! including the second.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::identity::half_width;

/// What an exception makes of its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOff {
    /// 休: a holiday, no work (also allowed on a weekend, as the official notices list them).
    Holiday,
    /// 班: a make-up working day on a Saturday or Sunday.
    MakeUpWorkday,
}

impl DayOff {
    pub const fn mark(self) -> &'static str {
        match self {
            DayOff::Holiday => "休",
            DayOff::MakeUpWorkday => "班",
        }
    }
}

/// One dated exception with an optional note (国庆节 …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub kind: DayOff,
    pub note: String,
}

/// Why a calendar text cannot be read; each names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("第{line}行：“{text}”不是有效的日期，请写成 2026-10-01")]
    BadDate { line: usize, text: String },
    #[error("第{line}行：请在日期后写“休”（放假）或“班”（调休上班），例如“2026-10-01 休”")]
    NoMark { line: usize },
    #[error("第{line}行：“{mark}”不能识别，只能写“休”（放假）或“班”（调休上班）")]
    BadMark { line: usize, mark: String },
    #[error("第{line}行：{date}是工作日（周一至周五），不需要标为“班”；调休上班日只能是周六或周日")]
    WorkdayOnWeekday { line: usize, date: NaiveDate },
    #[error("第{line}行：日期范围的结束日{end}早于开始日{start}")]
    BackwardRange { line: usize, start: NaiveDate, end: NaiveDate },
    #[error("第{line}行：日期范围最多366天")]
    RangeTooLong { line: usize },
    #[error("第{line}行：{date}已在第{first}行填写过，同一天只能写一次")]
    Duplicate { line: usize, date: NaiveDate, first: usize },
}

/// The working-day calendar: weekends off, Monday–Friday on, with dated exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    exceptions: BTreeMap<NaiveDate, Exception>,
}

const MAX_RANGE_DAYS: i64 = 366;

impl WorkCalendar {
    /// Weekends only: no holidays entered.
    pub fn weekends_only() -> WorkCalendar {
        WorkCalendar::default()
    }

    /// Reads the text form (see the module doc). Blank lines and lines starting with `#`
    /// are skipped; full-width digits and spaces are accepted; a range is written
    /// `开始 至 结束` (or `~`); anything after the mark is the note. A date may appear once.
    pub fn parse(text: &str) -> Result<WorkCalendar, CalendarError> {
        let mut exceptions = BTreeMap::new();
        let mut first_line: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let normal: String = raw.chars().map(half_width).collect();
            let normal = normal.trim();
            if normal.is_empty() || normal.starts_with('#') {
                continue;
            }
            let (start, end, rest) = parse_dates(line, normal)?;
            let mut words = rest.split_whitespace();
            let kind = match words.next() {
                None => return Err(CalendarError::NoMark { line }),
                Some("休") => DayOff::Holiday,
                Some("班") => DayOff::MakeUpWorkday,
                Some(other) => return Err(CalendarError::BadMark { line, mark: other.to_owned() }),
            };
            let note = words.collect::<Vec<_>>().join(" ");
            for date in start.iter_days().take_while(|d| *d <= end) {
                if kind == DayOff::MakeUpWorkday && !is_weekend(date) {
                    return Err(CalendarError::WorkdayOnWeekday { line, date });
                }
                if let Some(first) = first_line.insert(date, line) {
                    return Err(CalendarError::Duplicate { line, date, first });
                }
                exceptions.insert(date, Exception { kind, note: note.clone() });
            }
        }
        Ok(WorkCalendar { exceptions })
    }

    /// The exceptions, by date.
    pub fn exceptions(&self) -> impl Iterator<Item = (NaiveDate, &Exception)> {
        self.exceptions.iter().map(|(d, e)| (*d, e))
    }

    /// Whether any exception is entered for `year`: a year without any is most likely one
    /// the city has not entered yet (every year has holidays), which a page should say.
    pub fn has_year(&self, year: i32) -> bool {
        let (Some(first), Some(last)) =
            (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return false;
        };
        self.exceptions.range(first..=last).next().is_some()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date).map(|e| e.kind) {
            Some(DayOff::Holiday) => false,
            Some(DayOff::MakeUpWorkday) => true,
            None => !is_weekend(date),
        }
    }

    /// `date` if it is a working day, else the next one; `None` past the end of time.
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        date.iter_days().find(|d| self.is_working_day(*d))
    }

    /// The `n`-th working day after `date` (`date` itself not counted); `date` for 0.
    /// `None` only past the end of chrono's dates.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut at = date;
        for _ in 0..n {
            at = self.working_day_on_or_after(at.succ_opt()?)?;
        }
        Some(at)
    }

    /// The working days after `from` up to and including `to`; 0 when `to` is not after
    /// `from`. So `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let Some(first) = from.succ_opt() else { return 0 };
        let count = first.iter_days().take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// The text form, consecutive days with the same mark and note written as one range; it
/// parses back to the same calendar.
impl fmt::Display for WorkCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut days = self.exceptions.iter().peekable();
        while let Some((&start, exception)) = days.next() {
            let mut end = start;
            while let Some((&next, e)) = days.peek() {
                if Some(next) != end.succ_opt() || *e != exception {
                    break;
                }
                end = next;
                days.next();
            }
            let dates = if end == start { start.to_string() } else { format!("{start} 至 {end}") };
            let note = if exception.note.is_empty() { String::new() } else { format!(" {}", exception.note) };
            writeln!(f, "{dates} {}{note}", exception.kind.mark())?;
        }
        Ok(())
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The date or range at the start of a line, and what follows it.
fn parse_dates(line: usize, text: &str) -> Result<(NaiveDate, NaiveDate, &str), CalendarError> {
    let date_at = |raw: &str| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| CalendarError::BadDate { line, text: raw.to_owned() })
    };
    let (first, rest) = split_word(text);
    let start = date_at(first)?;
    let (separator, after) = split_word(rest);
    if !matches!(separator, "至" | "~" | "-" | "到") {
        return Ok((start, start, rest));
    }
    let (second, rest) = split_word(after);
    let end = date_at(second)?;
    if end < start {
        return Err(CalendarError::BackwardRange { line, start, end });
    }
    if (end - start).num_days() >= MAX_RANGE_DAYS {
        return Err(CalendarError::RangeTooLong { line });
    }
    Ok((start, end, rest))
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    }
}

/// The State Council's holiday notice for 2026 (国务院办公厅关于2026年部分节假日安排的通知,
/// 国办发明电〔2025〕, 4 November 2025) in the text form: the real schedule, for tests and
/// the demo. It is an example of what the city enters, not a built-in calendar.
pub const NOTICE_2026: &str = "\
# 国务院办公厅关于2026年部分节假日安排的通知
2026-01-01 至 2026-01-03 休 元旦
2026-01-04 班 元旦调休
2026-02-14 班 春节调休
2026-02-15 至 2026-02-23 休 春节
2026-02-28 班 春节调休
2026-04-04 至 2026-04-06 休 清明节
2026-05-01 至 2026-05-05 休 劳动节
2026-05-09 班 劳动节调休
2026-06-19 至 2026-06-21 休 端午节
2026-09-20 班 国庆节调休
2026-09-25 至 2026-09-27 休 中秋节
2026-10-01 至 2026-10-07 休 国庆节
2026-10-10 班 国庆节调休
";

/// [`NOTICE_2026`] read, for tests.
#[cfg(test)]
pub(crate) fn notice_2026() -> WorkCalendar {
    WorkCalendar::parse(NOTICE_2026).expect("the 2026 notice parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekends_are_off_unless_made_up_and_holidays_are_off() {
        let plain = WorkCalendar::weekends_only();
        assert!(plain.is_working_day(date(2026, 10, 1)), "a Thursday, without the notice");
        assert!(!plain.is_working_day(date(2026, 10, 10)), "a Saturday");
        let cal = notice_2026();
        assert!(!cal.is_working_day(date(2026, 10, 1)));
        assert!(!cal.is_working_day(date(2026, 10, 7)));
        assert!(cal.is_working_day(date(2026, 10, 8)));
        assert!(cal.is_working_day(date(2026, 10, 10)), "调休: a Saturday worked");
        assert!(!cal.is_working_day(date(2026, 10, 11)), "the Sunday after stays off");
        assert!(cal.is_working_day(date(2026, 9, 20)), "调休: a Sunday worked");
        assert!(!cal.is_working_day(date(2026, 9, 25)), "中秋节, a Friday");
        assert!(cal.has_year(2026));
        assert!(!cal.has_year(2027));
    }

    #[test]
    fn adds_working_days_across_the_national_day_week_of_2026() {
        let cal = notice_2026();
        // Wednesday 30 September: the next working day is Thursday 8 October.
        assert_eq!(cal.add_working_days(date(2026, 9, 30), 1), Some(date(2026, 10, 8)));
        // 8 Thu, 9 Fri, 10 Sat (调休), then Monday 12.
        assert_eq!(cal.add_working_days(date(2026, 9, 30), 3), Some(date(2026, 10, 10)));
        assert_eq!(cal.add_working_days(date(2026, 9, 30), 4), Some(date(2026, 10, 12)));
        // Friday 18 September: Sunday 20 is worked, Monday 21 is the second.
        assert_eq!(cal.add_working_days(date(2026, 9, 18), 1), Some(date(2026, 9, 20)));
        assert_eq!(cal.add_working_days(date(2026, 9, 18), 2), Some(date(2026, 9, 21)));
        // From a holiday, the counting starts after it.
        assert_eq!(cal.add_working_days(date(2026, 10, 3), 1), Some(date(2026, 10, 8)));
        assert_eq!(cal.add_working_days(date(2026, 10, 3), 0), Some(date(2026, 10, 3)));
        // 24 Sep (Thu) → 28 Mon, 29 Tue, 30 Wed, 8 Thu, 9 Fri: five working days.
        assert_eq!(cal.add_working_days(date(2026, 9, 24), 5), Some(date(2026, 10, 9)));
        assert_eq!(cal.working_days_between(date(2026, 9, 24), date(2026, 10, 9)), 5);
        assert_eq!(cal.working_days_between(date(2026, 9, 30), date(2026, 10, 7)), 0);
        assert_eq!(cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)), 3);
        assert_eq!(cal.working_days_between(date(2026, 10, 10), date(2026, 9, 30)), 0);
        // The whole of October 2026: 22 weekdays, 5 of them holidays, plus one Saturday.
        assert_eq!(cal.working_days_between(date(2026, 9, 30), date(2026, 10, 31)), 18);
        assert_eq!(cal.working_day_on_or_after(date(2026, 10, 1)), Some(date(2026, 10, 8)));
        assert_eq!(cal.working_day_on_or_after(date(2026, 10, 8)), Some(date(2026, 10, 8)));
    }

    #[test]
    fn reads_what_an_administrator_writes() {
        let cal = WorkCalendar::parse(
            "\n# 注释\n２０２６－１０－１０　班\n2026-10-01 ~ 2026-10-02 休 国庆节 假期\n 2026-10-03 到 2026-10-03 休\n",
        )
        .unwrap();
        let listed: Vec<_> = cal.exceptions().map(|(d, e)| (d, e.kind, e.note.clone())).collect();
        assert_eq!(
            listed,
            [
                (date(2026, 10, 1), DayOff::Holiday, "国庆节 假期".to_owned()),
                (date(2026, 10, 2), DayOff::Holiday, "国庆节 假期".to_owned()),
                (date(2026, 10, 3), DayOff::Holiday, String::new()),
                (date(2026, 10, 10), DayOff::MakeUpWorkday, String::new()),
            ]
        );
        assert_eq!(
            cal.to_string(),
            "2026-10-01 至 2026-10-02 休 国庆节 假期\n2026-10-03 休\n2026-10-10 班\n"
        );
        assert_eq!(WorkCalendar::parse(&cal.to_string()), Ok(cal));
        assert_eq!(WorkCalendar::parse(&notice_2026().to_string()), Ok(notice_2026()));
        assert_eq!(WorkCalendar::parse(""), Ok(WorkCalendar::weekends_only()));
    }

    #[test]
    fn refuses_what_is_not_a_calendar_line_and_names_the_line() {
        let cases = [
            ("2026-13-01 休", "第1行：“2026-13-01”不是有效的日期，请写成 2026-10-01"),
            ("2026-10-01", "第1行：请在日期后写“休”（放假）或“班”（调休上班），例如“2026-10-01 休”"),
            ("2026-10-01 假", "第1行：“假”不能识别，只能写“休”（放假）或“班”（调休上班）"),
            (
                "2026-10-01 休\n2026-10-09 班",
                "第2行：2026-10-09是工作日（周一至周五），不需要标为“班”；调休上班日只能是周六或周日",
            ),
            ("2026-10-07 至 2026-10-01 休", "第1行：日期范围的结束日2026-10-01早于开始日2026-10-07"),
            ("2026-10-01 至 十月七日 休", "第1行：“十月七日”不是有效的日期，请写成 2026-10-01"),
            ("2026-01-01 至 2027-01-02 休", "第1行：日期范围最多366天"),
            (
                "2026-10-01 至 2026-10-07 休\n\n2026-10-03 休",
                "第3行：2026-10-03已在第1行填写过，同一天只能写一次",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(WorkCalendar::parse(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn adding_then_counting_gives_back_n(offset in 0i64..1200, n in 0u32..60) {
                let cal = notice_2026();
                let from = date(2025, 6, 1) + chrono::Duration::days(offset);
                let to = cal.add_working_days(from, n).unwrap();
                prop_assert_eq!(cal.working_days_between(from, to), n);
                prop_assert!(n == 0 || cal.is_working_day(to));
                prop_assert!(to >= from);
            }

            #[test]
            fn parsing_never_panics(text in "[0-9\\-至休班 \n#]{0,60}") {
                let _ = WorkCalendar::parse(&text);
            }
        }
    }
}
