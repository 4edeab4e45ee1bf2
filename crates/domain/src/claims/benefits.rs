//! What a claim pays, from the policy's cover items (`products::CoverItem`) and what earlier
//! claims already took from the limits it shares. Pure arithmetic in integer fen.
//!
//! - The amounts of a cover item are per share (份): a policy of `shares` shares has
//!   `shares` times the sums, limits and daily amount; the deductible, the reimbursed
//!   share, the days and the waiting period do not multiply.
//! - Death: the person's share, the family sum ÷ the insured members. Disability: that
//!   share × the grade's percentage (grade 1 100 % … grade 10 10 %). Death and disability
//!   of one person together never pay more than the person's share.
//! - Medical: (eligible expenses − what other insurance paid − the deductible, per claim) ×
//!   the reimbursed share, within what is left of the family's shared limit for that policy
//!   year (all members, all claims, paid or reserved).
//! - Hospital allowance: days × the daily amount, within the days left to that person that
//!   policy year. Disease: the sum once per person, never within the waiting period.
//!
//! Rounding: a percentage is rounded to the nearest fen, half a fen up (四舍五入到分); a
//! split among members is rounded down to the fen, so the shares of all members never add
//! up to more than the family sum. Limits are applied after rounding and are never passed.

use std::fmt;

use chrono::NaiveDate;

use crate::money::Fen;
use crate::products::{prose_date, CoverItem};

use super::eligibility::check_waiting_period;

/// A disability grade (人身保险伤残评定标准): 1 (the worst, 100 %) to 10 (10 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DisabilityGrade(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("伤残等级须为1至10级（1级最重，给付100%；10级给付10%）")]
pub struct GradeError;

impl DisabilityGrade {
    pub fn new(grade: u8) -> Result<DisabilityGrade, GradeError> {
        (1..=10).contains(&grade).then_some(DisabilityGrade(grade)).ok_or(GradeError)
    }

    pub const fn get(self) -> u8 {
        self.0
    }

    /// The share of the sum paid: 100 % for grade 1 down to 10 % for grade 10.
    pub const fn percent(self) -> u8 {
        110 - 10 * self.0
    }
}

/// The policy's cover that pays this claim.
#[derive(Debug, Clone, Copy)]
pub struct PolicyCover<'a> {
    pub item: &'a CoverItem,
    /// Shares (份) the family bought; the item's amounts are per share.
    pub shares: u32,
    /// Insured members of the policy, among whom the death/disability sum is split.
    pub insured_members: u32,
    /// The policy's first day of cover (the disease waiting period counts from it).
    pub cover_start: NaiveDate,
}

/// What the claim asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    Death,
    Disability {
        grade: DisabilityGrade,
    },
    /// Reasonable (eligible) medical expenses and what social medical insurance or other
    /// insurance already paid of them.
    Medical {
        eligible: Fen,
        other_paid: Fen,
    },
    Allowance {
        days: u32,
    },
    Disease {
        incident: NaiveDate,
    },
}

/// What earlier claims already took (paid or reserved) from the limits this claim shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    /// From the family's accident-medical limit this policy year, by all members.
    pub family_medical: Fen,
    /// Paid to this person as death or disability benefit under this policy.
    pub person_death_disability: Fen,
    /// Allowance days paid to this person this policy year.
    pub person_allowance_days: u32,
    /// Paid to this person under this disease cover.
    pub person_disease: Fen,
}

/// What kept the benefit below what the terms would pay on their own; read by a reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    NothingAfterDeductible {
        eligible: Fen,
        other_paid: Fen,
        deductible: Fen,
    },
    FamilyMedical {
        limit: Fen,
        taken: Fen,
        left: Fen,
    },
    PersonShare {
        share: Fen,
        taken: Fen,
        left: Fen,
    },
    AllowanceDays {
        max: u32,
        taken: u32,
        left: u32,
    },
    DiseaseSum {
        sum: Fen,
        taken: Fen,
        left: Fen,
    },
    /// The disease cover's waiting period (the refusal's own message).
    WaitingPeriod(String),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::NothingAfterDeductible { eligible, other_paid, deductible } => write!(
                f,
                "合理医疗费用{eligible}扣除其他保险已赔付{other_paid}和免赔额{deductible}后，没有可赔付的金额"
            ),
            Limit::FamilyMedical { limit, taken, left } => write!(
                f,
                "受全家意外医疗共用限额限制：限额{limit}，本保单年度全家已赔付或预留{taken}，剩余{left}"
            ),
            Limit::PersonShare { share, taken, left } => write!(
                f,
                "受该被保险人身故、伤残保额限制：全家保额均分后每人{share}，已给付{taken}，剩余{left}"
            ),
            Limit::AllowanceDays { max, taken, left } => {
                write!(f, "受住院津贴天数限制：每年最多{max}天，该被保险人已给付{taken}天，剩余{left}天")
            }
            Limit::DiseaseSum { sum, taken, left } => {
                write!(f, "受疾病保障保额限制：保额{sum}，已给付{taken}，剩余{left}")
            }
            Limit::WaitingPeriod(rule) => f.write_str(rule),
        }
    }
}

/// The benefit the rules propose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    /// What to pay.
    pub amount: Fen,
    /// What the terms give before the limits shared with earlier claims.
    pub before_limits: Fen,
    /// Why `amount` is less than the terms alone would give, if it is.
    pub limited_by: Option<Limit>,
    /// The calculation, step by step, in Chinese.
    pub working: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenefitError {
    #[error("保障责任“{cover}”不赔付这类理赔，请选择与理赔类型相符的保障责任")]
    WrongCover { cover: String },
    #[error("保单没有被保险人，无法计算每人的身故、伤残保额")]
    NoMembers,
    #[error("份数须至少为1份")]
    NoShares,
    #[error("报销比例须在0%到100%之间，险种条款中为{0}%")]
    BadPercent(u8),
    #[error("费用和已赔付金额不能为负数")]
    Negative,
    #[error("金额太大，无法计算")]
    TooLarge,
}

/// What `claimed` pays under `cover`, given what earlier claims already `taken`.
pub fn benefit(cover: PolicyCover<'_>, claimed: Claimed, taken: &Taken) -> Result<Benefit, BenefitError> {
    if cover.shares == 0 {
        return Err(BenefitError::NoShares);
    }
    let shares = i64::from(cover.shares);
    let times = |fen: Fen| fen.checked_mul(shares).ok_or(BenefitError::TooLarge);
    match (cover.item, claimed) {
        (CoverItem::AccidentDeathDisability { family_sum }, Claimed::Death) => {
            person_share(times(*family_sum)?, cover.insured_members, 100, taken)
        }
        (CoverItem::AccidentDeathDisability { family_sum }, Claimed::Disability { grade }) => {
            person_share(times(*family_sum)?, cover.insured_members, grade.percent(), taken)
        }
        (
            CoverItem::AccidentMedical { family_limit, deductible, reimbursed_percent },
            Claimed::Medical { eligible, other_paid },
        ) => medical(times(*family_limit)?, *deductible, *reimbursed_percent, eligible, other_paid, taken),
        (CoverItem::HospitalAllowance { per_day, max_days }, Claimed::Allowance { days }) => {
            allowance(times(*per_day)?, *max_days, days, taken)
        }
        (CoverItem::Disease { label, sum, waiting_days }, Claimed::Disease { incident }) => {
            if let Err(refused) = check_waiting_period(label, incident, cover.cover_start, *waiting_days) {
                return Ok(Benefit {
                    amount: Fen::ZERO,
                    before_limits: Fen::ZERO,
                    limited_by: Some(Limit::WaitingPeriod(refused.to_string())),
                    working: vec![format!("出险日期{}在等待期内，不赔付", prose_date(incident))],
                });
            }
            let sum = times(*sum)?;
            let left = left_of(sum, taken.person_disease);
            let limited =
                (left < sum).then_some(Limit::DiseaseSum { sum, taken: taken.person_disease, left });
            Ok(Benefit {
                amount: left,
                before_limits: sum,
                limited_by: limited,
                working: vec![format!("{label}保额{sum}（{shares}份）")],
            })
        }
        (item, _) => Err(BenefitError::WrongCover { cover: item.describe() }),
    }
}

/// Death (100 %) or disability (the grade's percentage) of the person's share.
fn person_share(family_sum: Fen, members: u32, percent: u8, taken: &Taken) -> Result<Benefit, BenefitError> {
    if members == 0 {
        return Err(BenefitError::NoMembers);
    }
    let share = Fen::new(family_sum.get().div_euclid(i64::from(members)));
    let mut working =
        vec![format!("全家保额{family_sum} ÷ {members}名被保险人 = 每人{share}（不足一分舍去）")];
    let due = percent_of(share, percent)?;
    if percent < 100 {
        working.push(format!("伤残给付比例{percent}%：{share} × {percent}% = {due}（四舍五入到分）"));
    }
    let left = left_of(share, taken.person_death_disability);
    let amount = due.min(left);
    let limited =
        (amount < due).then_some(Limit::PersonShare { share, taken: taken.person_death_disability, left });
    Ok(Benefit { amount, before_limits: due, limited_by: limited, working })
}

fn medical(
    limit: Fen,
    deductible: Fen,
    percent: u8,
    eligible: Fen,
    other_paid: Fen,
    taken: &Taken,
) -> Result<Benefit, BenefitError> {
    if percent > 100 {
        return Err(BenefitError::BadPercent(percent));
    }
    if eligible.is_negative() || other_paid.is_negative() || deductible.is_negative() {
        return Err(BenefitError::Negative);
    }
    let rest = eligible
        .checked_sub(other_paid)
        .and_then(|r| r.checked_sub(deductible))
        .ok_or(BenefitError::TooLarge)?
        .max(Fen::ZERO);
    let mut working =
        vec![format!("合理医疗费用{eligible} − 其他保险已赔付{other_paid} − 免赔额{deductible} = {rest}")];
    if rest == Fen::ZERO {
        let why = Limit::NothingAfterDeductible { eligible, other_paid, deductible };
        return Ok(Benefit { amount: Fen::ZERO, before_limits: Fen::ZERO, limited_by: Some(why), working });
    }
    let due = percent_of(rest, percent)?;
    working.push(format!("{rest} × 报销比例{percent}% = {due}（四舍五入到分）"));
    let left = left_of(limit, taken.family_medical);
    let amount = due.min(left);
    let limited = (amount < due).then_some(Limit::FamilyMedical { limit, taken: taken.family_medical, left });
    Ok(Benefit { amount, before_limits: due, limited_by: limited, working })
}

fn allowance(per_day: Fen, max_days: u32, days: u32, taken: &Taken) -> Result<Benefit, BenefitError> {
    let left = max_days.saturating_sub(taken.person_allowance_days);
    let paid_days = days.min(left);
    let due = per_day.checked_mul(i64::from(days)).ok_or(BenefitError::TooLarge)?;
    let amount = per_day.checked_mul(i64::from(paid_days)).ok_or(BenefitError::TooLarge)?;
    let limited = (paid_days < days).then_some(Limit::AllowanceDays {
        max: max_days,
        taken: taken.person_allowance_days,
        left,
    });
    let working = vec![format!("住院{days}天，可给付{paid_days}天 × 每天{per_day} = {amount}")];
    Ok(Benefit { amount, before_limits: due, limited_by: limited, working })
}

/// What is left of `limit` after `taken`, never below zero.
fn left_of(limit: Fen, taken: Fen) -> Fen {
    limit.checked_sub(taken).unwrap_or(Fen::ZERO).max(Fen::ZERO)
}

/// `amount` × `percent` %, to the nearest fen, half a fen up (for non-negative amounts).
fn percent_of(amount: Fen, percent: u8) -> Result<Fen, BenefitError> {
    let fen = (i128::from(amount.get()) * i128::from(percent) + 50).div_euclid(100);
    i64::try_from(fen).map(Fen::new).map_err(|_| BenefitError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cover(item: &CoverItem, shares: u32, members: u32) -> PolicyCover<'_> {
        PolicyCover { item, shares, insured_members: members, cover_start: date(2026, 9, 1) }
    }

    const DEATH: CoverItem = CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(150_000) };
    const MEDICAL: CoverItem = CoverItem::AccidentMedical {
        family_limit: Fen::from_yuan(12_000),
        deductible: Fen::from_yuan(100),
        reimbursed_percent: 80,
    };

    #[test]
    fn death_pays_the_persons_share_rounded_down() {
        let paid = benefit(cover(&DEATH, 1, 3), Claimed::Death, &Taken::default()).unwrap();
        assert_eq!(paid.amount, Fen::from_yuan(50_000));
        assert_eq!(paid.limited_by, None);
        // 150,000 元 ÷ 7 = 21,428.5714… 元: 21,428.57 元, never the extra fen.
        let seven = benefit(cover(&DEATH, 1, 7), Claimed::Death, &Taken::default()).unwrap();
        assert_eq!(seven.amount, Fen::new(2_142_857));
        assert_eq!(
            seven.working[0],
            "全家保额150,000.00 元 ÷ 7名被保险人 = 每人21,428.57 元（不足一分舍去）"
        );
        // Two shares double the sum.
        let two = benefit(cover(&DEATH, 2, 3), Claimed::Death, &Taken::default()).unwrap();
        assert_eq!(two.amount, Fen::from_yuan(100_000));
        assert_eq!(
            benefit(cover(&DEATH, 1, 0), Claimed::Death, &Taken::default()),
            Err(BenefitError::NoMembers)
        );
        assert_eq!(
            benefit(cover(&DEATH, 0, 3), Claimed::Death, &Taken::default()),
            Err(BenefitError::NoShares)
        );
    }

    #[test]
    fn disability_pays_the_grades_percentage_and_death_after_it_the_rest() {
        let grade = |g| Claimed::Disability { grade: DisabilityGrade::new(g).unwrap() };
        assert_eq!(DisabilityGrade::new(1).unwrap().percent(), 100);
        assert_eq!(DisabilityGrade::new(10).unwrap().percent(), 10);
        assert_eq!(DisabilityGrade::new(0), Err(GradeError));
        assert_eq!(DisabilityGrade::new(11), Err(GradeError));
        let none = Taken::default();
        assert_eq!(benefit(cover(&DEATH, 1, 3), grade(10), &none).unwrap().amount, Fen::from_yuan(5_000));
        assert_eq!(benefit(cover(&DEATH, 1, 3), grade(3), &none).unwrap().amount, Fen::from_yuan(40_000));
        // 21,428.57 元 × 90 % = 19,285.713 元 → 19,285.71; × 70 % = 14,999.999 → 15,000.00.
        assert_eq!(benefit(cover(&DEATH, 1, 7), grade(2), &none).unwrap().amount, Fen::new(1_928_571));
        assert_eq!(benefit(cover(&DEATH, 1, 7), grade(4), &none).unwrap().amount, Fen::new(1_500_000));
        // Grade 10 paid earlier: a death later pays what is left of the share.
        let after = Taken { person_death_disability: Fen::from_yuan(5_000), ..Taken::default() };
        let death = benefit(cover(&DEATH, 1, 3), Claimed::Death, &after).unwrap();
        assert_eq!(death.amount, Fen::from_yuan(45_000));
        assert_eq!(
            death.limited_by.unwrap().to_string(),
            "受该被保险人身故、伤残保额限制：全家保额均分后每人50,000.00 元，已给付5,000.00 元，剩余45,000.00 元"
        );
    }

    #[test]
    fn medical_pays_the_share_after_deductions_within_the_family_limit() {
        let claim = |eligible: i64, other: i64| Claimed::Medical {
            eligible: Fen::from_yuan(eligible),
            other_paid: Fen::from_yuan(other),
        };
        // (2,000 − 500 − 100) × 80 % = 1,120 元.
        let paid = benefit(cover(&MEDICAL, 1, 3), claim(2_000, 500), &Taken::default()).unwrap();
        assert_eq!(paid.amount, Fen::from_yuan(1_120));
        assert_eq!(paid.working[1], "1,400.00 元 × 报销比例80% = 1,120.00 元（四舍五入到分）");
        // (100.03 − 100) × 80 % = 0.024 元 → 0.02; (100.07 − 100) × 80 % = 0.056 → 0.06.
        let odd = |fen| Claimed::Medical { eligible: Fen::new(fen), other_paid: Fen::ZERO };
        assert_eq!(
            benefit(cover(&MEDICAL, 1, 3), odd(10_003), &Taken::default()).unwrap().amount,
            Fen::new(2)
        );
        assert_eq!(
            benefit(cover(&MEDICAL, 1, 3), odd(10_007), &Taken::default()).unwrap().amount,
            Fen::new(6)
        );
        // 11,500 元 already taken this year by other members: 500 left.
        let taken = Taken { family_medical: Fen::from_yuan(11_500), ..Taken::default() };
        let limited = benefit(cover(&MEDICAL, 1, 3), claim(2_000, 0), &taken).unwrap();
        assert_eq!(limited.amount, Fen::from_yuan(500));
        assert_eq!(limited.before_limits, Fen::from_yuan(1_520));
        assert_eq!(
            limited.limited_by.unwrap().to_string(),
            "受全家意外医疗共用限额限制：限额12,000.00 元，本保单年度全家已赔付或预留11,500.00 元，剩余500.00 元"
        );
        // Two shares: 24,000 元 limit, the deductible stays 100 元.
        assert_eq!(
            benefit(cover(&MEDICAL, 2, 3), claim(2_000, 0), &taken).unwrap().amount,
            Fen::from_yuan(1_520)
        );
        // Nothing left after the deductible.
        let nothing = benefit(cover(&MEDICAL, 1, 3), claim(600, 500), &Taken::default()).unwrap();
        assert_eq!(nothing.amount, Fen::ZERO);
        assert!(matches!(nothing.limited_by, Some(Limit::NothingAfterDeductible { .. })));
        let negative = Claimed::Medical { eligible: Fen::new(-1), other_paid: Fen::ZERO };
        assert_eq!(benefit(cover(&MEDICAL, 1, 3), negative, &Taken::default()), Err(BenefitError::Negative));
    }

    #[test]
    fn the_allowance_pays_days_within_the_days_left() {
        let item = CoverItem::HospitalAllowance { per_day: Fen::from_yuan(100), max_days: 180 };
        let days = |days| Claimed::Allowance { days };
        assert_eq!(
            benefit(cover(&item, 1, 3), days(12), &Taken::default()).unwrap().amount,
            Fen::from_yuan(1_200)
        );
        let taken = Taken { person_allowance_days: 175, ..Taken::default() };
        let limited = benefit(cover(&item, 2, 3), days(12), &taken).unwrap();
        assert_eq!(limited.amount, Fen::from_yuan(1_000), "5 days at 200 元");
        assert_eq!(
            limited.limited_by.unwrap().to_string(),
            "受住院津贴天数限制：每年最多180天，该被保险人已给付175天，剩余5天"
        );
        let over = Taken { person_allowance_days: 200, ..Taken::default() };
        assert_eq!(benefit(cover(&item, 1, 3), days(3), &over).unwrap().amount, Fen::ZERO);
    }

    #[test]
    fn a_disease_pays_its_sum_once_and_nothing_in_the_waiting_period() {
        let item =
            CoverItem::Disease {
                label: "母婴安康".into(), sum: Fen::from_yuan(10_000), waiting_days: 30
            };
        let on = |d| Claimed::Disease { incident: d };
        let waiting = benefit(cover(&item, 1, 3), on(date(2026, 9, 30)), &Taken::default()).unwrap();
        assert_eq!(waiting.amount, Fen::ZERO);
        assert!(matches!(&waiting.limited_by, Some(Limit::WaitingPeriod(m)) if m.contains("等待期")));
        let paid = benefit(cover(&item, 1, 3), on(date(2026, 10, 1)), &Taken::default()).unwrap();
        assert_eq!(paid.amount, Fen::from_yuan(10_000));
        let again = Taken { person_disease: Fen::from_yuan(10_000), ..Taken::default() };
        assert_eq!(benefit(cover(&item, 1, 3), on(date(2026, 12, 1)), &again).unwrap().amount, Fen::ZERO);
    }

    #[test]
    fn a_claim_must_match_its_cover() {
        let err = benefit(cover(&MEDICAL, 1, 3), Claimed::Death, &Taken::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "保障责任“意外医疗：全家共用限额 12,000.00 元，免赔额 100.00 元，按 80% 报销”不赔付这类理赔，请选择与理赔类型相符的保障责任"
        );
        let bad = CoverItem::AccidentMedical {
            family_limit: Fen::ZERO,
            deductible: Fen::ZERO,
            reimbursed_percent: 120,
        };
        let claim = Claimed::Medical { eligible: Fen::from_yuan(1), other_paid: Fen::ZERO };
        assert_eq!(benefit(cover(&bad, 1, 1), claim, &Taken::default()), Err(BenefitError::BadPercent(120)));
    }
}
