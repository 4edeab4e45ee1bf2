//! Products (险种) and their terms, and who may be insured under them. Every number here is
//! a setting of the product, versioned by year: next year's terms never change this year's
//! policies.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::Fen;

pub use crate::cover::{cover_start, late_premium, months_left, LatePremium, LateStart, SaleError};

crate::stored_code! {
    /// A product's place in a "1+N" package.
    pub enum ProductKind {
        /// The base cover every package starts from (the "1").
        Base => ("base", "基础险"),
        /// An optional cover (one of the "N").
        Addon => ("addon", "附加险"),
    }
}

/// How the premium is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PremiumBasis {
    /// Per household per share (份), whatever the number of members.
    PerHouseholdShare,
    /// Per insured person (per share).
    PerPerson,
}

impl PremiumBasis {
    pub const fn as_str(self) -> &'static str {
        match self {
            PremiumBasis::PerHouseholdShare => "household_share",
            PremiumBasis::PerPerson => "person",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            PremiumBasis::PerHouseholdShare => "每户每份",
            PremiumBasis::PerPerson => "每人每份",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [PremiumBasis::PerHouseholdShare, PremiumBasis::PerPerson].into_iter().find(|b| b.as_str() == raw)
    }
}

/// One cover of a product, with its limits (per share).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoverItem {
    /// 意外身故/伤残: a family sum split equally among the insured members.
    AccidentDeathDisability { family_sum: Fen },
    /// 意外医疗: a limit shared by the family, a deductible, then a share reimbursed.
    AccidentMedical { family_limit: Fen, deductible: Fen, reimbursed_percent: u8 },
    /// 住院津贴: an amount per day in hospital, up to a number of days.
    HospitalAllowance { per_day: Fen, max_days: u32 },
    /// A disease cover (母婴安康, 特殊家庭住院护理 …) with a waiting period.
    Disease { label: String, sum: Fen, waiting_days: u32 },
}

impl CoverItem {
    /// One line as a certificate prints it.
    pub fn describe(&self) -> String {
        match self {
            CoverItem::AccidentDeathDisability { family_sum } => {
                format!("意外身故、伤残：全家保额 {family_sum}，由被保险人均分")
            }
            CoverItem::AccidentMedical { family_limit, deductible, reimbursed_percent } => format!(
                "意外医疗：全家共用限额 {family_limit}，免赔额 {deductible}，按 {reimbursed_percent}% 报销"
            ),
            CoverItem::HospitalAllowance { per_day, max_days } => {
                format!("住院津贴：每天 {per_day}，最多 {max_days} 天")
            }
            CoverItem::Disease { label, sum, waiting_days } => {
                format!("{label}：保额 {sum}，等待期 {waiting_days} 天")
            }
        }
    }
}

/// The terms of one product for one scheme year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductTerms {
    /// Premium per share, counted by `basis`.
    pub premium: Fen,
    pub basis: PremiumBasis,
    pub min_shares: u32,
    pub max_shares: u32,
    /// Most members insured per family; 0 means no limit.
    pub max_members: u32,
    /// Ages allowed at first insurance (初保年龄), inclusive, on the start date.
    pub first_age_min: u32,
    pub first_age_max: u32,
    /// Oldest age allowed at renewal (续保年龄).
    pub renewal_age_max: u32,
    /// The scheme's start date for this year (1 Jan, 1 Mar, 1 Sep …).
    pub start_date: NaiveDate,
    pub term_months: u32,
    pub items: Vec<CoverItem>,
    /// The last day it is sold (销售截止日); none: until the year's cover ends.
    #[serde(default)]
    pub sales_end: Option<NaiveDate>,
    /// When the cover of an enrolment made after the start date begins.
    #[serde(default)]
    pub late_start: LateStart,
    /// What an enrolment whose cover starts late pays.
    #[serde(default)]
    pub late_premium: LatePremium,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("保费必须大于0")]
    NoPremium,
    #[error("份数范围不正确：最少{min}份，最多{max}份")]
    BadShares { min: u32, max: u32 },
    #[error("年龄范围不正确：初保年龄{min}–{max}周岁，续保上限{renewal}周岁（续保上限不能低于初保上限）")]
    BadAges { min: u32, max: u32, renewal: u32 },
    #[error("保险期间须为1到36个月")]
    BadTerm,
    #[error("至少需要一项保障责任")]
    NoCover,
    #[error("销售截止日须在保险期间结束之前")]
    BadSalesEnd,
}

/// Full years between `birth` and `on` (a person born on 29 February turns a year older on
/// 1 March in common years).
pub fn full_years(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Why someone or something cannot be insured; each names the rule, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EligibilityError {
    #[error("{person}在{start}（起保日）年满{age}周岁，不在《{product}》的初保年龄{min}–{max}周岁之内")]
    FirstAge { person: String, product: String, start: String, age: u32, min: u32, max: u32 },
    #[error("{person}在{start}（起保日）年满{age}周岁，超过《{product}》的续保年龄上限{max}周岁")]
    RenewalAge { person: String, product: String, start: String, age: u32, max: u32 },
    #[error("{person}在{start}（起保日）尚未出生，不能参保")]
    NotBorn { person: String, start: String },
    #[error("《{product}》每户最多可保{max}人，本次选了{count}人")]
    TooManyMembers { product: String, max: u32, count: u32 },
    #[error("请至少选择一名被保险人")]
    NoMembers,
    #[error("《{product}》每户可投{min}–{max}份，本次为{shares}份")]
    Shares { product: String, min: u32, max: u32, shares: u32 },
    #[error("{person}已在{year}年度参保《{product}》，同一人同一险种同一年度不能重复参保")]
    AlreadyCovered { person: String, product: String, year: i32 },
}

/// Dates as prose writes them: `2026年9月1日`.
pub fn prose_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

impl ProductTerms {
    pub fn validate(&self) -> Result<(), ProductError> {
        if self.premium.get() <= 0 {
            return Err(ProductError::NoPremium);
        }
        if self.min_shares == 0 || self.min_shares > self.max_shares {
            return Err(ProductError::BadShares { min: self.min_shares, max: self.max_shares });
        }
        if self.first_age_min > self.first_age_max || self.renewal_age_max < self.first_age_max {
            return Err(ProductError::BadAges {
                min: self.first_age_min,
                max: self.first_age_max,
                renewal: self.renewal_age_max,
            });
        }
        if !(1..=36).contains(&self.term_months) {
            return Err(ProductError::BadTerm);
        }
        if self.items.is_empty() {
            return Err(ProductError::NoCover);
        }
        if self.sales_end.is_some_and(|last| last > self.end_date()) {
            return Err(ProductError::BadSalesEnd);
        }
        Ok(())
    }

    /// The first day of cover of a policy enrolled (or underwritten, see [`LateStart`]) on
    /// `event`; `None` when the year's cover is over.
    pub fn cover_start(&self, event: NaiveDate) -> Option<NaiveDate> {
        cover_start(self.start_date, self.end_date(), event)
    }

    /// Whether the product may be sold on `today`: its year's cover not over (a policy
    /// enrolled today would still have a day of cover) and its sales window open.
    pub fn check_on_sale(&self, product: &str, today: NaiveDate) -> Result<(), SaleError> {
        let year = self.start_date.year();
        if self.cover_start(today).is_none() {
            return Err(SaleError::Ended {
                product: product.to_owned(),
                year,
                end: prose_date(self.end_date()),
            });
        }
        if let Some(last) = self.sales_end.filter(|last| today > *last) {
            return Err(SaleError::Closed { product: product.to_owned(), year, last_day: prose_date(last) });
        }
        Ok(())
    }

    pub fn on_sale(&self, today: NaiveDate) -> bool {
        self.check_on_sale("", today).is_ok()
    }

    /// [`ProductTerms::premium_for`] for cover from `start` (the policy's first day) to the
    /// year's end, as [`LatePremium`] says.
    pub fn premium_from(&self, shares: u32, members: u32, start: NaiveDate) -> Option<Fen> {
        let full = self.premium_for(shares, members)?;
        Some(late_premium(full, self.late_premium, start, self.end_date(), self.term_months))
    }

    /// The last day of cover: one term after the start, less a day.
    pub fn end_date(&self) -> NaiveDate {
        let after =
            self.start_date.checked_add_months(Months::new(self.term_months)).unwrap_or(self.start_date);
        after.pred_opt().unwrap_or(after)
    }

    /// The premium for `shares` shares and `members` insured persons, or `None` on overflow.
    pub fn premium_for(&self, shares: u32, members: u32) -> Option<Fen> {
        let count = match self.basis {
            PremiumBasis::PerHouseholdShare => i64::from(shares),
            PremiumBasis::PerPerson => i64::from(shares) * i64::from(members),
        };
        self.premium.checked_mul(count)
    }

    /// Whether a person born on `birth` may be insured on this product's start date, at
    /// first insurance or at renewal.
    pub fn check_person(
        &self,
        product: &str,
        person: &str,
        birth: NaiveDate,
        renewal: bool,
    ) -> Result<(), EligibilityError> {
        let start = prose_date(self.start_date);
        if birth > self.start_date {
            return Err(EligibilityError::NotBorn { person: person.to_owned(), start });
        }
        let age = full_years(birth, self.start_date);
        if renewal {
            if age > self.renewal_age_max {
                return Err(EligibilityError::RenewalAge {
                    person: person.to_owned(),
                    product: product.to_owned(),
                    start,
                    age,
                    max: self.renewal_age_max,
                });
            }
        } else if age < self.first_age_min || age > self.first_age_max {
            return Err(EligibilityError::FirstAge {
                person: person.to_owned(),
                product: product.to_owned(),
                start,
                age,
                min: self.first_age_min,
                max: self.first_age_max,
            });
        }
        Ok(())
    }

    /// Whether a policy with `shares` shares and `members` insured persons fits the product.
    pub fn check_policy(&self, product: &str, shares: u32, members: u32) -> Result<(), EligibilityError> {
        if members == 0 {
            return Err(EligibilityError::NoMembers);
        }
        if self.max_members > 0 && members > self.max_members {
            return Err(EligibilityError::TooManyMembers {
                product: product.to_owned(),
                max: self.max_members,
                count: members,
            });
        }
        if shares < self.min_shares || shares > self.max_shares {
            return Err(EligibilityError::Shares {
                product: product.to_owned(),
                min: self.min_shares,
                max: self.max_shares,
                shares,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_terms() -> ProductTerms {
        ProductTerms {
            premium: Fen::from_yuan(100),
            basis: PremiumBasis::PerHouseholdShare,
            min_shares: 1,
            max_shares: 2,
            max_members: 4,
            first_age_min: 1,
            first_age_max: 65,
            renewal_age_max: 70,
            start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            term_months: 12,
            items: vec![CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(150_000) }],
            sales_end: None,
            late_start: LateStart::AfterUnderwriting,
            late_premium: LatePremium::Full,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ages_are_taken_on_the_start_date() {
        assert_eq!(full_years(date(1961, 9, 1), date(2026, 9, 1)), 65);
        assert_eq!(full_years(date(1961, 9, 2), date(2026, 9, 1)), 64);
        assert_eq!(full_years(date(2008, 2, 29), date(2026, 2, 28)), 17);
        assert_eq!(full_years(date(2008, 2, 29), date(2026, 3, 1)), 18);
        let terms = base_terms();
        assert!(terms.check_person("计生险", "张三", date(1961, 9, 1), false).is_ok());
        let err = terms.check_person("计生险", "张三", date(1960, 9, 1), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "张三在2026年9月1日（起保日）年满66周岁，不在《计生险》的初保年龄1–65周岁之内"
        );
        assert!(terms.check_person("计生险", "张三", date(1960, 9, 1), true).is_ok());
        assert!(terms.check_person("计生险", "张三", date(1955, 8, 31), true).is_err());
        assert!(terms.check_person("计生险", "婴儿", date(2026, 3, 1), false).is_err(), "under one");
        assert!(matches!(
            terms.check_person("计生险", "未出生", date(2026, 10, 1), false),
            Err(EligibilityError::NotBorn { .. })
        ));
    }

    #[test]
    fn members_and_shares_are_capped() {
        let terms = base_terms();
        assert!(terms.check_policy("计生险", 1, 4).is_ok());
        assert!(matches!(terms.check_policy("计生险", 1, 5), Err(EligibilityError::TooManyMembers { .. })));
        assert!(matches!(terms.check_policy("计生险", 3, 2), Err(EligibilityError::Shares { .. })));
        assert_eq!(terms.check_policy("计生险", 1, 0), Err(EligibilityError::NoMembers));
    }

    #[test]
    fn premium_and_term_follow_the_terms() {
        let mut terms = base_terms();
        assert_eq!(terms.premium_for(2, 4), Some(Fen::from_yuan(200)));
        terms.basis = PremiumBasis::PerPerson;
        terms.premium = Fen::from_yuan(30);
        assert_eq!(terms.premium_for(1, 3), Some(Fen::from_yuan(90)));
        assert_eq!(terms.end_date(), date(2027, 8, 31));
        assert!(terms.validate().is_ok());
        terms.renewal_age_max = 60;
        assert!(matches!(terms.validate(), Err(ProductError::BadAges { .. })));
    }

    #[test]
    fn a_late_enrolment_starts_the_day_after() {
        let terms = base_terms();
        // Before the scheme: its start date.
        assert_eq!(terms.cover_start(date(2026, 7, 15)), Some(date(2026, 9, 1)));
        assert_eq!(terms.cover_start(date(2026, 8, 31)), Some(date(2026, 9, 1)));
        // On or after the start: the next day.
        assert_eq!(terms.cover_start(date(2026, 9, 1)), Some(date(2026, 9, 2)));
        assert_eq!(terms.cover_start(date(2026, 12, 1)), Some(date(2026, 12, 2)));
        assert_eq!(terms.cover_start(date(2027, 8, 30)), Some(date(2027, 8, 31)));
        // On the last day, or after: nothing left.
        assert_eq!(terms.cover_start(date(2027, 8, 31)), None);
        assert_eq!(terms.cover_start(date(2028, 1, 1)), None);
    }

    #[test]
    fn sales_close_with_the_year_or_the_window() {
        let mut terms = base_terms();
        assert!(terms.on_sale(date(2026, 5, 1)));
        assert!(terms.on_sale(date(2027, 8, 30)));
        let ended = terms.check_on_sale("计生险", date(2027, 8, 31)).unwrap_err();
        assert!(matches!(ended, SaleError::Ended { year: 2026, .. }), "{ended}");
        assert!(!terms.on_sale(date(2030, 1, 1)));
        terms.sales_end = Some(date(2026, 12, 31));
        assert!(terms.validate().is_ok());
        assert!(terms.on_sale(date(2026, 12, 31)));
        let closed = terms.check_on_sale("计生险", date(2027, 1, 1)).unwrap_err();
        assert_eq!(
            closed.to_string(),
            "《计生险》2026年度的参保（销售）期已于2026年12月31日截止，不能再参保"
        );
        terms.sales_end = Some(date(2027, 9, 1));
        assert_eq!(terms.validate(), Err(ProductError::BadSalesEnd));
    }

    #[test]
    fn a_late_premium_is_full_or_by_months_left() {
        let mut terms = base_terms();
        assert_eq!(terms.premium_from(1, 3, date(2026, 12, 2)), Some(Fen::from_yuan(100)));
        terms.late_premium = LatePremium::ByMonthsLeft;
        assert_eq!(terms.premium_from(1, 3, date(2026, 9, 1)), Some(Fen::from_yuan(100)));
        assert_eq!(terms.premium_from(1, 3, date(2026, 12, 2)), Some(Fen::from_yuan(75)));
        // 100 元 × 1/12 = 8.333… 元, to the nearest fen.
        assert_eq!(terms.premium_from(1, 3, date(2027, 8, 31)), Some(Fen::new(833)));
        assert_eq!(terms.premium_from(2, 3, date(2027, 3, 1)), Some(Fen::from_yuan(100)));
    }

    #[test]
    fn late_rules_default_for_terms_stored_before_them() {
        let mut stored = serde_json::to_value(base_terms()).unwrap();
        let object = stored.as_object_mut().unwrap();
        object.remove("sales_end");
        object.remove("late_start");
        object.remove("late_premium");
        let terms: ProductTerms = serde_json::from_value(stored).unwrap();
        assert_eq!(terms, base_terms());
    }
}
