//! Batch renewal: every due policy of a region (not renewed yet) whose family's premium
//! next year is paid in full by the funding sources (gifted again, or a family part of
//! zero), renewed at once, all or nothing within the budgets. The preview and the
//! confirmation make the same plan; the confirmation makes it again inside its write
//! transaction, with the budgets as they are then, and refuses if it no longer renews as
//! many families as the preview showed. Each source's budget is taken with one conditional
//! UPDATE for the whole batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use guanai_domain::funding::{RuleInput, RuleScope};
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::{ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::{DueQuery, RenewalLink, SeasonSettings};
use crate::audit::AuditEvent;
use crate::entities::{families, policies};
use crate::policies::{
    insert_policies, split_batch, Channel, DraftFamily, PolicyDraft, PolicyStatus, Skipped,
};
use crate::products::Package;
use crate::{Actor, Store, StoreError, StoreResult};

/// The family of a policy.
fn family_of_policy() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(families::Entity)
        .from(policies::Column::FamilyId)
        .to(families::Column::Id)
        .into()
}

/// Most skipped families a preview lists (all are counted).
const SKIPPED_SHOWN: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct BatchQuery {
    /// The region whose due policies are renewed, within the actor's scope.
    pub region: Option<RegionCode>,
    pub settings: SeasonSettings,
    /// The number of families the preview showed; the confirmation refuses another number.
    pub expected: Option<usize>,
}

/// What one source pays for the batch, and what it has left before it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceTotal {
    pub source_id: i64,
    pub name: String,
    pub amount: Fen,
    pub left_before: Fen,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchPreview {
    /// Families renewed by the batch (fully funded).
    pub households: usize,
    pub persons: usize,
    pub premium: Fen,
    pub sources: Vec<SourceTotal>,
    /// Due families whose family part next year is not zero: renewed one by one instead.
    pub not_fully_funded: usize,
    /// Families that cannot be renewed at all, and why (the first 200).
    pub skipped: Vec<Skipped>,
    pub skipped_total: usize,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchRenewed {
    pub households: usize,
    pub persons: usize,
    pub premium: Fen,
}

/// A due policy a batch renews: its id and village.
type Previous = (i64, String);

/// The batch as planned: the drafts with the policy each renews, and the preview.
struct Plan {
    drafts: Vec<PolicyDraft>,
    previous: Vec<Previous>,
    preview: BatchPreview,
}

/// A due policy (id, package, village) and its family's columns (`DraftFamilyRow`'s), as
/// read in one row.
type DueFamilyRow = (i64, i64, String, i64, String, String, String, String);

/// Due policies grouped by next year's package, with their families.
type Groups = Vec<(Arc<Package>, Vec<(Previous, DraftFamily)>)>;

/// Next year's drafts of one package's families, each family with the policy it renews.
struct DraftGroup {
    package: Arc<Package>,
    drafts: Vec<PolicyDraft>,
    by_family: HashMap<i64, (Previous, DraftFamily)>,
}

struct Drafted {
    groups: Vec<DraftGroup>,
    skipped: Vec<Skipped>,
}

impl crate::handles::Renewals<'_> {
    /// What a batch renewal of the region would do, changing nothing.
    pub async fn batch_preview(self, actor: &Actor, query: &BatchQuery) -> StoreResult<BatchPreview> {
        self.require(actor, Permission::BatchRenew).await?;
        let (groups, skipped) = self.batch_groups(actor, query).await?;
        let drafted = self.draft_groups(actor, groups, skipped).await?;
        Ok(self.plan_batch(&self.db, drafted).await?.preview)
    }

    /// Renews every fully funded due family of the region at once: all or nothing.
    pub async fn batch_renew(self, actor: &Actor, query: &BatchQuery) -> StoreResult<BatchRenewed> {
        self.require(actor, Permission::BatchRenew).await?;
        // How long each phase took (milliseconds since the last lap), for the log: a city's
        // batch takes seconds.
        let mut last = std::time::Instant::now();
        let mut lap = move || {
            let now = std::time::Instant::now();
            let took = now - last;
            last = now;
            took.as_millis()
        };
        // Every read that needs no transaction first (see "Transactions on SQLite").
        let (groups, skipped) = self.batch_groups(actor, query).await?;
        let drafted = self.draft_groups(actor, groups, skipped).await?;
        let Some(first_family) =
            drafted.groups.iter().flat_map(|g| g.drafts.first()).map(|d| d.family_id).next()
        else {
            return Err(StoreError::invalid("没有可以批量续保的家庭"));
        };
        let read_ms = lap();
        // The plan and every write of the batch on a connection for large writes.
        let writer = self.large_writer().await?;
        let written: StoreResult<_> = async {
            let turn = self.write_gate.turn().await;
            let txn = writer.begin().await?;
            let turn_wait_ms = lap();
            // Write first (SQLite's write lock), so the budgets read next are the latest.
            self.touch_family(&txn, first_family).await?;
            let plan = self.plan_batch(&txn, drafted).await?;
            let found = plan.preview.households;
            if found == 0 {
                return Err(StoreError::invalid("没有保费全部由资助方承担的待续保家庭，无需批量续保"));
            }
            if query.expected.is_some_and(|expected| expected != found) {
                return Err(StoreError::Conflict(format!(
                    "情况已有变化：预览时可批量续保{}户，现在为{found}户。请重新预览后再确认",
                    query.expected.unwrap_or_default()
                )));
            }
            // One conditional allocation per source for the whole batch, in source order.
            for source in &plan.preview.sources {
                self.allocate(&txn, source.source_id, source.amount).await?;
            }
            let plan_ms = lap();
            let ids = insert_policies(&txn, self.dialect, &plan.drafts).await?;
            let policies_ms = lap();
            let now = self.clock().now();
            let links: Vec<RenewalLink> = plan
                .drafts
                .iter()
                .zip(&ids)
                .zip(&plan.previous)
                .map(|((d, id), (previous, previous_village))| RenewalLink {
                    previous_policy_id: *previous,
                    previous_village_code: previous_village.clone(),
                    policy_id: *id,
                    family_id: d.family_id,
                    village_code: d.village_code.clone(),
                    year: d.year,
                    persons: d.members.len() as i32,
                    created_by: actor.username().to_owned(),
                    at: now,
                    confirm: Some(super::RenewedTerms {
                        start_date: d.start_date,
                        end_date: d.end_date,
                        family_part: d.family_part,
                    }),
                })
                .collect();
            super::link_renewals(&txn, &links).await?;
            let links_ms = lap();
            txn.commit().await?;
            drop(turn);
            Ok((plan, found, turn_wait_ms, plan_ms, policies_ms, links_ms))
        }
        .await;
        // Closed whether the batch was written or not (an unfinished transaction is rolled
        // back when it is dropped).
        writer.close().await;
        let (plan, found, turn_wait_ms, plan_ms, policies_ms, links_ms) = written?;
        let commit_ms = lap();
        tracing::info!(
            households = found,
            read_ms,
            turn_wait_ms,
            plan_ms,
            policies_ms,
            links_ms,
            commit_ms,
            "batch renewal written (each phase's milliseconds)"
        );
        let region = query.region.as_ref().unwrap_or(actor.scope()).to_string();
        self.audit(
            actor,
            AuditEvent::ok("renewal.batch", "区域", region)
                .with_detail(format!("批量续保{}户{}人", found, plan.preview.persons)),
        )
        .await?;
        Ok(BatchRenewed { households: found, persons: plan.preview.persons, premium: plan.preview.premium })
    }
}

impl Store {
    /// The region's due policies not renewed yet, grouped by next year's package with
    /// their families; those that cannot be renewed (no package next year, not on sale) as
    /// skipped.
    async fn batch_groups(&self, actor: &Actor, query: &BatchQuery) -> StoreResult<(Groups, Vec<Skipped>)> {
        let due = DueQuery {
            region: query.region.clone(),
            open: Some(true),
            settings: query.settings.clone(),
            ..Default::default()
        };
        // The due policies with their families (those in the actor's scope) in one read.
        let rows: Vec<DueFamilyRow> = DraftFamily::select(
            self.due_select(actor, &due)
                .await?
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::PackageId)
                .column(policies::Column::VillageCode)
                .join(JoinType::InnerJoin, family_of_policy())
                .filter(actor.scope_condition(families::Column::VillageCode)),
        )
        .order_by_asc(policies::Column::FamilyId)
        .into_tuple()
        .all(&self.db)
        .await?;
        let mut packages = HashMap::new();
        for (_, package, ..) in &rows {
            if !packages.contains_key(package) {
                packages.insert(*package, self.cached_package(*package).await?);
            }
        }
        let next = self.next_packages(packages.values()).await?;
        let today = self.today();
        let mut by_next: BTreeMap<i64, Vec<(Previous, DraftFamily)>> = BTreeMap::new();
        let mut refused: Vec<(DraftFamily, String)> = Vec::new();
        for (policy, package, village, id, family_village, category, poverty, head_name) in rows {
            let family = DraftFamily::from_row((id, family_village, category, poverty, head_name));
            match next.get(&package) {
                None => {
                    refused.push((family, format!("{}年度的同一方案尚未设立", packages[&package].year + 1)))
                }
                Some(p) => match p.enrolment_start(today) {
                    Err(e) => refused.push((family, e.to_string())),
                    Ok(_) => by_next.entry(p.id).or_default().push(((policy, village), family)),
                },
            }
        }
        let mut groups = Vec::new();
        for (package_id, families) in by_next {
            groups.push((self.cached_package(package_id).await?, families));
        }
        let seen = self.visibility(actor, refused.iter().map(|(f, _)| f.id)).await?;
        let skipped = refused
            .into_iter()
            .map(|(family, reason)| Skipped {
                family_id: family.id,
                head_name: seen.name(family.id, &family.head_name),
                reason,
            })
            .collect();
        Ok((groups, skipped))
    }

    /// Each family's draft for next year (members, premium), read before any transaction.
    async fn draft_groups(
        &self,
        actor: &Actor,
        groups: Groups,
        mut skipped: Vec<Skipped>,
    ) -> StoreResult<Drafted> {
        // One task per package, side by side: each reads its families' members, consents
        // and cover on a connection of its own and decodes them on a core of its own.
        let mut tasks = tokio::task::JoinSet::new();
        for (order, (package, members)) in groups.into_iter().enumerate() {
            let (store, actor) = (self.clone(), actor.clone());
            tasks.spawn(async move {
                let (previous, families): (Vec<Previous>, Vec<DraftFamily>) = members.into_iter().unzip();
                let (drafts, skipped) = store
                    .batch_drafts(&actor, &package, &families, Channel::Staff, PolicyStatus::Submitted)
                    .await?;
                let by_family = previous.into_iter().zip(families).map(|(p, f)| (f.id, (p, f))).collect();
                StoreResult::Ok((order, DraftGroup { package, drafts, by_family }, skipped))
            });
        }
        let mut drafted = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (order, group, group_skipped) =
                done.map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(e.to_string())))??;
            drafted.push((order, group, group_skipped));
        }
        // In the packages' order, as one reader would have made them.
        drafted.sort_by_key(|(order, _, _)| *order);
        let mut groups = Vec::with_capacity(drafted.len());
        for (_, group, group_skipped) in drafted {
            skipped.extend(group_skipped);
            groups.push(group);
        }
        Ok(Drafted { groups, skipped })
    }

    /// The drafts of the fully funded families, their funding split with the budgets `db`
    /// sees, and what the batch takes from each source.
    async fn plan_batch(&self, db: &impl ConnectionTrait, drafted: Drafted) -> StoreResult<Plan> {
        let mut rules: HashMap<i32, Vec<(RuleScope, RuleInput)>> = HashMap::new();
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut budgets: HashMap<i64, Fen> = HashMap::new();
        let mut left_before: HashMap<i64, Fen> = HashMap::new();
        let mut skipped = drafted.skipped;
        let mut plan = Plan {
            drafts: Vec::new(),
            previous: Vec::new(),
            preview: BatchPreview {
                households: 0,
                persons: 0,
                premium: Fen::ZERO,
                sources: Vec::new(),
                not_fully_funded: 0,
                skipped: Vec::new(),
                skipped_total: 0,
            },
        };
        for group in drafted.groups {
            let year = group.package.year;
            if let std::collections::hash_map::Entry::Vacant(slot) = rules.entry(year) {
                let (year_rules, year_names) = self.all_rules(db, year).await?;
                for (_, input) in &year_rules {
                    left_before.entry(input.source_id).or_insert(input.budget_left);
                }
                names.extend(year_names);
                slot.insert(year_rules);
            }
            for mut draft in group.drafts {
                let (previous, family) = &group.by_family[&draft.family_id];
                let before = budgets.clone();
                split_batch(&rules[&year], &mut budgets, &mut draft, family)?;
                if draft.family_part.get() != 0 {
                    // Not paid in full: the family renews one by one; its parts go back.
                    budgets = before;
                    plan.preview.not_fully_funded += 1;
                    continue;
                }
                plan.preview.persons += draft.members.len();
                plan.preview.premium =
                    plan.preview.premium.checked_add(draft.premium).unwrap_or(plan.preview.premium);
                plan.previous.push(previous.clone());
                plan.drafts.push(draft);
            }
        }
        let mut totals: BTreeMap<i64, Fen> = BTreeMap::new();
        for (source, _, amount) in plan.drafts.iter().flat_map(|d| &d.funding) {
            let total = totals.entry(*source).or_insert(Fen::ZERO);
            *total = total.checked_add(*amount).unwrap_or(*total);
        }
        plan.preview.sources = totals
            .into_iter()
            .map(|(source_id, amount)| SourceTotal {
                source_id,
                name: names.get(&source_id).cloned().unwrap_or_default(),
                amount,
                left_before: left_before.get(&source_id).copied().unwrap_or(Fen::ZERO),
            })
            .collect();
        plan.preview.households = plan.drafts.len();
        plan.preview.skipped_total = skipped.len();
        skipped.truncate(SKIPPED_SHOWN);
        plan.preview.skipped = skipped;
        Ok(plan)
    }
}
