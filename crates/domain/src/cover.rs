//! When cover begins and what it costs when it begins late: a policy is never covered
//! before the day after it is enrolled or underwritten (次日零时起保), and a product is sold
//! only while its year's cover has a day left. Pure functions of dates; "today" comes from
//! the caller's [`crate::Clock`].

use chrono::{Months, NaiveDate};

use crate::money::Fen;

crate::stored_code! {
    /// When the cover of a late enrolment (made on or after the scheme's start date) begins:
    /// at midnight of the day after (次日零时起保), never before the scheme's start date.
    #[derive(Default)]
    pub enum LateStart {
        /// The day after the insurer underwrites the policy (the usual rule).
        #[default]
        AfterUnderwriting => ("after_underwriting", "承保次日零时起保"),
        /// The day after the enrolment, whenever the insurer underwrites it.
        AfterEnrolment => ("after_enrolment", "参保次日零时起保"),
    }
}

crate::stored_code! {
    /// The premium of a late start.
    #[derive(Default)]
    pub enum LatePremium {
        /// The full premium, whatever the cover left.
        #[default]
        Full => ("full", "全额保费"),
        /// By the months of cover left, a month begun counting whole (不足一月按一月计).
        ByMonthsLeft => ("by_months_left", "按剩余月数折算"),
    }
}

/// The first day of cover of a policy of the scheme running from `scheme_start` to
/// `scheme_end`: the scheme's start, or for a late enrolment the day after `event` (the
/// enrolment or the underwriting, as the product's [`LateStart`] says). `None` when that day
/// is past the scheme's end: there is no cover left to sell.
pub fn cover_start(scheme_start: NaiveDate, scheme_end: NaiveDate, event: NaiveDate) -> Option<NaiveDate> {
    let start = event.succ_opt()?.max(scheme_start);
    (start <= scheme_end).then_some(start)
}

/// Whole months from `from` to the day after `end`, a month begun counting whole.
pub fn months_left(from: NaiveDate, end: NaiveDate) -> u32 {
    let Some(stop) = end.succ_opt() else { return 0 };
    let mut months = 0;
    let mut at = from;
    while at < stop {
        months += 1;
        match from.checked_add_months(Months::new(months)) {
            Some(next) => at = next,
            None => break,
        }
    }
    months
}

/// `premium` for cover from `start` to `end` of a term of `term_months`: the full premium,
/// or by the months left (rounded to the nearest fen), never more than the full premium.
pub fn late_premium(
    premium: Fen,
    rule: LatePremium,
    start: NaiveDate,
    end: NaiveDate,
    term_months: u32,
) -> Fen {
    match rule {
        LatePremium::Full => premium,
        LatePremium::ByMonthsLeft => {
            let term = i128::from(term_months.max(1));
            let months = i128::from(months_left(start, end)).min(term);
            let fen = (i128::from(premium.get()) * months * 2 + term) / (term * 2);
            Fen::new(i64::try_from(fen).unwrap_or(premium.get()))
        }
    }
}

/// Why a product cannot be sold today.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaleError {
    #[error("《{product}》{year}年度的保险期间到{end}结束，已无可起保的日期，不能再参保；请选择当前年度的保障方案")]
    Ended { product: String, year: i32, end: String },
    #[error("《{product}》{year}年度的参保（销售）期已于{last_day}截止，不能再参保")]
    Closed { product: String, year: i32, last_day: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_left_count_a_month_begun_as_whole() {
        let end = date(2027, 8, 31);
        assert_eq!(months_left(date(2026, 9, 1), end), 12);
        assert_eq!(months_left(date(2026, 9, 2), end), 12);
        assert_eq!(months_left(date(2026, 10, 1), end), 11);
        assert_eq!(months_left(date(2026, 12, 2), end), 9);
        assert_eq!(months_left(date(2027, 8, 31), end), 1);
        assert_eq!(months_left(date(2027, 9, 1), end), 0);
    }

    mod properties {
        use super::*;
        use chrono::Months;
        use proptest::prelude::*;

        fn any_date() -> impl Strategy<Value = NaiveDate> {
            (2020i32..2030, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| date(y, m, d))
        }

        proptest! {
            #[test]
            fn cover_never_starts_before_the_scheme_or_the_day_after(
                start in any_date(), term in 1u32..=36, event in any_date()
            ) {
                let end = start.checked_add_months(Months::new(term)).unwrap().pred_opt().unwrap();
                match cover_start(start, end, event) {
                    Some(first) => {
                        prop_assert!(first >= start);
                        prop_assert!(first > event);
                        prop_assert!(first <= end);
                        prop_assert!(first == start || first == event.succ_opt().unwrap());
                    }
                    None => prop_assert!(event >= end),
                }
            }

            #[test]
            fn a_late_premium_never_exceeds_the_full_one_and_shrinks_with_time(
                fen in 100i64..10_000_000, start in any_date(), term in 1u32..=36,
                a in 0i64..1200, b in 0i64..1200
            ) {
                let end = start.checked_add_months(Months::new(term)).unwrap().pred_opt().unwrap();
                let premium = Fen::new(fen);
                let (early, late) = (a.min(b), a.max(b));
                let first = start + chrono::Duration::days(early);
                let second = start + chrono::Duration::days(late);
                let rule = LatePremium::ByMonthsLeft;
                let p1 = late_premium(premium, rule, first, end, term);
                let p2 = late_premium(premium, rule, second, end, term);
                prop_assert!(p1 <= premium && p2 <= p1 && !p2.is_negative());
                prop_assert_eq!(late_premium(premium, rule, start, end, term), premium);
                prop_assert_eq!(late_premium(premium, LatePremium::Full, second, end, term), premium);
                if second <= end {
                    prop_assert!(p2.get() > 0);
                }
            }
        }
    }
}
