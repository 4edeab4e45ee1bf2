//! Policies for many families at once: the drafts (who of each family can be insured,
//! what it costs) shared by gifting and by batch enrolment, and the batch enrolment that
//! splits each premium among the funding rules with the budgets tracked as it goes.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use guanai_domain::families::Relationship;
use guanai_domain::funding::{split_premium, FamilyFacts, RuleInput, RuleScope};
use guanai_domain::products::full_years;
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::sea_query::{Expr, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    TransactionTrait,
};
use serde::Serialize;

use super::enrol::{held_cover, renewal_cover, slots_with_products};
use super::write::{insert_policies, PolicyDraft};
use super::{Channel, PolicyStatus};
use crate::audit::AuditEvent;
use crate::consents::ConsentKind;
use crate::entities::{consents, cover_slots, families, persons};
use crate::products::Package;
use crate::{Actor, Store, StoreError, StoreResult};

/// A family left out of a batch, and why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub family_id: i64,
    pub head_name: crate::shown::ShownName,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchOutcome {
    pub created: usize,
    pub skipped: Vec<Skipped>,
}

/// What a draft needs of a family: the facts its funding split matches on and the head's
/// name for a skipped line. Read by [`DraftFamily::select`], not as whole rows: a city's
/// batch reads tens of thousands.
#[derive(Debug, Clone)]
pub(crate) struct DraftFamily {
    pub id: i64,
    pub village_code: String,
    pub category: String,
    pub poverty: String,
    pub head_name: String,
}

/// A [`DraftFamily`] as its columns are read.
pub(crate) type DraftFamilyRow = (i64, String, String, String, String);

impl DraftFamily {
    /// Adds a draft family's columns, in [`DraftFamilyRow`]'s order, to `select` (over
    /// families, or joined to them) after any columns it has.
    pub(crate) fn select<E: EntityTrait>(select: Select<E>) -> Select<E> {
        select
            .column(families::Column::Id)
            .column(families::Column::VillageCode)
            .column(families::Column::Category)
            .column(families::Column::Poverty)
            .column(families::Column::HeadName)
    }

    pub(crate) fn from_row((id, village_code, category, poverty, head_name): DraftFamilyRow) -> Self {
        DraftFamily { id, village_code, category, poverty, head_name }
    }
}

/// What a draft needs of a family member, with the cover that decides whether and how
/// the member is insured.
struct Member {
    id: i64,
    name: String,
    birth_date: NaiveDate,
    relationship: String,
    /// Already holds this year's cover for a product of the package.
    holds_cover: bool,
    /// Insured last year under the base product's code (renewal age limits apply).
    renewing: bool,
}

/// A [`Member`] as read: id, family, name, birth date, relationship, the policy of a cover
/// slot it holds this year, and that of last year's slot that makes it a renewal.
type MemberRow = (i64, i64, String, NaiveDate, String, Option<i64>, Option<i64>);

/// A consent in force: its kind, and the child it is for (guardian consents).
struct Consent {
    kind: String,
    person_id: Option<i64>,
}

/// Members first by their place in the household, then by age.
fn household_order(relationship: &str) -> usize {
    Relationship::ALL.iter().position(|r| r.code() == relationship).unwrap_or(Relationship::ALL.len())
}

impl Store {
    /// The draft policy of each family (every active member who may be insured and is not
    /// covered yet, up to the package's member cap), or why a family cannot have one.
    /// Families without the consents to share data with the insurer are left out.
    pub(crate) async fn batch_drafts(
        &self,
        actor: &Actor,
        package: &Package,
        selected: &[DraftFamily],
        channel: Channel,
        status: PolicyStatus,
    ) -> StoreResult<(Vec<PolicyDraft>, Vec<Skipped>)> {
        let family_ids: Vec<i64> = selected.iter().map(|f| f.id).collect();
        let seen = self.visibility(actor, family_ids.iter().copied()).await?;
        // Each member's cover, asked of the member's own row (two index probes each): a
        // city's batch reads hundreds of thousands of members, and their cover slots as rows
        // of their own would as many again. Scalar subqueries (a slot's policy, or NULL), not
        // EXISTS: PostgreSQL may answer an EXISTS of many rows by hashing the whole of
        // cover_slots for every statement, a cost that grows with the table.
        let of_member = || {
            Expr::col((cover_slots::Entity, cover_slots::Column::PersonId))
                .equals((persons::Entity, persons::Column::Id))
        };
        let held = cover_slots::Entity::find()
            .select_only()
            .column(cover_slots::Column::PolicyId)
            .filter(of_member())
            .filter(held_cover(package))
            .limit(1)
            .into_query();
        let renewed = slots_with_products()
            .column(cover_slots::Column::PolicyId)
            .filter(of_member())
            .filter(renewal_cover(package))
            .limit(1)
            .into_query();
        let (members, consents_by_family) = if self.engine == crate::Engine::Postgres {
            // The tables these reads probe grow with every chunk a batch writes (a city's
            // enrolment fills cover_slots from empty). PostgreSQL kept a generic plan made
            // for the first chunks for the rest of the connection's life: a chunk took 25 s
            // once the table held a quarter of a million slots, where a plan made for the
            // table as it was took 5 ms.
            let txn = self.db.begin().await?;
            crate::connect::plan_for_tables_as_they_are(self.engine, &txn).await?;
            let read = members_and_consents(&txn, &family_ids, &held, &renewed).await?;
            txn.commit().await?;
            read
        } else {
            members_and_consents(&self.db, &family_ids, &held, &renewed).await?
        };
        let today = self.today();
        let start = package.enrolment_start(today)?;
        let mut skipped = Vec::new();
        let mut drafts = Vec::new();
        for family in selected {
            let skip = |reason: String| Skipped {
                family_id: family.id,
                head_name: seen.name(family.id, &family.head_name),
                reason,
            };
            let given = consents_by_family.get(&family.id).map(Vec::as_slice).unwrap_or_default();
            let has = |kind: ConsentKind| given.iter().any(|c| c.kind == kind.code());
            if !has(ConsentKind::Processing) || !has(ConsentKind::InsurerSharing) {
                skipped.push(skip("未签署个人信息处理及向保险公司提供的同意书".to_owned()));
                continue;
            }
            let draft = family_draft(actor, family, members.get(&family.id), given, package, (today, start));
            match draft {
                Ok(mut draft) => {
                    draft.channel = channel;
                    draft.status = status;
                    drafts.push(draft);
                }
                Err(reason) => skipped.push(skip(reason)),
            }
        }
        Ok((drafts, skipped))
    }
}

impl crate::handles::Policies<'_> {
    /// Enrols many families in one package at once (a campaign, or the demo): each premium
    /// split among the matching rules as one enrolment would, budgets tracked across the
    /// batch. All or nothing.
    pub async fn enrol_families(
        self,
        actor: &Actor,
        package_id: i64,
        family_ids: &[i64],
        channel: Channel,
        submit: bool,
    ) -> StoreResult<BatchOutcome> {
        self.require(actor, Permission::Enrol).await?;
        let package = self.products().package(package_id).await?;
        let mut selected = Vec::new();
        for chunk in family_ids.chunks(500) {
            let rows: Vec<DraftFamilyRow> = DraftFamily::select(families::Entity::find().select_only())
                .filter(actor.scope_condition(families::Column::VillageCode))
                .filter(families::Column::Id.is_in(chunk.iter().copied()))
                .order_by_asc(families::Column::Id)
                .into_tuple()
                .all(&self.db)
                .await?;
            selected.extend(rows.into_iter().map(DraftFamily::from_row));
        }
        let status = if submit { PolicyStatus::Submitted } else { PolicyStatus::Draft };
        let (mut drafts, skipped) = self.batch_drafts(actor, &package, &selected, channel, status).await?;
        if drafts.is_empty() {
            return Ok(BatchOutcome { created: 0, skipped });
        }
        let by_id: HashMap<i64, &DraftFamily> = selected.iter().map(|f| (f.id, f)).collect();
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        // Write first (SQLite's write lock), then read the rules and budgets as they are now;
        // each allocation below checks its budget again.
        self.touch_family(&txn, drafts[0].family_id).await?;
        let (rules, _) = self.all_rules(&txn, package.year).await?;
        let mut budgets: HashMap<i64, Fen> = HashMap::new();
        for rule in &rules {
            budgets.entry(rule.1.source_id).or_insert(rule.1.budget_left);
        }
        let mut allocations: BTreeMap<i64, Fen> = BTreeMap::new();
        for draft in &mut drafts {
            split_batch(&rules, &mut budgets, draft, by_id[&draft.family_id])?;
            for (source, _, amount) in &draft.funding {
                let total = allocations.entry(*source).or_insert(Fen::ZERO);
                *total = total.checked_add(*amount).unwrap_or(*total);
            }
        }
        for (source, amount) in allocations {
            self.allocate(&txn, source, amount).await?;
        }
        insert_policies(&txn, self.dialect, &drafts).await?;
        txn.commit().await?;
        drop(turn);
        self.audit(
            actor,
            AuditEvent::ok("policy.enrol_batch", "保障方案", package.id.to_string())
                .with_detail(format!("批量参保{}户", drafts.len())),
        )
        .await?;
        Ok(BatchOutcome { created: drafts.len(), skipped })
    }
}

/// Splits a draft's premium among the rules matching its family, with what each source has
/// left in `budgets` (a batch's running budgets, which it lowers): the draft's family part
/// and funding lines are set.
pub(crate) fn split_batch(
    rules: &[(RuleScope, RuleInput)],
    budgets: &mut HashMap<i64, Fen>,
    draft: &mut PolicyDraft,
    family: &DraftFamily,
) -> StoreResult<()> {
    let village = RegionCode::parse(&family.village_code).map_err(|e| StoreError::invalid(e.to_string()))?;
    let facts = FamilyFacts {
        village: &village,
        category: &family.category,
        poverty: crate::error::stored("families.poverty", &family.poverty)?,
        package_id: draft.package_id,
    };
    let mut matching: Vec<RuleInput> = Vec::new();
    for (_, input) in rules.iter().filter(|(scope, _)| scope.matches(&facts)) {
        let left = *budgets.entry(input.source_id).or_insert(input.budget_left);
        matching.push(RuleInput { budget_left: left, ..input.clone() });
    }
    let split = split_premium(draft.premium, draft.members.len() as u32, &matching);
    for part in &split.parts {
        if let Some(left) = budgets.get_mut(&part.source_id) {
            *left = Fen::new(left.get() - part.amount.get());
        }
    }
    draft.family_part = split.family;
    draft.funding = split.parts.iter().map(|p| (p.source_id, p.rule_id, p.amount)).collect();
    Ok(())
}

/// The policy one family would get, or why it cannot.
fn family_draft(
    actor: &Actor,
    family: &DraftFamily,
    members: Option<&Vec<Member>>,
    consents: &[Consent],
    package: &Package,
    (today, start): (NaiveDate, NaiveDate),
) -> Result<PolicyDraft, String> {
    // Ages on the scheme's start date; the cover from `start` (see `Package::enrolment_start`).
    let scheme_start = package.base.terms.start_date;
    let mut candidates: Vec<&Member> = members.map(|m| m.iter().collect()).unwrap_or_default();
    candidates.sort_by_key(|p| (household_order(&p.relationship), p.birth_date));
    let mut insured = Vec::new();
    let limit = package.products().map(|p| p.terms.max_members).filter(|m| *m > 0).min().unwrap_or(u32::MAX);
    for person in candidates {
        if insured.len() as u32 >= limit {
            break;
        }
        if person.holds_cover {
            continue;
        }
        let eligible = package
            .products()
            .all(|p| p.terms.check_person(&p.name, &person.name, person.birth_date, person.renewing).is_ok());
        let age = full_years(person.birth_date, scheme_start);
        let child_without_guardian =
            guanai_domain::families::needs_guardian_consent(person.birth_date, today)
                && !consents
                    .iter()
                    .any(|c| c.kind == ConsentKind::Guardian.code() && c.person_id == Some(person.id));
        if eligible && !child_without_guardian {
            insured.push((person.id, age as i32));
        }
    }
    if insured.is_empty() {
        return Err("没有符合年龄条件且未参保的成员".to_owned());
    }
    let count = insured.len() as u32;
    let mut products = Vec::new();
    let mut premium = Fen::ZERO;
    for product in package.products() {
        let part =
            product.terms.premium_from(product.terms.min_shares, count, start).ok_or("保费计算溢出")?;
        premium = premium.checked_add(part).ok_or("保费计算溢出")?;
        products.push((product.id, part));
    }
    Ok(PolicyDraft {
        family_id: family.id,
        package_id: package.id,
        village_code: family.village_code.clone(),
        year: package.year,
        start_date: start,
        end_date: package.base.terms.end_date(),
        shares: package.base.terms.min_shares as i32,
        status: PolicyStatus::Draft,
        channel: Channel::Staff,
        premium,
        family_part: premium,
        created_by: actor.username().to_owned(),
        members: insured,
        products,
        funding: Vec::new(),
    })
}

/// The active members of `family_ids`, each with its cover (`held` and `renewed`: a slot's
/// policy or none), and the consents in force, read in `db`, 500 families a statement.
async fn members_and_consents(
    db: &impl ConnectionTrait,
    family_ids: &[i64],
    held: &SelectStatement,
    renewed: &SelectStatement,
) -> StoreResult<(HashMap<i64, Vec<Member>>, HashMap<i64, Vec<Consent>>)> {
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    let mut consents_by_family: HashMap<i64, Vec<Consent>> = HashMap::new();
    let scalar = |select: &SelectStatement| {
        SimpleExpr::SubQuery(None, Box::new(select.clone().into_sub_query_statement()))
    };
    // Only the columns a draft needs.
    for chunk in family_ids.chunks(500) {
        let rows: Vec<MemberRow> = persons::Entity::find()
            .select_only()
            .column(persons::Column::Id)
            .column(persons::Column::FamilyId)
            .column(persons::Column::Name)
            .column(persons::Column::BirthDate)
            .column(persons::Column::Relationship)
            .column_as(scalar(held), "held_by")
            .column_as(scalar(renewed), "renewed_from")
            .filter(persons::Column::FamilyId.is_in(chunk.iter().copied()))
            .filter(persons::Column::Active.eq(true))
            .into_tuple()
            .all(db)
            .await?;
        for (id, family_id, name, birth_date, relationship, held_by, renewed_from) in rows {
            members.entry(family_id).or_default().push(Member {
                id,
                name,
                birth_date,
                relationship,
                holds_cover: held_by.is_some(),
                renewing: renewed_from.is_some(),
            });
        }
        let rows: Vec<(i64, String, Option<i64>)> = consents::Entity::find()
            .select_only()
            .column(consents::Column::FamilyId)
            .column(consents::Column::Kind)
            .column(consents::Column::PersonId)
            .filter(consents::Column::FamilyId.is_in(chunk.iter().copied()))
            .filter(consents::Column::WithdrawnAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        for (family_id, kind, person_id) in rows {
            consents_by_family.entry(family_id).or_default().push(Consent { kind, person_id });
        }
    }
    Ok((members, consents_by_family))
}
