//! The list exports, on the store's side.
//!
//! - The list to underwrite (承保清单): one row per insured person of every submitted policy
//!   of a region and year. ID numbers are in full only for roles with
//!   `RevealPersonalData`, and never for a family that has withdrawn its consent to share
//!   with the insurer; every export is written to the audit log with its count.
//! - The rows of the policy, family and ledger exports, every one audit-logged.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::families::Relationship;
use guanai_domain::regions::short_region_name;
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::exchange::CHUNK;
use super::{PolicyQuery, PolicyStatus, PolicySummary};
use crate::audit::AuditEvent;
use crate::entities::{families, packages, persons, policies, policy_members};
use crate::families::{FamilyQuery, FamilySummary};
use crate::funding::LedgerLine;
use crate::shown::ShownName;
use crate::{Actor, StoreError, StoreResult};

/// Most rows one list export writes; a larger list must be narrowed by its filters.
pub const EXPORT_LIMIT: u64 = 100_000;

/// Which submitted policies go on a list to underwrite.
#[derive(Debug, Clone)]
pub struct UnderwritingQuery {
    /// Within the actor's scope; the whole scope when `None`.
    pub region: Option<RegionCode>,
    pub year: i32,
    /// Submitted at or after this instant.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this instant.
    pub submitted_until: Option<DateTime<Utc>>,
}

/// One insured person of a submitted policy, as the insurer's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct UnderwritingRow {
    pub policy_id: i64,
    pub cert_code: String,
    pub county: String,
    pub township: String,
    pub village: String,
    pub head_name: ShownName,
    pub insured_name: ShownName,
    /// In full, or masked (`360***********1234`).
    pub id_number: String,
    pub sex: &'static str,
    /// `None` for a role that sees the age only (see `shown`).
    pub birth_date: Option<NaiveDate>,
    pub relationship: &'static str,
    pub package_name: String,
    pub shares: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The policy's premium (the whole household's), on the policy's first row only, so
    /// that the column adds up to the total.
    pub premium: Option<Fen>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnderwritingList {
    pub rows: Vec<UnderwritingRow>,
    pub policies: usize,
    /// Whether ID numbers are in full (the role may see them).
    pub full_ids: bool,
    /// Persons whose ID number is masked although the role may see it: their family has
    /// withdrawn its consent to share with the insurer.
    pub withheld: usize,
}

/// A family of a list export, its phone number as the actor may see it.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyExportRow {
    pub summary: FamilySummary,
    /// In full for a family open to the actor (see `shown`), masked otherwise.
    pub phone: Option<String>,
}

/// Names of a village's county, township and village, from the names of their codes.
fn place_names(village_code: &str, names: &HashMap<String, String>) -> (String, String, String) {
    let name = |len: usize| {
        village_code
            .get(..len)
            .and_then(|code| names.get(code))
            .map(|n| short_region_name(n))
            .unwrap_or_default()
    };
    (name(6), name(9), name(12))
}

/// A region filter within the actor's scope, or the reason it is refused.
fn check_region(actor: &Actor, region: Option<&RegionCode>) -> StoreResult<()> {
    match region {
        Some(r) if !actor.sees(r) && !r.contains(actor.scope()) => {
            Err(StoreError::Forbidden(format!("区域“{r}”不在您的管理范围内")))
        }
        _ => Ok(()),
    }
}

impl crate::handles::Policies<'_> {
    /// The list to underwrite: every insured person of the submitted policies of a year
    /// within the actor's scope (and the region asked for), by village, policy and
    /// household order. Audit-logged as `policy.export_underwriting` with its count.
    pub async fn underwriting_list(
        self,
        actor: &Actor,
        query: &UnderwritingQuery,
    ) -> StoreResult<UnderwritingList> {
        self.require(actor, Permission::ViewFamilies).await?;
        check_region(actor, query.region.as_ref())?;
        let mut select = policies::Entity::find()
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
            .filter(policies::Column::Year.eq(query.year));
        if let Some(region) = &query.region {
            select =
                select.filter(crate::access::within_region(policies::Column::VillageCode, region.as_str()));
        }
        if let Some(from) = query.submitted_from {
            select = select.filter(policies::Column::SubmittedAt.gte(from));
        }
        if let Some(until) = query.submitted_until {
            select = select.filter(policies::Column::SubmittedAt.lt(until));
        }
        let rows = select
            .order_by_asc(policies::Column::VillageCode)
            .order_by_asc(policies::Column::Id)
            .limit(EXPORT_LIMIT + 1)
            .all(&self.db)
            .await?;
        if rows.len() as u64 > EXPORT_LIMIT {
            return Err(too_many_policies());
        }

        let full_ids = actor.can(Permission::RevealPersonalData);
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut people: HashMap<i64, persons::Model> = HashMap::new();
        let mut heads: HashMap<i64, String> = HashMap::new();
        let policy_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        for chunk in policy_ids.chunks(CHUNK) {
            let links = policy_members::Entity::find()
                .filter(policy_members::Column::PolicyId.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            let person_ids: Vec<i64> = links.iter().map(|l| l.person_id).collect();
            for link in links {
                members.entry(link.policy_id).or_default().push(link.person_id);
            }
            for ids in person_ids.chunks(CHUNK) {
                for person in persons::Entity::find()
                    .filter(persons::Column::Id.is_in(ids.iter().copied()))
                    .all(&self.db)
                    .await?
                {
                    people.insert(person.id, person);
                }
            }
        }
        let family_ids: Vec<i64> =
            rows.iter().map(|r| r.family_id).collect::<HashSet<_>>().into_iter().collect();
        for chunk in family_ids.chunks(CHUNK) {
            let found: Vec<(i64, String)> = families::Entity::find()
                .select_only()
                .column(families::Column::Id)
                .column(families::Column::HeadName)
                .filter(families::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            heads.extend(found);
        }
        let sharing = self.sharing_with_insurer(&family_ids).await?;
        let seen = self.visibility_with_sharing(actor, &sharing);
        let package_names: HashMap<i64, String> = packages::Entity::find()
            .select_only()
            .column(packages::Column::Id)
            .column(packages::Column::Name)
            .filter(packages::Column::Id.is_in(rows.iter().map(|r| r.package_id).collect::<HashSet<_>>()))
            .into_tuple::<(i64, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let mut codes: HashSet<&str> = HashSet::new();
        for row in &rows {
            for len in [6, 9, 12] {
                if let Some(code) = row.village_code.get(..len) {
                    codes.insert(code);
                }
            }
        }
        let names = self.regions().region_names(&codes.into_iter().collect::<Vec<_>>()).await?;

        let mut list = Vec::new();
        let mut withheld = 0;
        for policy in &rows {
            let (county, township, village) = place_names(&policy.village_code, &names);
            let mut insured: Vec<&persons::Model> =
                members.get(&policy.id).into_iter().flatten().filter_map(|id| people.get(id)).collect();
            insured.sort_by_key(|p| {
                let place = Relationship::ALL.iter().position(|r| r.code() == p.relationship);
                (place.unwrap_or(Relationship::ALL.len()), p.birth_date, p.id)
            });
            let may_share = sharing.contains(&policy.family_id);
            for (index, person) in insured.into_iter().enumerate() {
                let open = seen.open(policy.family_id);
                let id_number = if full_ids && may_share && open {
                    self.keys.open(&person.id_enc)?
                } else {
                    if full_ids {
                        withheld += 1;
                    }
                    person.id_masked.clone()
                };
                list.push(UnderwritingRow {
                    policy_id: policy.id,
                    cert_code: policy.cert_code.clone(),
                    county: county.clone(),
                    township: township.clone(),
                    village: village.clone(),
                    head_name: seen.name(
                        policy.family_id,
                        heads.get(&policy.family_id).map(String::as_str).unwrap_or_default(),
                    ),
                    insured_name: seen.name(policy.family_id, &person.name),
                    id_number,
                    sex: if person.sex == "female" { "女" } else { "男" },
                    birth_date: seen.birth_date(policy.family_id, person.birth_date),
                    relationship: crate::error::stored::<Relationship>(
                        "persons.relationship",
                        &person.relationship,
                    )?
                    .label(),
                    package_name: package_names.get(&policy.package_id).cloned().unwrap_or_default(),
                    shares: policy.shares,
                    start_date: policy.start_date,
                    end_date: policy.end_date,
                    premium: (index == 0).then(|| Fen::new(policy.premium_fen)),
                });
            }
        }
        let region = query.region.as_ref().unwrap_or(actor.scope());
        let mut detail = format!(
            "{}年度 {}份保单 {}人，身份证号{}",
            query.year,
            rows.len(),
            list.len(),
            if full_ids { "完整" } else { "脱敏" }
        );
        if withheld > 0 {
            detail.push_str(&format!("（{withheld}人因撤回向保险公司提供的同意而脱敏）"));
        }
        self.audit(
            actor,
            AuditEvent::ok("policy.export_underwriting", "承保清单", region.as_str()).with_detail(detail),
        )
        .await?;
        Ok(UnderwritingList { rows: list, policies: rows.len(), full_ids, withheld })
    }

    /// Every policy of the list as filtered (up to [`EXPORT_LIMIT`]), heads' names as the
    /// actor may see them (`search_policies`); audit-logged as `policy.export`.
    pub async fn export_policies(
        self,
        actor: &Actor,
        query: &PolicyQuery,
    ) -> StoreResult<Vec<PolicySummary>> {
        check_region(actor, query.region.as_ref())?;
        let mut page_query = PolicyQuery { page: 0, per_page: 1000, ..query.clone() };
        let mut all = Vec::new();
        loop {
            let page = self.search_policies(actor, &page_query).await?;
            if page.total > EXPORT_LIMIT {
                return Err(too_many(page.total));
            }
            let done = page.policies.len() < page_query.per_page as usize;
            all.extend(page.policies);
            if done || all.len() as u64 >= page.total {
                break;
            }
            page_query.page += 1;
        }
        self.audit(
            actor,
            AuditEvent::ok("policy.export", "保单", "列表").with_detail(format!("导出{}份保单", all.len())),
        )
        .await?;
        Ok(all)
    }

    /// Every family of the list as filtered (up to [`EXPORT_LIMIT`]): heads' names and
    /// phone numbers in full for the families open to the actor (see `shown`), masked
    /// otherwise; audit-logged as `family.export`.
    pub async fn export_families(
        self,
        actor: &Actor,
        query: &FamilyQuery,
    ) -> StoreResult<Vec<FamilyExportRow>> {
        check_region(actor, query.region.as_ref())?;
        let mut page_query = FamilyQuery { page: 0, per_page: 1000, ..query.clone() };
        let mut all = Vec::new();
        loop {
            let page = self.families().search_families(actor, &page_query).await?;
            if page.total > EXPORT_LIMIT {
                return Err(too_many(page.total));
            }
            let done = page.families.len() < page_query.per_page as usize;
            all.extend(page.families);
            if done || all.len() as u64 >= page.total {
                break;
            }
            page_query.page += 1;
        }
        let seen = self.visibility(actor, all.iter().map(|f| f.id)).await?;
        let reveal = actor.can(Permission::RevealPersonalData);
        let mut phones: HashMap<i64, String> = HashMap::new();
        if reveal {
            let ids: Vec<i64> = all.iter().map(|f| f.id).filter(|id| seen.open(*id)).collect();
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<(i64, Option<crate::crypto::Sealed>)> = families::Entity::find()
                    .select_only()
                    .column(families::Column::Id)
                    .column(families::Column::PhoneEnc)
                    .filter(families::Column::Id.is_in(chunk.iter().copied()))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                for (id, sealed) in rows {
                    if let Some(sealed) = sealed {
                        phones.insert(id, self.keys.open(&sealed)?);
                    }
                }
            }
        }
        let rows: Vec<FamilyExportRow> = all
            .into_iter()
            .map(|summary| {
                let phone = if seen.open(summary.id) {
                    phones.remove(&summary.id)
                } else {
                    summary.phone_masked.clone()
                };
                FamilyExportRow { summary, phone }
            })
            .collect();
        let detail =
            format!("导出{}户，户主姓名和手机号{}", rows.len(), if reveal { "完整" } else { "脱敏" });
        self.audit(actor, AuditEvent::ok("family.export", "家庭", "列表").with_detail(detail)).await?;
        Ok(rows)
    }

    /// Every policy a funding source pays for within the actor's scope (the ledger page
    /// shows the newest 500), oldest first; audit-logged as `funding.export`.
    pub async fn export_ledger_lines(self, actor: &Actor, source_id: i64) -> StoreResult<Vec<LedgerLine>> {
        self.require(actor, Permission::ViewFunding).await?;
        self.source_row(actor, source_id).await?;
        let lines = self.ledger_lines(actor, source_id, false, EXPORT_LIMIT + 1).await?;
        if lines.len() as u64 > EXPORT_LIMIT {
            return Err(too_many_policies());
        }
        self.audit(
            actor,
            AuditEvent::ok("funding.export", "资金来源", source_id.to_string())
                .with_detail(format!("导出台账{}条", lines.len())),
        )
        .await?;
        Ok(lines)
    }
}

fn too_many_policies() -> StoreError {
    StoreError::invalid(format!("符合条件的保单超过{EXPORT_LIMIT}份，请按区域缩小范围后分批导出"))
}

fn too_many(total: u64) -> StoreError {
    StoreError::invalid(format!(
        "符合条件的记录有{total}条，一次最多导出{EXPORT_LIMIT}条。请按区域或年度缩小范围后分批导出"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_names_come_from_the_code_prefixes() {
        let names: HashMap<String, String> =
            [("360802", "吉州区"), ("360802100", "兴桥镇"), ("360802100200", "钓源村村民委员会")]
                .into_iter()
                .map(|(c, n)| (c.to_owned(), n.to_owned()))
                .collect();
        assert_eq!(
            place_names("360802100200", &names),
            ("吉州区".to_owned(), "兴桥镇".to_owned(), "钓源村".to_owned())
        );
    }
}
