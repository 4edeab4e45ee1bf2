//! Each agent's work in a season as a funnel: families enrolled for (the policies the
//! agent's account entered), of those underwritten, and renewals (families insured the year
//! before too), and the claims the agent's account reported, of those the ones the insurer
//! has decided; agents without activity listed.

use std::collections::{HashMap, HashSet};

use guanai_domain::agents::Funnel;
use guanai_domain::claims::ClaimStatus;
use guanai_domain::policies::PolicyStatus;
use guanai_domain::Permission;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::{Agent, AgentFilter};
use crate::entities::{claims, policies};
use crate::{Actor, Store, StoreResult};

/// One agent's funnel for a year.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentWork {
    pub agent: Agent,
    pub year: i32,
    pub funnel: Funnel,
}

/// A serving agent with nothing done in the year, and why that is worth a look.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdleAgent {
    pub agent: Agent,
    /// No account to log in with: the agent cannot act for families at all.
    pub no_login: bool,
}

impl Store {
    /// The funnels of `agents` for `year`, by agent id: three queries per 500 accounts.
    async fn funnels(&self, agents: &[Agent], year: i32) -> StoreResult<HashMap<i64, Funnel>> {
        let by_name: HashMap<&str, i64> =
            agents.iter().filter_map(|a| a.username.as_deref().map(|u| (u, a.id))).collect();
        let names: Vec<String> = by_name.keys().map(|s| (*s).to_owned()).collect();
        let mut rows: Vec<(String, i64, String)> = Vec::new();
        for chunk in names.chunks(500) {
            let part: Vec<(String, i64, String)> = policies::Entity::find()
                .select_only()
                .column(policies::Column::CreatedBy)
                .column(policies::Column::FamilyId)
                .column(policies::Column::Status)
                .filter(policies::Column::CreatedBy.is_in(chunk.iter().cloned()))
                .filter(policies::Column::Year.eq(year))
                .filter(policies::Column::Status.ne(PolicyStatus::Cancelled.code()))
                .into_tuple()
                .all(&self.db)
                .await?;
            rows.extend(part);
        }
        let families: Vec<i64> =
            rows.iter().map(|(_, f, _)| *f).collect::<HashSet<_>>().into_iter().collect();
        let mut insured_before: HashSet<i64> = HashSet::new();
        for chunk in families.chunks(500) {
            let part: Vec<i64> = policies::Entity::find()
                .select_only()
                .column(policies::Column::FamilyId)
                .filter(policies::Column::FamilyId.is_in(chunk.iter().copied()))
                .filter(policies::Column::Year.eq(year - 1))
                .filter(policies::Column::Status.ne(PolicyStatus::Cancelled.code()))
                .into_tuple()
                .all(&self.db)
                .await?;
            insured_before.extend(part);
        }
        let mut funnels: HashMap<i64, Funnel> = agents.iter().map(|a| (a.id, Funnel::default())).collect();
        for (name, family, status) in rows {
            let Some(funnel) = by_name.get(name.as_str()).and_then(|id| funnels.get_mut(id)) else {
                continue;
            };
            funnel.enrolled += 1;
            if status == PolicyStatus::Underwritten.code() {
                funnel.underwritten += 1;
            }
            if insured_before.contains(&family) {
                funnel.renewed += 1;
            }
        }
        let (first, next) = crate::publicity::year_bounds(year)?;
        for chunk in names.chunks(500) {
            let reported: Vec<(String, String)> = claims::Entity::find()
                .select_only()
                .column(claims::Column::ReportedBy)
                .column(claims::Column::Status)
                .filter(claims::Column::ReportedBy.is_in(chunk.iter().cloned()))
                .filter(claims::Column::ReportedOn.gte(first))
                .filter(claims::Column::ReportedOn.lt(next))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (name, status) in reported {
                let Some(funnel) = by_name.get(name.as_str()).and_then(|id| funnels.get_mut(id)) else {
                    continue;
                };
                funnel.claims_reported += 1;
                let status: ClaimStatus = crate::error::stored("claims.status", &status)?;
                if !status.awaits_decision() {
                    funnel.claims_decided += 1;
                }
            }
        }
        Ok(funnels)
    }
}

impl crate::handles::Agents<'_> {
    /// Each agent's funnel for `year`, for the agents the filter selects.
    pub async fn work(self, actor: &Actor, filter: &AgentFilter, year: i32) -> StoreResult<Vec<AgentWork>> {
        let agents = self.agents(actor, filter).await?;
        let mut funnels = self.funnels(&agents, year).await?;
        Ok(agents
            .into_iter()
            .map(|agent| AgentWork { funnel: funnels.remove(&agent.id).unwrap_or_default(), agent, year })
            .collect())
    }

    /// One agent's funnel for `year`.
    pub async fn agent_work(self, actor: &Actor, agent_id: i64, year: i32) -> StoreResult<AgentWork> {
        let agent = self.agent(actor, agent_id).await?;
        let funnel =
            self.funnels(std::slice::from_ref(&agent), year).await?.remove(&agent.id).unwrap_or_default();
        Ok(AgentWork { agent, year, funnel })
    }

    /// Serving agents with no activity in `year`: no enrolment, no renewal, no claim.
    pub async fn idle_agents(
        self,
        actor: &Actor,
        region: Option<guanai_domain::RegionCode>,
        year: i32,
    ) -> StoreResult<Vec<IdleAgent>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let filter = AgentFilter { region, ..Default::default() };
        Ok(self
            .work(actor, &filter, year)
            .await?
            .into_iter()
            .filter(|w| w.funnel.is_idle())
            .map(|w| IdleAgent { no_login: w.agent.user_id.is_none(), agent: w.agent })
            .collect())
    }
}
