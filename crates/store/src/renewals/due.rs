//! The due list: underwritten policies whose year ends within the season's window, each
//! with its family as it is now (births, deaths, moves), what renewal does with each
//! member under next year's terms, and what the family would pay under next year's
//! package and subsidy rules, with the budgets as they are.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use guanai_domain::funding::{FamilyFacts, RuleInput, RuleScope};
use guanai_domain::products::full_years;
use guanai_domain::renewals::{member_change, MemberFacts};
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;

use super::{MemberChange, RenewalState, SeasonSettings};
use crate::access::within_region;
use crate::audit::AuditEvent;
use crate::entities::{families, persons, policies, policy_members, renewals};
use crate::policies::{price_lines, split_among, PolicyStatus, EXPORT_LIMIT, POLICY};
use crate::products::Package;
use crate::shown::ShownName;
use crate::{Actor, Store, StoreError, StoreResult};

/// The due list's filters.
#[derive(Debug, Clone, Default)]
pub struct DueQuery {
    /// Within this region (county, township or village), inside the actor's scope.
    pub region: Option<RegionCode>,
    /// Policies of packages with this code.
    pub package_code: Option<String>,
    /// Only those not renewed yet (`Some(true)`), only the renewed (`Some(false)`).
    pub open: Option<bool>,
    pub settings: SeasonSettings,
    /// From 0.
    pub page: u64,
    pub per_page: u64,
}

/// A member of a due family as renewal sees them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueMember {
    pub person_id: i64,
    pub name: ShownName,
    /// Age on next year's start date.
    pub age: u32,
    pub change: MemberChange,
    /// The rule that refuses the member, in Chinese.
    pub rule: Option<String>,
}

/// What the family would get and pay next year.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextTerms {
    pub package_id: i64,
    pub package_name: String,
    pub year: i32,
    pub start_date: NaiveDate,
    /// The members insured by default (kept and added).
    pub member_ids: Vec<i64>,
    pub premium: Fen,
    /// The family's part under next year's subsidy rules, budgets as they are now.
    pub family_part: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuePolicy {
    pub policy_id: i64,
    pub family_id: i64,
    pub head_name: ShownName,
    pub village_code: String,
    pub package_code: String,
    pub package_name: String,
    pub year: i32,
    pub shares: i32,
    pub end_date: NaiveDate,
    /// The grace period's last day.
    pub last_renewal_day: NaiveDate,
    pub state: RenewalState,
    /// Next year's policy, once renewed.
    pub renewed_policy_id: Option<i64>,
    pub insured_last_year: u32,
    /// Renewal reminders sent to the family for this policy.
    pub reminded: u32,
    pub members: Vec<DueMember>,
    /// None when next year's package is not set up or not on sale, or nobody may renew.
    pub next: Option<NextTerms>,
    /// Why there are no next terms.
    pub note: Option<String>,
}

pub struct DuePage {
    pub total: u64,
    pub policies: Vec<DuePolicy>,
}

type DueRow = (policies::Model, Option<renewals::Model>);

/// A due family as read, with its members (persons in id order).
pub(super) type FamilyRows = (families::Model, Vec<persons::Model>);

/// How much of a due policy is read: all the lists show, or what renewing it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DueDetail {
    Shown,
    /// Without the reminders the family was sent, and without splitting next year's
    /// premium among the funding sources (`NextTerms::family_part` is then the whole
    /// premium): the enrolment writer splits it with the budgets as its transaction holds
    /// them. Two queries fewer for each renewal.
    Renewing,
}

/// A year's subsidy rules with their scopes, and the names of their sources.
type YearRules = (Vec<(RuleScope, RuleInput)>, Vec<(i64, String)>);

impl crate::handles::Renewals<'_> {
    /// The policies due for renewal within the actor's scope, by end date.
    pub async fn due_list(self, actor: &Actor, query: &DueQuery) -> StoreResult<DuePage> {
        self.require(actor, Permission::ViewFamilies).await?;
        let select = self.due_select(actor, query).await?;
        let total = select.clone().count(&self.db).await?;
        let per_page = query.per_page.clamp(1, 1000);
        let rows = select
            // The order of `idx_policies_status_end_village`: the first page is read off it.
            .order_by_asc(policies::Column::EndDate)
            .order_by_asc(policies::Column::VillageCode)
            .order_by_asc(policies::Column::Id)
            .offset(crate::page_offset(query.page, per_page)?)
            .limit(per_page)
            .select_also(renewals::Entity)
            .all(&self.db)
            .await?;
        Ok(DuePage {
            total,
            policies: self.describe_due(actor, rows, &query.settings, DueDetail::Shown).await?,
        })
    }

    /// One due policy (underwritten, in scope) with its family as it is now and next
    /// year's terms, whatever the window: the first step of renewing it.
    pub async fn due_policy_of(
        self,
        actor: &Actor,
        policy_id: i64,
        settings: &SeasonSettings,
    ) -> StoreResult<DuePolicy> {
        self.require(actor, Permission::ViewFamilies).await?;
        Ok(self.due_policy(actor, policy_id, settings, DueDetail::Shown).await?.0)
    }

    /// Every policy of the due list as filtered (up to `EXPORT_LIMIT`), for the
    /// spreadsheet; audit-logged as `renewal.export`.
    pub async fn export_due(self, actor: &Actor, query: &DueQuery) -> StoreResult<Vec<DuePolicy>> {
        self.require(actor, Permission::ViewFamilies).await?;
        let select = self.due_select(actor, query).await?;
        let total = select.clone().count(&self.db).await?;
        if total > EXPORT_LIMIT {
            return Err(StoreError::invalid(format!(
                "待续保清单共{total}份，超过一次导出的上限{EXPORT_LIMIT}份，请按乡镇或村分开导出"
            )));
        }
        let rows = select
            .order_by_asc(policies::Column::VillageCode)
            .order_by_asc(policies::Column::EndDate)
            .order_by_asc(policies::Column::Id)
            .select_also(renewals::Entity)
            .all(&self.db)
            .await?;
        let due = self.describe_due(actor, rows, &query.settings, DueDetail::Shown).await?;
        self.audit(
            actor,
            AuditEvent::ok("renewal.export", "待续保清单", "列表")
                .with_detail(format!("导出{}份待续保保单", due.len())),
        )
        .await?;
        Ok(due)
    }
}

impl Store {
    /// The due policies of the query (no order, no paging), each with its renewal if any.
    pub(super) async fn due_select(
        &self,
        actor: &Actor,
        query: &DueQuery,
    ) -> StoreResult<Select<policies::Entity>> {
        let (first, last) = query.settings.due_ends(self.today());
        let mut select = policies::Entity::find()
            .join(JoinType::LeftJoin, renewal_of_policy())
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .filter(policies::Column::EndDate.between(first, last));
        if let Some(region) = &query.region {
            select = select.filter(within_region(policies::Column::VillageCode, region.as_str()));
        }
        if let Some(code) = &query.package_code {
            let ids: Vec<i64> = self
                .products()
                .packages(None)
                .await?
                .into_iter()
                .filter(|p| &p.code == code)
                .map(|p| p.id)
                .collect();
            select = select.filter(policies::Column::PackageId.is_in(ids));
        }
        match query.open {
            Some(true) => select = select.filter(renewals::Column::Id.is_null()),
            Some(false) => select = select.filter(renewals::Column::Id.is_not_null()),
            None => {}
        }
        Ok(select)
    }

    /// One due policy (in scope, underwritten), whatever the window: for renewing it.
    pub(super) async fn due_policy(
        &self,
        actor: &Actor,
        policy_id: i64,
        settings: &SeasonSettings,
        detail: DueDetail,
    ) -> StoreResult<(DuePolicy, FamilyRows)> {
        self.require(actor, Permission::ViewFamilies).await?;
        // The policy with its renewal, if any, in one read.
        let found = policies::Entity::find_by_id(policy_id)
            .join(JoinType::LeftJoin, renewal_of_policy())
            .select_also(renewals::Entity)
            .one(&self.db)
            .await?;
        self.check_scope(actor, POLICY, policy_id, found.as_ref().map(|(p, _)| p.village_code.as_str()))
            .await?;
        let (row, renewal) = found.expect("in scope, so found");
        if row.status != PolicyStatus::Underwritten.code() {
            return Err(StoreError::invalid("只有已承保的保单可以续保"));
        }
        let family_id = row.family_id;
        let (mut found, mut families) =
            self.describe_due_read(actor, vec![(row, renewal)], settings, detail).await?;
        let family = families
            .remove(&family_id)
            .ok_or_else(|| StoreError::Corrupt(format!("policy {policy_id} without its family")))?;
        Ok((found.remove(0), family))
    }

    /// The due list's rows with their families as they are now and next year's terms: a
    /// few queries for the whole page, whatever its length.
    pub(super) async fn describe_due(
        &self,
        actor: &Actor,
        rows: Vec<DueRow>,
        settings: &SeasonSettings,
        detail: DueDetail,
    ) -> StoreResult<Vec<DuePolicy>> {
        Ok(self.describe_due_read(actor, rows, settings, detail).await?.0)
    }

    /// [`Store::describe_due`], with the families and members it read.
    async fn describe_due_read(
        &self,
        actor: &Actor,
        rows: Vec<DueRow>,
        settings: &SeasonSettings,
        detail: DueDetail,
    ) -> StoreResult<(Vec<DuePolicy>, HashMap<i64, FamilyRows>)> {
        let today = self.today();
        let policy_ids: Vec<i64> = rows.iter().map(|(p, _)| p.id).collect();
        let seen = self.visibility(actor, rows.iter().map(|(p, _)| p.family_id)).await?;
        // Each policy's family with its members (a family always has its head) and which
        // of them the policy insured, in one read per 500 policies. A family with two
        // policies comes once per policy (and once per chunk): its persons are kept from
        // their first row.
        let mut read: HashMap<i64, FamilyRows> = HashMap::new();
        let mut insured: HashSet<(i64, i64)> = HashSet::new();
        for chunk in policy_ids.chunks(500) {
            let found = families::Entity::find()
                .join(JoinType::InnerJoin, policies_of_family())
                .join(JoinType::LeftJoin, members_of_family())
                .join(JoinType::LeftJoin, insured_by_policy())
                .select_also(persons::Entity)
                .select_also(policy_members::Entity)
                .filter(policies::Column::Id.is_in(chunk.iter().copied()))
                .order_by_asc(families::Column::Id)
                .order_by_asc(persons::Column::Id)
                .all(&self.db)
                .await?;
            for (family, person, insured_by) in found {
                insured.extend(insured_by.map(|m| (m.policy_id, m.person_id)));
                let people = &mut read.entry(family.id).or_insert_with(|| (family, Vec::new())).1;
                if let Some(person) = person.filter(|p| people.last().is_none_or(|last| last.id < p.id)) {
                    people.push(person);
                }
            }
        }
        let mut packages: HashMap<i64, Arc<Package>> = HashMap::new();
        for id in rows.iter().map(|(p, _)| p.package_id).collect::<HashSet<_>>() {
            packages.insert(id, self.cached_package(id).await?);
        }
        let next = self.next_packages(packages.values()).await?;
        let reminded = match detail {
            DueDetail::Shown => self.reminders_sent(&policy_ids).await?,
            DueDetail::Renewing => HashMap::new(),
        };
        let mut rules: HashMap<i32, YearRules> = HashMap::new();
        if detail == DueDetail::Shown {
            for year in next.values().map(|p| p.year).collect::<HashSet<_>>() {
                rules.insert(year, self.all_rules(&self.db, year).await?);
            }
        }
        let mut due = Vec::with_capacity(rows.len());
        for (policy, renewal) in rows {
            let package = &packages[&policy.package_id];
            let next_package = next.get(&package.id);
            let (family, people) = read
                .get(&policy.family_id)
                .ok_or_else(|| StoreError::Corrupt(format!("policy {} without its family", policy.id)))?;
            // Ages on next year's start date (or the day after this year's end).
            let new_start = next_package
                .map(|p| p.base.terms.start_date)
                .unwrap_or_else(|| policy.end_date.succ_opt().unwrap_or(policy.end_date));
            let products: Vec<(&str, &guanai_domain::products::ProductTerms)> = next_package
                .map(|p| p.products().map(|x| (x.name.as_str(), &x.terms)).collect())
                .unwrap_or_default();
            let mut members = Vec::new();
            for person in people {
                let facts = MemberFacts {
                    name: &person.name,
                    birth: person.birth_date,
                    active: person.active,
                    insured_last_year: insured.contains(&(policy.id, person.id)),
                };
                let Some((change, rule)) =
                    member_change(facts, &package.base.terms, products.iter().copied())
                else {
                    continue;
                };
                members.push(DueMember {
                    person_id: person.id,
                    name: seen.name(policy.family_id, &person.name),
                    age: full_years(person.birth_date, new_start),
                    change,
                    rule: rule.map(|r| r.to_string()),
                });
            }
            let member_ids: Vec<i64> =
                members.iter().filter(|m| m.change.insured()).map(|m| m.person_id).collect();
            let (next_terms, note) = match next_package {
                None => (None, Some(format!("{}年度的“{}”方案尚未设立", policy.year + 1, package.name))),
                Some(_) if member_ids.is_empty() => (None, Some("没有可以续保的成员".to_owned())),
                Some(next) => match next.enrolment_start(today) {
                    Err(e) => (None, Some(e.to_string())),
                    Ok(start) => {
                        let count = member_ids.len() as u32;
                        let (premium, _) = price_lines(next, policy.shares.max(1) as u32, count, start)?;
                        let family_part = match rules.get(&next.year) {
                            Some((year_rules, names)) => {
                                let village = RegionCode::parse(&family.village_code)
                                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                                let facts = FamilyFacts {
                                    village: &village,
                                    category: &family.category,
                                    poverty: crate::error::stored("families.poverty", &family.poverty)?,
                                    package_id: next.id,
                                };
                                let matching: Vec<RuleInput> = year_rules
                                    .iter()
                                    .filter(|(scope, _)| scope.matches(&facts))
                                    .map(|(_, input)| input.clone())
                                    .collect();
                                split_among(&matching, names, premium, count).0.family
                            }
                            // Not split when renewing (see `DueDetail::Renewing`).
                            None => premium,
                        };
                        let terms = NextTerms {
                            package_id: next.id,
                            package_name: next.name.clone(),
                            year: next.year,
                            start_date: start,
                            member_ids,
                            premium,
                            family_part,
                        };
                        (Some(terms), None)
                    }
                },
            };
            due.push(DuePolicy {
                policy_id: policy.id,
                family_id: policy.family_id,
                head_name: seen.name(policy.family_id, &family.head_name),
                village_code: policy.village_code.clone(),
                package_code: package.code.clone(),
                package_name: package.name.clone(),
                year: policy.year,
                shares: policy.shares,
                end_date: policy.end_date,
                last_renewal_day: settings.last_renewal_day(policy.end_date),
                state: settings.state(policy.end_date, today, renewal.is_some()),
                renewed_policy_id: renewal.map(|r| r.policy_id),
                insured_last_year: insured.iter().filter(|(p, _)| *p == policy.id).count() as u32,
                reminded: reminded.get(&policy.id).copied().unwrap_or(0),
                members,
                next: next_terms,
                note,
            });
        }
        Ok((due, read))
    }

    /// Next year's package (same code, the year after) of each package, where set up.
    pub(super) async fn next_packages<'a>(
        &self,
        packages: impl Iterator<Item = &'a Arc<Package>>,
    ) -> StoreResult<HashMap<i64, Arc<Package>>> {
        let mut next = HashMap::new();
        for package in packages {
            if let Some(found) = self.cached_package_of(&package.code, package.year + 1).await? {
                next.insert(package.id, found);
            }
        }
        Ok(next)
    }
}

/// A family's members: `persons` joined on the family.
fn members_of_family() -> sea_orm::RelationDef {
    families::Entity::belongs_to(persons::Entity)
        .from(families::Column::Id)
        .to(persons::Column::FamilyId)
        .into()
}

/// A family's policies (the due rows' own, filtered by id).
fn policies_of_family() -> sea_orm::RelationDef {
    families::Entity::belongs_to(policies::Entity)
        .from(families::Column::Id)
        .to(policies::Column::FamilyId)
        .into()
}

/// A member's place on the policy of the row (last year's insured), if any.
fn insured_by_policy() -> sea_orm::RelationDef {
    persons::Entity::belongs_to(policy_members::Entity)
        .from(persons::Column::Id)
        .to(policy_members::Column::PersonId)
        .on_condition(|_, _| {
            Expr::col((policy_members::Entity, policy_members::Column::PolicyId))
                .equals((policies::Entity, policies::Column::Id))
                .into_condition()
        })
        .into()
}

/// A policy's renewal, if any: `renewals` joined on the previous policy.
fn renewal_of_policy() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(renewals::Entity)
        .from(policies::Column::Id)
        .to(renewals::Column::PreviousPolicyId)
        .into()
}
