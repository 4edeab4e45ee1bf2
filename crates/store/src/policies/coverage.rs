//! Coverage look-up by ID number: which policies cover a person, within the caller's
//! scope. A look-up by ID number is a view of personal data, so it is audit-logged.

use chrono::NaiveDate;
use guanai_domain::identity::IdNumber;
use guanai_domain::Permission;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::{PolicyStatus, ShownStatus};
use crate::audit::AuditEvent;
use crate::entities::{persons, policies, policy_members};
use crate::{Actor, Store, StoreResult};

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub policies: Vec<CoveredBy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoveredBy {
    pub policy_id: i64,
    pub policy_no: Option<String>,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: ShownStatus,
}

impl Store {
    /// The person with this ID number and the policies covering them, newest first; `None`
    /// when nobody in the actor's scope has that number.
    pub async fn coverage_by_id_number(&self, actor: &Actor, id: &IdNumber) -> StoreResult<Option<Coverage>> {
        actor.require(Permission::ViewFamilies)?;
        let hash = self.keys.lookup_hash(id.as_str());
        let Some(person) =
            persons::Entity::find().filter(persons::Column::IdHash.eq(hash)).one(&self.db).await?
        else {
            return Ok(None);
        };
        let family = crate::entities::families::Entity::find_by_id(person.family_id).one(&self.db).await?;
        if family.is_none_or(|f| !f.village_code.starts_with(actor.scope().as_str())) {
            // Someone else's person: answer as if unknown, but keep a trace of the try.
            self.audit(actor, AuditEvent::denied("coverage.lookup", "人员", id.masked())).await?;
            return Ok(None);
        }
        let policy_ids: Vec<i64> = policy_members::Entity::find()
            .filter(policy_members::Column::PersonId.eq(person.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.policy_id)
            .collect();
        let rows = policies::Entity::find()
            .filter(policies::Column::Id.is_in(policy_ids))
            .order_by_desc(policies::Column::StartDate)
            .all(&self.db)
            .await?;
        let today = super::today();
        let covered = rows
            .into_iter()
            .map(|row| {
                let status = PolicyStatus::parse(&row.status).unwrap_or(PolicyStatus::Draft);
                CoveredBy {
                    policy_id: row.id,
                    policy_no: row.policy_no,
                    year: row.year,
                    start_date: row.start_date,
                    end_date: row.end_date,
                    status: ShownStatus::of(status, row.start_date, row.end_date, today),
                }
            })
            .collect();
        self.audit(
            actor,
            AuditEvent::ok("coverage.lookup", "人员", person.id.to_string())
                .with_subject(format!("person:{}", person.id)),
        )
        .await?;
        Ok(Some(Coverage {
            person_id: person.id,
            name: person.name,
            id_masked: person.id_masked,
            policies: covered,
        }))
    }
}
