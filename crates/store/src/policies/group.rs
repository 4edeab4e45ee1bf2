//! Writing enrolments, many to a transaction (group commit, `group_commit`).
//!
//! Every rule of an enrolment is checked by its caller before it is queued, with reads that
//! take no turn at the write gate. The writer then writes every enrolment queued meanwhile
//! in one transaction: the families touched (which takes SQLite's write lock first), the
//! budgets read once, each premium split in queue order against what the enrolments before
//! it left, one conditional allocation per source for the group's total, the policies with
//! their members, slots, products and funding in multi-row inserts, and every audit entry
//! in one insert. An enrolment whose family part no longer matches what its user saw is
//! refused alone; the others go on. If the group as a whole fails (a budget taken or a
//! person covered meanwhile by another server instance, say), each enrolment is written
//! again alone. Two enrolments of the same family or person never share a group.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use guanai_domain::funding::{FamilyFacts, RuleInput, RuleScope};
use guanai_domain::{Fen, Permission, RegionCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::enrol::{split_among, EnrolRequest, KnownFamily, Pricing, Quote};
use super::write::{insert_policies, PolicyDraft};
use super::{Channel, PolicyStatus};
use crate::audit::AuditEvent;
use crate::group_commit::{GroupQueue, GroupWrite};
use crate::products::Package;
use crate::renewals::Renewing;
use crate::{Actor, Store, StoreError, StoreResult};

/// A year's subsidy rules with their scopes, and the names of their sources.
type YearRules = (Vec<(RuleScope, RuleInput)>, Vec<(i64, String)>);

/// An enrolment checked and priced (all but the split among the sources), ready to write.
#[derive(Debug)]
pub(crate) struct Prepared {
    actor: Actor,
    channel: Channel,
    expected_family_part: Option<Fen>,
    package: Arc<Package>,
    quote: Quote,
    /// The publicity activity the enrolment came from (`publicity`).
    activity_id: Option<i64>,
    /// Last year's policy this one renews (续保): linked in the same transaction.
    renews: Option<Renewing>,
    /// When the caller asked, on the caller's clock (the writer task's store may carry
    /// another): the moment a renewal is recorded at and its message written.
    at: chrono::DateTime<chrono::Utc>,
}

/// A policy the writer committed, with the premium split as the transaction settled it
/// (the budgets as they were then), so that its caller need not read it back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written {
    pub id: i64,
    pub premium: Fen,
    pub family_part: Fen,
}

impl Written {
    fn of(enrolment: &Prepared, id: i64) -> Written {
        Written { id, premium: enrolment.quote.premium, family_part: enrolment.quote.family_part }
    }
}

/// The way to the store's enrolment writer task (see the module documentation), and the
/// packages enrolments have read.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnrolQueue {
    queue: GroupQueue<Prepared>,
    packages: PackageCache,
    package_ids: PackageIds,
}

impl EnrolQueue {
    /// Starts the writer task (see [`GroupQueue::start`]) with its own copy of `store`.
    pub(crate) fn start(store: Store) -> EnrolQueue {
        EnrolQueue { queue: GroupQueue::start(store), ..Default::default() }
    }
}

impl GroupWrite for Prepared {
    type Written = Written;
    const WHAT: &'static str = "enrolments";

    /// Two enrolments of one family or person would collide on their cover slots.
    fn exclusive_keys(&self) -> Vec<(&'static str, i64)> {
        let persons = self.quote.members.iter().map(|m| ("persons", m.person.id));
        std::iter::once(("families", self.quote.family_id)).chain(persons).collect()
    }

    async fn commit_group(store: &Store, group: &mut [Self]) -> StoreResult<Vec<StoreResult<Written>>> {
        store.commit_group(group).await
    }

    async fn write_alone(store: &Store, enrolment: Self) -> StoreResult<Written> {
        store.enrol_alone(enrolment).await
    }
}

/// Packages are never changed once written (there is no update or delete of packages,
/// products or add-ons anywhere), so a package read once is kept for the life of the
/// store: every enrolment and quote would otherwise read it again (four queries or more).
#[derive(Debug, Clone, Default)]
struct PackageCache(Arc<std::sync::RwLock<HashMap<i64, Arc<Package>>>>);

/// The id of each package of a code and year found so far (a package, once written, keeps
/// its code and year; one not set up yet is looked for again next time).
#[derive(Debug, Clone, Default)]
struct PackageIds(Arc<std::sync::RwLock<HashMap<(String, i32), i64>>>);

impl Store {
    pub(crate) async fn cached_package(&self, id: i64) -> StoreResult<Arc<Package>> {
        let Some(cache) = self.writers.get().map(|w| &w.enrolments.packages) else {
            return Ok(Arc::new(self.products().package(id).await?));
        };
        if let Some(found) = cache.0.read().expect("not poisoned").get(&id) {
            return Ok(found.clone());
        }
        let package = Arc::new(self.products().package(id).await?);
        cache.0.write().expect("not poisoned").insert(id, package.clone());
        Ok(package)
    }
}

impl Store {
    /// The package of `code` for `year`, where one is set up.
    pub(crate) async fn cached_package_of(&self, code: &str, year: i32) -> StoreResult<Option<Arc<Package>>> {
        let ids = self.writers.get().map(|w| &w.enrolments.package_ids);
        let key = (code.to_owned(), year);
        if let Some(id) = ids.and_then(|ids| ids.0.read().expect("not poisoned").get(&key).copied()) {
            return Ok(Some(self.cached_package(id).await?));
        }
        let Some(found) = self.products().packages(Some(year)).await?.into_iter().find(|p| p.code == code)
        else {
            return Ok(None);
        };
        if let Some(ids) = ids {
            ids.0.write().expect("not poisoned").insert(key, found.id);
        }
        Ok(Some(self.cached_package(found.id).await?))
    }
}

impl crate::handles::Policies<'_> {
    /// Writes a draft policy from a fresh quote, taking each source's part from its budget.
    /// All or nothing: a budget that ran short since the quote fails the whole enrolment.
    pub async fn enrol(self, actor: &Actor, request: &EnrolRequest) -> StoreResult<i64> {
        self.enrol_attributed(actor, request, None).await
    }

    /// [`Self::enrol`], recording the publicity activity the enrolment came from (its id,
    /// from `store.publicity().activity_for_enrolment`) with the policy.
    pub async fn enrol_attributed(
        self,
        actor: &Actor,
        request: &EnrolRequest,
        activity_id: Option<i64>,
    ) -> StoreResult<i64> {
        Ok(self.enrol_queued(actor, request, activity_id, None).await?.id)
    }
}

impl Store {
    /// [`Policies::enrol`](crate::handles::Policies::enrol), the new policy linked to last
    /// year's `renews` (renewal) in the same transaction: a policy is renewed once. The
    /// family and its members are those the renewal read for its due policy.
    pub(crate) async fn enrol_linked(
        &self,
        actor: &Actor,
        request: &EnrolRequest,
        renews: Renewing,
        family: KnownFamily,
    ) -> StoreResult<Written> {
        self.enrol_queued(actor, request, None, Some((renews, family))).await
    }

    /// An enrolment through the writer task (or alone when the store has none), with what
    /// it came from: a publicity activity, last year's policy.
    async fn enrol_queued(
        &self,
        actor: &Actor,
        request: &EnrolRequest,
        activity_id: Option<i64>,
        renews: Option<(Renewing, KnownFamily)>,
    ) -> StoreResult<Written> {
        self.require(actor, Permission::Enrol).await?;
        // Every rule is checked before the transaction; inside it only the budgets are read
        // again (a person covered twice meanwhile is still refused by the cover slots).
        let package = self.cached_package(request.package_id).await?;
        let (renews, family) = renews.unzip();
        let quote = self.prepare_quote(actor, request, &package, Pricing::InTransaction, family).await?;
        let enrolment = Prepared {
            actor: actor.clone(),
            channel: request.channel,
            expected_family_part: request.expected_family_part,
            package,
            quote,
            activity_id,
            renews,
            at: self.clock().now(),
        };
        self.write_grouped(|w| &w.enrolments.queue, enrolment).await
    }
}

impl Store {
    /// One enrolment in a transaction of its own.
    async fn enrol_alone(&self, mut enrolment: Prepared) -> StoreResult<Written> {
        // On SQLite, wait for this writer's turn before taking the lock. Nothing inside may
        // write through another connection than the turn's: it would wait for this lock.
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        // Write first, so SQLite takes its write lock now and the budgets read below are the
        // latest (a read first would pin an older snapshot).
        self.touch_families(&txn, &[enrolment.quote.family_id]).await?;
        let quote = &enrolment.quote;
        let (split, funding) = self
            .funding_split(
                &txn,
                &quote.village_code,
                &quote.category,
                quote.poverty,
                &enrolment.package,
                quote.premium,
                quote.members.len() as u32,
            )
            .await?;
        settle(&mut enrolment, split, funding)?;
        // One allocation per source, in source order, so concurrent enrolments lock the
        // same rows in the same order.
        for (source_id, amount) in per_source([&enrolment]) {
            self.allocate(&txn, source_id, amount).await?;
        }
        let id = insert_policies(&txn, self.dialect, &[draft(&enrolment)]).await?[0];
        self.attribute_policies(&txn, vec![(id, enrolment.activity_id)]).await?;
        if let Some(renewing) = &enrolment.renews {
            let link = renewal_link(&enrolment, renewing, id);
            crate::renewals::link_renewals(&txn, &[link]).await?;
        }
        // The entry is committed with the policy it records.
        self.audit_in(&txn, &enrolment.actor, audit_event(&enrolment, id)).await?;
        txn.commit().await?;
        drop(turn);
        Ok(Written::of(&enrolment, id))
    }

    /// Writes `group` in one transaction. `Err` when nothing was written (the caller then
    /// writes each alone); otherwise each enrolment's own answer, in order.
    async fn commit_group(&self, group: &mut [Prepared]) -> StoreResult<Vec<StoreResult<Written>>> {
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        // Write first, for the lock (see `enrol_alone`). A family whose enrolment is then
        // refused for its family part keeps the new `updated_at`: a harmless trace.
        let families: Vec<i64> = group.iter().map(|e| e.quote.family_id).collect();
        self.touch_families(&txn, &families).await?;
        let mut rules: HashMap<i32, YearRules> = HashMap::new();
        for year in group.iter().map(|e| e.package.year).collect::<HashSet<_>>() {
            rules.insert(year, self.all_rules(&txn, year).await?);
        }
        // What each source has left, as the enrolments before take their parts.
        let mut left: HashMap<i64, Fen> = HashMap::new();
        for (_, input) in rules.values().flat_map(|(r, _)| r) {
            left.entry(input.source_id).or_insert(input.budget_left);
        }
        let mut answers: Vec<StoreResult<Written>> = Vec::with_capacity(group.len());
        let mut accepted: Vec<usize> = Vec::new();
        for (index, enrolment) in group.iter_mut().enumerate() {
            let quote = &enrolment.quote;
            let village =
                RegionCode::parse(&quote.village_code).map_err(|e| StoreError::invalid(e.to_string()))?;
            let facts = FamilyFacts {
                village: &village,
                category: &quote.category,
                poverty: quote.poverty,
                package_id: enrolment.package.id,
            };
            let (year_rules, names) = &rules[&enrolment.package.year];
            let matching: Vec<RuleInput> = year_rules
                .iter()
                .filter(|(scope, _)| scope.matches(&facts))
                .map(|(_, input)| RuleInput { budget_left: left[&input.source_id], ..input.clone() })
                .collect();
            let (split, funding) = split_among(&matching, names, quote.premium, quote.members.len() as u32);
            match settle(enrolment, split, funding) {
                Ok(()) => {
                    for part in &enrolment.quote.split.parts {
                        let budget = left.get_mut(&part.source_id).expect("a matching rule's source");
                        *budget = Fen::new(budget.get() - part.amount.get());
                    }
                    accepted.push(index);
                    answers.push(Ok(Written::of(enrolment, 0)));
                }
                Err(refused) => answers.push(Err(refused)),
            }
        }
        let written: Vec<&Prepared> = accepted.iter().map(|&i| &group[i]).collect();
        if !written.is_empty() {
            for (source_id, amount) in per_source(written.iter().copied()) {
                self.allocate(&txn, source_id, amount).await?;
            }
            let drafts: Vec<PolicyDraft> = written.iter().copied().map(draft).collect();
            let ids = insert_policies(&txn, self.dialect, &drafts).await?;
            let attributed = written.iter().zip(&ids).map(|(e, id)| (*id, e.activity_id)).collect();
            self.attribute_policies(&txn, attributed).await?;
            let links: Vec<_> = written
                .iter()
                .zip(&ids)
                .filter_map(|(e, id)| e.renews.as_ref().map(|renewing| renewal_link(e, renewing, *id)))
                .collect();
            // A policy renewed twice fails the group, then each alone: one of them wins.
            // Each renewal's message is due by its own caller's clock (`RenewalLink::at`).
            crate::renewals::link_renewals(&txn, &links).await?;
            let entries: Vec<(&Actor, AuditEvent)> =
                written.iter().zip(&ids).map(|(e, id)| (&e.actor, audit_event(e, *id))).collect();
            self.audit_many_in(&txn, entries).await?;
            for (&index, id) in accepted.iter().zip(ids) {
                answers[index] = Ok(Written::of(&group[index], id));
            }
        }
        txn.commit().await?;
        drop(turn);
        Ok(answers)
    }

    pub(super) async fn touch_families(&self, db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<()> {
        use crate::entities::families;
        use sea_orm::sea_query::Expr;
        families::Entity::update_many()
            .col_expr(families::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(families::Column::Id.is_in(ids.iter().copied()))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Puts the split made with the budgets the transaction sees into the quote; refuses the
/// enrolment if the family part is no longer the one its user saw.
fn settle(
    enrolment: &mut Prepared,
    split: guanai_domain::funding::PremiumSplit,
    funding: Vec<super::FundingLine>,
) -> StoreResult<()> {
    if let Some(expected) = enrolment.expected_family_part {
        if expected != split.family {
            return Err(StoreError::Conflict(format!(
                "资金情况已有变化：家庭应缴由 {expected} 变为 {}，请重新核算后再确认",
                split.family
            )));
        }
    }
    let quote = &mut enrolment.quote;
    quote.family_part = split.family;
    quote.split = split;
    quote.funding = funding;
    Ok(())
}

/// What the enrolments take from each source, in source order, so concurrent writers lock
/// the same rows in the same order.
fn per_source<'a>(enrolments: impl IntoIterator<Item = &'a Prepared>) -> BTreeMap<i64, Fen> {
    let mut totals: BTreeMap<i64, Fen> = BTreeMap::new();
    for part in enrolments.into_iter().flat_map(|e| &e.quote.split.parts) {
        let total = totals.entry(part.source_id).or_insert(Fen::ZERO);
        *total = total.checked_add(part.amount).unwrap_or(*total);
    }
    totals
}

fn draft(enrolment: &Prepared) -> PolicyDraft {
    let quote = &enrolment.quote;
    let submitted = enrolment.renews.as_ref().is_some_and(|r| r.submit);
    PolicyDraft {
        family_id: quote.family_id,
        package_id: quote.package_id,
        village_code: quote.village_code.clone(),
        year: quote.year,
        start_date: quote.start_date,
        end_date: quote.end_date,
        shares: quote.shares as i32,
        status: if submitted { PolicyStatus::Submitted } else { PolicyStatus::Draft },
        channel: enrolment.channel,
        premium: quote.premium,
        family_part: quote.family_part,
        created_by: enrolment.actor.username().to_owned(),
        members: quote.members.iter().map(|m| (m.person.id, m.age as i32)).collect(),
        products: quote.lines.iter().map(|l| (l.product_id, l.premium)).collect(),
        funding: quote.split.parts.iter().map(|p| (p.source_id, p.rule_id, p.amount)).collect(),
    }
}

fn renewal_link(enrolment: &Prepared, renewing: &Renewing, policy: i64) -> crate::renewals::RenewalLink {
    crate::renewals::RenewalLink {
        previous_policy_id: renewing.previous_policy_id,
        previous_village_code: renewing.previous_village_code.clone(),
        policy_id: policy,
        family_id: enrolment.quote.family_id,
        village_code: enrolment.quote.village_code.clone(),
        year: enrolment.quote.year,
        persons: enrolment.quote.members.len() as i32,
        created_by: enrolment.actor.username().to_owned(),
        at: enrolment.at,
        confirm: Some(crate::renewals::RenewedTerms {
            start_date: enrolment.quote.start_date,
            end_date: enrolment.quote.end_date,
            family_part: enrolment.quote.family_part,
        }),
    }
}

/// The entry an enrolment's policy is written with: `policy.create`, or for a renewal
/// `policy.renew` (naming last year's policy, and the submission when it went to the
/// insurer with it).
fn audit_event(enrolment: &Prepared, policy_id: i64) -> AuditEvent {
    let quote = &enrolment.quote;
    let money = format!("保费 {}，家庭自缴 {}", quote.premium, quote.family_part);
    let (action, detail) = match &enrolment.renews {
        None => ("policy.create", money),
        Some(r) => (
            "policy.renew",
            format!(
                "续保上一年度保单{}；{money}{}",
                r.previous_policy_id,
                if r.submit { "；已提交承保" } else { "" }
            ),
        ),
    };
    AuditEvent::ok(action, "保单", policy_id.to_string())
        .with_subject(format!("family:{}", quote.family_id))
        .with_detail(detail)
}
