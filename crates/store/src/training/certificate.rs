//! A certificate for an attendee who passed, and the agents not trained yet.

use std::collections::HashSet;

use chrono::NaiveDate;
use guanai_domain::Permission;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::agents::{Agent, AgentFilter};
use crate::audit::AuditEvent;
use crate::entities::{training_attendees, trainings};
use crate::{Actor, StoreError, StoreResult};

/// What a printed training certificate says.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    pub certificate_no: String,
    pub agent_name: String,
    pub township_code: String,
    pub topic: String,
    pub trainer: String,
    pub place: String,
    pub held_on: NaiveDate,
    pub score: u8,
    pub region_code: String,
}

/// A serving agent without a passed session since a day.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UntrainedAgent {
    pub agent: Agent,
    /// Appointed on or after that day (new after the village election).
    pub newly_appointed: bool,
}

impl crate::handles::Training<'_> {
    /// The certificate of an agent who passed a session; audited (it is printed).
    pub async fn certificate(
        self,
        actor: &Actor,
        training_id: i64,
        agent_id: i64,
    ) -> StoreResult<Certificate> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        let training = self.training_row(actor, training_id).await?;
        let agent = self.agents().agent(actor, agent_id).await?;
        let attendee = training_attendees::Entity::find()
            .filter(training_attendees::Column::TrainingId.eq(training_id))
            .filter(training_attendees::Column::AgentId.eq(agent_id))
            .one(&self.db)
            .await?;
        let (Some(no), Some(score)) = (
            attendee.as_ref().and_then(|a| a.certificate_no.clone()),
            attendee.as_ref().and_then(|a| a.score),
        ) else {
            return Err(StoreError::not_found(format!("“{}”没有这次培训的合格证书", agent.name)));
        };
        self.audit(
            actor,
            AuditEvent::ok("training.certificate", "培训", training_id.to_string())
                .with_subject(format!("agent:{agent_id}")),
        )
        .await?;
        Ok(Certificate {
            certificate_no: no,
            agent_name: agent.name,
            township_code: agent.township_code,
            topic: training.topic,
            trainer: training.trainer,
            place: training.place,
            held_on: training.held_on,
            score: u8::try_from(score).unwrap_or(0),
            region_code: training.region_code,
        })
    }

    /// Serving agents of the actor's scope (or `region`) with no session passed since
    /// `since`; the newly appointed (on or after `since`) flagged.
    pub async fn untrained_agents(
        self,
        actor: &Actor,
        region: Option<guanai_domain::RegionCode>,
        since: NaiveDate,
    ) -> StoreResult<Vec<UntrainedAgent>> {
        let agents = self.agents().agents(actor, &AgentFilter { region, ..Default::default() }).await?;
        let ids: Vec<i64> = agents.iter().map(|a| a.id).collect();
        let mut trained: HashSet<i64> = HashSet::new();
        for chunk in ids.chunks(500) {
            let passed: Vec<i64> = training_attendees::Entity::find()
                .select_only()
                .column(training_attendees::Column::AgentId)
                .join(
                    sea_orm::JoinType::InnerJoin,
                    training_attendees::Entity::belongs_to(trainings::Entity)
                        .from(training_attendees::Column::TrainingId)
                        .to(trainings::Column::Id)
                        .into(),
                )
                .filter(training_attendees::Column::AgentId.is_in(chunk.iter().copied()))
                .filter(training_attendees::Column::CertificateNo.is_not_null())
                .filter(trainings::Column::HeldOn.gte(since))
                .into_tuple()
                .all(&self.db)
                .await?;
            trained.extend(passed);
        }
        Ok(agents
            .into_iter()
            .filter(|a| !trained.contains(&a.id))
            .map(|agent| UntrainedAgent { newly_appointed: agent.appointed_on >= since, agent })
            .collect())
    }
}
