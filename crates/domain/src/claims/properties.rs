//! Property tests of the benefits: what always holds, whatever the claims.

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::money::Fen;
use crate::products::CoverItem;

use super::benefits::{benefit, Claimed, DisabilityGrade, Limit, PolicyCover, Taken};

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()
}

fn cover(item: &CoverItem, shares: u32, members: u32) -> PolicyCover<'_> {
    PolicyCover { item, shares, insured_members: members, cover_start: start() }
}

/// One medical claim: eligible expenses and what other insurance paid, in fen.
fn medical_claim() -> impl Strategy<Value = (i64, i64)> {
    (0i64..2_000_000, 0i64..500_000)
}

proptest! {
    /// Claims of any members one after another: each pays at most what is left, what is
    /// left only shrinks and never goes below zero, and all of them together never pay more
    /// than the family's limit.
    #[test]
    fn the_family_medical_limit_shrinks_and_is_never_passed(
        limit in 0i64..5_000_000,
        deductible in 0i64..50_000,
        percent in 0u8..=100,
        shares in 1u32..3,
        claims in proptest::collection::vec(medical_claim(), 1..40),
    ) {
        let item = CoverItem::AccidentMedical {
            family_limit: Fen::new(limit),
            deductible: Fen::new(deductible),
            reimbursed_percent: percent,
        };
        let family_limit = limit * i64::from(shares);
        let mut taken = Taken::default();
        let mut left = family_limit;
        for (eligible, other) in claims {
            let claim = Claimed::Medical { eligible: Fen::new(eligible), other_paid: Fen::new(other) };
            let paid = benefit(cover(&item, shares, 4), claim, &taken).unwrap();
            prop_assert!(paid.amount >= Fen::ZERO);
            prop_assert!(paid.amount <= paid.before_limits);
            prop_assert!(paid.amount.get() <= left, "{:?} with {} left", paid, left);
            prop_assert!(paid.amount.get() <= (eligible - other - deductible).max(0));
            prop_assert_eq!(
                paid.amount < paid.before_limits,
                matches!(paid.limited_by, Some(Limit::FamilyMedical { .. }))
            );
            taken.family_medical = taken.family_medical.checked_add(paid.amount).unwrap();
            let now_left = family_limit - taken.family_medical.get();
            prop_assert!(now_left >= 0);
            prop_assert!(now_left <= left);
            left = now_left;
        }
        prop_assert!(taken.family_medical.get() <= family_limit);
    }

    /// When nothing is left of the limit (or more than it was taken), a claim pays 0.
    #[test]
    fn nothing_left_pays_nothing(
        limit in 0i64..5_000_000,
        over in 0i64..1_000_000,
        claim in medical_claim(),
    ) {
        let item = CoverItem::AccidentMedical {
            family_limit: Fen::new(limit),
            deductible: Fen::from_yuan(100),
            reimbursed_percent: 90,
        };
        let taken = Taken { family_medical: Fen::new(limit + over), ..Taken::default() };
        let claimed = Claimed::Medical { eligible: Fen::new(claim.0), other_paid: Fen::new(claim.1) };
        prop_assert_eq!(benefit(cover(&item, 1, 3), claimed, &taken).unwrap().amount, Fen::ZERO);
        // Expenses the deductible and other insurance cover entirely pay nothing either.
        let small = Claimed::Medical { eligible: Fen::new(claim.1 + 10_000), other_paid: Fen::new(claim.1) };
        prop_assert_eq!(benefit(cover(&item, 1, 3), small, &Taken::default()).unwrap().amount, Fen::ZERO);
    }

    /// Disabilities and then a death of one person never pay more than the person's share,
    /// and the shares of all the members never add up to more than the family sum.
    #[test]
    fn death_and_disability_stay_within_the_share(
        sum in 1i64..50_000_000,
        members in 1u32..9,
        shares in 1u32..3,
        grades in proptest::collection::vec(1u8..=10, 0..5),
    ) {
        let item = CoverItem::AccidentDeathDisability { family_sum: Fen::new(sum) };
        let family_sum = sum * i64::from(shares);
        let mut taken = Taken::default();
        for grade in grades {
            let claim = Claimed::Disability { grade: DisabilityGrade::new(grade).unwrap() };
            let paid = benefit(cover(&item, shares, members), claim, &taken).unwrap();
            taken.person_death_disability = taken.person_death_disability.checked_add(paid.amount).unwrap();
        }
        let death = benefit(cover(&item, shares, members), Claimed::Death, &taken).unwrap();
        let person = taken.person_death_disability.get() + death.amount.get();
        prop_assert!(person <= family_sum / i64::from(members));
        prop_assert!(death.before_limits.get() * i64::from(members) <= family_sum);
        prop_assert!(family_sum - death.before_limits.get() * i64::from(members) < i64::from(members));
    }

    /// Allowance days of many stays never pay more than the maximum days.
    #[test]
    fn allowance_days_never_pass_the_maximum(
        per_day in 0i64..50_000,
        max_days in 0u32..400,
        stays in proptest::collection::vec(0u32..200, 1..10),
    ) {
        let item = CoverItem::HospitalAllowance { per_day: Fen::new(per_day), max_days };
        let mut taken = Taken::default();
        let mut paid_total = 0;
        for days in stays {
            let paid = benefit(cover(&item, 1, 2), Claimed::Allowance { days }, &taken).unwrap();
            prop_assert!(paid.amount.get() <= i64::from(days) * per_day);
            let days_paid = days.min(max_days - taken.person_allowance_days);
            prop_assert_eq!(paid.amount.get(), i64::from(days_paid) * per_day);
            paid_total += paid.amount.get();
            taken.person_allowance_days += days_paid;
        }
        prop_assert!(taken.person_allowance_days <= max_days);
        prop_assert!(paid_total <= i64::from(max_days) * per_day);
    }
}
