//! Coverage look-up by ID number: which policies cover a person, within the caller's
//! scope. A look-up by ID number is a view of personal data, so it is audit-logged.

use chrono::NaiveDate;
use guanai_domain::identity::IdNumber;
use guanai_domain::Permission;
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::{PolicyStatus, ShownStatus};
use crate::audit::AuditEvent;
use crate::entities::{families, persons, policies, policy_members};
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
        // The person with their family's village, in one query.
        let found: Option<(i64, String, String, String)> = persons::Entity::find()
            .select_only()
            .column(persons::Column::Id)
            .column(persons::Column::Name)
            .column(persons::Column::IdMasked)
            .column(families::Column::VillageCode)
            .join(
                JoinType::InnerJoin,
                persons::Entity::belongs_to(families::Entity)
                    .from(persons::Column::FamilyId)
                    .to(families::Column::Id)
                    .into(),
            )
            .filter(persons::Column::IdHash.eq(hash))
            .into_tuple()
            .one(&self.db)
            .await?;
        let Some((person_id, name, id_masked, village_code)) = found else {
            return Ok(None);
        };
        if !village_code.starts_with(actor.scope().as_str()) {
            // Someone else's person: answer as if unknown, but keep a trace of the try.
            self.audit(actor, AuditEvent::denied("coverage.lookup", "人员", id.masked())).await?;
            return Ok(None);
        }
        // The policies covering them, through their memberships, in one query.
        let rows: Vec<(i64, Option<String>, i32, NaiveDate, NaiveDate, String)> =
            policy_members::Entity::find()
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::PolicyNo)
                .column(policies::Column::Year)
                .column(policies::Column::StartDate)
                .column(policies::Column::EndDate)
                .column(policies::Column::Status)
                .join(
                    JoinType::InnerJoin,
                    policy_members::Entity::belongs_to(policies::Entity)
                        .from(policy_members::Column::PolicyId)
                        .to(policies::Column::Id)
                        .into(),
                )
                .filter(policy_members::Column::PersonId.eq(person_id))
                .order_by_desc(policies::Column::StartDate)
                .into_tuple()
                .all(&self.db)
                .await?;
        let today = super::today();
        let covered = rows
            .into_iter()
            .map(|(policy_id, policy_no, year, start_date, end_date, status)| {
                let status = PolicyStatus::parse(&status).unwrap_or(PolicyStatus::Draft);
                CoveredBy {
                    policy_id,
                    policy_no,
                    year,
                    start_date,
                    end_date,
                    status: ShownStatus::of(status, start_date, end_date, today),
                }
            })
            .collect();
        self.audit(
            actor,
            AuditEvent::ok("coverage.lookup", "人员", person_id.to_string())
                .with_subject(format!("person:{person_id}")),
        )
        .await?;
        Ok(Some(Coverage { person_id, name, id_masked, policies: covered }))
    }
}
