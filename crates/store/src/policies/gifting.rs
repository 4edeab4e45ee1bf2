//! Gifted policies (送保) in bulk: a funding source pays the whole premium of every family
//! selected. All or nothing: when the source cannot pay for them all, nothing is created,
//! and the preview says beforehand how many it can cover.

use std::collections::{HashMap, HashSet};

use guanai_domain::families::Relationship;
use guanai_domain::products::full_years;
use guanai_domain::{Fen, Permission, PovertyStatus, RegionCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::Serialize;

use super::write::{insert_policies, PolicyDraft};
use super::{Channel, PolicyStatus};
use crate::audit::AuditEvent;
use crate::entities::{consents, cover_slots, families, persons};
use crate::families::ConsentKind;
use crate::products::Package;
use crate::{Actor, Store, StoreError, StoreResult};

/// Which families receive the gift.
#[derive(Debug, Clone)]
pub enum GiftSelection {
    /// Every family of a region (within the actor's scope), optionally of one category
    /// and poverty status.
    Filter { region: RegionCode, category: Option<String>, poverty: Option<PovertyStatus> },
    /// These families.
    Families(Vec<i64>),
}

#[derive(Debug, Clone)]
pub struct GiftRequest {
    pub source_id: i64,
    pub package_id: i64,
    pub selection: GiftSelection,
}

#[derive(Debug, Clone, Serialize)]
pub struct GiftSkip {
    pub family_id: i64,
    pub head_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GiftPreview {
    pub source_name: String,
    pub package_name: String,
    /// Families selected.
    pub selected: usize,
    /// Families that can be insured (the rest are in `skipped`, with reasons).
    pub eligible: usize,
    pub skipped: Vec<GiftSkip>,
    pub total: Fen,
    pub budget_left: Fen,
    /// How many of the eligible families the budget covers, in order.
    pub coverable: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GiftOutcome {
    pub created: usize,
    pub total: Fen,
}

struct Plan {
    preview: GiftPreview,
    drafts: Vec<PolicyDraft>,
}

/// Members first by their place in the household, then by age.
fn household_order(relationship: &str) -> usize {
    Relationship::ALL.iter().position(|r| r.as_str() == relationship).unwrap_or(Relationship::ALL.len())
}

impl Store {
    pub async fn gift_preview(&self, actor: &Actor, request: &GiftRequest) -> StoreResult<GiftPreview> {
        Ok(self.plan_gift(actor, request).await?.preview)
    }

    /// Creates every gifted policy of the preview, submitted to the insurer, paid in full
    /// by the source; or nothing at all.
    pub async fn gift(&self, actor: &Actor, request: &GiftRequest) -> StoreResult<GiftOutcome> {
        let plan = self.plan_gift(actor, request).await?;
        if plan.drafts.is_empty() {
            return Err(StoreError::invalid("没有符合送保条件的家庭"));
        }
        if plan.preview.coverable < plan.drafts.len() {
            return Err(StoreError::Conflict(format!(
                "资金来源“{}”剩余 {}，只够为{}户送保，本次共{}户（需 {}）。请减少家庭或追加预算；本次未做任何更改",
                plan.preview.source_name,
                plan.preview.budget_left,
                plan.preview.coverable,
                plan.drafts.len(),
                plan.preview.total
            )));
        }
        let txn = self.db.begin().await?;
        self.allocate(&txn, request.source_id, plan.preview.total).await?;
        insert_policies(&txn, &plan.drafts).await?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("policy.gift", "资金来源", request.source_id.to_string()).with_detail(format!(
                "送保{}户，共 {}",
                plan.drafts.len(),
                plan.preview.total
            )),
        )
        .await?;
        Ok(GiftOutcome { created: plan.drafts.len(), total: plan.preview.total })
    }

    async fn plan_gift(&self, actor: &Actor, request: &GiftRequest) -> StoreResult<Plan> {
        actor.require(Permission::Gift)?;
        let source = self.source_row(actor, request.source_id).await?;
        let package = self.package(request.package_id).await?;
        if source.year != package.year {
            return Err(StoreError::invalid(format!(
                "资金来源是{}年度的，保障方案是{}年度的，请选择同一年度",
                source.year, package.year
            )));
        }
        let source_region =
            RegionCode::parse(&source.region_code).map_err(|e| StoreError::invalid(e.to_string()))?;
        let mut select =
            families::Entity::find().filter(actor.scope_condition(families::Column::VillageCode));
        match &request.selection {
            GiftSelection::Filter { region, category, poverty } => {
                if !actor.sees(region) {
                    return Err(StoreError::Forbidden(format!("区划“{region}”不在您的管理范围内")));
                }
                select = select.filter(families::Column::VillageCode.starts_with(region.as_str()));
                if let Some(category) = category.as_deref().filter(|c| !c.is_empty()) {
                    select = select.filter(families::Column::Category.eq(category));
                }
                if let Some(poverty) = poverty {
                    select = select.filter(families::Column::Poverty.eq(poverty.as_str()));
                }
            }
            GiftSelection::Families(ids) => {
                select = select.filter(families::Column::Id.is_in(ids.iter().copied()));
            }
        }
        let selected = select.order_by_asc(families::Column::Id).all(&self.db).await?;
        let family_ids: Vec<i64> = selected.iter().map(|f| f.id).collect();
        let mut members: HashMap<i64, Vec<persons::Model>> = HashMap::new();
        let mut consents_by_family: HashMap<i64, Vec<consents::Model>> = HashMap::new();
        let mut covered: HashSet<i64> = HashSet::new();
        let product_ids: Vec<i64> = package.products().map(|p| p.id).collect();
        for chunk in family_ids.chunks(500) {
            for person in persons::Entity::find()
                .filter(persons::Column::FamilyId.is_in(chunk.iter().copied()))
                .filter(persons::Column::Active.eq(true))
                .all(&self.db)
                .await?
            {
                members.entry(person.family_id).or_default().push(person);
            }
            for consent in consents::Entity::find()
                .filter(consents::Column::FamilyId.is_in(chunk.iter().copied()))
                .filter(consents::Column::WithdrawnAt.is_null())
                .all(&self.db)
                .await?
            {
                consents_by_family.entry(consent.family_id).or_default().push(consent);
            }
            let person_ids: Vec<i64> =
                chunk.iter().flat_map(|f| members.get(f).into_iter().flatten().map(|p| p.id)).collect();
            for ids in person_ids.chunks(500) {
                covered.extend(
                    cover_slots::Entity::find()
                        .filter(cover_slots::Column::PersonId.is_in(ids.iter().copied()))
                        .filter(cover_slots::Column::ProductId.is_in(product_ids.clone()))
                        .filter(cover_slots::Column::Year.eq(package.year))
                        .all(&self.db)
                        .await?
                        .into_iter()
                        .map(|s| s.person_id),
                );
            }
        }
        let all_persons: Vec<i64> = members.values().flatten().map(|p| p.id).collect();
        let renewing = self.renewing_persons(&package, &all_persons).await?;
        let mut skipped = Vec::new();
        let mut drafts = Vec::new();
        for family in &selected {
            let skip = |reason: String| GiftSkip {
                family_id: family.id,
                head_name: family.head_name.clone(),
                reason,
            };
            if !family.village_code.starts_with(&source.region_code) && !source_region.contains(actor.scope())
            {
                skipped.push(skip("不在资金来源的资助区域内".to_owned()));
                continue;
            }
            let given = consents_by_family.get(&family.id).map(Vec::as_slice).unwrap_or_default();
            let has = |kind: ConsentKind| given.iter().any(|c| c.kind == kind.as_str());
            if !has(ConsentKind::Processing) || !has(ConsentKind::InsurerSharing) {
                skipped.push(skip("未签署个人信息处理及向保险公司提供的同意书".to_owned()));
                continue;
            }
            match self.gift_draft(
                actor,
                family,
                members.get(&family.id),
                &covered,
                &renewing,
                given,
                &package,
            ) {
                Ok(draft) => drafts.push(draft),
                Err(reason) => skipped.push(skip(reason)),
            }
        }
        let budget_left = Fen::new(source.pledged_fen - source.allocated_fen);
        let mut total = Fen::ZERO;
        let mut coverable = 0;
        let mut running = Fen::ZERO;
        for draft in &drafts {
            total = total.checked_add(draft.premium).ok_or_else(|| StoreError::invalid("金额溢出"))?;
            if let Some(next) = running.checked_add(draft.premium).filter(|n| *n <= budget_left) {
                running = next;
                coverable += 1;
            }
        }
        for draft in &mut drafts {
            draft.funding = vec![(source.id, 0, draft.premium)];
        }
        Ok(Plan {
            preview: GiftPreview {
                source_name: source.name.clone(),
                package_name: package.name.clone(),
                selected: selected.len(),
                eligible: drafts.len(),
                skipped,
                total,
                budget_left,
                coverable,
            },
            drafts,
        })
    }

    /// The policy one family would get, or why it cannot.
    #[allow(clippy::too_many_arguments)]
    fn gift_draft(
        &self,
        actor: &Actor,
        family: &families::Model,
        members: Option<&Vec<persons::Model>>,
        covered: &HashSet<i64>,
        renewing: &HashSet<i64>,
        consents: &[consents::Model],
        package: &Package,
    ) -> Result<PolicyDraft, String> {
        let start = package.base.terms.start_date;
        let mut candidates: Vec<&persons::Model> = members.map(|m| m.iter().collect()).unwrap_or_default();
        candidates.sort_by_key(|p| (household_order(&p.relationship), p.birth_date));
        let mut insured = Vec::new();
        let limit =
            package.products().map(|p| p.terms.max_members).filter(|m| *m > 0).min().unwrap_or(u32::MAX);
        for person in candidates {
            if insured.len() as u32 >= limit {
                break;
            }
            if covered.contains(&person.id) {
                continue;
            }
            let renewal = renewing.contains(&person.id);
            let eligible = package
                .products()
                .all(|p| p.terms.check_person(&p.name, &person.name, person.birth_date, renewal).is_ok());
            let age = full_years(person.birth_date, start);
            let child_without_guardian = age < 14
                && !consents
                    .iter()
                    .any(|c| c.kind == ConsentKind::Guardian.as_str() && c.person_id == Some(person.id));
            if eligible && !child_without_guardian {
                insured.push((person.id, age as i32));
            }
        }
        if insured.is_empty() {
            return Err("没有符合年龄条件且未参保的成员".to_owned());
        }
        let count = insured.len() as u32;
        let mut products = Vec::new();
        let mut premium = Fen::ZERO;
        for product in package.products() {
            let part = product.terms.premium_for(product.terms.min_shares, count).ok_or("保费计算溢出")?;
            premium = premium.checked_add(part).ok_or("保费计算溢出")?;
            products.push((product.id, part));
        }
        Ok(PolicyDraft {
            family_id: family.id,
            package_id: package.id,
            village_code: family.village_code.clone(),
            year: package.year,
            start_date: start,
            end_date: package.base.terms.end_date(),
            shares: package.base.terms.min_shares as i32,
            status: PolicyStatus::Submitted,
            channel: Channel::Gifted,
            premium,
            family_part: Fen::ZERO,
            created_by: actor.username().to_owned(),
            members: insured,
            products,
            funding: Vec::new(),
        })
    }
}
