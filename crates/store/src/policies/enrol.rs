//! Enrolling one family: the quote (premium, eligibility, the split among sources) and the
//! draft policy written from it.

use std::collections::HashSet;

use chrono::NaiveDate;
use guanai_domain::funding::{split_premium, FamilyFacts, PremiumSplit, RuleInput};
use guanai_domain::products::{full_years, EligibilityError};
use guanai_domain::{Fen, Permission, PovertyStatus, RegionCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::Channel;
use crate::entities::{
    cover_slots, families, funding_sources, persons, policy_funding, policy_products, products,
};
use crate::families::{person_from_row, Person};
use crate::products::{Package, ProductKind};
use crate::{Actor, Store, StoreError, StoreResult};

/// The most persons one enrolment may insure: far above any household (the demo's largest
/// has a handful), low enough that a request cannot make the checks read without bound.
const MAX_INSURED_PER_ENROLMENT: usize = 50;

#[derive(Debug, Clone)]
pub struct EnrolRequest {
    pub family_id: i64,
    pub package_id: i64,
    pub shares: u32,
    pub member_ids: Vec<i64>,
    pub channel: Channel,
    /// The family part the user saw; when given and no longer right (a budget moved in
    /// between), the enrolment is refused so the user can look again.
    pub expected_family_part: Option<Fen>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotedMember {
    pub person: Person,
    pub age: u32,
    /// Insured under the base product last year: renewal age limits apply.
    pub renewal: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteLine {
    pub product_id: i64,
    pub product_name: String,
    pub kind: ProductKind,
    pub premium: Fen,
}

/// Who pays what: the sources, then the family (`source_id` none).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingLine {
    pub source_id: Option<i64>,
    pub name: String,
    pub amount: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub family_id: i64,
    pub head_name: crate::shown::ShownName,
    pub package_id: i64,
    pub package_name: String,
    pub year: i32,
    /// The first day of cover: the scheme's start date, or for a late enrolment the day
    /// after today (次日零时起保).
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The scheme's own start date (ages are taken on it).
    pub scheme_start: NaiveDate,
    /// The start is expected, not fixed: it is set again to the day after underwriting.
    pub start_after_underwriting: bool,
    pub shares: u32,
    pub members: Vec<QuotedMember>,
    pub lines: Vec<QuoteLine>,
    pub premium: Fen,
    pub funding: Vec<FundingLine>,
    pub family_part: Fen,
    #[serde(skip)]
    pub(crate) split: PremiumSplit,
    #[serde(skip)]
    pub(crate) village_code: String,
    #[serde(skip)]
    pub(crate) category: String,
    #[serde(skip)]
    pub(crate) poverty: PovertyStatus,
}

/// A family with its members, read and scope-checked by the caller of an enrolment (a
/// renewal reads them for its due policy) and handed over rather than read again.
pub(crate) type KnownFamily = (families::Model, Vec<Person>);

/// When the split among the funding sources is made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Pricing {
    /// Now, with the budgets as they are (a quote).
    Now,
    /// Later, inside the enrolment's write transaction, which takes the budgets.
    InTransaction,
}

impl crate::handles::Policies<'_> {
    /// Prices an enrolment and checks every rule, changing nothing. Each rule broken is
    /// named, with the person it concerns.
    pub async fn quote(self, actor: &Actor, request: &EnrolRequest) -> StoreResult<Quote> {
        self.require(actor, Permission::Enrol).await?;
        let package = self.cached_package(request.package_id).await?;
        self.prepare_quote(actor, request, &package, Pricing::Now, None).await
    }
}

impl Store {
    /// Checks the request and prices it; with `Pricing::InTransaction` the split among the
    /// sources is left for the caller to make with the budgets its transaction sees.
    pub(super) async fn prepare_quote(
        &self,
        actor: &Actor,
        request: &EnrolRequest,
        package: &Package,
        pricing: Pricing,
        family: Option<KnownFamily>,
    ) -> StoreResult<Quote> {
        let mut wanted: Vec<i64> = request.member_ids.clone();
        wanted.sort_unstable();
        wanted.dedup();
        // Checked before any read: every id asked for costs the cover query a parameter.
        if wanted.len() > MAX_INSURED_PER_ENROLMENT {
            return Err(StoreError::invalid(format!(
                "一次参保最多选择{MAX_INSURED_PER_ENROLMENT}名被保险人，请分开办理"
            )));
        }
        // The family with its members (unless its caller read them: then the same scope
        // rule as the read's, a family moved out of the user's region read again to be
        // refused as usual), and the cover of those asked for, side by side.
        let known = family.filter(|(f, _)| f.id == request.family_id && actor.holds(&f.village_code));
        let ((family, members), (renewing, taken)) = match known {
            Some(known) => (known, self.cover_of(package, &wanted).await?),
            None => tokio::try_join!(
                self.family_with_members(actor, request.family_id),
                self.cover_of(package, &wanted)
            )?,
        };
        let members: Vec<Person> = members.into_iter().filter(|m| wanted.contains(&m.id)).collect();
        if members.len() != wanted.len() {
            return Err(StoreError::invalid("所选被保险人中有人不是本家庭成员，请刷新后重选"));
        }
        let mut problems: Vec<String> = Vec::new();
        for member in members.iter().filter(|m| !m.active) {
            problems.push(format!("{}已不在本户（死亡或迁出），不能参保", member.name));
        }
        let base = &package.base;
        // Sold today only; a late enrolment's cover starts the next day at the earliest.
        let start = package.enrolment_start(self.today())?;
        // Ages are those on the scheme's start date, the same for every family of the year.
        let scheme_start = base.terms.start_date;
        let mut quoted = Vec::new();
        for member in &members {
            let renewal = renewing.contains(&member.id);
            for product in package.products() {
                if let Err(e) =
                    product.terms.check_person(&product.name, member.name.as_str(), member.born, renewal)
                {
                    problems.push(e.to_string());
                }
            }
            quoted.push(QuotedMember {
                age: full_years(member.born, scheme_start),
                renewal,
                person: member.clone(),
            });
        }
        let count = members.len() as u32;
        for product in package.products() {
            if let Err(e) = product.terms.check_policy(&product.name, request.shares, count) {
                problems.push(e.to_string());
            }
        }
        problems.extend(overlapping_cover(package, &members, &taken));
        if !problems.is_empty() {
            problems.dedup();
            return Err(StoreError::invalid(problems.join("；")));
        }
        let (premium, lines) = price_lines(package, request.shares, count, start)?;
        let poverty: PovertyStatus = crate::error::stored("families.poverty", &family.poverty)?;
        let (split, funding) = match pricing {
            Pricing::Now => {
                self.funding_split(
                    &self.db,
                    &family.village_code,
                    &family.category,
                    poverty,
                    package,
                    premium,
                    count,
                )
                .await?
            }
            Pricing::InTransaction => {
                (PremiumSplit { total: premium, parts: Vec::new(), family: premium }, Vec::new())
            }
        };
        Ok(Quote {
            family_id: family.id,
            head_name: self.visibility(actor, [family.id]).await?.name(family.id, &family.head_name),
            package_id: package.id,
            package_name: package.name.clone(),
            year: package.year,
            start_date: start,
            end_date: base.terms.end_date(),
            scheme_start,
            start_after_underwriting: package.starts_after_underwriting(start),
            shares: request.shares,
            members: quoted,
            lines,
            premium,
            family_part: split.family,
            funding,
            split,
            village_code: family.village_code,
            category: family.category,
            poverty,
        })
    }

    /// Splits a premium among the rules that match the family, with the budgets as `db`
    /// sees them now; the family's line comes last.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn funding_split(
        &self,
        db: &impl ConnectionTrait,
        village: &str,
        category: &str,
        poverty: PovertyStatus,
        package: &Package,
        premium: Fen,
        insured: u32,
    ) -> StoreResult<(PremiumSplit, Vec<FundingLine>)> {
        let village = RegionCode::parse(village).map_err(|e| StoreError::invalid(e.to_string()))?;
        let facts = FamilyFacts { village: &village, category, poverty, package_id: package.id };
        let (rules, names) = self.matching_rules(db, package.year, &facts).await?;
        Ok(split_among(&rules, &names, premium, insured))
    }

    /// A family within the actor's scope and its members, in one query. A family not
    /// found or out of scope is answered (and logged) as `family_row` does.
    async fn family_with_members(
        &self,
        actor: &Actor,
        family_id: i64,
    ) -> StoreResult<(families::Model, Vec<Person>)> {
        self.require(actor, Permission::ViewFamilies).await?;
        let rows = persons::Entity::find()
            .select_also(families::Entity)
            .join(
                JoinType::InnerJoin,
                persons::Entity::belongs_to(families::Entity)
                    .from(persons::Column::FamilyId)
                    .to(families::Column::Id)
                    .into(),
            )
            .filter(persons::Column::FamilyId.eq(family_id))
            .order_by_asc(persons::Column::Id)
            .all(&self.db)
            .await?;
        let family = match rows.first() {
            Some((_, Some(family))) if actor.holds(&family.village_code) => family.clone(),
            // Out of scope, or no such family (or none with members): the usual answer.
            _ => {
                let family = self.family_row(actor, family_id).await?;
                let seen = self.visibility(actor, [family_id]).await?;
                return Ok((family, self.members(&seen, family_id).await?));
            }
        };
        let seen = self.visibility(actor, [family_id]).await?;
        Ok((
            family,
            rows.into_iter()
                .map(|(person, _)| person_from_row(&seen, person, self.today()))
                .collect::<StoreResult<_>>()?,
        ))
    }

    /// In one query, for the persons of an enrolment: who was insured last year under a
    /// product with the base product's code (renewal age limits apply), and which
    /// (person, product) of the package they already hold this year.
    async fn cover_of(
        &self,
        package: &Package,
        persons: &[i64],
    ) -> StoreResult<(HashSet<i64>, Vec<(i64, i64)>)> {
        use sea_orm::Condition;
        let (this_year, last_year) = (held_cover(package), renewal_cover(package));
        let mut renewing = HashSet::new();
        let mut taken = Vec::new();
        for chunk in persons.chunks(500) {
            let found: Vec<(i64, i64, i32)> = slots_with_products()
                .column(cover_slots::Column::PersonId)
                .column(cover_slots::Column::ProductId)
                .column(cover_slots::Column::Year)
                .filter(cover_slots::Column::PersonId.is_in(chunk.iter().copied()))
                .filter(Condition::any().add(this_year.clone()).add(last_year.clone()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (person, product, year) in found {
                if year == package.year {
                    taken.push((person, product));
                } else {
                    renewing.insert(person);
                }
            }
        }
        Ok((renewing, taken))
    }

    pub(crate) async fn touch_family(&self, db: &impl ConnectionTrait, family_id: i64) -> StoreResult<()> {
        use crate::entities::families;
        use sea_orm::sea_query::Expr;
        families::Entity::update_many()
            .col_expr(families::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(families::Column::Id.eq(family_id))
            .exec(db)
            .await?;
        Ok(())
    }

    pub(crate) async fn policy_lines(&self, policy_id: i64) -> StoreResult<Vec<QuoteLine>> {
        let rows = policy_products::Entity::find()
            .filter(policy_products::Column::PolicyId.eq(policy_id))
            .all(&self.db)
            .await?;
        let mut lines = Vec::new();
        for row in rows {
            let product = self.products().product(row.product_id).await?;
            lines.push(QuoteLine {
                product_id: product.id,
                product_name: product.name,
                kind: product.kind,
                premium: Fen::new(row.premium_fen),
            });
        }
        lines.sort_by_key(|l| (l.kind != ProductKind::Base, l.product_id));
        Ok(lines)
    }

    pub(crate) async fn policy_funding_lines(
        &self,
        policy_id: i64,
        family_part: Fen,
    ) -> StoreResult<Vec<FundingLine>> {
        let parts = policy_funding::Entity::find()
            .filter(policy_funding::Column::PolicyId.eq(policy_id))
            .all(&self.db)
            .await?;
        let source_ids: Vec<i64> = parts.iter().map(|p| p.source_id).collect();
        let sources = funding_sources::Entity::find()
            .filter(funding_sources::Column::Id.is_in(source_ids))
            .all(&self.db)
            .await?;
        let mut lines: Vec<FundingLine> = Vec::new();
        for part in parts {
            let amount = Fen::new(part.amount_fen);
            match lines.iter_mut().find(|l| l.source_id == Some(part.source_id)) {
                Some(line) => line.amount = line.amount.checked_add(amount).unwrap_or(line.amount),
                None => lines.push(FundingLine {
                    source_id: Some(part.source_id),
                    name: sources
                        .iter()
                        .find(|s| s.id == part.source_id)
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    amount,
                }),
            }
        }
        lines.push(FundingLine { source_id: None, name: "家庭自缴".to_owned(), amount: family_part });
        Ok(lines)
    }
}

/// Splits a premium among the matching rules (in priority order, with what each source has
/// left); the family's line comes last.
pub(crate) fn split_among(
    rules: &[RuleInput],
    names: &[(i64, String)],
    premium: Fen,
    insured: u32,
) -> (PremiumSplit, Vec<FundingLine>) {
    let split = split_premium(premium, insured, rules);
    let mut funding: Vec<FundingLine> = Vec::new();
    for part in &split.parts {
        let name =
            names.iter().find(|(id, _)| *id == part.source_id).map(|(_, n)| n.clone()).unwrap_or_default();
        match funding.iter_mut().find(|l| l.source_id == Some(part.source_id)) {
            Some(line) => line.amount = line.amount.checked_add(part.amount).unwrap_or(line.amount),
            None => funding.push(FundingLine { source_id: Some(part.source_id), name, amount: part.amount }),
        }
    }
    funding.push(FundingLine { source_id: None, name: "家庭自缴".to_owned(), amount: split.family });
    (split, funding)
}

/// The premium of `shares` shares for `insured` persons with cover from `start`, product by
/// product (each as its terms price a late start), and its total.
pub(crate) fn price_lines(
    package: &Package,
    shares: u32,
    insured: u32,
    start: NaiveDate,
) -> StoreResult<(Fen, Vec<QuoteLine>)> {
    let overflow = || StoreError::invalid("保费计算溢出，请检查份数");
    let mut lines = Vec::new();
    let mut premium = Fen::ZERO;
    for product in package.products() {
        let part = product.terms.premium_from(shares, insured, start).ok_or_else(overflow)?;
        premium = premium.checked_add(part).ok_or_else(overflow)?;
        lines.push(QuoteLine {
            product_id: product.id,
            product_name: product.name.clone(),
            kind: product.kind,
            premium: part,
        });
    }
    Ok((premium, lines))
}

/// The (person, product) pairs of `taken` as sentences naming who is already covered.
fn overlapping_cover(package: &Package, members: &[Person], taken: &[(i64, i64)]) -> Vec<String> {
    taken
        .iter()
        .filter_map(|(person_id, product_id)| {
            let person = members.iter().find(|m| m.id == *person_id)?;
            let product = package.products().find(|p| p.id == *product_id)?;
            Some(
                EligibilityError::AlreadyCovered {
                    person: person.name.to_string(),
                    product: product.name.clone(),
                    year: package.year,
                }
                .to_string(),
            )
        })
        .collect()
}

/// The cover slots of this year for the package's products: a person holding one is
/// covered already.
pub(super) fn held_cover(package: &Package) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(cover_slots::Column::Year.eq(package.year))
        .add(cover_slots::Column::ProductId.is_in(package.products().map(|p| p.id)))
}

/// The cover slots of last year under a product with the base product's code (cover slots
/// joined to their products): a person holding one renews, and the renewal age limits
/// apply.
pub(super) fn renewal_cover(package: &Package) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(cover_slots::Column::Year.eq(package.year - 1))
        .add(products::Column::Year.eq(package.year - 1))
        .add(products::Column::Code.eq(package.base.code.as_str()))
}

/// Cover slots joined to their products, no column chosen yet (renewals are found by the
/// product's code and year).
pub(super) fn slots_with_products() -> sea_orm::Select<cover_slots::Entity> {
    cover_slots::Entity::find().select_only().join(
        JoinType::InnerJoin,
        cover_slots::Entity::belongs_to(products::Entity)
            .from(cover_slots::Column::ProductId)
            .to(products::Column::Id)
            .into(),
    )
}
