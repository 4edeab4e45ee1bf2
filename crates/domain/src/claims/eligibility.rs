//! Whether a report (报案) may become a claim: each check refuses with its rule named, in
//! Chinese. Pure functions over plain inputs; the caller reads the policy and the person.

use chrono::{Days, Months, NaiveDate};

use crate::products::prose_date;
use crate::workdays::WorkCalendar;

use super::clocks::period_end;

/// Why a report is refused; each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRuleError {
    #[error("出险日期{incident}晚于报案日期{reported}，请核对出险日期（出险日期规则）")]
    IncidentAfterReport { incident: String, reported: String },
    #[error("出险日期{incident}不在保单的保险期间（{start}零时起至{end}二十四时止）内，不属于保险责任（保险期间规则）")]
    OutsideCover { incident: String, start: String, end: String },
    #[error("{person}不是本保单的被保险人，不能为其报案（被保险人规则）")]
    NotInsured { person: String },
    #[error(
        "《{cover}》有{days}天等待期，自{from}起才承担保险责任，出险日期{incident}在等待期内（等待期规则）"
    )]
    InWaitingPeriod { cover: String, days: u32, from: String, incident: String },
    #[error("已超过《保险法》第二十六条规定的二年索赔时效：出险日期{incident}，最迟应于{last_day}报案，报案日期为{reported}")]
    TimeBarred { incident: String, last_day: String, reported: String },
}

impl ClaimRuleError {
    /// The rule's name, for lists and reports.
    pub const fn rule(&self) -> &'static str {
        match self {
            ClaimRuleError::IncidentAfterReport { .. } => "出险日期",
            ClaimRuleError::OutsideCover { .. } => "保险期间",
            ClaimRuleError::NotInsured { .. } => "被保险人",
            ClaimRuleError::InWaitingPeriod { .. } => "等待期",
            ClaimRuleError::TimeBarred { .. } => "二年索赔时效（保险法第二十六条）",
        }
    }
}

/// The incident happened within the policy's cover, `start` 00:00 to `end` 24:00: both
/// days included.
pub fn check_in_cover(incident: NaiveDate, start: NaiveDate, end: NaiveDate) -> Result<(), ClaimRuleError> {
    if (start..=end).contains(&incident) {
        Ok(())
    } else {
        Err(ClaimRuleError::OutsideCover {
            incident: prose_date(incident),
            start: prose_date(start),
            end: prose_date(end),
        })
    }
}

/// `person` is one of the policy's insured persons.
pub fn check_insured<T: PartialEq>(person: &T, name: &str, insured: &[T]) -> Result<(), ClaimRuleError> {
    if insured.contains(person) {
        Ok(())
    } else {
        Err(ClaimRuleError::NotInsured { person: name.to_owned() })
    }
}

/// The first day a disease cover pays for: the waiting period is the first
/// `waiting_days` days of cover, the first day included (cover begins at its 00:00).
pub fn covered_from(cover_start: NaiveDate, waiting_days: u32) -> NaiveDate {
    cover_start.checked_add_days(Days::new(u64::from(waiting_days))).unwrap_or(NaiveDate::MAX)
}

/// A disease cover's incident falls after its waiting period.
pub fn check_waiting_period(
    cover: &str,
    incident: NaiveDate,
    cover_start: NaiveDate,
    waiting_days: u32,
) -> Result<(), ClaimRuleError> {
    let from = covered_from(cover_start, waiting_days);
    if incident >= from {
        Ok(())
    } else {
        Err(ClaimRuleError::InWaitingPeriod {
            cover: cover.to_owned(),
            days: waiting_days,
            from: prose_date(from),
            incident: prose_date(incident),
        })
    }
}

/// The last day a claim for an incident on `incident` may be reported: two years (保险法
/// art. 26), counted as the civil code counts periods (民法典 arts. 201–203): the incident's
/// day not counted, so the period ends on the same date two years later (29 February: 28
/// February), moved to the next working day if that is a rest day and `roll` is set.
pub fn last_day_to_claim(incident: NaiveDate, calendar: &WorkCalendar, roll: bool) -> NaiveDate {
    let nominal = incident.checked_add_months(Months::new(24)).unwrap_or(NaiveDate::MAX);
    period_end(nominal, calendar, roll)
}

/// The report on `reported` is within the two-year limit of art. 26, and not before the
/// incident. The limit counts from the incident (the day the claimant knew of it, as the
/// report records it).
pub fn check_time_limit(
    incident: NaiveDate,
    reported: NaiveDate,
    calendar: &WorkCalendar,
    roll: bool,
) -> Result<(), ClaimRuleError> {
    if incident > reported {
        return Err(ClaimRuleError::IncidentAfterReport {
            incident: prose_date(incident),
            reported: prose_date(reported),
        });
    }
    let last_day = last_day_to_claim(incident, calendar, roll);
    if reported <= last_day {
        Ok(())
    } else {
        Err(ClaimRuleError::TimeBarred {
            incident: prose_date(incident),
            last_day: prose_date(last_day),
            reported: prose_date(reported),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workdays::notice_2026;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_incident_must_be_within_cover_both_ends_included() {
        let (start, end) = (date(2026, 9, 1), date(2027, 8, 31));
        assert!(check_in_cover(date(2026, 9, 1), start, end).is_ok());
        assert!(check_in_cover(date(2027, 8, 31), start, end).is_ok(), "the last day in cover");
        let after = check_in_cover(date(2027, 9, 1), start, end).unwrap_err();
        assert_eq!(
            after.to_string(),
            "出险日期2027年9月1日不在保单的保险期间（2026年9月1日零时起至2027年8月31日二十四时止）内，不属于保险责任（保险期间规则）"
        );
        assert_eq!(after.rule(), "保险期间");
        assert!(check_in_cover(date(2026, 8, 31), start, end).is_err());
    }

    #[test]
    fn only_an_insured_person_may_claim() {
        assert!(check_insured(&7, "张三", &[3, 7, 9]).is_ok());
        let err = check_insured(&8, "李四", &[3, 7, 9]).unwrap_err();
        assert_eq!(err.to_string(), "李四不是本保单的被保险人，不能为其报案（被保险人规则）");
        assert_eq!(err.rule(), "被保险人");
        assert!(check_insured(&1, "王五", &[]).is_err());
    }

    #[test]
    fn a_disease_cover_waits_its_days_from_the_first_day_of_cover() {
        let start = date(2026, 9, 1);
        assert_eq!(covered_from(start, 30), date(2026, 10, 1));
        let err = check_waiting_period("母婴安康", date(2026, 9, 30), start, 30).unwrap_err();
        assert_eq!(
            err.to_string(),
            "《母婴安康》有30天等待期，自2026年10月1日起才承担保险责任，出险日期2026年9月30日在等待期内（等待期规则）"
        );
        assert_eq!(err.rule(), "等待期");
        assert!(check_waiting_period("母婴安康", date(2026, 10, 1), start, 30).is_ok());
        assert!(check_waiting_period("意外", start, start, 0).is_ok(), "no waiting period");
    }

    #[test]
    fn the_two_year_limit_ends_on_the_same_date_two_years_later() {
        let weekends = WorkCalendar::weekends_only();
        // 10 March 2026 is a Tuesday: the last day is that date, the next is too late.
        assert!(check_time_limit(date(2024, 3, 10), date(2026, 3, 10), &weekends, true).is_ok());
        let err = check_time_limit(date(2024, 3, 10), date(2026, 3, 11), &weekends, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "已超过《保险法》第二十六条规定的二年索赔时效：出险日期2024年3月10日，最迟应于2026年3月10日报案，报案日期为2026年3月11日"
        );
        assert_eq!(err.rule(), "二年索赔时效（保险法第二十六条）");
        // 29 February: no such day two years later, the period ends on 28 February.
        assert_eq!(last_day_to_claim(date(2024, 2, 29), &weekends, false), date(2026, 2, 28));
        // Ending on a holiday: the day after the holidays (民法典 art. 203), unless not rolled.
        let notice = notice_2026();
        assert_eq!(last_day_to_claim(date(2024, 10, 3), &notice, true), date(2026, 10, 8));
        assert_eq!(last_day_to_claim(date(2024, 10, 3), &notice, false), date(2026, 10, 3));
        assert!(check_time_limit(date(2024, 10, 3), date(2026, 10, 8), &notice, true).is_ok());
        assert!(check_time_limit(date(2024, 10, 3), date(2026, 10, 9), &notice, true).is_err());
        // The 调休 Saturday 10 October 2026 is a working day: no roll.
        assert_eq!(last_day_to_claim(date(2024, 10, 10), &notice, true), date(2026, 10, 10));
        let early = check_time_limit(date(2026, 5, 2), date(2026, 5, 1), &weekends, true).unwrap_err();
        assert_eq!(early.rule(), "出险日期");
    }
}
