//! Lapses: after the grace period, each family not renewed becomes a follow-up task of its
//! village (an agent's to-do list), made once per policy by one set-based statement, and
//! the family is told by a message written in the same transaction; the
//! agent records the outcome, and open tasks can be handed to another user (when agents
//! change after a village election).

use chrono::{DateTime, Days, NaiveDate, Utc};
use guanai_domain::outbox::{lapse_notice, templates};
use guanai_domain::{Permission, RegionCode};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use super::{FollowUpStatus, LapseOutcome, SeasonSettings};
use crate::absent_from;
use crate::access::{within_region, Target};
use crate::audit::AuditEvent;
use crate::entities::{families, policies, renewal_follow_ups as follow_ups, renewals, users};
use crate::error::stored;
use crate::outbox::{recipients, write_messages, NewMessage, OutboxSettings};
use crate::policies::PolicyStatus;
use crate::shown::ShownName;
use crate::{Actor, StoreError, StoreResult};

/// How far back lapses are looked for: last season's, not every year since the scheme began.
const LOOK_BACK_DAYS: u64 = 366;

/// Most tasks one list shows.
const MAX_TASKS: u64 = 500;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    pub id: i64,
    pub policy_id: i64,
    pub family_id: i64,
    pub head_name: ShownName,
    pub village_code: String,
    pub year: i32,
    pub assignee: Option<String>,
    pub status: FollowUpStatus,
    pub outcome: Option<LapseOutcome>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl crate::handles::Renewals<'_> {
    /// Makes a follow-up task of every family in the actor's scope whose policy lapsed
    /// (grace period over, not renewed) within the last year, once per policy. Returns how
    /// many tasks were made; running it again makes none.
    pub async fn open_follow_ups(self, actor: &Actor, settings: &SeasonSettings) -> StoreResult<u64> {
        self.require(actor, Permission::BatchRenew).await?;
        let today = self.today();
        // Lapsed: ended before today − grace.
        let last_end = today.checked_sub_days(Days::new(u64::from(settings.grace_days) + 1)).unwrap_or(today);
        let first_end = last_end.checked_sub_days(Days::new(LOOK_BACK_DAYS)).unwrap_or(last_end);
        let outer = (policies::Entity, policies::Column::Id);
        let renewed =
            absent_from(renewals::Entity, renewals::Column::PreviousPolicyId, outer, Condition::all());
        let tasked = absent_from(follow_ups::Entity, follow_ups::Column::PolicyId, outer, Condition::all());
        let lapsed = Query::select()
            .column((policies::Entity, policies::Column::Id))
            .column((policies::Entity, policies::Column::FamilyId))
            .column((policies::Entity, policies::Column::VillageCode))
            .column((policies::Entity, policies::Column::Year))
            .expr(Expr::val(FollowUpStatus::Open.code()))
            .expr(Expr::val(""))
            .expr(Expr::val(Utc::now()))
            .from(policies::Entity)
            .and_where(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .and_where(policies::Column::EndDate.between(first_end, last_end))
            .cond_where(actor.scope_condition(policies::Column::VillageCode))
            .and_where(renewed)
            .and_where(tasked)
            .to_owned();
        let insert = Query::insert()
            .into_table(follow_ups::Entity)
            .columns([
                follow_ups::Column::PolicyId,
                follow_ups::Column::FamilyId,
                follow_ups::Column::VillageCode,
                follow_ups::Column::Year,
                follow_ups::Column::Status,
                follow_ups::Column::Note,
                follow_ups::Column::CreatedAt,
            ])
            .select_from(lapsed)
            .map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(e.to_string())))?
            .to_owned();
        // The newest task before this run: the tasks made by it are those after.
        let before: Option<i64> = follow_ups::Entity::find()
            .select_only()
            .column_as(follow_ups::Column::Id.max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await?
            .flatten();
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        let backend = self.db.get_database_backend();
        let made = txn.execute(backend.build(&insert)).await?.rows_affected();
        if made > 0 {
            // Each family told, in the same transaction as its task.
            let tasks: Vec<(i64, i64, String, NaiveDate)> = follow_ups::Entity::find()
                .select_only()
                .column(follow_ups::Column::PolicyId)
                .column(follow_ups::Column::FamilyId)
                .column(follow_ups::Column::VillageCode)
                .column(policies::Column::EndDate)
                .join(
                    JoinType::InnerJoin,
                    follow_ups::Entity::belongs_to(policies::Entity)
                        .from(follow_ups::Column::PolicyId)
                        .to(policies::Column::Id)
                        .into(),
                )
                .filter(follow_ups::Column::Id.gt(before.unwrap_or(0)))
                .into_tuple()
                .all(&txn)
                .await?;
            let settings = OutboxSettings::default();
            let now = self.clock().now();
            let families: Vec<i64> = tasks.iter().map(|t| t.1).collect();
            let to = recipients(&txn, &families).await?;
            let messages = tasks
                .into_iter()
                .filter_map(|(policy, family, village, end)| {
                    let recipient = to.get(&family)?.clone();
                    Some(NewMessage {
                        at: now,
                        dedup_key: format!("lapsed:{policy}"),
                        family_id: family,
                        policy_id: Some(policy),
                        village_code: village,
                        template: templates::LAPSED,
                        body: lapse_notice(&recipient.head_as(&settings), end),
                        recipient,
                    })
                })
                .collect();
            write_messages(&txn, &settings, messages).await?;
        }
        txn.commit().await?;
        drop(turn);
        if made > 0 {
            self.audit(
                actor,
                AuditEvent::ok("renewal.lapses", "区域", actor.scope().to_string())
                    .with_detail(format!("新增脱保跟进任务{made}个")),
            )
            .await?;
        }
        Ok(made)
    }

    /// The follow-up tasks within the actor's scope, open ones first; a village agent sees
    /// the tasks of their villages not handed to someone else, and their own.
    pub async fn follow_ups(self, actor: &Actor, open_only: bool) -> StoreResult<Vec<FollowUp>> {
        self.require(actor, Permission::ViewFamilies).await?;
        let mut select =
            follow_ups::Entity::find().filter(actor.scope_condition(follow_ups::Column::VillageCode));
        if open_only {
            select = select.filter(follow_ups::Column::Status.eq(FollowUpStatus::Open.code()));
        }
        if actor.role() == guanai_domain::Role::VillageAgent {
            select = select.filter(
                Condition::any()
                    .add(follow_ups::Column::Assignee.is_null())
                    .add(follow_ups::Column::Assignee.eq(actor.username())),
            );
        }
        let rows = select
            .order_by_desc(follow_ups::Column::Status) // open before closed
            .order_by_asc(follow_ups::Column::Id)
            .limit(MAX_TASKS)
            .all(&self.db)
            .await?;
        let family_ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
        let heads: Vec<(i64, String)> = families::Entity::find()
            .select_only()
            .column(families::Column::Id)
            .column(families::Column::HeadName)
            .filter(families::Column::Id.is_in(family_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let seen = self.visibility(actor, family_ids).await?;
        rows.into_iter()
            .map(|row| {
                let head = heads.iter().find(|(id, _)| *id == row.family_id).map(|(_, n)| n.as_str());
                Ok(FollowUp {
                    id: row.id,
                    policy_id: row.policy_id,
                    family_id: row.family_id,
                    head_name: seen.name(row.family_id, head.unwrap_or_default()),
                    village_code: row.village_code,
                    year: row.year,
                    assignee: row.assignee,
                    status: stored("renewal_follow_ups.status", &row.status)?,
                    outcome: row
                        .outcome
                        .as_deref()
                        .map(|o| stored("renewal_follow_ups.outcome", o))
                        .transpose()?,
                    note: row.note,
                    created_at: row.created_at,
                })
            })
            .collect()
    }

    /// Records how a follow-up ended; a task closed already is a conflict.
    pub async fn close_follow_up(
        self,
        actor: &Actor,
        id: i64,
        outcome: LapseOutcome,
        note: &str,
    ) -> StoreResult<()> {
        self.require(actor, Permission::Enrol).await?;
        const TASK: Target = Target { action: "renewal.follow_up", kind: "跟进任务" };
        self.scoped_find::<follow_ups::Entity>(actor, TASK, id, |t| &t.village_code).await?;
        let note: String = note.trim().chars().take(200).collect();
        let result = follow_ups::Entity::update_many()
            .col_expr(follow_ups::Column::Status, Expr::value(FollowUpStatus::Closed.code()))
            .col_expr(follow_ups::Column::Outcome, Expr::value(outcome.code()))
            .col_expr(follow_ups::Column::Note, Expr::value(note))
            .col_expr(follow_ups::Column::ClosedAt, Expr::value(Utc::now()))
            .col_expr(follow_ups::Column::ClosedBy, Expr::value(actor.username()))
            .filter(follow_ups::Column::Id.eq(id))
            .filter(follow_ups::Column::Status.eq(FollowUpStatus::Open.code()))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Err(StoreError::Conflict("该跟进任务已经办结，请刷新后查看".to_owned()));
        }
        self.audit(
            actor,
            AuditEvent::ok("renewal.follow_up", "跟进任务", id.to_string()).with_detail(outcome.label()),
        )
        .await
    }

    /// Hands the open follow-ups of user `from` (assigned to them, or not assigned and in
    /// their region) within the actor's scope to user `to`, who must be an active user
    /// within the actor's scope. Returns how many were handed over.
    pub async fn hand_over_follow_ups(self, actor: &Actor, from: &str, to: &str) -> StoreResult<u64> {
        self.require(actor, Permission::BatchRenew).await?;
        let user = |name: &str| {
            users::Entity::find()
                .filter(users::Column::Username.eq(name.to_owned()))
                .filter(actor.scope_condition(users::Column::RegionCode))
                .one(&self.db)
        };
        let from_user =
            user(from).await?.ok_or_else(|| StoreError::not_found(format!("找不到用户“{from}”")))?;
        let to_user = user(to).await?.ok_or_else(|| StoreError::not_found(format!("找不到用户“{to}”")))?;
        if !to_user.active {
            return Err(StoreError::invalid(format!("用户“{to}”已停用，不能接收跟进任务")));
        }
        let from_region =
            RegionCode::parse(&from_user.region_code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let theirs = Condition::any().add(follow_ups::Column::Assignee.eq(from)).add(
            Condition::all()
                .add(follow_ups::Column::Assignee.is_null())
                .add(within_region(follow_ups::Column::VillageCode, from_region.as_str())),
        );
        let result = follow_ups::Entity::update_many()
            .col_expr(follow_ups::Column::Assignee, Expr::value(to_user.username.clone()))
            .filter(actor.scope_condition(follow_ups::Column::VillageCode))
            .filter(follow_ups::Column::Status.eq(FollowUpStatus::Open.code()))
            .filter(theirs)
            .exec(&self.db)
            .await?;
        self.audit(
            actor,
            AuditEvent::ok("renewal.hand_over", "用户", to_user.username)
                .with_subject(format!("user:{}", from_user.username))
                .with_detail(format!("移交脱保跟进任务{}个", result.rows_affected)),
        )
        .await?;
        Ok(result.rows_affected)
    }
}
