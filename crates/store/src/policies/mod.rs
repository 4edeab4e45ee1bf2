//! Policies: one family, one package, one year. Drafted with the premium split among the
//! funding sources (`enrol`), submitted to the insurer once the family's consents are in,
//! underwritten by the insurer with its policy number, in force from the start date,
//! expired after the end date; cancelled with a reason, which gives the funding back.
//! Gifted policies (`gifting`) are paid entirely by one source. Every policy carries a
//! certificate code that anyone can check (`certificate`).

mod batch;
mod certificate;
mod counts;
mod coverage;
mod enrol;
mod exchange;
mod exports;
mod gifting;
mod group;
mod lifecycle;
mod payments;
mod write;

pub(crate) use batch::{split_batch, DraftFamily};
pub use batch::{BatchOutcome, Skipped};
pub use certificate::{Certificate, PublicCertificate};
pub use counts::{InsuredCounts, PolicyCounts};
pub use coverage::{Coverage, CoveredBy};
pub(crate) use enrol::{price_lines, split_among, KnownFamily};
pub use enrol::{EnrolRequest, FundingLine, Quote, QuoteLine, QuotedMember};
pub use exchange::{refusal_reason, ExchangePolicy, REFUSAL_PREFIX};
pub(crate) use exchange::{rows_by_ids, CHUNK};
pub use exports::{FamilyExportRow, UnderwritingList, UnderwritingQuery, UnderwritingRow, EXPORT_LIMIT};
pub use gifting::{GiftOutcome, GiftPreview, GiftRequest, GiftSelection, GiftSkip};
pub(crate) use group::EnrolQueue;
pub use guanai_domain::policies::{CertificateState, Channel, PolicyNo, PolicyStatus, ShownStatus};
pub use payments::{Payment, PAYMENT_METHODS};
pub(crate) use write::{insert_policies, PolicyDraft};

use chrono::NaiveDate;
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::access::Target;
use crate::audit_labels::shown_username;
use crate::entities::{families, packages, policies, policy_members};
use crate::error::{stored, stored_policy_no};
use crate::shown::{ShownName, Visibility};
use crate::{Actor, Store, StoreResult};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicySummary {
    pub id: i64,
    pub family_id: i64,
    pub head_name: ShownName,
    pub village_code: String,
    pub package_id: i64,
    pub package_name: String,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub shares: i32,
    pub status: PolicyStatus,
    pub shown: ShownStatus,
    pub channel: Channel,
    pub premium: Fen,
    pub family_part: Fen,
    pub paid: Fen,
    pub policy_no: Option<PolicyNo>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InsuredMember {
    pub person_id: i64,
    pub name: ShownName,
    pub id_masked: String,
    pub age_at_start: i32,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDetail {
    pub summary: PolicySummary,
    pub members: Vec<InsuredMember>,
    pub lines: Vec<QuoteLine>,
    pub funding: Vec<FundingLine>,
    pub payments: Vec<Payment>,
    pub cert_code: String,
    pub created_by: String,
    pub underwritten_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// The scheme's own start date; the policy's starts later when enrolled late.
    pub scheme_start: NaiveDate,
    /// The start shown is expected, not fixed: the insurer has not underwritten the policy
    /// yet, and its cover starts the day after it does (at the earliest the date shown).
    pub start_after_underwriting: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyQuery {
    pub region: Option<RegionCode>,
    pub year: Option<i32>,
    pub status: Option<PolicyStatus>,
    pub family_id: Option<i64>,
    pub page: u64,
    pub per_page: u64,
}

pub struct PolicyPage {
    pub policies: Vec<PolicySummary>,
    pub total: u64,
}

/// A family without a policy in some year, with its members: who an agent still has to
/// visit.
#[derive(Debug, Clone, Serialize)]
pub struct Uninsured {
    pub family_id: i64,
    pub members: Vec<UninsuredMember>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UninsuredMember {
    pub person_id: i64,
    pub name: String,
    pub birth_date: NaiveDate,
    /// Still in the household (not dead or moved away).
    pub active: bool,
}

/// A policy as scope checks name it: a look-up outside the actor's region is denied and
/// audited as `policy.view`.
pub(crate) const POLICY: Target = Target { action: "policy.view", kind: "保单" };

impl Store {
    pub(crate) async fn policy_row(&self, actor: &Actor, id: i64) -> StoreResult<policies::Model> {
        self.require(actor, Permission::ViewFamilies).await?;
        self.scoped_find::<policies::Entity>(actor, POLICY, id, |p| &p.village_code).await
    }

    /// The policies of `rows` as `seen` shows their families.
    async fn summaries_of(
        &self,
        seen: &Visibility,
        rows: Vec<policies::Model>,
    ) -> StoreResult<Vec<PolicySummary>> {
        let family_ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
        let package_ids: Vec<i64> = rows.iter().map(|r| r.package_id).collect();
        let heads: Vec<(i64, String)> = if family_ids.is_empty() {
            Vec::new()
        } else {
            families::Entity::find()
                .select_only()
                .column(families::Column::Id)
                .column(families::Column::HeadName)
                .filter(families::Column::Id.is_in(family_ids))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let names: Vec<(i64, String)> = if package_ids.is_empty() {
            Vec::new()
        } else {
            packages::Entity::find()
                .select_only()
                .column(packages::Column::Id)
                .column(packages::Column::Name)
                .filter(packages::Column::Id.is_in(package_ids))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let today = self.today();
        rows.into_iter()
            .map(|row| {
                let status: PolicyStatus = stored("policies.status", &row.status)?;
                Ok(PolicySummary {
                    head_name: seen.name(
                        row.family_id,
                        heads
                            .iter()
                            .find(|(id, _)| *id == row.family_id)
                            .map(|(_, n)| n.as_str())
                            .unwrap_or_default(),
                    ),
                    package_name: names
                        .iter()
                        .find(|(id, _)| *id == row.package_id)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default(),
                    shown: ShownStatus::of(status, row.start_date, row.end_date, today),
                    status,
                    channel: stored("policies.channel", &row.channel)?,
                    premium: Fen::new(row.premium_fen),
                    family_part: Fen::new(row.family_fen),
                    paid: Fen::new(row.paid_fen),
                    id: row.id,
                    family_id: row.family_id,
                    village_code: row.village_code,
                    package_id: row.package_id,
                    year: row.year,
                    start_date: row.start_date,
                    end_date: row.end_date,
                    shares: row.shares,
                    policy_no: row.policy_no.as_deref().map(stored_policy_no).transpose()?,
                })
            })
            .collect::<StoreResult<_>>()
    }
}

impl crate::handles::Policies<'_> {
    /// Policies within the actor's scope, newest first.
    pub async fn search_policies(self, actor: &Actor, query: &PolicyQuery) -> StoreResult<PolicyPage> {
        self.require(actor, Permission::ViewFamilies).await?;
        // One range on the village code, the narrower of scope and region (see
        // `search_families`).
        let mut select = match &query.region {
            Some(region) if actor.sees(region) => policies::Entity::find()
                .filter(crate::access::within_region(policies::Column::VillageCode, region.as_str())),
            Some(region) => policies::Entity::find()
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .filter(crate::access::within_region(policies::Column::VillageCode, region.as_str())),
            None => policies::Entity::find().filter(actor.scope_condition(policies::Column::VillageCode)),
        };
        if let Some(year) = query.year {
            select = select.filter(policies::Column::Year.eq(year));
        }
        if let Some(status) = query.status {
            select = select.filter(policies::Column::Status.eq(status.code()));
        }
        if let Some(family) = query.family_id {
            select = select.filter(policies::Column::FamilyId.eq(family));
        }
        let total = select.clone().count(&self.db).await?;
        let per_page = query.per_page.clamp(1, 1000);
        let rows = select
            .order_by_desc(policies::Column::Id)
            .offset(crate::page_offset(query.page, per_page)?)
            .limit(per_page)
            .all(&self.db)
            .await?;
        let seen = self.visibility(actor, rows.iter().map(|r| r.family_id)).await?;
        Ok(PolicyPage { policies: self.summaries_of(&seen, rows).await?, total })
    }

    /// Up to `limit` families within the actor's scope that have no policy in `year`, in
    /// the order they were registered, with their members: two queries (and one more per
    /// 500 families), whatever the size of the city. For those who enrol (names and birth
    /// dates in full: every role that may enrol sees them, see `shown`).
    pub async fn uninsured_families(
        self,
        actor: &Actor,
        year: i32,
        limit: u64,
    ) -> StoreResult<Vec<Uninsured>> {
        use crate::entities::persons;
        self.require(actor, Permission::Enrol).await?;
        let uninsured = crate::absent_from(
            policies::Entity,
            policies::Column::FamilyId,
            (families::Entity, families::Column::Id),
            Condition::all().add(policies::Column::Year.eq(year)),
        );
        let ids: Vec<i64> = families::Entity::find()
            .select_only()
            .column(families::Column::Id)
            .filter(actor.scope_condition(families::Column::VillageCode))
            .filter(uninsured)
            .order_by_asc(families::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut found: Vec<Uninsured> =
            ids.iter().map(|&family_id| Uninsured { family_id, members: Vec::new() }).collect();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64, i64, String, NaiveDate, bool)> = persons::Entity::find()
                .select_only()
                .column(persons::Column::Id)
                .column(persons::Column::FamilyId)
                .column(persons::Column::Name)
                .column(persons::Column::BirthDate)
                .column(persons::Column::Active)
                .filter(persons::Column::FamilyId.is_in(chunk.iter().copied()))
                .order_by_asc(persons::Column::Id)
                .into_tuple()
                .all(&self.db)
                .await?;
            for (person_id, family_id, name, birth_date, active) in rows {
                // `ids` is sorted, so the family is found by bisection.
                if let Ok(at) = ids.binary_search(&family_id) {
                    found[at].members.push(UninsuredMember { person_id, name, birth_date, active });
                }
            }
        }
        Ok(found)
    }

    pub async fn policy(self, actor: &Actor, id: i64) -> StoreResult<PolicyDetail> {
        let row = self.policy_row(actor, id).await?;
        let cert_code = row.cert_code.clone();
        let created_by = shown_username(&row.created_by).to_owned();
        let underwritten_by = row.underwritten_by.as_deref().map(|name| shown_username(name).to_owned());
        let cancel_reason = row.cancel_reason.clone();
        let package = self.cached_package(row.package_id).await?;
        let seen = self.visibility(actor, [row.family_id]).await?;
        let mut summary = self.summaries_of(&seen, vec![row]).await?.remove(0);
        let scheme_start = package.base.terms.start_date;
        let pending = matches!(summary.status, PolicyStatus::Draft | PolicyStatus::Submitted);
        let start_after_underwriting = pending && package.starts_after_underwriting(summary.start_date);
        if start_after_underwriting {
            // Waiting since its enrolment: the day after today at the earliest now.
            let earliest =
                guanai_domain::products::cover_start(summary.start_date, summary.end_date, self.today());
            summary.start_date = earliest.unwrap_or(summary.start_date);
        }
        let members = self.insured_members(&seen, summary.family_id, id).await?;
        let lines = self.policy_lines(id).await?;
        let funding = self.policy_funding_lines(id, summary.family_part).await?;
        let payments = self.policy_payments(id).await?;
        Ok(PolicyDetail {
            summary,
            members,
            lines,
            funding,
            payments,
            cert_code,
            created_by,
            underwritten_by,
            cancel_reason,
            scheme_start,
            start_after_underwriting,
        })
    }
}

impl Store {
    /// The insured of a policy of `family_id`, as `seen` shows that family.
    pub(crate) async fn insured_members(
        &self,
        seen: &Visibility,
        family_id: i64,
        policy_id: i64,
    ) -> StoreResult<Vec<InsuredMember>> {
        use crate::entities::persons;
        let rows = policy_members::Entity::find()
            .filter(policy_members::Column::PolicyId.eq(policy_id))
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
        let people = persons::Entity::find().filter(persons::Column::Id.is_in(ids)).all(&self.db).await?;
        rows.into_iter()
            .filter_map(|m| {
                let p = people.iter().find(|p| p.id == m.person_id)?;
                let relationship =
                    stored::<guanai_domain::families::Relationship>("persons.relationship", &p.relationship);
                Some(relationship.map(|r| InsuredMember {
                    person_id: p.id,
                    name: seen.name(family_id, &p.name),
                    id_masked: p.id_masked.clone(),
                    age_at_start: m.age_at_start,
                    relationship: r.label().to_owned(),
                }))
            })
            .collect::<StoreResult<_>>()
    }
}
