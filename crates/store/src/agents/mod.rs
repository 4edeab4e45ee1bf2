//! Village agents: the registry (who, which villages, appointed and left, contact sealed
//! and masked, the login they use), the handover to a successor (`handover.rs`) and each
//! agent's work as a funnel per season (`funnel.rs`).
//!
//! An agent belongs to the township of its villages; a user sees the agents of the
//! townships within its scope, and a village agent those of its own township.

mod funnel;
mod handover;

pub use funnel::{AgentWork, IdleAgent};
pub use handover::{Handover, HandoverOutcome, HandoverRecord};

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use guanai_domain::agents::{AgentKind, AgentVillages};
use guanai_domain::families::PersonName;
use guanai_domain::identity::Mobile;
use guanai_domain::{Permission, RegionCode, RegionLevel, Role};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::{agent_villages, agents, users};
use crate::{Actor, Store, StoreError, StoreResult};

pub(crate) const AGENT: Target = Target { action: "agent.view", kind: "服务专员" };

/// A new agent of the registry.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: PersonName,
    pub kind: AgentKind,
    pub phone: Option<Mobile>,
    pub villages: AgentVillages,
    pub appointed_on: NaiveDate,
    /// The village-agent account the agent logs in with, if any.
    pub user_id: Option<i64>,
}

/// An agent as lists show it: the phone masked, the villages served now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub kind: AgentKind,
    /// Masked (`138****1234`); the full number only through an audited reveal.
    pub phone_masked: Option<String>,
    pub township_code: String,
    /// The villages served now (none once the agent has left).
    pub villages: Vec<String>,
    pub appointed_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub successor_id: Option<i64>,
    pub user_id: Option<i64>,
    /// The login name of the agent's account.
    pub username: Option<String>,
}

impl Agent {
    pub fn serving(&self) -> bool {
        self.left_on.is_none()
    }
}

/// Which agents a list shows.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    /// Only agents of this region (within the actor's scope).
    pub region: Option<RegionCode>,
    /// Agents who have left too.
    pub with_left: bool,
    /// Only agents appointed on or after this day (the newly appointed).
    pub appointed_since: Option<NaiveDate>,
}

impl Store {
    /// Agents the actor may see: those of townships within its scope, and for a user
    /// scoped below a township (a village agent) those of its township.
    pub(crate) fn agent_scope(&self, actor: &Actor) -> Condition {
        let mut visible = Condition::any().add(actor.scope_condition(agents::Column::TownshipCode));
        if let Some(township) = actor.scope().at_level(RegionLevel::Township) {
            visible = visible.add(agents::Column::TownshipCode.eq(township.as_str()));
        }
        visible
    }

    /// The agent `id` if the actor may see it; "not found" (audited) otherwise.
    pub(crate) async fn agent_row(&self, actor: &Actor, id: i64) -> StoreResult<agents::Model> {
        let row = agents::Entity::find_by_id(id).one(&self.db).await?;
        let township = actor.scope().at_level(RegionLevel::Township);
        let region = row.as_ref().map(|r| {
            // A village agent sees its own township's agents.
            if township.as_ref().is_some_and(|t| t.as_str() == r.township_code) {
                actor.scope().as_str()
            } else {
                r.township_code.as_str()
            }
        });
        self.check_scope(actor, AGENT, id, region).await?;
        Ok(row.expect("in scope, so found"))
    }

    /// The villages each agent serves now, and the login name of each account.
    async fn agents_from_rows(&self, rows: Vec<agents::Model>) -> StoreResult<Vec<Agent>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut villages: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let served = agent_villages::Entity::find()
                .filter(agent_villages::Column::AgentId.is_in(chunk.iter().copied()))
                .filter(agent_villages::Column::UntilOn.is_null())
                .order_by_asc(agent_villages::Column::VillageCode)
                .all(&self.db)
                .await?;
            for v in served {
                villages.entry(v.agent_id).or_default().push(v.village_code);
            }
        }
        let user_ids: Vec<i64> = rows.iter().filter_map(|r| r.user_id).collect();
        let mut names: HashMap<i64, String> = HashMap::new();
        for chunk in user_ids.chunks(500) {
            for user in users::Entity::find()
                .filter(users::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?
            {
                names.insert(user.id, user.username);
            }
        }
        rows.into_iter()
            .map(|row| {
                Ok(Agent {
                    kind: crate::error::stored("agents.kind", &row.kind)?,
                    villages: villages.remove(&row.id).unwrap_or_default(),
                    username: row.user_id.and_then(|u| names.get(&u).cloned()),
                    id: row.id,
                    name: row.name,
                    phone_masked: row.phone_masked,
                    township_code: row.township_code,
                    appointed_on: row.appointed_on,
                    left_on: row.left_on,
                    successor_id: row.successor_id,
                    user_id: row.user_id,
                })
            })
            .collect()
    }

    /// A village-agent account within the actor's scope that no serving agent uses yet.
    async fn free_agent_account(&self, actor: &Actor, user_id: i64) -> StoreResult<users::Model> {
        const USER: Target = Target { action: "user.view", kind: "用户" };
        let user = self.scoped_find::<users::Entity>(actor, USER, user_id, |u| &u.region_code).await?;
        if user.role != Role::VillageAgent.code() || !user.active {
            return Err(StoreError::invalid(format!(
                "账号“{}”不是在用的村级服务专员账号，请先在用户管理中创建",
                user.username
            )));
        }
        let taken = agents::Entity::find()
            .filter(agents::Column::UserId.eq(user_id))
            .filter(agents::Column::LeftOn.is_null())
            .one(&self.db)
            .await?;
        if let Some(other) = taken {
            return Err(StoreError::Conflict(format!(
                "账号“{}”已由服务专员“{}”使用，一个账号只能对应一名在任的服务专员",
                user.username, other.name
            )));
        }
        Ok(user)
    }
}

impl crate::handles::Agents<'_> {
    /// Registers an agent serving `villages` (all within the actor's scope); an account,
    /// when given, is scoped to the agent's villages.
    pub async fn create_agent(self, actor: &Actor, new: NewAgent) -> StoreResult<i64> {
        self.require(actor, Permission::ManageAgents).await?;
        for village in new.villages.as_slice() {
            if !actor.sees(village) {
                return Err(StoreError::Forbidden(format!("村（社区）“{village}”不在您的管理范围内")));
            }
            if !self.regions().region_exists(village).await? {
                return Err(StoreError::invalid(format!("村（社区）代码“{village}”不存在")));
            }
        }
        if new.appointed_on > self.today() {
            return Err(StoreError::invalid("任职日期不能晚于今天"));
        }
        if let Some(user_id) = new.user_id {
            self.free_agent_account(actor, user_id).await?;
        }
        let township = new.villages.township();
        let txn = self.db.begin().await?;
        let id = agents::Entity::insert(agents::ActiveModel {
            id: NotSet,
            name: Set(new.name.as_str().to_owned()),
            kind: Set(new.kind.code().to_owned()),
            phone_enc: Set(new.phone.as_ref().map(|p| self.keys.seal(p.as_str()))),
            phone_hash: Set(new.phone.as_ref().map(|p| self.keys.lookup_hash(p.as_str()))),
            phone_masked: Set(new.phone.as_ref().map(Mobile::masked)),
            township_code: Set(township.to_string()),
            user_id: Set(new.user_id),
            appointed_on: Set(new.appointed_on),
            left_on: Set(None),
            successor_id: Set(None),
            created_at: Set(Utc::now()),
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        let rows: Vec<agent_villages::ActiveModel> = new
            .villages
            .as_slice()
            .iter()
            .map(|v| agent_villages::ActiveModel {
                id: NotSet,
                agent_id: Set(id),
                village_code: Set(v.to_string()),
                from_on: Set(new.appointed_on),
                until_on: Set(None),
            })
            .collect();
        agent_villages::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        if let Some(user_id) = new.user_id {
            users::Entity::update_many()
                .col_expr(users::Column::RegionCode, Expr::value(new.villages.login_scope().to_string()))
                .filter(users::Column::Id.eq(user_id))
                .exec(&txn)
                .await?;
        }
        let detail = format!("{}，服务{}个村", new.name.as_str(), new.villages.as_slice().len());
        self.audit_in(
            &txn,
            actor,
            AuditEvent::ok("agent.create", "服务专员", id.to_string()).with_detail(detail),
        )
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// The agents the actor may see, serving ones first, by township and name.
    pub async fn agents(self, actor: &Actor, filter: &AgentFilter) -> StoreResult<Vec<Agent>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let mut select = agents::Entity::find().filter(self.agent_scope(actor));
        if let Some(region) = &filter.region {
            select = select.filter(crate::access::within_region(
                agents::Column::TownshipCode,
                region.at_level(RegionLevel::Township).as_ref().unwrap_or(region).as_str(),
            ));
        }
        if !filter.with_left {
            select = select.filter(agents::Column::LeftOn.is_null());
        }
        if let Some(since) = filter.appointed_since {
            select = select.filter(agents::Column::AppointedOn.gte(since));
        }
        let rows = select
            .order_by_asc(agents::Column::LeftOn)
            .order_by_asc(agents::Column::TownshipCode)
            .order_by_asc(agents::Column::Name)
            .limit(2000)
            .all(&self.db)
            .await?;
        self.agents_from_rows(rows).await
    }

    /// One agent the actor may see.
    pub async fn agent(self, actor: &Actor, id: i64) -> StoreResult<Agent> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let row = self.agent_row(actor, id).await?;
        Ok(self.agents_from_rows(vec![row]).await?.remove(0))
    }

    /// The serving agent whose account is the actor's own (a village agent's phone pages).
    pub async fn my_agent(self, actor: &Actor) -> StoreResult<Option<Agent>> {
        let Some(user_id) = actor.user_id() else { return Ok(None) };
        let row = agents::Entity::find()
            .filter(agents::Column::UserId.eq(user_id))
            .filter(agents::Column::LeftOn.is_null())
            .one(&self.db)
            .await?;
        match row {
            Some(row) => Ok(self.agents_from_rows(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The agent's full phone number, for a role that may reveal personal data; audited.
    pub async fn reveal_agent_phone(self, actor: &Actor, id: i64) -> StoreResult<Option<String>> {
        self.require(actor, Permission::RevealPersonalData).await?;
        let row = self.agent_row(actor, id).await?;
        let Some(sealed) = row.phone_enc else { return Ok(None) };
        let value = self.keys.open(&sealed)?;
        self.audit(
            actor,
            AuditEvent::ok("agent.reveal_phone", "服务专员", id.to_string()).with_detail("查看完整手机号"),
        )
        .await?;
        Ok(Some(value))
    }
}
