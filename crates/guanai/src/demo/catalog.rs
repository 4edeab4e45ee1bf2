//! The demo's products, "1+N" packages, funding sources and subsidy rules, modelled on
//! PRODUCT.md's examples. Idempotent: what exists is left alone.

use chrono::NaiveDate;
use guanai_domain::funding::{FundingKind, RuleScope, SubsidyAmount};
use guanai_domain::identity::Uscc;
use guanai_domain::products::{CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Fen, PovertyStatus, RegionCode, RegionLevel};
use guanai_store::funding::{NewRule, NewSource};
use guanai_store::orgs::OrgKind;
use guanai_store::products::{NewPackage, NewProduct, ProductKind};
use guanai_store::regions::DivisionSet;
use guanai_store::{Actor, Store};

/// The scheme year of the demo: cover from 1 September (and from the first of the month of
/// each county's own scheme, [`SCHEMES`]).
pub const DEMO_YEAR: i32 = 2026;

/// A county scheme: the month its year starts on (the 1st), the suffix of its product and
/// package codes, and its counties. Counties start their years on different days, as they
/// do in the programme, so that on any day of a year one county is in its renewal season
/// (due from 60 days before the end to 30 after: six schemes two months apart cover the
/// year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub month: u32,
    pub suffix: &'static str,
    /// Empty: every county no other scheme names.
    pub counties: &'static [&'static str],
}

/// The demo's schemes, the city's own (1 September: 吉州区, 青原区 and the other counties)
/// last.
pub const SCHEMES: [Scheme; 6] = [
    Scheme { month: 1, suffix: "-01", counties: &["360821"] }, // 吉安县
    Scheme { month: 3, suffix: "-03", counties: &["360822"] }, // 吉水县
    Scheme { month: 5, suffix: "-05", counties: &["360823"] }, // 峡江县
    Scheme { month: 7, suffix: "-07", counties: &["360824"] }, // 新干县
    Scheme { month: 11, suffix: "-11", counties: &["360825"] }, // 永丰县
    Scheme { month: 9, suffix: "", counties: &[] },
];

impl Scheme {
    /// The scheme of a village (or county) code.
    pub fn of(code: &str) -> &'static Scheme {
        SCHEMES
            .iter()
            .find(|s| s.counties.iter().any(|c| code.starts_with(c)))
            .unwrap_or(&SCHEMES[SCHEMES.len() - 1])
    }

    /// The first day of the scheme's `year`.
    pub fn start(&self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, 1).expect("valid date")
    }

    /// Whether a package code is this scheme's.
    pub fn owns(&self, code: &str) -> bool {
        match code.split_once('-') {
            Some((_, month)) => !self.suffix.is_empty() && self.suffix[1..] == *month,
            None => self.suffix.is_empty(),
        }
    }
}

pub fn start_date(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 9, 1).expect("valid date")
}

fn terms(start: NaiveDate, premium: i64, basis: PremiumBasis, items: Vec<CoverItem>) -> ProductTerms {
    ProductTerms {
        premium: Fen::from_yuan(premium),
        basis,
        min_shares: 1,
        max_shares: 2,
        max_members: 6,
        first_age_min: 1,
        first_age_max: 65,
        renewal_age_max: 70,
        start_date: start,
        term_months: 12,
        items,
        sales_end: None,
        late_start: LateStart::AfterUnderwriting,
        late_premium: LatePremium::Full,
    }
}

/// A valid 统一社会信用代码 for a demo company, built from a 17-character body.
fn demo_uscc(body: &str) -> Uscc {
    let check = Uscc::check_char_for(body).expect("demo body is valid");
    Uscc::parse(&format!("{body}{check}")).expect("valid by construction")
}

/// The packages of a year of the city's scheme (1 September), by code: "1+0", "1+1", "1+2".
pub async fn products_and_packages(store: &Store, system: &Actor, year: i32) -> anyhow::Result<Vec<i64>> {
    scheme_packages(store, system, &SCHEMES[SCHEMES.len() - 1], year).await
}

/// The packages of a scheme's year: "1+0", "1+1", "1+2", codes with the scheme's suffix.
pub async fn scheme_packages(
    store: &Store,
    system: &Actor,
    scheme: &Scheme,
    year: i32,
) -> anyhow::Result<Vec<i64>> {
    let existing: Vec<i64> = store
        .products()
        .packages(Some(year))
        .await?
        .iter()
        .filter(|p| scheme.owns(&p.code))
        .map(|p| p.id)
        .collect();
    if !existing.is_empty() {
        return Ok(existing);
    }
    let start = scheme.start(year);
    let code = |base: &str| format!("{base}{}", scheme.suffix);
    let insurer = store.orgs().org_at(OrgKind::Insurer, system.scope()).await?.map(|o| o.id);
    let base = store
        .products()
        .create_product(
            system,
            NewProduct {
                code: code("JSJT"),
                year,
                name: "计生家庭意外伤害保险".to_owned(),
                kind: ProductKind::Base,
                insurer_org_id: insurer,
                terms: terms(
                    start,
                    100,
                    PremiumBasis::PerHouseholdShare,
                    vec![
                        CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(150_000) },
                        CoverItem::AccidentMedical {
                            family_limit: Fen::from_yuan(12_000),
                            deductible: Fen::from_yuan(100),
                            reimbursed_percent: 80,
                        },
                    ],
                ),
            },
        )
        .await?;
    let allowance = store
        .products()
        .create_product(
            system,
            NewProduct {
                code: code("ZYJT"),
                year,
                name: "意外住院津贴".to_owned(),
                kind: ProductKind::Addon,
                insurer_org_id: insurer,
                terms: terms(
                    start,
                    20,
                    PremiumBasis::PerPerson,
                    vec![CoverItem::HospitalAllowance { per_day: Fen::from_yuan(100), max_days: 180 }],
                ),
            },
        )
        .await?;
    let special = store
        .products()
        .create_product(
            system,
            NewProduct {
                code: code("TSJT"),
                year,
                name: "计生特殊家庭住院护理".to_owned(),
                kind: ProductKind::Addon,
                insurer_org_id: insurer,
                terms: terms(
                    start,
                    30,
                    PremiumBasis::PerHouseholdShare,
                    vec![CoverItem::Disease {
                        label: "住院护理补贴".to_owned(),
                        sum: Fen::from_yuan(5_000),
                        waiting_days: 30,
                    }],
                ),
            },
        )
        .await?;
    let mut ids = Vec::new();
    for (package_code, name, addons) in [
        ("P1", "基础保障（1+0）", vec![]),
        ("P1N1", "基础+住院津贴（1+1）", vec![allowance]),
        ("P1N2", "基础+住院津贴+特殊家庭护理（1+2）", vec![allowance, special]),
    ] {
        let package = NewPackage {
            code: code(package_code),
            year,
            name: name.to_owned(),
            base_product_id: base,
            addon_ids: addons,
        };
        ids.push(store.products().create_package(system, package).await?);
    }
    Ok(ids)
}

/// "几个一点": the city's birth-care fund pays everything for poverty households and
/// 农村二女户; the city budget 10 元, each county 5 元 and a company in 吉州区 10 元 per
/// household; the family pays the rest.
pub async fn funding(store: &Store, system: &Actor, set: &DivisionSet, year: i32) -> anyhow::Result<()> {
    if !store.funding().sources(system, Some(year)).await?.is_empty() {
        return Ok(());
    }
    let city = set.city.clone();
    let care = store
        .funding()
        .create_source(
            system,
            NewSource {
                name: format!("吉安市生育关怀基金（{year}）"),
                kind: FundingKind::BirthCareFund,
                payer: "吉安市计生协会".to_owned(),
                uscc: None,
                year,
                region: city.clone(),
                pledged: Fen::from_yuan(800_000),
            },
        )
        .await?;
    for (priority, scope) in [
        (1, RuleScope { poverty: Some(PovertyStatus::Lifted), ..Default::default() }),
        (2, RuleScope { poverty: Some(PovertyStatus::Monitored), ..Default::default() }),
        (3, RuleScope { poverty: Some(PovertyStatus::Dibao), ..Default::default() }),
        (4, RuleScope { category: Some("rural_two_daughters".to_owned()), ..Default::default() }),
    ] {
        let name = match (&scope.poverty, &scope.category) {
            (Some(p), _) => format!("{}全额资助", p.label()),
            _ => "农村二女户全额资助".to_owned(),
        };
        store
            .funding()
            .create_rule(
                system,
                NewRule { source_id: care, name, priority, scope, amount: SubsidyAmount::All },
            )
            .await?;
    }
    let budget = store
        .funding()
        .create_source(
            system,
            NewSource {
                name: format!("吉安市财政计生保险补助（{year}）"),
                kind: FundingKind::Government,
                payer: "吉安市财政局".to_owned(),
                uscc: None,
                year,
                region: city.clone(),
                pledged: Fen::from_yuan(3_000_000),
            },
        )
        .await?;
    store
        .funding()
        .create_rule(
            system,
            NewRule {
                source_id: budget,
                name: "市级每户补助10元".to_owned(),
                priority: 10,
                scope: RuleScope::default(),
                amount: SubsidyAmount::PerHousehold(Fen::from_yuan(10)),
            },
        )
        .await?;
    for county in set.rows.iter().filter(|r| r.code.level() == RegionLevel::County) {
        let source = store
            .funding()
            .create_source(
                system,
                NewSource {
                    name: format!("{}财政计生保险补助（{year}）", county.name),
                    kind: FundingKind::Government,
                    payer: format!("{}财政局", county.name),
                    uscc: None,
                    year,
                    region: county.code.clone(),
                    pledged: Fen::from_yuan(300_000),
                },
            )
            .await?;
        store
            .funding()
            .create_rule(
                system,
                NewRule {
                    source_id: source,
                    name: format!("{}每户补助5元", county.name),
                    priority: 20,
                    scope: RuleScope { region: Some(county.code.clone()), ..Default::default() },
                    amount: SubsidyAmount::PerHousehold(Fen::from_yuan(5)),
                },
            )
            .await?;
    }
    let jizhou = RegionCode::parse(super::DEMO_COUNTY)?;
    let company = store
        .funding()
        .create_source(
            system,
            NewSource {
                name: format!("庐陵爱心企业捐助（{year}）"),
                kind: FundingKind::Company,
                payer: "吉安庐陵爱心实业有限公司".to_owned(),
                uscc: Some(demo_uscc("91360802MA35XK8Q1")),
                year,
                region: jizhou.clone(),
                pledged: Fen::from_yuan(50_000),
            },
        )
        .await?;
    store
        .funding()
        .create_rule(
            system,
            NewRule {
                source_id: company,
                name: "吉州区每户资助10元".to_owned(),
                priority: 30,
                scope: RuleScope { region: Some(jizhou), ..Default::default() },
                amount: SubsidyAmount::PerHousehold(Fen::from_yuan(10)),
            },
        )
        .await?;
    // The company gives through 兴桥镇's association too: its staff may gift from it.
    store.funding().grant_source(system, company, &RegionCode::parse(super::DEMO_TOWNSHIP)?).await?;
    Ok(())
}
