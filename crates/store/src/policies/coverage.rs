//! Coverage look-up by ID number: which policies cover a person, within the caller's
//! scope. A look-up by ID number is a view of personal data, so it is audit-logged, and
//! counted against the user's limit of exact look-ups (`lookups`): after the read, the
//! turn and the audit entry in one write, before the answer.

use chrono::NaiveDate;
use guanai_domain::identity::IdNumber;
use guanai_domain::Permission;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;

use super::{PolicyNo, PolicyStatus, ShownStatus};
use crate::audit::AuditEvent;
use crate::entities::{families, persons, policies, policy_members};
use crate::error::{stored, stored_policy_no};
use crate::prebuilt::Prebuilt;
use crate::{Actor, StoreResult};

/// One row of the look-up: the person, and one policy covering them (none when the
/// person has no policy: the policy columns come from a left join).
#[derive(Debug, FromQueryResult)]
struct CoverageRow {
    person_id: i64,
    family_id: i64,
    name: String,
    id_masked: String,
    village_code: String,
    policy_id: Option<i64>,
    policy_no: Option<String>,
    year: Option<i32>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    status: Option<String>,
}

crate::prebuilt::quick_row!(CoverageRow {
    person_id,
    family_id,
    name,
    id_masked,
    village_code,
    policy_id,
    policy_no,
    year,
    start_date,
    end_date,
    status,
});

/// The person with an ID number's lookup hash, their family's village and the policies
/// covering them (through their memberships, if any), newest first: one query.
static PERSON_AND_COVER: Prebuilt<[u8]> = Prebuilt::new(|id_hash| {
    persons::Entity::find()
        .select_only()
        .column_as(persons::Column::Id, "person_id")
        .column(persons::Column::FamilyId)
        .column(persons::Column::Name)
        .column(persons::Column::IdMasked)
        .column(families::Column::VillageCode)
        .column_as(policies::Column::Id, "policy_id")
        .column(policies::Column::PolicyNo)
        .column(policies::Column::Year)
        .column(policies::Column::StartDate)
        .column(policies::Column::EndDate)
        .column(policies::Column::Status)
        .join(
            JoinType::InnerJoin,
            persons::Entity::belongs_to(families::Entity)
                .from(persons::Column::FamilyId)
                .to(families::Column::Id)
                .into(),
        )
        .join_rev(
            JoinType::LeftJoin,
            policy_members::Entity::belongs_to(persons::Entity)
                .from(policy_members::Column::PersonId)
                .to(persons::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            policy_members::Entity::belongs_to(policies::Entity)
                .from(policy_members::Column::PolicyId)
                .to(policies::Column::Id)
                .into(),
        )
        .filter(persons::Column::IdHash.eq(id_hash.to_vec()))
        .order_by_desc(policies::Column::StartDate)
        .order_by_desc(policies::Column::Id)
        .into_query()
});

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coverage {
    pub person_id: i64,
    pub name: crate::shown::ShownName,
    pub id_masked: String,
    pub policies: Vec<CoveredBy>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoveredBy {
    pub policy_id: i64,
    pub policy_no: Option<PolicyNo>,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: ShownStatus,
}

impl crate::handles::Policies<'_> {
    /// The person with this ID number and the policies covering them, newest first; `None`
    /// when nobody in the actor's scope has that number.
    pub async fn coverage_by_id_number(self, actor: &Actor, id: &IdNumber) -> StoreResult<Option<Coverage>> {
        self.require(actor, Permission::ViewFamilies).await?;
        self.refuse_known_over_limit(actor).await?;
        let hash = self.keys.lookup_hash(id.as_str());
        let rows: Vec<CoverageRow> = PERSON_AND_COVER.fetch(&self, &hash).await?;
        // The hash is unique: every row is the same person.
        let Some(first) = rows.first() else {
            self.take_lookup_turn(actor, None).await?;
            return Ok(None);
        };
        let (person_id, family_id, id_masked) = (first.person_id, first.family_id, first.id_masked.clone());
        let name = self.visibility(actor, [family_id]).await?.name(family_id, &first.name);
        if !actor.holds(&first.village_code) {
            // Someone else's person: answer as if unknown, but keep a trace of the try.
            self.take_lookup_turn(actor, Some(AuditEvent::denied("coverage.lookup", "人员", id.masked())))
                .await?;
            return Ok(None);
        }
        let today = self.today();
        let mut covered = Vec::new();
        for row in rows {
            // The person's row without a policy (the join found none) names no cover.
            let (Some(policy_id), Some(status), Some(year), Some(start_date), Some(end_date)) =
                (row.policy_id, row.status, row.year, row.start_date, row.end_date)
            else {
                continue;
            };
            let status: PolicyStatus = stored("policies.status", &status)?;
            covered.push(CoveredBy {
                policy_id,
                policy_no: row.policy_no.as_deref().map(stored_policy_no).transpose()?,
                year,
                start_date,
                end_date,
                status: ShownStatus::of(status, start_date, end_date, today),
            });
        }
        let event = AuditEvent::ok("coverage.lookup", "人员", person_id.to_string())
            .with_subject(format!("person:{person_id}"));
        self.take_lookup_turn(actor, Some(event)).await?;
        Ok(Some(Coverage { person_id, name, id_masked, policies: covered }))
    }
}
