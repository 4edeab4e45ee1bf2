//! Who may spend a funding source (送保 picks one by hand; subsidy rules are set by the
//! source's own managers and need no grant). The rule: a source is spent by users at the
//! level that runs it (its region) or above, and by users below only with an explicit
//! grant, which the source's managers give to a region within the source's region; a
//! grant to a region covers the users scoped to it or below. So township staff cannot
//! gift from the city fund unless the city granted their township (or county) a share.

use chrono::Utc;
use guanai_domain::{Permission, RegionCode};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{funding_grants, funding_sources};
use crate::funding::Source;
use crate::{Actor, Store, StoreError, StoreResult};

/// A region whose users may spend a source they do not run.
#[derive(Debug, Clone, Serialize)]
pub struct SourceGrant {
    pub region_code: String,
    pub created_at: chrono::DateTime<Utc>,
}

fn region_of(source: &funding_sources::Model) -> StoreResult<RegionCode> {
    RegionCode::parse(&source.region_code).map_err(|e| StoreError::invalid(e.to_string()))
}

impl Store {
    /// Whether `actor` may spend `source`: it runs the source, or holds a grant.
    pub(crate) async fn may_spend(
        &self,
        actor: &Actor,
        source: &funding_sources::Model,
    ) -> StoreResult<bool> {
        if actor.sees(&region_of(source)?) {
            return Ok(true);
        }
        let chain: Vec<String> = actor.scope().ancestry().iter().map(|r| r.to_string()).collect();
        let grant = funding_grants::Entity::find()
            .filter(funding_grants::Column::SourceId.eq(source.id))
            .filter(funding_grants::Column::RegionCode.is_in(chain))
            .one(&self.db)
            .await?;
        Ok(grant.is_some())
    }

    /// Refuses unless `actor` may spend `source`.
    pub(crate) async fn require_spend(
        &self,
        actor: &Actor,
        source: &funding_sources::Model,
    ) -> StoreResult<()> {
        if self.may_spend(actor, source).await? {
            return Ok(());
        }
        let event = AuditEvent::denied("funding.spend", "资金来源", source.id.to_string())
            .with_detail("未获资金来源管理方授权");
        self.audit(actor, event).await?;
        Err(StoreError::Forbidden(format!("资金来源“{}”由上级管理，须经其授权后才能用于送保", source.name)))
    }
}

impl crate::handles::Funding<'_> {
    /// The sources of `year` the actor may spend (for the gift form): those it runs, and
    /// those granted to its region or one above it, the grants read in one query.
    pub async fn spendable_sources(self, actor: &Actor, year: Option<i32>) -> StoreResult<Vec<Source>> {
        let sources = self.sources(actor, year).await?;
        let runs = |source: &Source| RegionCode::parse(&source.region_code).is_ok_and(|r| actor.sees(&r));
        let others: Vec<i64> = sources.iter().filter(|s| !runs(s)).map(|s| s.id).collect();
        let granted: std::collections::HashSet<i64> = if others.is_empty() {
            Default::default()
        } else {
            let chain: Vec<String> = actor.scope().ancestry().iter().map(|r| r.to_string()).collect();
            funding_grants::Entity::find()
                .filter(funding_grants::Column::SourceId.is_in(others))
                .filter(funding_grants::Column::RegionCode.is_in(chain))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|grant| grant.source_id)
                .collect()
        };
        Ok(sources.into_iter().filter(|s| runs(s) || granted.contains(&s.id)).collect())
    }

    /// The grants of a source the actor may see.
    pub async fn source_grants(self, actor: &Actor, source_id: i64) -> StoreResult<Vec<SourceGrant>> {
        self.require(actor, Permission::ViewFunding).await?;
        self.source_row(actor, source_id).await?;
        let rows = funding_grants::Entity::find()
            .filter(funding_grants::Column::SourceId.eq(source_id))
            .order_by_asc(funding_grants::Column::RegionCode)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SourceGrant { region_code: r.region_code, created_at: r.created_at })
            .collect())
    }

    /// The source's managers let the users of `region` (within the source's region) spend it.
    pub async fn grant_source(self, actor: &Actor, source_id: i64, region: &RegionCode) -> StoreResult<()> {
        let source = self.managed_source(actor, source_id).await?;
        let source_region = region_of(&source)?;
        if !source_region.contains(region) || &source_region == region {
            return Err(StoreError::invalid(format!(
                "只能授权资金来源所属区域（{}）以下的区划",
                source.region_code
            )));
        }
        if !self.regions().region_exists(region).await? {
            return Err(StoreError::invalid(format!("区划代码“{region}”不存在")));
        }
        funding_grants::Entity::insert(funding_grants::ActiveModel {
            id: NotSet,
            source_id: Set(source_id),
            region_code: Set(region.to_string()),
            created_by: Set(actor.user_id()),
            created_at: Set(Utc::now()),
        })
        .exec(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("区划“{region}”已获授权")))?;
        self.audit(
            actor,
            AuditEvent::ok("funding.grant", "资金来源", source_id.to_string())
                .with_detail(format!("授权区划 {region} 动用")),
        )
        .await
    }

    /// Withdraws a grant.
    pub async fn revoke_source_grant(
        self,
        actor: &Actor,
        source_id: i64,
        region: &RegionCode,
    ) -> StoreResult<()> {
        self.managed_source(actor, source_id).await?;
        let deleted = funding_grants::Entity::delete_many()
            .filter(funding_grants::Column::SourceId.eq(source_id))
            .filter(funding_grants::Column::RegionCode.eq(region.as_str()))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::not_found(format!("区划“{region}”没有此资金来源的授权")));
        }
        self.audit(
            actor,
            AuditEvent::ok("funding.revoke", "资金来源", source_id.to_string())
                .with_detail(format!("收回区划 {region} 的授权")),
        )
        .await
    }
}

impl Store {
    /// A source the actor manages: funding managers at the source's level or above.
    async fn managed_source(&self, actor: &Actor, source_id: i64) -> StoreResult<funding_sources::Model> {
        self.require(actor, Permission::ManageFunding).await?;
        let source = self.source_row(actor, source_id).await?;
        if !actor.sees(&region_of(&source)?) {
            return Err(StoreError::Forbidden("只能管理本辖区的资金来源的授权".to_owned()));
        }
        Ok(source)
    }
}
