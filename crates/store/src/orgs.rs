//! Organisations: association units (市/县/乡 计生协) and insurer branches (分公司/支公司),
//! each attached to a region.

pub use guanai_domain::orgs::OrgKind;
use guanai_domain::{Permission, RegionCode};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::access::Target;
use crate::entities::orgs;
use crate::error::stored;
use crate::{Actor, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub region_code: String,
    pub parent_id: Option<i64>,
}

impl TryFrom<orgs::Model> for Org {
    type Error = StoreError;

    fn try_from(row: orgs::Model) -> StoreResult<Self> {
        Ok(Org {
            id: row.id,
            name: row.name,
            kind: stored("orgs.kind", &row.kind)?,
            region_code: row.region_code,
            parent_id: row.parent_id,
        })
    }
}

impl crate::handles::Orgs<'_> {
    /// The organisation of `kind` at `region`, created with `name` if there is none yet.
    pub async fn ensure_org(
        self,
        kind: OrgKind,
        region: &RegionCode,
        name: &str,
        parent_id: Option<i64>,
    ) -> StoreResult<i64> {
        if let Some(existing) = self.org_at(kind, region).await? {
            return Ok(existing.id);
        }
        if !self.regions().region_exists(region).await? {
            return Err(StoreError::invalid(format!("区划“{region}”尚未导入")));
        }
        let row = orgs::ActiveModel {
            id: NotSet,
            name: Set(name.to_owned()),
            kind: Set(kind.code().to_owned()),
            region_code: Set(region.to_string()),
            parent_id: Set(parent_id),
        };
        let inserted = orgs::Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, &format!("机构名称“{name}”已被使用")))?;
        Ok(inserted.last_insert_id)
    }

    /// The organisation of `kind` attached to exactly `region`, if any.
    pub async fn org_at(&self, kind: OrgKind, region: &RegionCode) -> StoreResult<Option<Org>> {
        orgs::Entity::find()
            .filter(orgs::Column::Kind.eq(kind.code()))
            .filter(orgs::Column::RegionCode.eq(region.as_str()))
            .one(&self.db)
            .await?
            .map(Org::try_from)
            .transpose()
    }

    /// The organisations within the actor's scope, by region.
    pub async fn list_orgs(self, actor: &Actor) -> StoreResult<Vec<Org>> {
        self.require(actor, Permission::ViewOrgs).await?;
        let rows = orgs::Entity::find()
            .filter(actor.scope_condition(orgs::Column::RegionCode))
            .order_by_asc(orgs::Column::Kind)
            .order_by_asc(orgs::Column::RegionCode)
            .all(&self.db)
            .await?;
        rows.into_iter().map(Org::try_from).collect()
    }

    /// One organisation by id, if it is within the actor's scope.
    pub async fn org(&self, actor: &Actor, id: i64) -> StoreResult<Org> {
        self.require(actor, Permission::ViewOrgs).await?;
        const ORG: Target = Target { action: "org.view", kind: "机构" };
        self.scoped_find::<orgs::Entity>(actor, ORG, id, |o| &o.region_code).await?.try_into()
    }
}
