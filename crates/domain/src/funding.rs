//! Funding ("几个一点"): the sources that pay part of a premium, the rules that say which
//! families a source pays for and how much, and the split of one premium among them. The
//! split always adds up to the premium exactly, no part is negative, and no source gives
//! more than its budget has left.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::families::PovertyStatus;
use crate::money::Fen;
use crate::regions::RegionCode;

crate::stored_code! {
    /// Who pays (筹资来源).
    pub enum FundingKind {
        Government => ("government", "政府财政"),
        BirthCareFund => ("birth_care_fund", "生育关怀资金"),
        Donation => ("donation", "社会捐助"),
        Company => ("company", "爱心企业"),
        PairedUnit => ("paired_unit", "扶贫挂点单位"),
        Family => ("family", "家庭自缴"),
    }
}

impl FundingKind {
    /// Reads what a person typed: the code or the label.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == raw.trim() || k.label() == raw.trim())
    }

    /// Organisations that pay carry a 统一社会信用代码.
    pub const fn is_organisation(self) -> bool {
        matches!(self, FundingKind::Company | FundingKind::PairedUnit | FundingKind::Donation)
    }
}

/// How much a rule pays for one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum SubsidyAmount {
    /// A fixed amount per household (policy).
    PerHousehold(Fen),
    /// A fixed amount per insured person.
    PerPerson(Fen),
    /// A share of the premium, in basis points (10000 = all), rounded down to the fen.
    Share(u32),
    /// Whatever is left of the premium (送保, or a fund paying in full).
    All,
}

impl SubsidyAmount {
    pub const fn kind_str(self) -> &'static str {
        match self {
            SubsidyAmount::PerHousehold(_) => "per_household",
            SubsidyAmount::PerPerson(_) => "per_person",
            SubsidyAmount::Share(_) => "share",
            SubsidyAmount::All => "all",
        }
    }

    /// The stored number: fen, basis points, or 0.
    pub fn value(self) -> i64 {
        match self {
            SubsidyAmount::PerHousehold(fen) | SubsidyAmount::PerPerson(fen) => fen.get(),
            SubsidyAmount::Share(bp) => i64::from(bp),
            SubsidyAmount::All => 0,
        }
    }

    pub fn from_parts(kind: &str, value: i64) -> Option<Self> {
        match kind {
            "per_household" if value >= 0 => Some(SubsidyAmount::PerHousehold(Fen::new(value))),
            "per_person" if value >= 0 => Some(SubsidyAmount::PerPerson(Fen::new(value))),
            "share" if (0..=10_000).contains(&value) => Some(SubsidyAmount::Share(value as u32)),
            "all" => Some(SubsidyAmount::All),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            SubsidyAmount::PerHousehold(fen) => format!("每户 {fen}"),
            SubsidyAmount::PerPerson(fen) => format!("每人 {fen}"),
            SubsidyAmount::Share(bp) => format!("保费的 {}.{:02}%", bp / 100, bp % 100),
            SubsidyAmount::All => "全额".to_owned(),
        }
    }

    /// What the rule would pay for a premium of `premium` and `insured` persons, before
    /// budgets and what other rules already paid.
    fn wanted(self, premium: Fen, insured: u32) -> Fen {
        match self {
            SubsidyAmount::PerHousehold(fen) => fen,
            SubsidyAmount::PerPerson(fen) => fen.checked_mul(i64::from(insured)).unwrap_or(premium),
            SubsidyAmount::Share(bp) => {
                let part = i128::from(premium.get()) * i128::from(bp.min(10_000)) / 10_000;
                Fen::new(part as i64)
            }
            SubsidyAmount::All => premium,
        }
    }
}

/// Which families a rule pays for; an empty field matches every family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleScope {
    /// The family's village must lie within this region.
    pub region: Option<RegionCode>,
    pub category: Option<String>,
    pub poverty: Option<PovertyStatus>,
    pub package_id: Option<i64>,
}

/// What a rule looks at in a family and its policy.
#[derive(Debug, Clone)]
pub struct FamilyFacts<'a> {
    pub village: &'a RegionCode,
    pub category: &'a str,
    pub poverty: PovertyStatus,
    pub package_id: i64,
}

impl RuleScope {
    pub fn matches(&self, facts: &FamilyFacts<'_>) -> bool {
        self.region.as_ref().is_none_or(|r| r.contains(facts.village))
            && self.category.as_deref().is_none_or(|c| c == facts.category)
            && self.poverty.is_none_or(|p| p == facts.poverty)
            && self.package_id.is_none_or(|p| p == facts.package_id)
    }
}

/// A matching rule as the split sees it: in priority order, with its source's budget left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInput {
    pub rule_id: i64,
    pub source_id: i64,
    pub amount: SubsidyAmount,
    /// What the source has left; shared by every rule of the same source.
    pub budget_left: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitPart {
    pub rule_id: i64,
    pub source_id: i64,
    pub amount: Fen,
}

/// One premium, split: what each source pays, and the family's part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PremiumSplit {
    pub total: Fen,
    pub parts: Vec<SplitPart>,
    pub family: Fen,
}

impl PremiumSplit {
    /// What the sources pay together.
    pub fn subsidised(&self) -> Fen {
        Fen::new(self.total.get() - self.family.get())
    }
}

/// Splits `premium` among `rules`, taken in the order given (the caller sorts by
/// priority): each pays what it wants, capped by what is left of the premium and of its
/// source's budget. The family pays the rest. A negative premium is treated as zero.
pub fn split_premium(premium: Fen, insured: u32, rules: &[RuleInput]) -> PremiumSplit {
    let total = Fen::new(premium.get().max(0));
    let mut left = total.get();
    let mut budgets: HashMap<i64, i64> = HashMap::new();
    let mut parts = Vec::new();
    for rule in rules {
        if left == 0 {
            break;
        }
        let budget = budgets.entry(rule.source_id).or_insert(rule.budget_left.get().max(0));
        let wanted = rule.amount.wanted(total, insured).get().max(0);
        let take = wanted.min(left).min(*budget);
        if take > 0 {
            *budget -= take;
            left -= take;
            parts.push(SplitPart {
                rule_id: rule.rule_id,
                source_id: rule.source_id,
                amount: Fen::new(take),
            });
        }
    }
    PremiumSplit { total, parts, family: Fen::new(left) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(rule_id: i64, source_id: i64, amount: SubsidyAmount, budget: i64) -> RuleInput {
        RuleInput { rule_id, source_id, amount, budget_left: Fen::new(budget) }
    }

    #[test]
    fn a_little_from_each_adds_up_to_sixty_yuan() {
        // province 5 + county 5 + township 10 + village 10 + family 30 = 60 元
        let rules = [
            rule(1, 1, SubsidyAmount::PerHousehold(Fen::from_yuan(5)), 1_000_000),
            rule(2, 2, SubsidyAmount::PerHousehold(Fen::from_yuan(5)), 1_000_000),
            rule(3, 3, SubsidyAmount::PerHousehold(Fen::from_yuan(10)), 1_000_000),
            rule(4, 4, SubsidyAmount::PerHousehold(Fen::from_yuan(10)), 1_000_000),
        ];
        let split = split_premium(Fen::from_yuan(60), 3, &rules);
        assert_eq!(split.family, Fen::from_yuan(30));
        assert_eq!(split.parts.len(), 4);
        assert_eq!(split.subsidised(), Fen::from_yuan(30));
    }

    #[test]
    fn a_short_budget_pays_what_it_has_and_the_family_the_rest() {
        let rules = [rule(1, 7, SubsidyAmount::All, 2_500)];
        let split = split_premium(Fen::from_yuan(100), 2, &rules);
        assert_eq!(split.parts[0].amount, Fen::new(2_500));
        assert_eq!(split.family, Fen::new(7_500));
        // Two rules of one source share its budget.
        let rules = [
            rule(1, 7, SubsidyAmount::PerPerson(Fen::from_yuan(20)), 5_000),
            rule(2, 7, SubsidyAmount::All, 5_000),
        ];
        let split = split_premium(Fen::from_yuan(100), 2, &rules);
        let amounts: Vec<i64> = split.parts.iter().map(|p| p.amount.get()).collect();
        assert_eq!(amounts, [4_000, 1_000], "the second rule gets only what the first left");
        assert_eq!(split.family, Fen::from_yuan(50));
    }

    #[test]
    fn shares_round_down_to_the_fen_and_the_family_takes_the_remainder() {
        let rules = [rule(1, 1, SubsidyAmount::Share(3_333), i64::MAX)];
        let split = split_premium(Fen::new(10_001), 1, &rules);
        assert_eq!(split.parts[0].amount, Fen::new(3_333));
        assert_eq!(split.family, Fen::new(6_668));
    }

    #[test]
    fn scopes_match_on_every_given_field() {
        let village = RegionCode::parse("360802100200").unwrap();
        let facts = FamilyFacts {
            village: &village,
            category: "rural_two_daughters",
            poverty: PovertyStatus::Lifted,
            package_id: 3,
        };
        assert!(RuleScope::default().matches(&facts));
        let scope = RuleScope {
            region: Some(RegionCode::parse("360802").unwrap()),
            poverty: Some(PovertyStatus::Lifted),
            ..Default::default()
        };
        assert!(scope.matches(&facts));
        let other_county =
            RuleScope { region: Some(RegionCode::parse("360803").unwrap()), ..Default::default() };
        assert!(!other_county.matches(&facts));
        let other_category = RuleScope { category: Some("only_child".into()), ..Default::default() };
        assert!(!other_category.matches(&facts));
        assert!(!RuleScope { package_id: Some(4), ..Default::default() }.matches(&facts));
    }

    fn amount() -> impl Strategy<Value = SubsidyAmount> {
        prop_oneof![
            (0i64..50_000).prop_map(|f| SubsidyAmount::PerHousehold(Fen::new(f))),
            (0i64..20_000).prop_map(|f| SubsidyAmount::PerPerson(Fen::new(f))),
            (0u32..=10_000).prop_map(SubsidyAmount::Share),
            Just(SubsidyAmount::All),
        ]
    }

    proptest! {
        #[test]
        fn the_split_always_adds_up_and_respects_budgets(
            premium in 0i64..10_000_000,
            insured in 0u32..10,
            raw in proptest::collection::vec((0i64..5, amount(), 0i64..200_000), 0..8),
        ) {
            let rules: Vec<RuleInput> = raw.iter().enumerate()
                .map(|(i, (source, amount, budget))| rule(i as i64, *source, *amount, *budget))
                .collect();
            let split = split_premium(Fen::new(premium), insured, &rules);
            let sum: i64 = split.parts.iter().map(|p| p.amount.get()).sum::<i64>() + split.family.get();
            prop_assert_eq!(sum, premium);
            prop_assert!(split.family.get() >= 0);
            prop_assert!(split.parts.iter().all(|p| p.amount.get() > 0));
            // Per source, never more than the budget it started with.
            let mut used: HashMap<i64, i64> = HashMap::new();
            for part in &split.parts {
                *used.entry(part.source_id).or_default() += part.amount.get();
            }
            for (source, total) in used {
                let budget = rules.iter().find(|r| r.source_id == source).unwrap().budget_left.get();
                prop_assert!(total <= budget, "source {} used {} of {}", source, total, budget);
            }
        }
    }
}
