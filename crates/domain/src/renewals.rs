//! Renewal season (续保): which policies are due, what renewal checks of each member, the
//! outcome of a lapse, and the renewal rate. Every number is a setting with a default
//! ([`SeasonSettings`]); "today" comes from the caller's [`crate::Clock`].
//!
//! A policy's year ends on its end date. It is *due* from `opens_days_before` days before
//! that end until `grace_days` after it; past the grace period a policy not renewed has
//! *lapsed* and becomes a follow-up task of its village's agent.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::products::{full_years, EligibilityError, ProductTerms};

/// The season's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeasonSettings {
    /// Days before a policy's end date from which it is due (default 60).
    pub opens_days_before: u32,
    /// Days after the end date a family may still renew (宽限期, default 30).
    pub grace_days: u32,
}

impl Default for SeasonSettings {
    fn default() -> Self {
        SeasonSettings { opens_days_before: 60, grace_days: 30 }
    }
}

impl SeasonSettings {
    /// The end dates of the policies due on `today`: from `today − grace` to
    /// `today + opens_days_before`, both included.
    pub fn due_ends(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = today.checked_sub_days(Days::new(u64::from(self.grace_days))).unwrap_or(today);
        let last = today.checked_add_days(Days::new(u64::from(self.opens_days_before))).unwrap_or(today);
        (first, last)
    }

    /// The last day a policy ending on `end` may be renewed (its grace period's end).
    pub fn last_renewal_day(&self, end: NaiveDate) -> NaiveDate {
        end.checked_add_days(Days::new(u64::from(self.grace_days))).unwrap_or(end)
    }

    /// Whether a policy ending on `end` and not renewed has lapsed on `today`.
    pub fn lapsed(&self, end: NaiveDate, today: NaiveDate) -> bool {
        today > self.last_renewal_day(end)
    }

    /// Where a policy ending on `end` stands on `today`.
    pub fn state(&self, end: NaiveDate, today: NaiveDate, renewed: bool) -> RenewalState {
        if renewed {
            RenewalState::Renewed
        } else if self.lapsed(end, today) {
            RenewalState::Lapsed
        } else if today > end {
            RenewalState::InGrace
        } else {
            RenewalState::Due
        }
    }
}

crate::stored_code! {
    /// Where a due policy stands.
    pub enum RenewalState {
        Due => ("due", "待续保"),
        InGrace => ("grace", "宽限期内"),
        Renewed => ("renewed", "已续保"),
        Lapsed => ("lapsed", "已脱保"),
    }
}

crate::stored_code! {
    /// What renewal does with a member of the family, as the family is now.
    pub enum MemberChange {
        /// Insured last year, still in the household, within the renewal age.
        Kept => ("kept", "续保"),
        /// Born too late for last year's cover (not born, or under its first-insure age, on
        /// the day last year's terms counted ages), old enough now.
        Newborn => ("newborn", "新增（新生儿）"),
        /// In the household, not insured last year, within the first-insure age.
        Added => ("added", "新增成员"),
        /// Insured last year, since died or moved away.
        Gone => ("gone", "已故或迁出"),
        /// Too old for renewal, or outside the first-insure age: the rule is named.
        Refused => ("refused", "不符合年龄条件"),
    }
}

impl MemberChange {
    /// Whether the member is insured again by default.
    pub const fn insured(self) -> bool {
        matches!(self, MemberChange::Kept | MemberChange::Newborn | MemberChange::Added)
    }
}

/// A member of a family as renewal sees them.
#[derive(Debug, Clone, Copy)]
pub struct MemberFacts<'a> {
    pub name: &'a str,
    pub birth: NaiveDate,
    /// Still in the household (not dead or moved away).
    pub active: bool,
    /// Insured under last year's policy.
    pub insured_last_year: bool,
}

/// What renewal does with one member under next year's terms of each product (`products`:
/// name and terms), and the rule that refuses them. `last_year` is the base product's terms
/// of last year's policy: a member it would have refused as too young on its start date
/// (the day ages are counted, whenever the policy's own cover began) is a newborn. `None`
/// for someone who neither was insured nor is in the household any more.
pub fn member_change<'a>(
    member: MemberFacts<'_>,
    last_year: &ProductTerms,
    products: impl IntoIterator<Item = (&'a str, &'a ProductTerms)>,
) -> Option<(MemberChange, Option<EligibilityError>)> {
    if !member.active {
        return member.insured_last_year.then_some((MemberChange::Gone, None));
    }
    for (product, terms) in products {
        if let Err(rule) = terms.check_person(product, member.name, member.birth, member.insured_last_year) {
            return Some((MemberChange::Refused, Some(rule)));
        }
    }
    let change = if member.insured_last_year {
        MemberChange::Kept
    } else if too_young_last_year(member.birth, last_year) {
        MemberChange::Newborn
    } else {
        MemberChange::Added
    };
    Some((change, None))
}

/// Whether someone born on `birth` was too young for last year's cover: not born yet, or
/// under its first-insure age, on the start date its ages were counted on. A policy that
/// began late (enrolled or underwritten after that date) counted ages on the same date.
pub fn too_young_last_year(birth: NaiveDate, last_year: &ProductTerms) -> bool {
    birth > last_year.start_date || full_years(birth, last_year.start_date) < last_year.first_age_min
}

crate::stored_code! {
    /// How the follow-up of a lapsed family ended.
    pub enum LapseOutcome {
        RenewedLate => ("renewed_late", "逾期后已续保"),
        MovedAway => ("moved_away", "已迁出"),
        Refused => ("refused", "拒绝续保"),
        Deceased => ("deceased", "家庭成员已故"),
        Unreachable => ("unreachable", "联系不上"),
    }
}

crate::stored_code! {
    /// A follow-up task's state.
    pub enum FollowUpStatus {
        Open => ("open", "待跟进"),
        Closed => ("closed", "已办结"),
    }
}

/// Renewed ÷ due, in households and in persons: raw counts, so each ratio can be
/// recomputed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenewalCounts {
    pub due_households: u64,
    pub renewed_households: u64,
    pub due_persons: u64,
    pub renewed_persons: u64,
}

impl RenewalCounts {
    /// The households' rate in tenths of a percent (875 is 87.5 %), rounded half up;
    /// `None` when nothing is due.
    pub fn household_rate(&self) -> Option<u64> {
        permille(self.renewed_households, self.due_households)
    }

    pub fn person_rate(&self) -> Option<u64> {
        permille(self.renewed_persons, self.due_persons)
    }

    pub fn add(&mut self, other: &RenewalCounts) {
        self.due_households += other.due_households;
        self.renewed_households += other.renewed_households;
        self.due_persons += other.due_persons;
        self.renewed_persons += other.renewed_persons;
    }
}

/// `part ÷ whole` in tenths of a percent, rounded half up.
pub fn permille(part: u64, whole: u64) -> Option<u64> {
    (whole > 0).then(|| (part.saturating_mul(1000) + whole / 2) / whole)
}

/// A rate in tenths of a percent as people read it: `87.5%`; `—` for none.
pub fn shown_rate(rate: Option<u64>) -> String {
    match rate {
        Some(r) => format!("{}.{}%", r / 10, r % 10),
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::check_table;
    use crate::money::Fen;
    use crate::products::{CoverItem, LatePremium, LateStart, PremiumBasis};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn terms_2027() -> ProductTerms {
        terms_of(day(2027, 9, 1))
    }

    fn terms_of(start_date: NaiveDate) -> ProductTerms {
        ProductTerms {
            premium: Fen::from_yuan(100),
            basis: PremiumBasis::PerHouseholdShare,
            min_shares: 1,
            max_shares: 2,
            max_members: 6,
            first_age_min: 1,
            first_age_max: 65,
            renewal_age_max: 70,
            start_date,
            term_months: 12,
            items: vec![CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(150_000) }],
            sales_end: None,
            late_start: LateStart::AfterUnderwriting,
            late_premium: LatePremium::Full,
        }
    }

    #[test]
    fn the_code_tables_read_back() {
        check_table::<RenewalState>().unwrap();
        check_table::<MemberChange>().unwrap();
        check_table::<LapseOutcome>().unwrap();
        check_table::<FollowUpStatus>().unwrap();
    }

    #[test]
    fn a_policy_is_due_from_sixty_days_before_its_end_to_the_grace_periods_end() {
        let s = SeasonSettings::default();
        let end = day(2027, 8, 31);
        assert_eq!(s.due_ends(day(2027, 7, 2)), (day(2027, 6, 2), day(2027, 8, 31)));
        assert_eq!(s.due_ends(day(2027, 9, 30)), (day(2027, 8, 31), day(2027, 11, 29)));
        assert_eq!(s.state(end, day(2027, 8, 1), false), RenewalState::Due);
        assert_eq!(s.state(end, day(2027, 8, 31), false), RenewalState::Due);
        assert_eq!(s.state(end, day(2027, 9, 1), false), RenewalState::InGrace);
        assert_eq!(s.state(end, day(2027, 9, 30), false), RenewalState::InGrace);
        assert_eq!(s.state(end, day(2027, 10, 1), false), RenewalState::Lapsed);
        assert_eq!(s.state(end, day(2027, 10, 1), true), RenewalState::Renewed);
        let short = SeasonSettings { opens_days_before: 30, grace_days: 0 };
        assert!(short.lapsed(end, day(2027, 9, 1)));
        assert_eq!(short.due_ends(day(2027, 8, 1)), (day(2027, 8, 1), day(2027, 8, 31)));
    }

    #[test]
    fn renewal_keeps_the_insured_adds_the_newborn_and_names_the_age_rule() {
        let terms = terms_2027();
        let products = || [("计生险", &terms)];
        let last_year = terms_of(day(2026, 9, 1));
        let member =
            |name, birth, active, insured_last_year| MemberFacts { name, birth, active, insured_last_year };
        let change = |m| member_change(m, &last_year, products());
        assert_eq!(change(member("张三", day(1980, 1, 1), true, true)), Some((MemberChange::Kept, None)));
        // 70 on the start date: still renewed; 71: refused, the rule named.
        assert_eq!(change(member("张老", day(1957, 9, 1), true, true)).unwrap().0, MemberChange::Kept);
        let (refused, rule) = change(member("李老", day(1956, 8, 1), true, true)).unwrap();
        assert_eq!(refused, MemberChange::Refused);
        assert_eq!(
            rule.unwrap().to_string(),
            "李老在2027年9月1日（起保日）年满71周岁，超过《计生险》的续保年龄上限70周岁"
        );
        // Under one last year, one by the new start: a newborn; older newcomers are added.
        assert_eq!(change(member("小宝", day(2026, 3, 1), true, false)).unwrap().0, MemberChange::Newborn);
        assert_eq!(change(member("小明", day(2025, 8, 20), true, false)).unwrap().0, MemberChange::Added);
        // Too young for the first-insure age: refused with that rule.
        let (young, rule) = change(member("婴儿", day(2027, 3, 1), true, false)).unwrap();
        assert_eq!(young, MemberChange::Refused);
        assert!(rule.unwrap().to_string().contains("初保年龄1–65周岁"));
        // A newcomer over 65 is refused at first insurance though 66 would renew.
        assert_eq!(change(member("新人", day(1960, 1, 1), true, false)).unwrap().0, MemberChange::Refused);
        assert_eq!(change(member("老人", day(1960, 1, 1), true, true)).unwrap().0, MemberChange::Kept);
        assert_eq!(change(member("故人", day(1950, 1, 1), false, true)), Some((MemberChange::Gone, None)));
        assert_eq!(change(member("外人", day(1950, 1, 1), false, false)), None);
        assert!(MemberChange::Newborn.insured() && !MemberChange::Gone.insured());
    }

    #[test]
    fn a_newborn_is_too_young_on_the_day_last_years_terms_counted_ages() {
        // Last year's scheme started on 1 September 2026; a family enrolled late, its cover
        // from 20 August 2027. A baby born in May 2026 was under one on 1 September 2026:
        // too young for last year's cover, however late the policy began.
        let last_year = terms_of(day(2026, 9, 1));
        assert!(too_young_last_year(day(2026, 5, 1), &last_year));
        assert!(too_young_last_year(day(2026, 10, 1), &last_year), "not born yet");
        assert!(!too_young_last_year(day(2025, 9, 1), &last_year), "one on the start date");
        let baby =
            MemberFacts { name: "小宝", birth: day(2026, 5, 1), active: true, insured_last_year: false };
        let terms = terms_2027();
        let change = member_change(baby, &last_year, [("计生险", &terms)]);
        assert_eq!(change, Some((MemberChange::Newborn, None)));
        // A scheme whose first-insure age starts at 0: nobody born before its start is new.
        let from_birth = ProductTerms { first_age_min: 0, ..terms_of(day(2026, 9, 1)) };
        assert!(!too_young_last_year(day(2026, 5, 1), &from_birth));
    }

    #[test]
    fn a_rate_is_in_tenths_of_a_percent_rounded_half_up() {
        let counts =
            RenewalCounts { due_households: 8, renewed_households: 7, due_persons: 3, renewed_persons: 2 };
        assert_eq!(counts.household_rate(), Some(875));
        assert_eq!(counts.person_rate(), Some(667));
        assert_eq!(shown_rate(counts.household_rate()), "87.5%");
        assert_eq!(shown_rate(RenewalCounts::default().household_rate()), "—");
        assert_eq!(permille(1, 2000), Some(1));
        assert_eq!(permille(5, 5), Some(1000));
        let mut total = counts;
        total.add(&counts);
        assert_eq!(total.due_households, 16);
        assert_eq!(total.household_rate(), Some(875));
    }
}
