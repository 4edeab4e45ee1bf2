//! Gifted policies (送保) in bulk: a funding source pays the whole premium of every family
//! selected. All or nothing: when the source cannot pay for them all, nothing is created,
//! and the preview says beforehand how many it can cover.

use guanai_domain::{Fen, Permission, PovertyStatus, RegionCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;

use super::batch::{DraftFamily, DraftFamilyRow};
use super::write::{insert_policies, PolicyDraft};
use super::{Channel, PolicyStatus};
use crate::audit::AuditEvent;
use crate::entities::families;
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

pub use super::batch::Skipped as GiftSkip;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GiftOutcome {
    pub created: usize,
    pub total: Fen,
}

struct Plan {
    preview: GiftPreview,
    drafts: Vec<PolicyDraft>,
}

impl crate::handles::Policies<'_> {
    pub async fn gift_preview(self, actor: &Actor, request: &GiftRequest) -> StoreResult<GiftPreview> {
        Ok(self.plan_gift(actor, request).await?.preview)
    }

    /// Creates every gifted policy of the preview, submitted to the insurer, paid in full
    /// by the source; or nothing at all.
    pub async fn gift(self, actor: &Actor, request: &GiftRequest) -> StoreResult<GiftOutcome> {
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
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        self.allocate(&txn, request.source_id, plan.preview.total).await?;
        insert_policies(&txn, self.dialect, &plan.drafts).await?;
        txn.commit().await?;
        drop(turn);
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
}

impl Store {
    async fn plan_gift(&self, actor: &Actor, request: &GiftRequest) -> StoreResult<Plan> {
        self.require(actor, Permission::Gift).await?;
        let source = self.source_row(actor, request.source_id).await?;
        self.require_spend(actor, &source).await?;
        let package = self.products().package(request.package_id).await?;
        if source.year != package.year {
            return Err(StoreError::invalid(format!(
                "资金来源是{}年度的，保障方案是{}年度的，请选择同一年度",
                source.year, package.year
            )));
        }
        let source_region =
            RegionCode::parse(&source.region_code).map_err(|e| StoreError::invalid(e.to_string()))?;
        let mut select = DraftFamily::select(families::Entity::find().select_only())
            .filter(actor.scope_condition(families::Column::VillageCode));
        match &request.selection {
            GiftSelection::Filter { region, category, poverty } => {
                if !actor.sees(region) {
                    return Err(StoreError::Forbidden(format!("区划“{region}”不在您的管理范围内")));
                }
                select = select
                    .filter(crate::access::within_region(families::Column::VillageCode, region.as_str()));
                if let Some(category) = category.as_deref().filter(|c| !c.is_empty()) {
                    select = select.filter(families::Column::Category.eq(category));
                }
                if let Some(poverty) = poverty {
                    select = select.filter(families::Column::Poverty.eq(poverty.code()));
                }
            }
            GiftSelection::Families(_) => {}
        }
        let rows: Vec<DraftFamilyRow> = match &request.selection {
            // A long list is read in chunks: every engine limits the parameters of a query.
            GiftSelection::Families(ids) => {
                let mut found = Vec::new();
                for chunk in ids.chunks(500) {
                    found.extend(
                        select
                            .clone()
                            .filter(families::Column::Id.is_in(chunk.iter().copied()))
                            .order_by_asc(families::Column::Id)
                            .into_tuple()
                            .all(&self.db)
                            .await?,
                    );
                }
                found
            }
            GiftSelection::Filter { .. } => {
                select.order_by_asc(families::Column::Id).into_tuple().all(&self.db).await?
            }
        };
        let selected: Vec<DraftFamily> = rows.into_iter().map(DraftFamily::from_row).collect();
        // Families outside the source's region are not its to pay for.
        let seen = self.visibility(actor, selected.iter().map(|f| f.id)).await?;
        let (in_region, mut skipped): (Vec<DraftFamily>, Vec<GiftSkip>) = {
            let mut keep = Vec::new();
            let mut out = Vec::new();
            for family in selected.iter() {
                if family.village_code.starts_with(&source.region_code)
                    || source_region.contains(actor.scope())
                {
                    keep.push(family.clone());
                } else {
                    out.push(GiftSkip {
                        family_id: family.id,
                        head_name: seen.name(family.id, &family.head_name),
                        reason: "不在资金来源的资助区域内".to_owned(),
                    });
                }
            }
            (keep, out)
        };
        let (mut drafts, more_skipped) =
            self.batch_drafts(actor, &package, &in_region, Channel::Gifted, PolicyStatus::Submitted).await?;
        skipped.extend(more_skipped);
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
            draft.family_part = Fen::ZERO;
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
}
