//! The limits a policy's claims share, and what the rules propose against them. One row
//! per policy, person (0: the whole family) and limit in `claim_limits` holds what was
//! taken; a decision adds to it with one conditional UPDATE (`taken + x <= cap`) in the
//! decision's transaction, so concurrent decisions on one family never spend the same
//! limit twice, on any engine and any number of instances.

use guanai_domain::claims::{
    benefit, pays, Benefit, ClaimKind, Claimed, DisabilityGrade, PolicyCover, Taken,
};
use guanai_domain::products::CoverItem;
use guanai_domain::Fen;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use super::Proposal;
use crate::entities::{claim_limits, claims, policies, policy_members, policy_products};
use crate::error::stored;
use crate::products::ProductKind;
use crate::{Store, StoreError, StoreResult};

const MEDICAL: &str = "medical";
const DEATH_DISABILITY: &str = "death_disability";
const ALLOWANCE_DAYS: &str = "allowance_days";
const DISEASE: &str = "disease";

/// The limit a decision spends from: its row, its cap and what one unit costs in fen
/// (1 for money; the daily amount for allowance days).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limiter {
    key: &'static str,
    person_id: i64,
    cap: i64,
    per_unit: i64,
}

impl Limiter {
    /// The units an amount takes (allowance days rounded up).
    fn units(&self, amount: Fen) -> i64 {
        (amount.get() + self.per_unit - 1) / self.per_unit.max(1)
    }
}

/// What a claim's benefit is computed from that no decision changes (`cover_terms`).
pub(crate) struct CoverTerms {
    item: CoverItem,
    shares: u32,
    members: u64,
    cover_start: chrono::NaiveDate,
}

/// A benefit worked out for a claim, and the limit paying it spends from.
pub(crate) struct Assessment {
    pub benefit: Benefit,
    pub limiter: Limiter,
}

impl From<&Benefit> for Proposal {
    fn from(b: &Benefit) -> Proposal {
        Proposal {
            amount: b.amount,
            before_limits: b.before_limits,
            limited_by: b.limited_by.as_ref().map(ToString::to_string),
            working: b.working.clone(),
        }
    }
}

impl Store {
    /// The cover item of `policy` that pays `kind`, with the name of its product: of the
    /// products the policy bought, the base first. Their terms come from the policy's
    /// package as enrolments cache it (products never change once written), so a report
    /// reads one row list here, not each product again.
    pub(crate) async fn cover_for(
        &self,
        policy: &policies::Model,
        kind: ClaimKind,
    ) -> StoreResult<Option<(CoverItem, String)>> {
        let package = self.cached_package(policy.package_id).await?;
        let bought: Vec<i64> = policy_products::Entity::find()
            .select_only()
            .column(policy_products::Column::ProductId)
            .filter(policy_products::Column::PolicyId.eq(policy.id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut products = Vec::with_capacity(bought.len());
        for id in bought {
            match package.products().find(|p| p.id == id) {
                Some(product) => products.push(product.clone()),
                None => products.push(self.products().product(id).await?),
            }
        }
        products.sort_by_key(|p| (p.kind != ProductKind::Base, p.id));
        Ok(products.into_iter().find_map(|product| {
            let item = product.terms.items.iter().find(|item| pays(item, kind))?.clone();
            Some((item, product.name))
        }))
    }

    /// What the rules propose for a claim as stored, or why they cannot yet (a missing
    /// figure, named).
    pub(crate) async fn propose(&self, row: &claims::Model) -> StoreResult<Result<Proposal, String>> {
        Ok(self.assess(row).await?.map(|a| Proposal::from(&a.benefit)))
    }

    /// [`Store::assess_in`] outside any transaction.
    pub(crate) async fn assess(&self, row: &claims::Model) -> StoreResult<Result<Assessment, String>> {
        let terms = self.cover_terms(row).await?;
        self.assess_in(&self.db, row, &terms).await
    }

    /// What a claim's benefit is computed from besides the limits taken: the cover item of
    /// its policy that pays its kind, the policy's shares and insured members (none of
    /// which changes once the policy is written), or why there is none. Read before a
    /// decision's transaction, on any pooled connection.
    pub(crate) async fn cover_terms(&self, row: &claims::Model) -> StoreResult<Result<CoverTerms, String>> {
        let kind: ClaimKind = stored("claims.kind", &row.kind)?;
        let Some(policy) = policies::Entity::find_by_id(row.policy_id).one(&self.db).await? else {
            return Err(StoreError::Corrupt(format!("claim {} names no policy {}", row.id, row.policy_id)));
        };
        let Some((item, _)) = self.cover_for(&policy, kind).await? else {
            return Ok(Err(format!("保单的保障方案不包含“{}”责任", kind.label())));
        };
        let members = policy_members::Entity::find()
            .filter(policy_members::Column::PolicyId.eq(policy.id))
            .count(&self.db)
            .await?;
        Ok(Ok(CoverTerms {
            item,
            shares: u32::try_from(policy.shares).unwrap_or(1),
            members,
            cover_start: policy.start_date,
        }))
    }

    /// The benefit of the claim as `row` stands, against what the limits it shares say
    /// was taken, read in `db`: a decision's transaction (after its first write), so that
    /// what earlier decisions of the same transaction took counts too.
    pub(crate) async fn assess_in(
        &self,
        db: &impl ConnectionTrait,
        row: &claims::Model,
        terms: &Result<CoverTerms, String>,
    ) -> StoreResult<Result<Assessment, String>> {
        let kind: ClaimKind = stored("claims.kind", &row.kind)?;
        let claimed = match kind {
            ClaimKind::AccidentalDeath => Claimed::Death,
            ClaimKind::AccidentalDisability => {
                match row.grade.map(|g| DisabilityGrade::new(g.clamp(0, 255) as u8)) {
                    Some(Ok(grade)) => Claimed::Disability { grade },
                    _ => return Ok(Err("请填写伤残等级（1至10级）后再计算赔付金额".to_owned())),
                }
            }
            ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient => match row.expenses_fen {
                Some(eligible) => Claimed::Medical {
                    eligible: Fen::new(eligible),
                    other_paid: Fen::new(row.other_paid_fen.unwrap_or(0)),
                },
                None => return Ok(Err("请填写合理医疗费用后再计算赔付金额".to_owned())),
            },
            ClaimKind::HospitalAllowance => match row.days {
                Some(days) if days > 0 => Claimed::Allowance { days: days as u32 },
                _ => return Ok(Err("请填写住院天数后再计算赔付金额".to_owned())),
            },
            ClaimKind::Disease => Claimed::Disease { incident: row.incident_date },
        };
        let terms = match terms {
            Ok(terms) => terms,
            Err(note) => return Ok(Err(note.clone())),
        };
        let CoverTerms { item, shares, members, cover_start } = terms;
        let taken = taken(db, row.policy_id, row.person_id).await?;
        let cover = PolicyCover {
            item,
            shares: *shares,
            insured_members: u32::try_from(*members).unwrap_or(u32::MAX),
            cover_start: *cover_start,
        };
        let benefit = match benefit(cover, claimed, &taken) {
            Ok(b) => b,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let times = i64::from(*shares);
        let limiter = match item {
            CoverItem::AccidentDeathDisability { family_sum } => Limiter {
                key: DEATH_DISABILITY,
                person_id: row.person_id,
                cap: family_sum.get() * times / ((*members).max(1) as i64),
                per_unit: 1,
            },
            CoverItem::AccidentMedical { family_limit, .. } => {
                Limiter { key: MEDICAL, person_id: 0, cap: family_limit.get() * times, per_unit: 1 }
            }
            CoverItem::HospitalAllowance { per_day, max_days } => Limiter {
                key: ALLOWANCE_DAYS,
                person_id: row.person_id,
                cap: i64::from(*max_days),
                per_unit: per_day.get() * times,
            },
            CoverItem::Disease { sum, .. } => {
                Limiter { key: DISEASE, person_id: row.person_id, cap: sum.get() * times, per_unit: 1 }
            }
        };
        Ok(Ok(Assessment { benefit, limiter }))
    }

    /// Makes the limit row a claim of `kind` for `person_id` will take from, if there is
    /// none yet: at the report, so that a decision only ever updates an existing row (two
    /// first inserts of one key at once could deadlock on MySQL's gap locks).
    pub(crate) async fn open_limit(
        &self,
        db: &impl ConnectionTrait,
        policy_id: i64,
        kind: ClaimKind,
        person_id: i64,
    ) -> StoreResult<()> {
        let (person_id, key) = match kind {
            ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient => (0, MEDICAL),
            ClaimKind::AccidentalDeath | ClaimKind::AccidentalDisability => (person_id, DEATH_DISABILITY),
            ClaimKind::HospitalAllowance => (person_id, ALLOWANCE_DAYS),
            ClaimKind::Disease => (person_id, DISEASE),
        };
        let row = claim_limits::ActiveModel {
            policy_id: Set(policy_id),
            person_id: Set(person_id),
            cover: Set(key.to_owned()),
            taken: Set(0),
        };
        claim_limits::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    claim_limits::Column::PolicyId,
                    claim_limits::Column::PersonId,
                    claim_limits::Column::Cover,
                ])
                .value(
                    claim_limits::Column::Taken,
                    Expr::col((claim_limits::Entity, claim_limits::Column::Taken)),
                )
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Takes `amount` from the limit, unless that would pass its cap (then `false` and
    /// nothing taken): one conditional UPDATE of the row the report opened, inside the
    /// caller's transaction.
    pub(crate) async fn spend(
        &self,
        db: &impl ConnectionTrait,
        policy_id: i64,
        limiter: Limiter,
        amount: Fen,
    ) -> StoreResult<bool> {
        let units = limiter.units(amount);
        if units <= 0 {
            return Ok(true);
        }
        let result = claim_limits::Entity::update_many()
            .col_expr(claim_limits::Column::Taken, Expr::col(claim_limits::Column::Taken).add(units))
            .filter(claim_limits::Column::PolicyId.eq(policy_id))
            .filter(claim_limits::Column::PersonId.eq(limiter.person_id))
            .filter(claim_limits::Column::Cover.eq(limiter.key))
            .filter(Expr::expr(Expr::col(claim_limits::Column::Taken).add(units)).lte(limiter.cap))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

/// What earlier decisions took from the limits a claim of `person_id` shares.
async fn taken(db: &impl ConnectionTrait, policy_id: i64, person_id: i64) -> StoreResult<Taken> {
    let rows = claim_limits::Entity::find()
        .filter(claim_limits::Column::PolicyId.eq(policy_id))
        .filter(claim_limits::Column::PersonId.is_in([0, person_id]))
        .all(db)
        .await?;
    let mut taken = Taken::default();
    for row in rows {
        match (row.person_id, row.cover.as_str()) {
            (0, MEDICAL) => taken.family_medical = Fen::new(row.taken),
            (p, DEATH_DISABILITY) if p == person_id => taken.person_death_disability = Fen::new(row.taken),
            (p, ALLOWANCE_DAYS) if p == person_id => {
                taken.person_allowance_days = u32::try_from(row.taken).unwrap_or(u32::MAX)
            }
            (p, DISEASE) if p == person_id => taken.person_disease = Fen::new(row.taken),
            _ => {}
        }
    }
    Ok(taken)
}
