//! An agent leaves (village elections) and a successor takes over, in one transaction:
//! the villages, the login scope, and every open task of the agent's features. Recorded
//! (`agent_handovers`) and audited with the change. A second handover of the same agent
//! changes nothing: the agent has left already.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use guanai_domain::agents::{check_handover, AgentVillages, Tenure};
use guanai_domain::supervision::ActionStatus;
use guanai_domain::{Permission, RegionCode};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{
    agent_handovers, agent_villages, agents, renewal_follow_ups, supervision_actions, users,
};
use crate::renewals::FollowUpStatus;
use crate::{Actor, Store, StoreError, StoreResult};

/// Who hands over to whom, on which day.
#[derive(Debug, Clone)]
pub struct Handover {
    pub leaving_id: i64,
    pub successor_id: i64,
    pub day: NaiveDate,
    pub note: String,
}

/// What a handover moved.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoverOutcome {
    pub handover_id: i64,
    /// Villages the successor took over (those it did not serve already).
    pub villages: Vec<String>,
    /// Open tasks moved to the successor (supervision actions, …).
    pub tasks: u64,
    /// The successor's login scope after the handover, when it has an account.
    pub successor_scope: Option<String>,
}

/// A handover as an agent's page lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoverRecord {
    pub id: i64,
    pub from_agent_id: i64,
    pub from_name: String,
    pub to_agent_id: i64,
    pub to_name: String,
    pub handed_on: NaiveDate,
    pub villages: i32,
    pub tasks: i32,
    pub note: String,
    pub recorded_by: String,
}

fn region(code: &str) -> StoreResult<RegionCode> {
    RegionCode::parse(code)
        .map_err(|_| StoreError::Corrupt(format!("bad region code '{code}' in agent_villages")))
}

impl Store {
    /// The open tasks the leaving account owns, handed to the successor's account inside
    /// the handover's transaction; the number moved. Every feature whose open tasks belong
    /// to an agent hands them over here (the renewals' lapse follow-ups go here too).
    async fn hand_over_tasks(
        &self,
        db: &impl ConnectionTrait,
        from_user: Option<i64>,
        to_user: Option<i64>,
    ) -> StoreResult<u64> {
        let (Some(from), Some(to)) = (from_user, to_user) else { return Ok(0) };
        let mut moved = 0;
        // Supervision actions still open.
        moved += supervision_actions::Entity::update_many()
            .col_expr(supervision_actions::Column::OwnerId, Expr::value(to))
            .filter(supervision_actions::Column::OwnerId.eq(from))
            .filter(supervision_actions::Column::Status.eq(ActionStatus::Open.code()))
            .exec(db)
            .await?
            .rows_affected;
        // Lapse follow-ups (renewals) assigned to the leaver by login name; unassigned ones
        // belong to their village and move with it.
        let names: Vec<(i64, String)> = users::Entity::find()
            .filter(users::Column::Id.is_in([from, to]))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
        let name_of = |id: i64| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone());
        if let (Some(from_name), Some(to_name)) = (name_of(from), name_of(to)) {
            moved += renewal_follow_ups::Entity::update_many()
                .col_expr(renewal_follow_ups::Column::Assignee, Expr::value(to_name))
                .filter(renewal_follow_ups::Column::Assignee.eq(from_name))
                .filter(renewal_follow_ups::Column::Status.eq(FollowUpStatus::Open.code()))
                .exec(db)
                .await?
                .rows_affected;
        }
        Ok(moved)
    }
}

impl crate::handles::Agents<'_> {
    /// Hands a leaving agent's villages, login scope and open tasks to a serving successor
    /// of the same township, all or nothing.
    pub async fn handover(self, actor: &Actor, handover: &Handover) -> StoreResult<HandoverOutcome> {
        self.require(actor, Permission::ManageAgents).await?;
        let leaving = self.agent_row(actor, handover.leaving_id).await?;
        let successor = self.agent_row(actor, handover.successor_id).await?;
        for agent in [&leaving, &successor] {
            if !actor.holds(&agent.township_code) {
                return Err(StoreError::Forbidden(format!("服务专员“{}”不在您的管理范围内", agent.name)));
            }
        }
        let tenure =
            |a: &agents::Model| Tenure { id: a.id, appointed_on: a.appointed_on, left_on: a.left_on };
        check_handover(tenure(&leaving), tenure(&successor), handover.day, self.today())
            .map_err(|e| StoreError::invalid(e.to_string()))?;
        // Reads before the transaction (see "Transactions on SQLite").
        let served = |id: i64| {
            agent_villages::Entity::find()
                .filter(agent_villages::Column::AgentId.eq(id))
                .filter(agent_villages::Column::UntilOn.is_null())
                .order_by_asc(agent_villages::Column::VillageCode)
                .all(&self.db)
        };
        let leaving_villages: BTreeSet<String> =
            served(leaving.id).await?.into_iter().map(|v| v.village_code).collect();
        let successor_villages: BTreeSet<String> =
            served(successor.id).await?.into_iter().map(|v| v.village_code).collect();
        let taken: Vec<String> = leaving_villages.difference(&successor_villages).cloned().collect();
        let all: Vec<RegionCode> =
            leaving_villages.union(&successor_villages).map(|c| region(c)).collect::<StoreResult<_>>()?;
        let villages = AgentVillages::new(all).map_err(|e| StoreError::invalid(e.to_string()))?;
        let note: String = handover.note.trim().chars().take(200).collect();

        let txn = self.db.begin().await?;
        // Write first: the leaving agent leaves, once. A handover made meanwhile by someone
        // else makes this one change nothing.
        let left = agents::Entity::update_many()
            .col_expr(agents::Column::LeftOn, Expr::value(handover.day))
            .col_expr(agents::Column::SuccessorId, Expr::value(successor.id))
            .filter(agents::Column::Id.eq(leaving.id))
            .filter(agents::Column::LeftOn.is_null())
            .exec(&txn)
            .await?;
        if left.rows_affected != 1 {
            return Err(StoreError::Conflict(format!("服务专员“{}”已经交接过，无需再次交接", leaving.name)));
        }
        agent_villages::Entity::update_many()
            .col_expr(agent_villages::Column::UntilOn, Expr::value(handover.day))
            .filter(agent_villages::Column::AgentId.eq(leaving.id))
            .filter(agent_villages::Column::UntilOn.is_null())
            .exec(&txn)
            .await?;
        if !taken.is_empty() {
            let rows: Vec<agent_villages::ActiveModel> = taken
                .iter()
                .map(|v| agent_villages::ActiveModel {
                    id: NotSet,
                    agent_id: Set(successor.id),
                    village_code: Set(v.clone()),
                    from_on: Set(handover.day),
                    until_on: Set(None),
                })
                .collect();
            agent_villages::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        }
        // The logins: the successor's covers its villages now; the leaving agent's ends.
        let successor_scope = villages.login_scope();
        if let Some(user_id) = successor.user_id {
            users::Entity::update_many()
                .col_expr(users::Column::RegionCode, Expr::value(successor_scope.to_string()))
                .filter(users::Column::Id.eq(user_id))
                .exec(&txn)
                .await?;
        }
        if let Some(user_id) = leaving.user_id {
            users::Entity::update_many()
                .col_expr(users::Column::Active, Expr::value(false))
                .filter(users::Column::Id.eq(user_id))
                .exec(&txn)
                .await?;
        }
        let tasks = self.hand_over_tasks(&txn, leaving.user_id, successor.user_id).await?;
        let handover_id = agent_handovers::Entity::insert(agent_handovers::ActiveModel {
            id: NotSet,
            from_agent_id: Set(leaving.id),
            to_agent_id: Set(successor.id),
            township_code: Set(leaving.township_code.clone()),
            handed_on: Set(handover.day),
            villages: Set(taken.len() as i32),
            tasks: Set(tasks as i32),
            note: Set(note),
            recorded_by: Set(actor.username().to_owned()),
            recorded_at: Set(Utc::now()),
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        let detail =
            format!("{} 交接给 {}：{}个村，{}项待办", leaving.name, successor.name, taken.len(), tasks);
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("agent.handover", "服务专员", leaving.id.to_string())
                .with_subject(format!("agent:{}", successor.id))
                .with_detail(detail),
        )
        .await?;
        txn.commit().await?;
        Ok(HandoverOutcome {
            handover_id,
            villages: taken,
            tasks,
            successor_scope: successor.user_id.map(|_| successor_scope.to_string()),
        })
    }

    /// The handovers an agent gave or took, newest first.
    pub async fn handovers(self, actor: &Actor, agent_id: i64) -> StoreResult<Vec<HandoverRecord>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        self.agent_row(actor, agent_id).await?;
        let rows = agent_handovers::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(agent_handovers::Column::FromAgentId.eq(agent_id))
                    .add(agent_handovers::Column::ToAgentId.eq(agent_id)),
            )
            .order_by_desc(agent_handovers::Column::Id)
            .all(&self.db)
            .await?;
        // Both sides of a handover serve the same township: the names the actor may see.
        let ids: Vec<i64> = rows.iter().flat_map(|r| [r.from_agent_id, r.to_agent_id]).collect();
        let names: std::collections::HashMap<i64, String> = agents::Entity::find()
            .select_only()
            .column(agents::Column::Id)
            .column(agents::Column::Name)
            .filter(agents::Column::Id.is_in(ids))
            .into_tuple::<(i64, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
        Ok(rows
            .into_iter()
            .map(|r| HandoverRecord {
                id: r.id,
                from_agent_id: r.from_agent_id,
                from_name: name(r.from_agent_id),
                to_agent_id: r.to_agent_id,
                to_name: name(r.to_agent_id),
                handed_on: r.handed_on,
                villages: r.villages,
                tasks: r.tasks,
                note: r.note,
                recorded_by: crate::audit_labels::shown_username(&r.recorded_by).to_owned(),
            })
            .collect())
    }
}
