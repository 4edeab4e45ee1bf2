//! The kinds of publicity activity as the city keeps them: the eight the speech names,
//! seeded by the migration, and those the city adds. City staff who manage publicity rename
//! a kind or stop it (no new activity of it; old ones keep it); a kind is never deleted,
//! because activities keep its code. Everyone who sees activities reads the list.

use std::collections::HashMap;

use chrono::Utc;
use guanai_domain::publicity::check_kind_label;
use guanai_domain::{Permission, RegionLevel};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{activities, activity_kinds};
use crate::{Actor, Store, StoreError, StoreResult};

/// A kind of activity and how many activities are of it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityKindEntry {
    /// What activities store: `door_to_door` for a seeded kind, `k9` for one the city added.
    pub code: String,
    pub label: String,
    /// New activities may be of it.
    pub active: bool,
    /// One of the eight kinds of the speech.
    pub built_in: bool,
}

impl Store {
    /// Every kind's name by code, stopped ones too (old activities keep them).
    pub(crate) async fn kind_labels(&self) -> StoreResult<HashMap<String, String>> {
        let rows: Vec<(String, String)> = activity_kinds::Entity::find()
            .select_only()
            .column(activity_kinds::Column::Code)
            .column(activity_kinds::Column::Label)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The kind a new activity names, which must be in use.
    pub(crate) async fn active_kind(&self, code: &str) -> StoreResult<activity_kinds::Model> {
        match activity_kinds::Entity::find_by_id(code.trim().to_owned()).one(&self.db).await? {
            Some(kind) if kind.active => Ok(kind),
            Some(kind) => Err(StoreError::invalid(format!(
                "活动类型“{}”已停用，请选择其他类型（或请市计生协重新启用）",
                kind.label
            ))),
            None => Err(StoreError::invalid("请选择活动类型")),
        }
    }

    /// Refuses a name another kind has (`except`: the kind being renamed).
    async fn refuse_taken_label(&self, label: &str, except: Option<&str>) -> StoreResult<()> {
        let mut taken = activity_kinds::Entity::find().filter(activity_kinds::Column::Label.eq(label));
        if let Some(code) = except {
            taken = taken.filter(activity_kinds::Column::Code.ne(code));
        }
        if taken.count(&self.db).await? > 0 {
            return Err(StoreError::Conflict(format!("已有名为“{label}”的活动类型，请换一个名称")));
        }
        Ok(())
    }

    fn require_city(&self, actor: &Actor) -> StoreResult<()> {
        if actor.scope().level() <= RegionLevel::City {
            Ok(())
        } else {
            Err(StoreError::Forbidden("活动类型由市计生协统一设置，请联系市计生协".to_owned()))
        }
    }
}

impl crate::handles::Publicity<'_> {
    /// Every kind, in the city's order: the ones in use first.
    pub async fn kinds(self, actor: &Actor) -> StoreResult<Vec<ActivityKindEntry>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let rows = activity_kinds::Entity::find()
            .order_by_desc(activity_kinds::Column::Active)
            .order_by_asc(activity_kinds::Column::Position)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|k| ActivityKindEntry {
                code: k.code,
                label: k.label,
                active: k.active,
                built_in: k.built_in,
            })
            .collect())
    }

    /// Adds a kind under a name no other kind has; its code is `k` and its position.
    pub async fn add_kind(self, actor: &Actor, label: &str) -> StoreResult<ActivityKindEntry> {
        self.require(actor, Permission::ManagePublicity).await?;
        self.require_city(actor)?;
        let label = check_kind_label(label).map_err(StoreError::Invalid)?;
        self.refuse_taken_label(&label, None).await?;
        let txn = self.db.begin().await?;
        // Two adds at once may draw the same position: the primary key refuses the second,
        // which the user is asked to retry.
        let last: Option<i32> = activity_kinds::Entity::find()
            .select_only()
            .column_as(Expr::col(activity_kinds::Column::Position).max(), "last")
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await?
            .flatten();
        let position = last.unwrap_or(0) + 1;
        let code = format!("k{position}");
        let row = activity_kinds::ActiveModel {
            code: Set(code.clone()),
            label: Set(label.clone()),
            position: Set(position),
            active: Set(true),
            built_in: Set(false),
            updated_by: Set(actor.username().to_owned()),
            updated_at: Set(Utc::now()),
        };
        activity_kinds::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| StoreError::from_write(e, "有人同时在添加活动类型，请重试"))?;
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("activity_kind.add", "活动类型", &code).with_detail(&label),
        )
        .await?;
        txn.commit().await?;
        Ok(ActivityKindEntry { code, label, active: true, built_in: false })
    }

    /// Renames a kind, or stops or restarts it.
    pub async fn update_kind(
        self,
        actor: &Actor,
        code: &str,
        label: &str,
        active: bool,
    ) -> StoreResult<ActivityKindEntry> {
        self.require(actor, Permission::ManagePublicity).await?;
        self.require_city(actor)?;
        let label = check_kind_label(label).map_err(StoreError::Invalid)?;
        self.refuse_taken_label(&label, Some(code)).await?;
        let txn = self.db.begin().await?;
        let kind = activity_kinds::Entity::find_by_id(code.to_owned())
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("找不到活动类型“{code}”")))?;
        let others_in_use = activity_kinds::Entity::find()
            .filter(activity_kinds::Column::Active.eq(true))
            .filter(activity_kinds::Column::Code.ne(code))
            .count(&txn)
            .await?;
        if !active && others_in_use == 0 {
            return Err(StoreError::invalid("至少保留一个启用的活动类型"));
        }
        activity_kinds::Entity::update_many()
            .col_expr(activity_kinds::Column::Label, Expr::value(label.clone()))
            .col_expr(activity_kinds::Column::Active, Expr::value(active))
            .col_expr(activity_kinds::Column::UpdatedBy, Expr::value(actor.username().to_owned()))
            .col_expr(activity_kinds::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(activity_kinds::Column::Code.eq(code))
            .exec(&txn)
            .await
            .map_err(|e| StoreError::from_write(e, &format!("已有名为“{label}”的活动类型")))?;
        let detail = format!("{} → {label}{}", kind.label, if active { "" } else { "（停用）" });
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("activity_kind.update", "活动类型", code).with_detail(detail),
        )
        .await?;
        txn.commit().await?;
        Ok(ActivityKindEntry { code: kind.code, label, active, built_in: kind.built_in })
    }

    /// How many activities of the actor's scope are of each kind (all years).
    pub async fn kind_counts(self, actor: &Actor) -> StoreResult<HashMap<String, u64>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let rows: Vec<(String, i64)> = activities::Entity::find()
            .select_only()
            .column(activities::Column::Kind)
            .column_as(Expr::col(activities::Column::Id).count(), "n")
            .filter(actor.scope_condition(activities::Column::RegionCode))
            .group_by(activities::Column::Kind)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(k, n)| (k, n as u64)).collect())
    }
}
