//! Joint supervision visits (联合督导调研): a team of association and insurer users visits
//! a region on a day, writes its findings, and leaves actions, each with an owner, a due
//! date and a status. Open actions past their due date show on the owner's home page
//! (`my_actions`); a printable record of each visit.
//!
//! A visit belongs to its region: users see the visits of their scope and of the regions
//! above it; an action's owner always sees its own actions.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use guanai_domain::supervision::{check_due, ActionState, ActionStatus};
use guanai_domain::{Permission, RegionCode, Role};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{supervision_actions, supervision_members, supervision_visits, users};
use crate::publicity::year_bounds;
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct NewAction {
    pub description: String,
    pub owner_id: i64,
    pub due_on: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct NewVisit {
    pub region: RegionCode,
    pub visited_on: NaiveDate,
    /// The team: users of the association and of the insurer.
    pub members: Vec<i64>,
    pub findings: String,
    pub actions: Vec<NewAction>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionView {
    pub id: i64,
    pub visit_id: i64,
    pub region_code: String,
    pub description: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    pub state: ActionState,
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitSummary {
    pub id: i64,
    pub region_code: String,
    pub visited_on: NaiveDate,
    pub findings: String,
    pub actions_open: u64,
    pub actions_overdue: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitDetail {
    #[serde(flatten)]
    pub summary: VisitSummary,
    pub team: Vec<TeamMember>,
    pub actions: Vec<ActionView>,
    pub recorded_by: String,
}

/// Whether a user scoped to `scope` may take part in (or own an action of) a visit to
/// `region`: the one lies within the other.
fn related(scope: &str, region: &str) -> bool {
    scope.starts_with(region) || region.starts_with(scope)
}

impl Store {
    fn visit_visibility(&self, actor: &Actor) -> Condition {
        let mut visible = Condition::any().add(actor.scope_condition(supervision_visits::Column::RegionCode));
        for ancestor in actor.scope().ancestry() {
            visible = visible.add(supervision_visits::Column::RegionCode.eq(ancestor.as_str()));
        }
        visible
    }

    async fn visit_row(&self, actor: &Actor, id: i64) -> StoreResult<supervision_visits::Model> {
        let row = supervision_visits::Entity::find_by_id(id).one(&self.db).await?;
        let owner = match (&row, actor.user_id()) {
            (Some(_), Some(user)) => supervision_actions::Entity::find()
                .filter(supervision_actions::Column::VisitId.eq(id))
                .filter(supervision_actions::Column::OwnerId.eq(user))
                .one(&self.db)
                .await?
                .is_some(),
            _ => false,
        };
        let region = row.as_ref().map(|r| {
            if owner || related(actor.scope().as_str(), &r.region_code) {
                actor.scope().as_str()
            } else {
                r.region_code.as_str()
            }
        });
        const VISIT: crate::access::Target =
            crate::access::Target { action: "supervision.view", kind: "督导记录" };
        self.check_scope(actor, VISIT, id, region).await?;
        Ok(row.expect("in scope, so found"))
    }

    /// Active users by id, for a team or an action's owners; refuses any not found or not
    /// related to the visit's region.
    async fn visit_users(&self, ids: &[i64], region: &RegionCode) -> StoreResult<HashMap<i64, users::Model>> {
        let rows =
            users::Entity::find().filter(users::Column::Id.is_in(ids.iter().copied())).all(&self.db).await?;
        let found: HashMap<i64, users::Model> = rows.into_iter().map(|u| (u.id, u)).collect();
        for id in ids {
            match found.get(id) {
                Some(u) if u.active && related(&u.region_code, region.as_str()) => {}
                Some(u) => {
                    return Err(StoreError::invalid(format!(
                        "用户“{}”不在督导地区“{region}”的上下级范围内，或已停用",
                        u.display_name
                    )))
                }
                None => return Err(StoreError::invalid(format!("找不到用户“{id}”"))),
            }
        }
        Ok(found)
    }

    async fn insert_actions(
        &self,
        db: &impl ConnectionTrait,
        visit_id: i64,
        region: &str,
        actions: &[NewAction],
    ) -> StoreResult<()> {
        if actions.is_empty() {
            return Ok(());
        }
        let rows: Vec<supervision_actions::ActiveModel> = actions
            .iter()
            .map(|a| supervision_actions::ActiveModel {
                id: NotSet,
                visit_id: Set(visit_id),
                region_code: Set(region.to_owned()),
                description: Set(a.description.trim().chars().take(500).collect()),
                owner_id: Set(a.owner_id),
                due_on: Set(a.due_on),
                status: Set(ActionStatus::Open.code().to_owned()),
                done_on: Set(None),
            })
            .collect();
        supervision_actions::Entity::insert_many(rows).exec_without_returning(db).await?;
        Ok(())
    }

    async fn action_views(&self, rows: Vec<supervision_actions::Model>) -> StoreResult<Vec<ActionView>> {
        let owners: Vec<i64> = rows.iter().map(|a| a.owner_id).collect();
        let names: HashMap<i64, String> = users::Entity::find()
            .filter(users::Column::Id.is_in(owners))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let today = self.today();
        rows.into_iter()
            .map(|a| {
                let status: ActionStatus = crate::error::stored("supervision_actions.status", &a.status)?;
                Ok(ActionView {
                    state: ActionState::of(status, a.due_on, today),
                    owner_name: names.get(&a.owner_id).cloned().unwrap_or_default(),
                    id: a.id,
                    visit_id: a.visit_id,
                    region_code: a.region_code,
                    description: a.description,
                    owner_id: a.owner_id,
                    due_on: a.due_on,
                    status,
                    done_on: a.done_on,
                })
            })
            .collect()
    }
}

fn check_actions(visited_on: NaiveDate, actions: &[NewAction]) -> StoreResult<()> {
    for a in actions {
        let description = a.description.trim();
        if description.is_empty() || description.chars().count() > 500 {
            return Err(StoreError::invalid("整改事项不能为空，且不超过500个字"));
        }
        check_due(visited_on, a.due_on).map_err(StoreError::Invalid)?;
    }
    Ok(())
}

impl crate::handles::Supervision<'_> {
    /// Records a visit with its team and actions, all or nothing. The team must be joint:
    /// at least one user of the association and one of the insurer.
    pub async fn create_visit(self, actor: &Actor, new: NewVisit) -> StoreResult<i64> {
        self.require(actor, Permission::ManageSupervision).await?;
        if !related(actor.scope().as_str(), new.region.as_str())
            || !self.regions().region_exists(&new.region).await?
        {
            return Err(StoreError::Forbidden(format!("区划“{}”不在您的管理范围内或不存在", new.region)));
        }
        if new.visited_on > self.today() {
            return Err(StoreError::invalid("督导日期不能晚于今天：督导之后再登记"));
        }
        let findings = new.findings.trim();
        if findings.is_empty() || findings.chars().count() > 5000 {
            return Err(StoreError::invalid("督导发现不能为空，且不超过5000个字"));
        }
        let mut members = new.members.clone();
        members.sort_unstable();
        members.dedup();
        let team = self.visit_users(&members, &new.region).await?;
        let roles: Vec<Role> = team
            .values()
            .map(|u| crate::error::stored::<Role>("users.role", &u.role))
            .collect::<StoreResult<_>>()?;
        if !roles.iter().any(|r| r.is_insurer()) || !roles.iter().any(|r| !r.is_insurer()) {
            return Err(StoreError::invalid("联合督导组须同时有计生协会和保险公司的人员，请补充督导组成员"));
        }
        check_actions(new.visited_on, &new.actions)?;
        let owners: Vec<i64> = new.actions.iter().map(|a| a.owner_id).collect();
        self.visit_users(&owners, &new.region).await?;
        let txn = self.db.begin().await?;
        let id = supervision_visits::Entity::insert(supervision_visits::ActiveModel {
            id: NotSet,
            region_code: Set(new.region.to_string()),
            visited_on: Set(new.visited_on),
            findings: Set(findings.to_owned()),
            created_by: Set(actor.username().to_owned()),
            created_at: Set(Utc::now()),
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        let rows: Vec<supervision_members::ActiveModel> = members
            .iter()
            .map(|u| supervision_members::ActiveModel { id: NotSet, visit_id: Set(id), user_id: Set(*u) })
            .collect();
        supervision_members::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        self.insert_actions(&txn, id, new.region.as_str(), &new.actions).await?;
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("supervision.create", "督导记录", id.to_string())
                .with_detail(format!("{}项整改", new.actions.len())),
        )
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Adds an action to a visit of the actor's scope.
    pub async fn add_action(self, actor: &Actor, visit_id: i64, action: NewAction) -> StoreResult<()> {
        self.require(actor, Permission::ManageSupervision).await?;
        let visit = self.visit_row(actor, visit_id).await?;
        let region = RegionCode::parse(&visit.region_code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        check_actions(visit.visited_on, std::slice::from_ref(&action))?;
        self.visit_users(&[action.owner_id], &region).await?;
        self.insert_actions(&self.db, visit_id, &visit.region_code, std::slice::from_ref(&action)).await?;
        self.audit(actor, AuditEvent::ok("supervision.action", "督导记录", visit_id.to_string())).await
    }

    /// Marks an action done: by its owner, or by a supervision manager of its region.
    /// Done twice changes nothing.
    pub async fn complete_action(self, actor: &Actor, action_id: i64) -> StoreResult<bool> {
        let action = supervision_actions::Entity::find_by_id(action_id).one(&self.db).await?;
        let Some(action) = action else {
            return Err(StoreError::not_found(format!("找不到整改事项“{action_id}”")));
        };
        let owner = actor.user_id() == Some(action.owner_id);
        let manager = actor.can(Permission::ManageSupervision) && actor.holds(&action.region_code);
        if !owner && !manager {
            return Err(self.deny(actor, "supervision.view", "整改事项", action_id.to_string()).await);
        }
        let done = supervision_actions::Entity::update_many()
            .col_expr(supervision_actions::Column::Status, Expr::value(ActionStatus::Done.code()))
            .col_expr(supervision_actions::Column::DoneOn, Expr::value(self.today()))
            .filter(supervision_actions::Column::Id.eq(action_id))
            .filter(supervision_actions::Column::Status.eq(ActionStatus::Open.code()))
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Ok(false);
        }
        self.audit(actor, AuditEvent::ok("supervision.done", "整改事项", action_id.to_string())).await?;
        Ok(true)
    }

    /// Visits the actor may see, newest first; of one year when given.
    pub async fn visits(self, actor: &Actor, year: Option<i32>) -> StoreResult<Vec<VisitSummary>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select = supervision_visits::Entity::find().filter(self.visit_visibility(actor));
        if let Some(year) = year {
            let (first, next) = year_bounds(year)?;
            select = select
                .filter(supervision_visits::Column::VisitedOn.gte(first))
                .filter(supervision_visits::Column::VisitedOn.lt(next));
        }
        let rows = select
            .order_by_desc(supervision_visits::Column::VisitedOn)
            .order_by_desc(supervision_visits::Column::Id)
            .limit(500)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|v| v.id).collect();
        let actions: Vec<(i64, String, NaiveDate)> = supervision_actions::Entity::find()
            .select_only()
            .column(supervision_actions::Column::VisitId)
            .column(supervision_actions::Column::Status)
            .column(supervision_actions::Column::DueOn)
            .filter(supervision_actions::Column::VisitId.is_in(ids))
            .into_tuple()
            .all(&self.db)
            .await?;
        let today = self.today();
        let mut counts: HashMap<i64, (u64, u64)> = HashMap::new();
        for (visit, status, due) in actions {
            let status: ActionStatus = crate::error::stored("supervision_actions.status", &status)?;
            let entry = counts.entry(visit).or_default();
            if status == ActionStatus::Open {
                entry.0 += 1;
            }
            if ActionState::of(status, due, today).is_overdue() {
                entry.1 += 1;
            }
        }
        Ok(rows
            .into_iter()
            .map(|v| {
                let (open, overdue) = counts.get(&v.id).copied().unwrap_or_default();
                VisitSummary {
                    id: v.id,
                    region_code: v.region_code,
                    visited_on: v.visited_on,
                    findings: v.findings,
                    actions_open: open,
                    actions_overdue: overdue,
                }
            })
            .collect())
    }

    /// One visit with its team and actions (also for the owner of one of its actions).
    pub async fn visit(self, actor: &Actor, id: i64) -> StoreResult<VisitDetail> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let row = self.visit_row(actor, id).await?;
        let member_ids: Vec<i64> = supervision_members::Entity::find()
            .select_only()
            .column(supervision_members::Column::UserId)
            .filter(supervision_members::Column::VisitId.eq(id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let team = users::Entity::find()
            .filter(users::Column::Id.is_in(member_ids))
            .order_by_asc(users::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| {
                Ok(TeamMember {
                    role: crate::error::stored("users.role", &u.role)?,
                    user_id: u.id,
                    name: u.display_name,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let actions = supervision_actions::Entity::find()
            .filter(supervision_actions::Column::VisitId.eq(id))
            .order_by_asc(supervision_actions::Column::DueOn)
            .order_by_asc(supervision_actions::Column::Id)
            .all(&self.db)
            .await?;
        let actions = self.action_views(actions).await?;
        let open = actions.iter().filter(|a| a.status == ActionStatus::Open).count() as u64;
        let overdue = actions.iter().filter(|a| a.state.is_overdue()).count() as u64;
        Ok(VisitDetail {
            summary: VisitSummary {
                id: row.id,
                region_code: row.region_code,
                visited_on: row.visited_on,
                findings: row.findings,
                actions_open: open,
                actions_overdue: overdue,
            },
            team,
            actions,
            recorded_by: crate::audit_labels::shown_username(&row.created_by).to_owned(),
        })
    }

    /// The actor's own open actions, the overdue first (the home page's to-do list).
    pub async fn my_actions(self, actor: &Actor) -> StoreResult<Vec<ActionView>> {
        let Some(user) = actor.user_id() else { return Ok(Vec::new()) };
        let rows = supervision_actions::Entity::find()
            .filter(supervision_actions::Column::OwnerId.eq(user))
            .filter(supervision_actions::Column::Status.eq(ActionStatus::Open.code()))
            .order_by_asc(supervision_actions::Column::DueOn)
            .limit(100)
            .all(&self.db)
            .await?;
        self.action_views(rows).await
    }
}
