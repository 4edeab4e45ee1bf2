//! The family's village agent told which papers the insurer asked for (保险法 art. 22),
//! through the outbox that sends renewal reminders: the message is written in the
//! transaction of the request itself, to every agent serving the claim's village now
//! (`agent_villages` not ended, the agent not left, with a phone), once per claim, agent
//! and set of papers asked for (its dedup key), so the same request made again writes
//! nothing. The family head's name is masked where the channel is not private.

use chrono::{DateTime, Utc};
use guanai_domain::claims::{ClaimKind, Paper};
use guanai_domain::outbox::{missing_papers_key, missing_papers_notice, templates};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};

use crate::crypto::Sealed;
use crate::entities::{agent_villages, agents, claims, families};
use crate::outbox::{write_messages, NewMessage, OutboxSettings, Recipient};
use crate::{Store, StoreResult};

/// An agent serving a claim's village: id, name, sealed and masked phone.
pub(super) struct VillageAgent {
    id: i64,
    name: String,
    phone_enc: Sealed,
    phone_masked: String,
}

impl Store {
    /// The agents serving `village` now who have a phone (read before the transaction that
    /// writes their messages).
    pub(super) async fn village_agents(&self, village: &str) -> StoreResult<Vec<VillageAgent>> {
        let rows: Vec<(i64, String, Option<Sealed>, Option<String>)> = agents::Entity::find()
            .select_only()
            .column(agents::Column::Id)
            .column(agents::Column::Name)
            .column(agents::Column::PhoneEnc)
            .column(agents::Column::PhoneMasked)
            .join(
                JoinType::InnerJoin,
                agents::Entity::belongs_to(agent_villages::Entity)
                    .from(agents::Column::Id)
                    .to(agent_villages::Column::AgentId)
                    .into(),
            )
            .filter(agent_villages::Column::VillageCode.eq(village))
            .filter(agent_villages::Column::UntilOn.is_null())
            .filter(agents::Column::LeftOn.is_null())
            .filter(agents::Column::PhoneEnc.is_not_null())
            .order_by_asc(agents::Column::Id)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name, phone, masked)| {
                Some(VillageAgent { id, name, phone_enc: phone?, phone_masked: masked.unwrap_or_default() })
            })
            .collect())
    }

    /// The head of the claim's family, as the message names the household.
    pub(super) async fn family_head(&self, family_id: i64) -> StoreResult<String> {
        let head: Option<String> = families::Entity::find_by_id(family_id)
            .select_only()
            .column(families::Column::HeadName)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(head.unwrap_or_default())
    }
}

/// Writes, in `db` (the request's transaction), the message telling each of `agents` that
/// the claim `row` misses `missing`; those already written for the same papers are left
/// out. Returns how many were written.
pub(super) async fn tell_agents(
    db: &impl ConnectionTrait,
    row: &claims::Model,
    kind: ClaimKind,
    missing: &[Paper],
    head: &str,
    agents: Vec<VillageAgent>,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    if missing.is_empty() || agents.is_empty() {
        return Ok(0);
    }
    let settings = OutboxSettings::default();
    let messages = agents
        .into_iter()
        .map(|agent| {
            let recipient = Recipient {
                phone_enc: agent.phone_enc,
                phone_masked: agent.phone_masked,
                head: head.to_owned(),
            };
            NewMessage {
                at,
                dedup_key: missing_papers_key(row.id, agent.id, missing),
                family_id: row.family_id,
                policy_id: None,
                village_code: row.village_code.clone(),
                template: templates::CLAIM_PAPERS,
                body: missing_papers_notice(
                    &agent.name,
                    &recipient.head_as(&settings),
                    row.id,
                    kind,
                    missing,
                ),
                recipient,
            }
        })
        .collect();
    write_messages(db, &settings, messages).await
}
